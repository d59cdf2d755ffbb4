import re

import pytest

from assets.models import Asset
from assets.services import asset_create_from_path
from engines.ffmpeg import probe
from jobs.models import Job
from tests.factories import PASSWORD
from tests.generation.media import make_mp4
from tests.media_tools.conftest import on_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client, world):
    client.login(username="owner", password=PASSWORD)
    return client


@pytest.fixture
def video(world):
    path = make_mp4(seconds=2.0, size="320x192", fps=12, audio=True)
    return asset_create_from_path(owner=world.owner, path=path, kind="video", extension="mp4",
                                  origin="upload", info=probe(path))


def test_tools_page_offers_every_operation_with_your_videos(logged_in, video):
    html = logged_in.get(f"/tools/?video={video.name}").content.decode()
    for name in ("edit_trim", "edit_speed", "edit_crop", "edit_resize", "edit_text_overlay",
                 "edit_merge", "tool_video_to_gif", "tts_generate", "subtitles_burn"):
        assert f'value="{name}"' in html
    assert f'value="{video.name}" selected' in html


def test_a_tool_form_runs_the_job_and_shows_the_result(logged_in, world, video,
                                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        r = logged_in.post("/tools/", {"operation": "edit_trim", "video_filename": video.name,
                                       "start_seconds": "0.5", "end_seconds": "1.5"})
    job = Job.objects.get(owner=world.owner, kind="edit_trim")
    assert r.status_code == 302 and r["Location"] == f"/jobs/{job.public_id}/"
    assert job.status == "completed", job.error_message
    page = logged_in.get(r["Location"]).content.decode()
    assert 'data-testid="status">completed' in page and "<video" in page


def test_a_tool_form_shows_validation_errors(logged_in, video):
    r = logged_in.post("/tools/", {"operation": "edit_crop", "video_filename": video.name,
                                   "x": "300", "y": "0", "width": "100", "height": "100"})
    assert r.status_code == 400
    assert not Job.objects.exists()


def test_someone_elses_job_page_is_404(client, world, video):
    from jobs.services import job_submit
    from tests.jobs.handlers import register_all

    register_all()
    job, _ = job_submit(owner=world.other, kind="test.echo", params={}, cost=0)
    client.login(username="owner", password=PASSWORD)
    assert client.get(f"/jobs/{job.public_id}/").status_code == 404


def voice_options(html: str) -> list[str]:
    select = re.search(r'<select id="tts_generate-voice_id" name="voice_id">(.*?)</select>',
                       html, re.S)
    assert select, "the voice is a choice list"
    return re.findall(r'<option value="([^"]*)"', select.group(1))


def test_the_speech_form_offers_the_voices_the_api_lists(logged_in, owner_api, llm):
    from engines.registry import configure

    listed = [v["voice_id"] for v in owner_api.get("/api/tts/voices").json()["voices"]]
    assert "alloy" in listed and "en_gb_male" in listed
    assert voice_options(logged_in.get("/tools/").content.decode()) == listed
    configure(openai={})
    listed = [v["voice_id"] for v in owner_api.get("/api/tts/voices").json()["voices"]]
    html = logged_in.get("/tools/").content.decode()
    assert voice_options(html) == listed == ["en_gb_male", "en_gb_female", "en_us_male",
                                             "en_us_female"]
    assert '<option value="en_us_female" selected>' in html


def test_a_voice_chosen_in_the_form_speaks_and_an_unlisted_one_is_refused(
        logged_in, world, django_capture_on_commit_callbacks):
    on_plan(world.owner, "creator")
    with django_capture_on_commit_callbacks(execute=True):
        r = logged_in.post("/tools/", {"operation": "tts_generate", "text": "Hello there.",
                                       "voice_id": "en_gb_male", "speed": "1.0"})
    job = Job.objects.get(owner=world.owner, kind="tts_generate")
    assert r.status_code == 302 and job.status == "completed", job.error_message
    assert job.params["voice"] == "en_gb_male"
    speech = Asset.objects.get(name=job.result["outputs"][0])
    assert probe(speech.file.path).duration > 0.3
    # No speech engine here: its voices are neither offered nor accepted.
    r = logged_in.post("/tools/", {"operation": "tts_generate", "text": "Hi.",
                                   "voice_id": "alloy", "speed": "1.0"})
    assert r.status_code == 400 and "voice_id" in r.content.decode()
    assert Job.objects.filter(kind="tts_generate").count() == 1


def edit_href(name: str) -> str:
    return f'href="/tools/?video={name}" data-testid="edit-video"'


def test_a_completed_jobs_video_has_an_edit_link_that_preselects_it(
        logged_in, world, video, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        r = logged_in.post("/tools/", {"operation": "edit_speed", "video_filename": video.name,
                                       "speed_factor": "2"})
    job = Job.objects.get(owner=world.owner, kind="edit_speed")
    assert job.status == "completed", job.error_message
    output = Asset.objects.get(name=job.result["outputs"][0])
    assert probe(output.file.path).duration == pytest.approx(1.0, abs=0.2)
    page = logged_in.get(r["Location"]).content.decode()
    assert page.count('data-testid="edit-video"') == 1 and edit_href(output.name) in page
    tools = logged_in.get(f"/tools/?video={output.name}").content.decode()
    assert f'value="{output.name}" selected' in tools


def test_jobs_without_a_video_have_no_edit_link(logged_in, world, video,
                                                django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        r = logged_in.post("/tools/", {"operation": "tool_extract_frames",
                                       "video_filename": video.name, "mode": "first"})
    assert Job.objects.get(kind="tool_extract_frames").status == "completed"
    page = logged_in.get(r["Location"]).content.decode()
    assert "<img" in page and 'data-testid="edit-video"' not in page


def test_an_edit_link_preselects_a_video_older_than_the_hundred_listed(logged_in, world,
                                                                       video):
    from datetime import timedelta

    Asset.objects.filter(pk=video.pk).update(created_at=video.created_at - timedelta(days=30))
    copies = [Asset(owner=world.owner, kind="video", name=f"copy{n:03d}", file=video.file.name,
                    mime="video/mp4", origin="upload") for n in range(100)]
    Asset.objects.bulk_create(copies)
    html = logged_in.get(f"/tools/?video={video.name}").content.decode()
    assert f'value="{video.name}" selected' in html
    other = logged_in.get("/tools/?video=not-mine").content.decode()
    assert 'value="not-mine"' not in other
