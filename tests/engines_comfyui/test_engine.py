"""The comfyui engine against fake ComfyUI servers on loopback: real HTTP, websocket and
ffmpeg-made media, checked with ffprobe."""

import threading
import time
from pathlib import Path

import pytest

from engines.base import Canceled, EngineError, EngineUnavailableError, RenderRequest
from engines.comfyui.engine import ComfyUIEngine
from engines.comfyui.workflows import workflow_names
from tests.fakes.comfyui_media import probe

BASE = {"prompt": "a lighthouse at dusk", "negative_prompt": "blurry", "width": 160,
        "height": 96, "frames": 9, "fps": 8, "steps": 4, "cfg": 1.0, "seed": 42,
        "sampler": "euler", "scheduler": "simple", "shift": 5.0}


class Recorder:
    def __init__(self):
        self.events: list[tuple[float, str]] = []
        self.cancel = threading.Event()

    def progress(self, fraction: float, stage: str) -> None:
        self.events.append((fraction, stage))

    def is_canceled(self) -> bool:
        return self.cancel.is_set()

    @property
    def fractions(self) -> list[float]:
        return [f for f, _ in self.events]


def render(engine, model, tmp_path, params=None, inputs=None, task="t2v", recorder=None):
    recorder = recorder or Recorder()
    request = RenderRequest(task=task, model=model, params={**BASE, **(params or {})},
                            workdir=tmp_path / "out", inputs=inputs or {})
    outputs = engine.render(request, progress=recorder.progress,
                            is_canceled=recorder.is_canceled)
    return outputs, recorder


def video_stream(path: Path) -> dict:
    return next(s for s in probe(path)["streams"] if s["codec_type"] == "video")


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met")


def test_text_to_video_makes_a_video_of_the_requested_size_and_length(fake, tmp_path):
    engine = ComfyUIEngine([fake.url])
    outputs, recorder = render(engine, "wan-t2v", tmp_path)
    assert len(outputs) == 1 and outputs[0].kind == "video" and outputs[0].mime == "video/mp4"
    assert outputs[0].path.parent == tmp_path / "out"
    stream = video_stream(outputs[0].path)
    assert (stream["width"], stream["height"], int(stream["nb_frames"])) == (160, 96, 9)
    assert stream["codec_name"] == "h264" and stream["r_frame_rate"] == "8/1"
    assert recorder.fractions == sorted(recorder.fractions)
    assert recorder.fractions[-1] == 1.0
    assert {"upload", "queued", "sampling", "decode", "download", "done"} <= {
        s for _, s in recorder.events}
    submitted = next(iter(fake.history().values()))["prompt"]
    assert submitted[2]["74"]["inputs"]["width"] == 160
    assert submitted[3]["client_id"]
    assert submitted[3]["reelforge"] == {"model": "wan-t2v", "task": "t2v"}


def test_progress_rises_monotonically_across_nodes_and_sampling_steps(fake, tmp_path):
    fake.step_delay = 0.01
    _, recorder = render(ComfyUIEngine([fake.url]), "wan-t2v", tmp_path, {"steps": 10})
    fractions = recorder.fractions
    assert fractions == sorted(fractions)
    sampling = [f for f, s in recorder.events if s == "sampling"]
    assert len(set(sampling)) >= 10  # two samplers, ten ticks each, reported as they come
    assert 0 < sampling[0] < 0.5 < sampling[-1] < 1


def test_image_to_video_uploads_the_image_and_uses_its_name(fake, tmp_path, media_dir):
    outputs, _ = render(ComfyUIEngine([fake.url]), "wan-i2v", tmp_path,
                        inputs={"image": media_dir / "a.png"}, task="i2v")
    stream = video_stream(outputs[0].path)
    assert (stream["width"], stream["height"]) == (160, 96)
    uploaded = list((fake.root / "input").iterdir())
    assert len(uploaded) == 1 and uploaded[0].read_bytes() == (media_dir / "a.png").read_bytes()
    graph = next(iter(fake.history().values()))["prompt"][2]
    assert graph["97"]["inputs"]["image"] == uploaded[0].name


def test_first_last_frame_uploads_both_images(fake, tmp_path, media_dir):
    outputs, _ = render(ComfyUIEngine([fake.url]), "wan-flf", tmp_path, task="flf",
                        inputs={"image": media_dir / "a.png", "last_image": media_dir / "b.png"})
    assert video_stream(outputs[0].path)["nb_frames"] == "9"
    graph = next(iter(fake.history().values()))["prompt"][2]
    first, last = graph["68"]["inputs"]["image"], graph["62"]["inputs"]["image"]
    assert first != last
    assert (fake.root / "input" / first).read_bytes() == (media_dir / "a.png").read_bytes()
    assert (fake.root / "input" / last).read_bytes() == (media_dir / "b.png").read_bytes()


def test_an_image_model_returns_a_png_of_the_requested_size(fake, tmp_path):
    outputs, _ = render(ComfyUIEngine([fake.url]), "flux", tmp_path,
                        {"width": 256, "height": 128}, task="t2i")
    assert outputs[0].kind == "image" and outputs[0].mime == "image/png"
    stream = video_stream(outputs[0].path)
    assert (stream["width"], stream["height"]) == (256, 128)


def test_ace_step_returns_audio_of_the_requested_duration(fake, tmp_path):
    outputs, _ = render(ComfyUIEngine([fake.url]), "ace-step", tmp_path,
                        {"prompt": "warm lofi beat", "duration_seconds": 3}, task="audio")
    assert outputs[0].kind == "audio" and outputs[0].mime == "audio/mpeg"
    assert float(probe(outputs[0].path)["format"]["duration"]) == pytest.approx(3, abs=0.1)


def test_custom_node_video_outputs_under_gifs_are_downloaded(fake, tmp_path):
    outputs, _ = render(ComfyUIEngine([fake.url]), "animatediff", tmp_path,
                        {"width": 128, "height": 128, "frames": 16})
    stream = video_stream(outputs[0].path)
    assert (stream["width"], stream["height"], stream["nb_frames"]) == (128, 128, "16")
    saved = next(iter(fake.history().values()))["outputs"]
    assert "gifs" in next(iter(saved.values()))


def test_sound_to_video_keeps_the_speech_track(fake, tmp_path, media_dir):
    outputs, _ = render(ComfyUIEngine([fake.url]), "wan-s2v", tmp_path, task="s2v",
                        inputs={"image": media_dir / "a.png", "audio": media_dir / "voice.wav"})
    kinds = {s["codec_type"] for s in probe(outputs[0].path)["streams"]}
    assert kinds == {"video", "audio"}


def test_a_graph_comfyui_rejects_fails_with_engine_rejected_and_node_messages(fake, tmp_path):
    engine = ComfyUIEngine([fake.url])
    with pytest.raises(EngineError) as info:
        render(engine, "wan-t2v", tmp_path, {"width": 999999})
    assert info.value.code == "engine_rejected"
    assert "bigger than max" in info.value.message
    errors = info.value.detail["node_errors"]["74"]["errors"]
    assert errors[0]["type"] == "value_bigger_than_max"
    assert not fake.history()


def test_an_execution_error_fails_with_the_exception_message(fake, tmp_path):
    fake.fail_class = "VAEDecode"
    with pytest.raises(EngineError) as info:
        render(ComfyUIEngine([fake.url]), "wan-t2v", tmp_path)
    assert info.value.code == "engine_execution_error"
    assert "Fake failure in VAEDecode" in info.value.message
    assert info.value.detail["node_type"] == "VAEDecode"
    assert next(iter(fake.history().values()))["status"]["status_str"] == "error"


def test_cancel_while_running_interrupts_the_prompt(fake, tmp_path):
    fake.step_delay = 0.05
    recorder = Recorder()

    def cancel_when_sampling(fraction, stage):
        recorder.events.append((fraction, stage))
        if stage == "sampling":
            recorder.cancel.set()

    recorder.progress = cancel_when_sampling
    with pytest.raises(Canceled):
        render(ComfyUIEngine([fake.url]), "wan-t2v", tmp_path, {"steps": 200},
               recorder=recorder)
    assert ("POST", "/interrupt") in fake.requests
    wait_for(lambda: fake.history())
    entry = next(iter(fake.history().values()))
    assert entry["status"]["status_str"] == "error"
    assert entry["status"]["messages"][-1][0] == "execution_interrupted"


def test_cancel_while_queued_deletes_the_pending_prompt(fake, tmp_path):
    fake.step_delay = 0.05
    blocker, stopper, outcome = ComfyUIEngine([fake.url]), Recorder(), []

    def occupy_the_server():
        try:
            render(blocker, "wan-t2v", tmp_path / "a", {"steps": 60}, recorder=stopper)
        except Canceled as exc:
            outcome.append(exc)

    busy = threading.Thread(target=occupy_the_server, daemon=True)
    busy.start()
    wait_for(lambda: fake.queue_body()["queue_running"])
    recorder = Recorder()
    recorder.progress = lambda f, s: (recorder.events.append((f, s)),
                                      s == "queued" and recorder.cancel.set())
    with pytest.raises(Canceled):
        render(ComfyUIEngine([fake.url]), "wan-t2v", tmp_path / "b", recorder=recorder)
    assert ("POST", "/queue") in fake.requests
    assert len(fake.queue_body()["queue_pending"]) == 0
    stopper.cancel.set()
    busy.join(10)
    assert outcome, "the running job was canceled too"
    wait_for(lambda: not fake.queue_body()["queue_running"])
    assert len(fake.history()) == 1  # the canceled pending prompt never ran


def test_a_dropped_websocket_is_reconnected_and_the_render_completes(fake, tmp_path):
    fake.step_delay = 0.02
    fake.drop_ws_after_steps = 2
    engine = ComfyUIEngine([fake.url], poll_interval=0.5)
    outputs, _ = render(engine, "wan-t2v", tmp_path, {"steps": 6})
    assert video_stream(outputs[0].path)["nb_frames"] == "9"


def test_no_server_answering_raises_engine_unavailable(tmp_path, start_fake):
    fake = start_fake()
    url = fake.url
    fake.stop()
    engine = ComfyUIEngine([url], cooldown=0.05, max_attempts=2, http_timeout=2,
                           job_timeout=1)
    with pytest.raises(EngineUnavailableError):
        render(engine, "wan-t2v", tmp_path)
    assert engine.health()["online"] is False
    assert engine.health()["servers"][0]["error"]


def test_a_server_that_was_down_is_used_again_once_it_is_back(start_fake, tmp_path):
    fake = start_fake(step_delay=0.002)
    fake.stop()
    engine = ComfyUIEngine([fake.url], cooldown=0.3, http_timeout=2)
    with pytest.raises(EngineUnavailableError):
        engine.pool.choose()
    threading.Timer(0.15, fake.start).start()
    outputs, _ = render(engine, "sd15", tmp_path, {"width": 64, "height": 64}, task="t2i")
    assert outputs[0].path.exists()
    assert engine.health()["servers"][0]["online"] is True


def test_a_server_that_dies_mid_run_is_replaced_by_another(start_fake, tmp_path):
    dying = start_fake(step_delay=0.05)
    healthy = start_fake(step_delay=0.002)
    recorder = Recorder()

    def kill_on_sampling(fraction, stage):
        recorder.events.append((fraction, stage))
        if stage == "sampling" and dying._server is not None:
            dying.stop()

    recorder.progress = kill_on_sampling
    engine = ComfyUIEngine([dying.url, healthy.url], cooldown=30, http_timeout=2)
    outputs, _ = render(engine, "wan-t2v", tmp_path, {"steps": 50}, recorder=recorder)
    assert outputs[0].path.exists()
    assert len(healthy.history()) == 1
    assert "retry" in {s for _, s in recorder.events}
    assert recorder.fractions == sorted(recorder.fractions)


def test_jobs_are_spread_over_two_servers_by_queue_depth(start_fake, tmp_path):
    first, second = start_fake(step_delay=0.02), start_fake(step_delay=0.02)
    engine = ComfyUIEngine([first.url, second.url])
    results, errors = [], []

    def job(index):
        try:
            results.append(render(engine, "sd15", tmp_path / str(index),
                                  {"width": 64, "height": 64, "steps": 20}, task="t2i")[0])
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=job, args=(i,)) for i in range(4)]
    for thread in threads:  # all at once: the pool must not send them all to one server
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors and len(results) == 4
    assert len(first.history()) >= 1 and len(second.history()) >= 1
    assert len(first.history()) + len(second.history()) == 4


def test_health_reports_each_server_with_queue_devices_and_models(start_fake):
    up = start_fake()
    down = start_fake()
    down.stop()
    health = ComfyUIEngine([up.url, down.url], http_timeout=2).health()
    assert health["engine"] == "comfyui" and health["online"] is True
    online, offline = health["servers"]
    assert online["online"] and online["comfyui_version"] == "0.3.64"
    assert online["queue_depth"] == 0
    assert online["devices"][0]["vram_total"] > online["devices"][0]["vram_free"] > 0
    assert not offline["online"] and offline["error"] and offline["retry_in"] > 0
    assert {"wan-t2v", "flux", "ace-step"} <= set(health["models"])


def test_servable_models_lists_the_model_files_a_server_lacks(fake):
    # The fake, like the recorded server, has every node but no model files installed.
    lacking = ComfyUIEngine([fake.url]).servable_models(fake.url)
    assert "file wan2.2_t2v_high_noise_14B_fp8_scaled.safetensors" in lacking["wan-t2v"]
    assert all(item.startswith("file ") for items in lacking.values() for item in items)
    assert lacking["upscale"] == ["file RealESRGAN_x4plus.pth"]


def test_video_tools_keep_the_input_videos_length(fake, tmp_path, media_dir):
    outputs, _ = render(ComfyUIEngine([fake.url]), "upscale_video", tmp_path, {"fps": 8},
                        inputs={"video": media_dir / "clip.mp4"}, task="tool")
    stream = video_stream(outputs[0].path)
    assert (stream["width"], stream["height"], stream["nb_frames"]) == (192, 128, "8")


@pytest.mark.parametrize("name", workflow_names())
def test_every_workflow_runs_on_the_fake_server(fake, tmp_path, media_dir, name):
    files = {"image": media_dir / "a.png", "last_image": media_dir / "b.png",
             "audio": media_dir / "voice.wav", "video": media_dir / "clip.mp4"}
    engine = ComfyUIEngine([fake.url])
    workflow = engine.workflow_for(name)
    outputs, recorder = render(
        engine, name, tmp_path, {"width": 128, "height": 128, "frames": 17, "steps": 2,
                                 "duration_seconds": 1, "camera_move": "dolly_in"},
        inputs={role: files[role] for role in workflow.input_roles})
    assert outputs and all(out.path.stat().st_size > 0 for out in outputs)
    assert outputs[0].kind == workflow.output_kind
    assert recorder.fractions[-1] == 1.0


def test_operators_can_point_a_model_at_another_workflow(fake, tmp_path):
    engine = ComfyUIEngine([fake.url], workflows={"wan-t2v": "ltx-t2v"})
    render(engine, "wan-t2v", tmp_path)
    graph = next(iter(fake.history().values()))["prompt"][2]
    assert {node["class_type"] for node in graph.values()} >= {"EmptyLTXVLatentVideo"}


def test_bad_parameters_are_refused_before_any_server_is_contacted(fake, tmp_path):
    with pytest.raises(EngineError) as info:
        render(ComfyUIEngine([fake.url]), "ltx-camera", tmp_path, {"camera_move": "spin"})
    assert info.value.code == "invalid_params"
    with pytest.raises(EngineError) as info:
        render(ComfyUIEngine([fake.url]), "wan-i2v", tmp_path, task="i2v")
    assert info.value.detail == {"field": "image"}
    assert fake.requests == [("GET", "/fake/whoami")]


def test_health_can_say_which_models_each_server_can_serve(start_fake):
    sd15_only = start_fake(model_files=["v1-5-pruned-emaonly-fp16.safetensors"])
    bare = start_fake()
    health = ComfyUIEngine([sd15_only.url, bare.url]).health(include_models=True)
    with_files, without = health["servers"]
    assert "sd15" in with_files["models"] and "wan-t2v" not in with_files["models"]
    assert "remove_background" in with_files["models"]  # its model ships with the node
    assert "sd15" not in without["models"]


def test_operator_overrides_pick_the_workflow_and_the_servers(start_fake, tmp_path):
    from engines.base import RenderRequest
    from engines.comfyui.engine import ComfyUIEngine

    first, second = start_fake(step_delay=0.001), start_fake(step_delay=0.001)
    engine = ComfyUIEngine([first.url, second.url])
    params = {"prompt": "x", "negative_prompt": "", "width": 320, "height": 192, "frames": 9,
              "fps": 16, "steps": 2, "cfg": 1.0, "seed": 1, "sampler": "euler",
              "scheduler": "simple", "shift": 5.0, "servers": [second.url],
              "workflow": "wan-t2v"}
    for _ in range(2):
        out = engine.render(RenderRequest(task="t2v", model="ltx-t2v", params=params,
                                          workdir=tmp_path), progress=lambda f, s: None,
                            is_canceled=lambda: False)
        assert out and out[0].kind == "video"
    prompts = lambda fake: [p for _m, p in fake.requests if p.startswith("/prompt")]  # noqa: E731
    assert prompts(first) == [] and len(prompts(second)) == 2
    submitted = second.history()
    classes = {n["class_type"] for entry in submitted.values()
               for n in entry["prompt"][2].values()}
    assert "KSamplerAdvanced" in classes  # the WAN graph, not LTX's
