import io

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.conftest import assert_error
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _image(fmt="PNG", size=(640, 480), color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt)
    return out.getvalue()


def test_profile_get_and_update(owner_api):
    assert owner_api.get("/api/profile").json()["username"] == "owner"
    r = owner_api.post("/api/profile", {"display_name": "The Owner", "bio": "Films.",
                                        "profile_public": True}, format="json")
    assert r.status_code == 200, r.content
    body = owner_api.get("/api/profile").json()
    assert (body["display_name"], body["bio"], body["profile_public"]) == (
        "The Owner", "Films.", True)


def test_profile_update_ignores_fields_that_are_not_the_users_to_set(owner_api, world):
    owner_api.post("/api/profile", {"username": "hijack", "is_staff": True, "email":
                                    "x@evil.test", "display_name": "ok"}, format="json")
    world.owner.refresh_from_db()
    assert world.owner.username == "owner" and not world.owner.is_staff
    assert world.owner.email == "owner@example.com"


@pytest.mark.parametrize("payload,field", [
    ({"display_name": "x" * 81}, "display_name"),
    ({"bio": "x" * 1001}, "bio"),
    ({"profile_public": "perhaps"}, "profile_public"),
])
def test_profile_update_validates(owner_api, payload, field):
    assert field in assert_error(owner_api.post("/api/profile", payload, format="json"),
                                 400)["fields"]


def test_avatar_is_cropped_square_resized_and_served(owner_api, api, world):
    upload = SimpleUploadedFile("me.jpg", _image("JPEG", (800, 400)), "image/jpeg")
    r = owner_api.post("/api/profile/avatar", {"avatar": upload}, format="multipart")
    assert r.status_code == 200, r.content
    url = r.json()["avatar"]
    served = api.get(url)
    assert served.status_code == 200
    img = Image.open(io.BytesIO(b"".join(served.streaming_content)))
    assert img.format == "PNG" and img.size == (256, 256)


@pytest.mark.parametrize("name,content,status", [
    ("notes.png", b"this is not an image", 415),
    ("empty.png", b"", 400),
    ("playlist.png", b"#EXTM3U\n#EXT-X-VERSION:3\nhttp://127.0.0.1/secret.ts\n", 415),
])
def test_avatar_rejects_files_that_are_not_images(owner_api, name, content, status):
    upload = SimpleUploadedFile(name, content, "image/png")
    assert_error(owner_api.post("/api/profile/avatar", {"avatar": upload}, format="multipart"),
                 status)


def test_avatar_rejects_decompression_bombs(owner_api, settings):
    settings.MAX_IMAGE_PIXELS = 1_000_000
    upload = SimpleUploadedFile("big.png", _image("PNG", (2000, 1000)), "image/png")
    assert_error(owner_api.post("/api/profile/avatar", {"avatar": upload}, format="multipart"),
                 413, "image_too_large")


def test_avatar_rejects_oversized_files(owner_api, settings):
    settings.AVATAR_MAX_BYTES = 1000
    upload = SimpleUploadedFile("big.png", _image("PNG", (300, 300)) + b"\0" * 2000,
                                "image/png")
    assert_error(owner_api.post("/api/profile/avatar", {"avatar": upload}, format="multipart"),
                 413)


def test_change_password_needs_the_current_one(owner_api, api, world):
    body = assert_error(owner_api.post("/api/settings/change-password", {
        "current_password": "wrong", "new_password": "a-new-passphrase"}, format="json"), 400)
    assert "current_password" in body["fields"]
    body = assert_error(owner_api.post("/api/settings/change-password", {
        "current_password": PASSWORD, "new_password": "short"}, format="json"), 400)
    assert "new_password" in body["fields"]
    r = owner_api.post("/api/settings/change-password", {
        "current_password": PASSWORD, "new_password": "a-new-passphrase"}, format="json")
    assert r.status_code == 200
    assert api.post("/api/login", {"username": "owner", "password": "a-new-passphrase"},
                    format="json").status_code == 200


def test_change_email_checks_format_and_uniqueness_and_tells_the_old_address(
        owner_api, world, django_capture_on_commit_callbacks):
    assert "email" in assert_error(owner_api.post("/api/settings/email", {"email": "nope"},
                                                  format="json"), 400)["fields"]
    assert "email" in assert_error(owner_api.post("/api/settings/email",
                                                  {"email": "OTHER@example.com"},
                                                  format="json"), 400)["fields"]
    with django_capture_on_commit_callbacks(execute=True):
        r = owner_api.post("/api/settings/email", {"email": "new@example.com"}, format="json")
    assert r.status_code == 200 and r.json()["email"] == "new@example.com"
    assert mail.outbox[-1].to == ["owner@example.com"]


def test_theme_is_dark_or_light(owner_api, world):
    assert owner_api.post("/api/settings/theme", {"theme": "light"},
                          format="json").json() == {"theme": "light"}
    world.owner.refresh_from_db()
    assert world.owner.theme == "light"
    assert "theme" in assert_error(owner_api.post("/api/settings/theme", {"theme": "pink"},
                                                  format="json"), 400)["fields"]


@pytest.mark.parametrize("method,url", [
    ("get", "/api/profile"), ("post", "/api/profile"), ("post", "/api/profile/avatar"),
    ("post", "/api/settings/change-password"), ("post", "/api/settings/email"),
    ("post", "/api/settings/theme"),
])
def test_profile_and_settings_need_credentials(api, method, url):
    assert_error(getattr(api, method)(url, {}, format="json"), 401, "not_authenticated")
