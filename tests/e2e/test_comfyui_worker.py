"""Generation through a real Celery worker and the ComfyUI engine, against fake ComfyUI
servers on loopback that behave like the recorded protocol."""

import json
import time
import urllib.request

import pytest
from rest_framework.test import APIClient

from billing.models import Tier
from billing.services import credits_grant, tier_set
from engines.comfyui.validate import NodeCatalog
from engines.registry import configure
from jobs.models import Job
from tests.conftest import bearer
from tests.engines_comfyui.conftest import shared_comfyui
from tests.factories import UserFactory
from tests.fakes.comfyui_server import FakeComfyUI

pytestmark = [pytest.mark.live_worker]
ENGINES = {"wan-t2v": "comfyui", "flux": "comfyui", "wan-i2v": "comfyui"}


@pytest.fixture
def fakes(tmp_path):
    catalog = NodeCatalog.from_files(shared_comfyui() / "object_info.json")
    servers = [FakeComfyUI(catalog, tmp_path / f"comfy{i}", step_delay=0.002).start()
               for i in range(2)]
    for fake in servers:
        with urllib.request.urlopen(f"{fake.url}/fake/whoami", timeout=5) as response:
            assert json.loads(response.read())["token"] == fake.token  # our own server
    yield servers
    for fake in servers:
        fake.close()


@pytest.fixture
def comfy_api(transactional_db, fakes, settings):
    settings.GENERATION_MODEL_ENGINES = ENGINES
    configure(comfyui_urls=[f.url for f in fakes])
    user = UserFactory()
    tier_set(user=user, tier=Tier.objects.get(slug="pro"))
    credits_grant(user=user, amount=2000, reference=f"t:{user.pk}", kind="topup")
    yield bearer(APIClient(), user)
    configure(comfyui_urls=[])


def wait_done(client, job_id, timeout=90):
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        body = client.get(f"/api/status/{job_id}").json()
        seen.append(body["progress"])
        if body["status"] in ("completed", "failed", "canceled"):
            return body, seen
        time.sleep(0.05)
    raise AssertionError(f"job did not finish: {body}")


def test_text_to_video_and_image_through_a_worker_and_fake_comfyui(job_workers, comfy_api,
                                                                    fakes):
    job_workers(COMFYUI_URLS=",".join(f.url for f in fakes),
                GENERATION_MODEL_ENGINES=json.dumps(ENGINES))
    status = comfy_api.get("/api/comfyui/status").json()
    assert status["online"] is True and len(status["engines"]["comfyui"]["servers"]) == 2
    video = comfy_api.post("/api/generate", {"prompt": "A fox in the snow", "model": "wan-t2v",
                                             "width": 320, "height": 192, "frames": 17,
                                             "seed": 4}, format="json").json()
    image = comfy_api.post("/api/generate-image", {"prompt": "A red door", "model": "flux",
                                                   "width": 256, "height": 256},
                           format="json").json()
    assert video["engine"] == "comfyui"
    body, progress = wait_done(comfy_api, video["job_id"])
    assert body["status"] == "completed", body
    assert progress == sorted(progress)
    out = body["outputs"][0]
    assert (out["width"], out["height"]) == (320, 192) and out["frames"] == 17
    body, _ = wait_done(comfy_api, image["job_ids"][0])
    assert body["status"] == "completed", body
    assert (body["outputs"][0]["width"], body["outputs"][0]["height"]) == (256, 256)
    assert sum(len([r for r in f.requests if r[1].startswith("/prompt")]) for f in fakes) >= 2


def test_an_execution_error_fails_the_job_and_refunds(job_workers, comfy_api, fakes):
    for fake in fakes:
        fake.fail_class = "VAEDecode"
    job_workers(COMFYUI_URLS=",".join(f.url for f in fakes),
                GENERATION_MODEL_ENGINES=json.dumps(ENGINES))
    r = comfy_api.post("/api/generate", {"prompt": "x", "model": "wan-t2v", "width": 320,
                                         "height": 192, "frames": 9}, format="json").json()
    body, _ = wait_done(comfy_api, r["job_id"])
    assert body["status"] == "failed" and body["error"]["code"].startswith("engine")
    assert body["credits"]["refunded"] == r["cost"]
    assert Job.objects.get(public_id=r["job_id"]).credits_charged == 0


def upload(client, color) -> str:
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (320, 192), color).save(out, format="PNG")
    r = client.post("/api/upload-image", {"image": SimpleUploadedFile("in.png", out.getvalue(),
                                                                      "image/png")},
                    format="multipart")
    assert r.status_code == 201, r.content
    return r.json()["filename"]


def test_image_to_video_and_first_last_frame_upload_their_inputs(job_workers, comfy_api, fakes,
                                                                 settings):
    engines = {**ENGINES, "wan-flf": "comfyui"}
    settings.GENERATION_MODEL_ENGINES = engines
    job_workers(COMFYUI_URLS=",".join(f.url for f in fakes),
                GENERATION_MODEL_ENGINES=json.dumps(engines))
    first, last = upload(comfy_api, (200, 30, 30)), upload(comfy_api, (30, 30, 200))
    i2v = comfy_api.post("/api/generate", {"prompt": "x", "model": "wan-i2v", "width": 320,
                                           "height": 192, "frames": 9,
                                           "image_filename": first}, format="json").json()
    flf = comfy_api.post("/api/generate", {"prompt": "x", "model": "wan-flf", "width": 320,
                                           "height": 192, "frames": 9, "image_filename": first,
                                           "last_image_filename": last}, format="json").json()
    for job in (i2v, flf):
        body, _ = wait_done(comfy_api, job["job_id"])
        assert body["status"] == "completed", body
    uploads = [path for f in fakes for method, path in f.requests
               if path.startswith("/upload/image")]
    assert len(uploads) == 3  # one for i2v, two for first-last


def test_cancel_while_running_interrupts_comfyui(job_workers, comfy_api, fakes):
    for fake in fakes:
        fake.step_delay = 0.2  # a slow sampler
    job_workers(COMFYUI_URLS=",".join(f.url for f in fakes),
                GENERATION_MODEL_ENGINES=json.dumps(ENGINES))
    r = comfy_api.post("/api/generate", {"prompt": "x", "model": "wan-t2v", "width": 320,
                                         "height": 192, "frames": 9, "steps": 20},
                       format="json").json()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        body = comfy_api.get(f"/api/status/{r['job_id']}").json()
        if body["status"] == "processing" and body["progress"] > 0.1:
            break
        time.sleep(0.05)
    assert comfy_api.post("/api/cancel", {"job_id": r["job_id"]},
                          format="json").json()["status"] == "canceled"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any(
            path.startswith("/interrupt") for f in fakes for _m, path in f.requests):
        time.sleep(0.1)
    assert any(path.startswith("/interrupt") for f in fakes for _m, path in f.requests)
    assert Job.objects.get(public_id=r["job_id"]).credits_charged == 0
