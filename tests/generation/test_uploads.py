import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from assets.models import Asset
from tests.conftest import assert_error
from tests.generation.media import make_mp4

pytestmark = pytest.mark.django_db


def png_bytes(size=(320, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def upload(client, name, content, ctype="application/octet-stream"):
    return client.post("/api/upload-image", {"image": SimpleUploadedFile(name, content, ctype)},
                       format="multipart")


def test_upload_an_image_and_use_it_for_image_to_video(owner_api, world):
    r = upload(owner_api, "photo.png", png_bytes(), "image/png")
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["width"], body["height"], body["kind"]) == (320, 200, "image")
    assert body["filename"] != "photo.png" and body["filename"].endswith(".png")
    asset = Asset.objects.get(name=body["filename"])
    assert asset.owner == world.owner and asset.original_filename == "photo.png"
    assert owner_api.get(f"/api/input-image/{body['filename']}").status_code == 200
    r = owner_api.post("/api/generate", {"prompt": "x", "model": "wan-i2v",
                                         "image_filename": body["filename"]}, format="json")
    assert r.status_code == 202, r.content


def test_the_content_decides_not_the_name(owner_api):
    r = upload(owner_api, "innocent.jpg", png_bytes(), "image/jpeg")
    assert r.status_code == 201 and r.json()["filename"].endswith(".png")


@pytest.mark.parametrize("name,content,status", [
    ("notes.png", b"just some text, not an image at all", 415),
    ("list.png", b"#EXTM3U\n#EXT-X-VERSION:3\n#EXTINF:1,\nhttp://127.0.0.1:9/secret.ts\n", 415),
    ("truncated.png", png_bytes()[:60], 415),
])
def test_files_that_are_not_images_are_refused(owner_api, name, content, status):
    assert_error(upload(owner_api, name, content), status)
    assert not Asset.objects.exists()


def test_a_video_is_not_an_image_upload(owner_api):
    assert_error(upload(owner_api, "clip.png", make_mp4().read_bytes()), 415)


def test_empty_and_oversized_files(owner_api, settings):
    assert_error(upload(owner_api, "empty.png", b""), 400)
    settings.UPLOAD_MAX_BYTES = {**settings.UPLOAD_MAX_BYTES, "image": 1000}
    assert_error(upload(owner_api, "big.png", png_bytes((400, 400))), 413)


def test_pixel_bombs_are_refused_before_decoding(owner_api, settings):
    settings.MAX_IMAGE_PIXELS = 10_000
    assert_error(upload(owner_api, "wide.png", png_bytes((200, 200))), 413)


def test_upload_needs_credentials(api):
    assert_error(upload(api, "a.png", png_bytes()), 401)
