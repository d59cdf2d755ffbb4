"""The AI tools on the ComfyUI engine, inline against a fake ComfyUI server on loopback."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from assets.models import Asset
from engines.registry import configure
from media_tools.models import AudioGeneration
from tests.engines_comfyui.conftest import catalog, start_fake  # noqa: F401 - fixtures
from tests.generation.media import make_png
from tests.media_tools.conftest import balance, finished, on_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def comfyui(start_fake):  # noqa: F811 - the imported fixture
    fake = start_fake(step_delay=0.001)
    configure(comfyui_urls=[fake.url])
    yield fake
    configure(comfyui_urls=[])


def png(name="a.png"):
    return SimpleUploadedFile(name, make_png(size=(96, 64)).read_bytes(), "image/png")


def output(job) -> Asset:
    return Asset.objects.get(name=job.result["outputs"][0])


def test_remove_background_on_comfyui(owner_api, world, comfyui, run_jobs):
    with run_jobs():
        r = owner_api.post("/api/tools/remove-background", {"image": png()},
                           format="multipart")
    job = finished(r)
    assert job.engine == "comfyui" and output(job).kind == "image"
    assert job.result["watermark"] is True  # the owner is on the Free plan
    assert balance(world.owner) == 149


def test_face_swap_on_comfyui_returns_a_picture(owner_api, world, comfyui, run_jobs):
    on_plan(world.owner, "pro")
    with run_jobs():
        r = owner_api.post("/api/tools/face-swap", {"source_image": png("face.png"),
                                                    "target_image": png("photo.png")},
                           format="multipart")
    asset = output(finished(r))
    assert asset.kind == "image" and asset.name.endswith(".png")


def test_upscale_on_comfyui_reaches_the_asked_size(owner_api, world, media, comfyui,
                                                   run_jobs):
    on_plan(world.owner, "creator")
    video = media.video(world.owner)
    with run_jobs():
        r = owner_api.post("/api/tools/upscale-video", {"video_filename": video.name,
                                                        "scale_factor": 3}, format="json")
    job = finished(r)
    assert job.result["method"] == "comfyui_realesrgan"
    assert (output(job).width, output(job).height) == (480, 288)


def test_generate_audio_on_comfyui(owner_api, world, comfyui, run_jobs):
    with run_jobs():
        r = owner_api.post("/api/generate-audio", {"prompt": "calm piano",
                                                   "duration_seconds": 2, "tags": ["lofi"]},
                           format="json")
    assert r.json()["engine"] == "comfyui"
    job = finished(r)
    generation = AudioGeneration.objects.get(job=job)
    assert generation.asset.kind == "audio" and generation.engine == "comfyui"
