"""Fixtures for the ComfyUI engine tests: the recorded node catalogue, fake servers on
loopback and small real media files to upload."""

import json
import subprocess
import urllib.request
from pathlib import Path

import pytest

from engines.comfyui.validate import NodeCatalog
from tests.fakes.comfyui_media import FFMPEG
from tests.fakes.comfyui_server import FakeComfyUI

ROOT = Path(__file__).resolve().parents[2]


def shared_comfyui() -> Path:
    """`../shared/comfyui` beside the repository (CI), else the workspace copy."""
    for candidate in (ROOT / ".." / "shared" / "comfyui", Path("/work/shared/comfyui")):
        if (candidate / "object_info.json").is_file():
            return candidate.resolve()
    raise FileNotFoundError("../shared/comfyui/object_info.json is missing")


def recording(name: str) -> dict:
    return json.loads((shared_comfyui() / "protocol" / f"{name}.json").read_text())


@pytest.fixture(scope="session")
def catalog() -> NodeCatalog:
    return NodeCatalog.from_files(shared_comfyui() / "object_info.json")


def _whoami(url: str) -> str:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"{url}/fake/whoami", timeout=5) as response:
        return json.loads(response.read())["token"]


@pytest.fixture
def start_fake(catalog, tmp_path):
    """Start fake ComfyUI servers on free ports; each is checked to be ours, all are
    closed after the test."""
    started = []

    def start(**kwargs) -> FakeComfyUI:
        fake = FakeComfyUI(catalog, tmp_path / f"comfy-{len(started)}", **kwargs).start()
        started.append(fake)
        assert _whoami(fake.url) == fake.token, "something else answers on that port"
        return fake

    yield start
    for fake in started:
        fake.close()


@pytest.fixture
def fake(start_fake) -> FakeComfyUI:
    return start_fake(step_delay=0.002)


def _ffmpeg(*args: str) -> None:
    subprocess.run([FFMPEG, "-hide_banner", "-loglevel", "error", "-y", *args], check=True,
                   timeout=60)


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory) -> Path:
    """Inputs a user might upload: two PNG frames, a WAV clip and a short MP4."""
    folder = tmp_path_factory.mktemp("inputs")
    _ffmpeg("-f", "lavfi", "-i", "color=c=red:s=96x64", "-frames:v", "1", str(folder / "a.png"))
    _ffmpeg("-f", "lavfi", "-i", "color=c=blue:s=96x64", "-frames:v", "1", str(folder / "b.png"))
    _ffmpeg("-f", "lavfi", "-i", "sine=frequency=220:duration=1", str(folder / "voice.wav"))
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=s=96x64:r=8", "-frames:v", "8", "-pix_fmt",
            "yuv420p", str(folder / "clip.mp4"))
    return folder
