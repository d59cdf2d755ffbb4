import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assets.models import Asset
from assets.services import asset_create_from_path
from engines.ffmpeg import probe
from generation.models import Generation
from generation.services import generation_submit
from jobs.services import job_claim, job_complete
from tests.conftest import assert_error
from tests.generation.media import make_mp4, make_png

pytestmark = pytest.mark.django_db


def finished(user, prompt="A finished clip") -> Generation:
    """A generation whose job has completed with a real stored video and thumbnail."""
    gen = generation_submit(user=user, data={"model": "wan-t2v", "prompt": prompt})
    job = job_claim(job_id=gen.job.pk, worker="test")
    thumb = asset_create_from_path(owner=user, path=make_png(), kind="image", extension="png",
                                   origin="thumbnail", source_job_id=job.public_id)
    path = make_mp4()
    video = asset_create_from_path(owner=user, path=path, kind="video", extension="mp4",
                                   source_job_id=job.public_id, thumbnail=thumb,
                                   info=probe(path))
    gen.asset = video
    gen.save()
    job_complete(job=job, result={"outputs": [video.name]})
    gen.refresh_from_db()
    return gen


def test_history_lists_your_generations_with_files_and_status(owner_api, world):
    gen = finished(world.owner)
    generation_submit(user=world.owner, data={"model": "wan-t2v", "prompt": "still queued"})
    finished(world.other, "not mine")
    body = owner_api.get("/api/generations").json()
    assert body["count"] == 2
    done = next(g for g in body["results"] if g["id"] == gen.pk)
    assert done["status"] == "completed" and done["filename"] == gen.asset.name
    assert done["url"].endswith(f"/api/video/{gen.asset.name}")
    assert done["thumbnail_url"] and done["engine"] == "preview"
    assert {g["prompt"] for g in body["results"]} == {"A finished clip", "still queued"}


def test_history_paginates_up_to_200(owner_api, world):
    for i in range(3):
        generation_submit(user=world.owner, data={"model": "wan-t2v", "prompt": f"p{i}"})
    body = owner_api.get("/api/generations?limit=2&offset=1").json()
    assert body["count"] == 3 and len(body["results"]) == 2
    assert owner_api.get("/api/generations?limit=999").json()["limit"] == 200


def test_history_query_count_is_flat(owner_api, world):
    for _ in range(4):
        finished(world.owner)
    owner_api.get("/api/generations")
    with CaptureQueriesContext(connection) as queries:
        assert owner_api.get("/api/generations").status_code == 200
    # 3 queries: API key + user, count, page with job, asset and thumbnail joined.
    assert len(queries) == 3, [q["sql"] for q in queries]


def test_favourite_share_public_and_gallery(owner_api, api, world):
    gen = finished(world.owner)
    assert owner_api.post(f"/api/generations/{gen.pk}/favorite").json() == {"is_favorite": True}
    share = owner_api.post(f"/api/generations/{gen.pk}/share").json()
    shared = api.get(f"/api/share/{share['share_token']}").json()
    assert shared["prompt"] == "A finished clip" and "owner" not in str(shared.get("email"))
    assert api.get(shared["url"].replace("http://testserver", "")).status_code == 200
    assert api.get("/api/gallery/community").json()["count"] == 0
    assert owner_api.post(f"/api/generations/{gen.pk}/public").json() == {"is_public": True}
    gallery = api.get("/api/gallery/community").json()
    assert gallery["count"] == 1 and gallery["results"][0]["prompt"] == "A finished clip"
    assert api.get(f"/api/gallery/community/{gen.pk}/media").status_code == 200
    assert api.get(f"/api/gallery/community/{gen.pk}/thumbnail").status_code == 200


def test_private_generations_are_not_in_the_gallery_files(api, world):
    gen = finished(world.owner)
    assert_error(api.get(f"/api/gallery/community/{gen.pk}/media"), 404)


def test_bad_share_tokens_are_404(api):
    assert_error(api.get("/api/share/nope"), 404)


def test_delete_removes_the_row_and_its_files(owner_api, world,
                                              django_capture_on_commit_callbacks):
    gen = finished(world.owner)
    names = [gen.asset.file.name, gen.asset.thumbnail.file.name]
    storage = gen.asset.file.storage
    with django_capture_on_commit_callbacks(execute=True):
        assert owner_api.delete(f"/api/generations/{gen.pk}").status_code == 204
    assert not Generation.objects.filter(pk=gen.pk).exists()
    assert not Asset.objects.filter(source_job_id=gen.job.public_id).exists()
    assert not any(storage.exists(n) for n in names)


def test_deleting_a_queued_generation_cancels_and_refunds(owner_api, world):
    from billing.models import CreditAccount

    gen = generation_submit(user=world.owner, data={"model": "wan-t2v", "prompt": "x"})
    assert owner_api.delete(f"/api/generations/{gen.pk}").status_code == 204
    assert CreditAccount.objects.get(user=world.owner).balance == 150


@pytest.mark.parametrize("method,suffix", [
    ("delete", ""), ("post", "/favorite"), ("post", "/share"), ("post", "/public"),
])
def test_someone_elses_generation_is_404_and_untouched(other_api, world, method, suffix):
    gen = finished(world.owner)
    assert_error(getattr(other_api, method)(f"/api/generations/{gen.pk}{suffix}"), 404)
    gen.refresh_from_db()
    assert not gen.is_favorite and not gen.is_public and gen.asset.share_token is None


def test_image_routes_do_not_touch_videos(owner_api, world):
    gen = finished(world.owner)
    assert_error(owner_api.delete(f"/api/image-generations/{gen.pk}"), 404)
    assert owner_api.get("/api/image-generations").json()["count"] == 0


def test_history_needs_credentials(api):
    assert_error(api.get("/api/generations"), 401)
    assert_error(api.get("/api/image-generations"), 401)
