import pytest

from assets.services import asset_create_from_path, asset_share
from tests.conftest import assert_error
from tests.generation.media import make_mp4, make_png

pytestmark = pytest.mark.django_db


@pytest.fixture
def video(world):
    return asset_create_from_path(owner=world.owner, path=make_mp4(), kind="video",
                                  extension="mp4", origin="output")


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_owner_downloads_with_the_right_type_and_length(owner_api, video):
    r = owner_api.get(f"/api/video/{video.name}")
    assert r.status_code == 200 and r["Content-Type"] == "video/mp4"
    assert r["Accept-Ranges"] == "bytes" and int(r["Content-Length"]) == video.size
    data = body(r)
    assert len(data) == video.size and data[4:8] == b"ftyp"


@pytest.mark.parametrize("header,start,end", [
    ("bytes=0-99", 0, 99), ("bytes=100-", 100, None), ("bytes=-50", None, None),
])
def test_range_requests_answer_206(owner_api, video, header, start, end):
    r = owner_api.get(f"/api/video/{video.name}", HTTP_RANGE=header)
    assert r.status_code == 206
    full = body(owner_api.get(f"/api/video/{video.name}"))
    part = body(r)
    if start is None:
        assert part == full[-50:]
        assert r["Content-Range"] == f"bytes {video.size - 50}-{video.size - 1}/{video.size}"
    else:
        last = video.size - 1 if end is None else end
        assert part == full[start:last + 1]
        assert r["Content-Range"] == f"bytes {start}-{last}/{video.size}"


def test_unsatisfiable_range_is_416(owner_api, video):
    r = owner_api.get(f"/api/video/{video.name}", HTTP_RANGE=f"bytes={video.size + 10}-")
    assert r.status_code == 416 and r["Content-Range"] == f"bytes */{video.size}"


def test_someone_elses_file_is_404_and_anonymous_is_401(other_api, api, video):
    assert_error(other_api.get(f"/api/video/{video.name}"), 404)
    assert_error(api.get(f"/api/video/{video.name}"), 401)


def test_a_share_token_opens_the_file_to_anyone(api, video):
    token = asset_share(asset=video)
    assert api.get(f"/api/video/{video.name}?token={token}").status_code == 200
    assert_error(api.get(f"/api/video/{video.name}?token=wrong"), 404)


def test_the_route_checks_the_kind(owner_api, world, video):
    image = asset_create_from_path(owner=world.owner, path=make_png(), kind="image",
                                   extension="png", origin="upload")
    assert_error(owner_api.get(f"/api/video/{image.name}"), 404)
    assert owner_api.get(f"/api/image/{image.name}")["Content-Type"] == "image/png"
    assert owner_api.get(f"/api/input-image/{image.name}").status_code == 200


@pytest.mark.parametrize("name", ["..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "x.mp4"])
def test_paths_are_names_never_file_paths(owner_api, name):
    assert owner_api.get(f"/api/video/{name}").status_code == 404


def test_stored_files_have_opaque_names_and_checksums(video):
    import hashlib

    assert len(video.name) >= 24 and video.name.endswith(".mp4")
    with video.file.open("rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == video.sha256
