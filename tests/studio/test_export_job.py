"""Export runs the composer on the project's shots; checked with ffprobe."""

import json
import subprocess

import pytest

from assets.models import Asset
from assets.services import asset_create_from_path
from billing.models import Tier
from billing.services import tier_set
from engines.ffmpeg import probe
from jobs.models import Job
from studio.models import Project, Shot
from tests.generation.media import make_mp4

pytestmark = pytest.mark.django_db


def clip(user, *, size, fps, seconds, audio):
    path = make_mp4(seconds=seconds, size=size, fps=fps, audio=audio)
    return asset_create_from_path(owner=user, path=path, kind="video", extension="mp4",
                                  origin="output", info=probe(path))


def test_export_of_mixed_shots_is_one_file_of_the_right_length(
        owner_api, world, django_capture_on_commit_callbacks):
    tier_set(user=world.owner, tier=Tier.objects.get(slug="starter"))
    project = Project.objects.create(owner=world.owner, name="Mixed")
    shots = [
        (clip(world.owner, size="320x240", fps=25, seconds=2, audio=True), "crossfade"),
        (clip(world.owner, size="160x96", fps=12, seconds=1.5, audio=False), "cut"),
        (clip(world.owner, size="240x320", fps=30, seconds=2, audio=True), "cut"),
    ]
    for position, (asset, transition) in enumerate(shots):
        Shot.objects.create(project=project, position=position, prompt=f"s{position}",
                            asset=asset, transition=transition)
    with django_capture_on_commit_callbacks(execute=True):
        r = owner_api.post(f"/api/projects/{project.pk}/export", {"resolution": "720p"},
                           format="json")
    assert r.status_code == 202, r.content
    job = Job.objects.get(public_id=r.json()["job_id"])
    assert job.status == "completed", (job.error_code, job.error_message)
    status = owner_api.get(f"/api/status/{job.public_id}").json()
    output = status["outputs"][0]
    assert (output["width"], output["height"]) == (1280, 720)
    expected = 2 + 1.5 + 2 - 0.5  # the crossfade overlaps half a second
    assert output["duration"] == pytest.approx(expected, abs=0.1)
    assert output["has_audio"] is True
    download = owner_api.get(output["url"].replace("http://testserver", ""))
    data = b"".join(download.streaming_content)
    tmp = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", "-i",
                          "pipe:0"], input=data, capture_output=True, check=True)
    streams = json.loads(tmp.stdout)["streams"]
    assert {s["codec_type"] for s in streams} == {"video", "audio"}
    assert job.credits_charged == 6  # max(3, 2 x 3 clips)


def test_a_story_project_with_still_pictures_exports_each_for_its_shot_length(
        owner_api, world, django_capture_on_commit_callbacks, tmp_path):
    from tests.engines.media import make_image

    tier_set(user=world.owner, tier=Tier.objects.get(slug="starter"))
    project = Project.objects.create(owner=world.owner, name="Story")
    image = make_image(tmp_path / "still.png", size=(320, 240))
    still = asset_create_from_path(owner=world.owner, path=image, kind="image", extension="png",
                                   origin="output", info=probe(image))
    video = clip(world.owner, size="320x240", fps=25, seconds=3, audio=True)
    Shot.objects.create(project=project, position=0, asset=still, duration=2.0,
                        camera_move="dolly_in")
    Shot.objects.create(project=project, position=1, asset=video, duration=1.5)
    with django_capture_on_commit_callbacks(execute=True):
        r = owner_api.post(f"/api/projects/{project.pk}/export", {"resolution": "720p"},
                           format="json")
    job = Job.objects.get(public_id=r.json()["job_id"])
    assert job.status == "completed", (job.error_code, job.error_message)
    output = owner_api.get(f"/api/status/{job.public_id}").json()["outputs"][0]
    assert output["duration"] == pytest.approx(2.0 + 1.5, abs=0.1)


def test_a_plan_with_the_watermark_gets_it_in_the_export_encode(
        owner_api, world, django_capture_on_commit_callbacks, tmp_path):
    Tier.objects.filter(slug="starter").update(watermark=True)  # an operator's choice
    tier_set(user=world.owner, tier=Tier.objects.get(slug="starter"))
    project = Project.objects.create(owner=world.owner, name="Marked")
    dark = tmp_path / "dark.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                    "color=c=black:s=320x240:r=12:d=1", "-pix_fmt", "yuv420p", str(dark)],
                   check=True)
    asset = asset_create_from_path(owner=world.owner, path=dark, kind="video", extension="mp4",
                                   origin="output", info=probe(dark))
    Shot.objects.create(project=project, position=0, asset=asset)
    with django_capture_on_commit_callbacks(execute=True):
        r = owner_api.post(f"/api/projects/{project.pk}/export", {"resolution": "720p"},
                           format="json")
    job = Job.objects.get(public_id=r.json()["job_id"])
    assert job.status == "completed" and job.result["watermark"] is True
    out = Asset.objects.get(name=job.result["outputs"][0])
    png = subprocess.run(["ffmpeg", "-v", "error", "-i", out.file.path, "-frames:v", "1",
                          "-vf", "crop=iw/3:ih/10:iw*2/3:ih/40", "-f", "rawvideo",
                          "-pix_fmt", "gray", "-"], capture_output=True, check=True).stdout
    assert max(png) > 150  # light letters in the top right corner of a black picture
