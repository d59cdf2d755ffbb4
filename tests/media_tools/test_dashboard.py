import pytest

from assets.services import asset_create_from_path
from engines.ffmpeg import probe
from jobs.models import Job
from tests.factories import PASSWORD
from tests.generation.media import make_mp4

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
