"""run_ffmpeg: progress, failures, cancel, timeout, and no ffmpeg left behind on any path."""

import os
import signal
import subprocess
import sys
import time

import pytest

from engines.base import Canceled, EngineError, EngineUnavailableError
from engines.ffmpeg import lavfi_input, run_ffmpeg
from tests.engines.media import ROOT, ffmpeg_children, is_running, process_identity, video_stream

# An input that never ends, read at its real-time rate: ffmpeg runs until it is stopped.
ENDLESS = ["-re", *lavfi_input("testsrc=s=64x48:r=10"), "-f", "null", "-"]


class ChildWatcher:
    """An is_canceled callback that records our ffmpeg child and cancels once it has run for
    `after` seconds (or never, with after=None)."""

    def __init__(self, after: float | None = 0.5):
        self.after = after
        self.started = time.monotonic()
        self.identity = None
        self.session_leader = None

    def __call__(self) -> bool:
        if self.identity is None:
            children = ffmpeg_children()
            if children:
                self.identity = process_identity(children[0])
                self.session_leader = os.getsid(children[0]) == children[0]
        return (self.after is not None and self.identity is not None
                and time.monotonic() - self.started > self.after)


def test_progress_is_monotonic_and_ends_at_one(tmp_path):
    seen = []
    run_ffmpeg([*lavfi_input("testsrc=s=160x96:r=24"), "-frames:v", "72", "-c:v", "libx264",
                "-threads", "1", "-f", "mp4", str(tmp_path / "out.mp4")],
               timeout=30, progress=lambda f, s: seen.append((f, s)), duration_hint=3.0)
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions)
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert all(0.0 <= f <= 1.0 for f in fractions)
    assert {s for _, s in seen} == {"encode"}
    assert video_stream(tmp_path / "out.mp4")["nb_read_frames"] == "72"


def test_progress_without_a_duration_hint_reports_start_and_end(tmp_path):
    seen = []
    run_ffmpeg([*lavfi_input("testsrc=s=64x48:r=10"), "-frames:v", "5", "-f", "null", "-"],
               timeout=30, progress=lambda f, s: seen.append(f), stage="probe")
    assert seen == [0.0, 1.0]


def test_failure_raises_ffmpeg_failed_with_the_end_of_stderr(tmp_path):
    with pytest.raises(EngineError) as info:
        run_ffmpeg([*lavfi_input("nosuchfilter"), "-f", "null", "-"], timeout=30)
    assert info.value.code == "ffmpeg_failed"
    assert "nosuchfilter" in info.value.detail["stderr"]
    assert len(info.value.detail["stderr"].splitlines()) <= 20


def test_a_flood_of_stderr_does_not_block_ffmpeg(tmp_path):
    # -v debug writes megabytes to stderr; a pipe nobody reads would fill and hang ffmpeg.
    started = time.monotonic()
    run_ffmpeg(["-v", "debug", *lavfi_input("testsrc=s=64x48:r=25"), "-frames:v", "500",
                "-f", "null", "-"], timeout=60)
    assert time.monotonic() - started < 30


def test_failure_after_a_flood_of_stderr_keeps_only_the_last_lines(tmp_path):
    with pytest.raises(EngineError) as info:
        run_ffmpeg(["-v", "debug", *lavfi_input("testsrc=s=64x48:r=25"), "-frames:v", "50",
                    "-f", "nosuchmuxer", "-"], timeout=60)
    assert info.value.code == "ffmpeg_failed"
    assert "nosuchmuxer" in info.value.detail["stderr"]
    assert len(info.value.detail["stderr"].splitlines()) <= 20


def test_cancel_kills_ffmpeg_and_raises_canceled():
    watcher = ChildWatcher(after=0.5)
    started = time.monotonic()
    with pytest.raises(Canceled) as info:
        run_ffmpeg(ENDLESS, timeout=60, is_canceled=watcher)
    assert info.value.code == "canceled"
    assert time.monotonic() - started < 5
    assert watcher.identity is not None
    assert watcher.session_leader, "ffmpeg must run in its own session and process group"
    assert not is_running(watcher.identity)
    assert ffmpeg_children() == []


def test_timeout_kills_ffmpeg_and_raises_ffmpeg_timeout():
    watcher = ChildWatcher(after=None)
    started = time.monotonic()
    with pytest.raises(EngineError) as info:
        run_ffmpeg(ENDLESS, timeout=1.0, is_canceled=watcher)
    assert info.value.code == "ffmpeg_timeout"
    assert 1.0 <= time.monotonic() - started < 5
    assert watcher.identity is not None and not is_running(watcher.identity)
    assert ffmpeg_children() == []


def test_an_exception_in_a_callback_still_kills_ffmpeg():
    watcher = ChildWatcher(after=None)

    def progress(fraction, stage):
        watcher()
        if watcher.identity is not None and time.monotonic() - watcher.started > 0.3:
            raise RuntimeError("the job runner broke")

    with pytest.raises(RuntimeError):
        run_ffmpeg(ENDLESS, timeout=60, progress=progress, duration_hint=1000.0)
    assert watcher.identity is not None and not is_running(watcher.identity)


CHILD_SCRIPT = """
import sys, time
from engines.ffmpeg import lavfi_input, run_ffmpeg
from tests.engines.media import ffmpeg_children

pid_file = sys.argv[1]
def is_canceled():
    children = ffmpeg_children()
    if children:
        with open(pid_file + ".tmp", "w") as f:
            f.write(str(children[0]))
        import os
        os.replace(pid_file + ".tmp", pid_file)
    return False

run_ffmpeg(["-re", *lavfi_input("testsrc=s=64x48:r=10"), "-f", "null", "-"], timeout=60,
           is_canceled=is_canceled)
"""


def test_ffmpeg_dies_with_a_worker_that_is_killed(tmp_path):
    """Celery's hard time limit SIGKILLs the pool child: its ffmpeg must not live on."""
    pid_file = tmp_path / "ffmpeg.pid"
    worker = subprocess.Popen([sys.executable, "-c", CHILD_SCRIPT, str(pid_file)], cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 20
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        identity = process_identity(int(pid_file.read_text()))
        assert identity is not None and is_running(identity)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        deadline = time.monotonic() + 5
        while is_running(identity) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not is_running(identity)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


def test_arguments_are_never_given_to_a_shell(tmp_path):
    name = tmp_path / "out; touch pwned; $(touch pwned2).mp4"
    run_ffmpeg([*lavfi_input("testsrc=s=64x48:r=10"), "-frames:v", "2", "-f", "mp4", str(name)],
               timeout=30)
    assert name.is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == [name.name]


def test_a_missing_ffmpeg_is_engine_unavailable(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(EngineUnavailableError):
        run_ffmpeg(["-version"], timeout=5)
