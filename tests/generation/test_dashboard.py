import pytest

from generation.models import Generation
from jobs.models import Job
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client, world):
    client.login(username="owner", password=PASSWORD)
    return client


def test_generate_page_lists_models_with_engine_and_limits(logged_in):
    html = logged_in.get("/generate/").content.decode()
    assert "wan-t2v" in html and "preview" in html and "4n+1" in html
    assert "not AI" in html


def test_generate_form_queues_and_redirects_to_the_progress_page(logged_in, world):
    r = logged_in.post("/generate/", {"model": "wan-t2v", "prompt": "Lighthouse at dusk",
                                      "frames": 41, "seed": 5})
    assert r.status_code == 302
    gen = Generation.objects.get(owner=world.owner)
    assert r["Location"] == f"/generations/{gen.pk}/"
    page = logged_in.get(r["Location"]).content.decode()
    assert "Lighthouse at dusk" in page and 'data-testid="status">queued' in page
    assert 'http-equiv="refresh"' in page  # the no-JavaScript fallback while it runs


def test_generate_form_shows_model_errors_on_the_field(logged_in):
    r = logged_in.post("/generate/", {"model": "wan-t2v", "prompt": "x", "frames": 42})
    assert r.status_code == 400 and "4n+1" in r.content.decode()
    assert not Job.objects.exists()


def test_generate_form_plan_limit_is_explained(logged_in):
    r = logged_in.post("/generate/", {"model": "wan-t2v", "prompt": "x", "frames": 121})
    assert r.status_code == 400 and "81 frames" in r.content.decode()


def test_image_form_queues_one_job_per_image(logged_in, world):
    r = logged_in.post("/generate/image/", {"model": "sd15", "prompt": "cat", "num_images": 2,
                                            "seed": 1})
    assert r.status_code == 302 and r["Location"] == "/images/"
    assert Generation.objects.filter(owner=world.owner, output_type="image").count() == 2


def test_actions_cancel_favourite_delete(logged_in, world):
    logged_in.post("/generate/", {"model": "wan-t2v", "prompt": "x"})
    gen = Generation.objects.get(owner=world.owner)
    logged_in.post(f"/generations/{gen.pk}/favorite/")
    gen.refresh_from_db()
    assert gen.is_favorite
    logged_in.post(f"/generations/{gen.pk}/cancel/")
    gen.job.refresh_from_db()
    assert gen.job.status == "canceled"
    r = logged_in.post(f"/generations/{gen.pk}/public/", follow=True)
    assert "Only a finished generation" in r.content.decode()
    logged_in.post(f"/generations/{gen.pk}/delete/")
    assert not Generation.objects.filter(pk=gen.pk).exists()


def test_someone_elses_generation_page_is_404(client, world):
    from generation.services import generation_submit

    theirs = generation_submit(user=world.other, data={"model": "wan-t2v", "prompt": "x"})
    client.login(username="owner", password=PASSWORD)
    assert client.get(f"/generations/{theirs.pk}/").status_code == 404
    assert client.post(f"/generations/{theirs.pk}/delete/").status_code == 404
    assert client.post(f"/generations/{theirs.pk}/bogus/").status_code == 404
    assert Generation.objects.filter(pk=theirs.pk).exists()


def test_history_and_gallery_pages(logged_in, client):
    assert logged_in.get("/videos/").status_code == 200
    assert logged_in.get("/images/").status_code == 200
    assert client.get("/gallery/").status_code == 200


def test_a_finished_video_generation_links_to_the_tools_with_its_video(
        logged_in, world, django_capture_on_commit_callbacks):
    from engines.ffmpeg import probe

    with django_capture_on_commit_callbacks(execute=True):
        r = logged_in.post("/generate/", {"model": "wan-t2v", "prompt": "Harbour lights",
                                          "frames": 9, "width": 320, "height": 192})
    gen = Generation.objects.get(owner=world.owner)
    assert gen.job.status == "completed", gen.job.error_message
    assert probe(gen.asset.file.path).width == 320
    page = logged_in.get(r["Location"]).content.decode()
    assert page.count(f'href="/tools/?video={gen.asset.name}" data-testid="edit-video"') == 1
