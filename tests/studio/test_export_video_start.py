"""A shot begins inside its video (`video_start`): the export starts each clip there, and a
story's background shots continue one looping background. Checked on the exported pixels
against the source's own frames."""

import subprocess
from pathlib import Path

import pytest

from assets.models import Asset
from assets.services import asset_create_from_path
from engines.ffmpeg import probe
from media_tools.library import library_item_create
from studio.models import Project, Shot
from tests.conftest import assert_error
from tests.factories import PASSWORD
from tests.media_tools.conftest import on_plan
from tests.studio.stories import completed, export, story_of

pytestmark = pytest.mark.django_db

SMALL = (64, 36)


@pytest.fixture(autouse=True)
def _plan(world):
    on_plan(world.owner, "starter")


def pattern_video(tmp_path: Path, name: str, *, seconds: float, rate: int,
            source: str = "testsrc") -> Path:
    path = tmp_path / f"{name}.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                    f"{source}=size=320x180:rate={rate}:duration={seconds}", "-c:v", "libx264",
                    "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


def video_asset(user, path: Path) -> Asset:
    return asset_create_from_path(owner=user, path=path, kind="video", extension="mp4",
                                  origin="output", info=probe(path))


def small_frames(path: Path, *, at: float | None = None) -> list[bytes]:
    """Frames shrunk to 64x36 RGB: every frame of the file, or the one at `at` seconds."""
    seek = ["-ss", f"{at:.3f}"] if at is not None else []
    out = subprocess.run(["ffmpeg", "-v", "error", *seek, "-i", str(path),
                          *(["-frames:v", "1"] if at is not None else []),
                          "-vf", f"scale={SMALL[0]}:{SMALL[1]}", "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    size = SMALL[0] * SMALL[1] * 3
    return [out[i:i + size] for i in range(0, len(out), size)]


def difference(a: bytes, b: bytes) -> float:
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)


def source_frame_shown(source: list[bytes], exported: bytes) -> int:
    """The index of the source frame the exported picture matches best."""
    return min(range(len(source)), key=lambda i: difference(source[i], exported))


def test_two_shots_of_one_video_start_where_each_says(
        owner_api, world, tmp_path, django_capture_on_commit_callbacks):
    path = pattern_video(tmp_path, "source", seconds=6, rate=24)
    source = video_asset(world.owner, path)
    project = Project.objects.create(owner=world.owner, name="Two starts")
    r = owner_api.post(f"/api/projects/{project.pk}/shots",
                       {"filename": source.name, "duration": 1.5, "video_start": 1.0},
                       format="json")
    assert r.status_code == 201, r.content
    assert r.json()["video_start"] == 1.0
    r = owner_api.post(f"/api/projects/{project.pk}/shots",
                       {"filename": source.name, "duration": 1.5}, format="json")
    second = r.json()["id"]
    r = owner_api.put(f"/api/projects/{project.pk}/shots/{second}", {"video_start": 4.0},
                      format="json")
    assert r.status_code == 200 and r.json()["video_start"] == 4.0
    out = export(owner_api, project, django_capture_on_commit_callbacks)
    assert probe(out).duration == pytest.approx(3.0, abs=0.1)
    frames = small_frames(path)
    first_shown = source_frame_shown(frames, small_frames(out, at=0.0)[0])
    second_shown = source_frame_shown(frames, small_frames(out, at=1.5 + 0.5 / 24)[0])
    assert abs(first_shown - 24) <= 1  # 1.0 s into the 24 fps source
    assert abs(second_shown - 96) <= 1  # 4.0 s
    # And not the source's opening, which every shot showed before.
    opening = small_frames(out, at=0.0)[0]
    assert difference(opening, frames[24]) < difference(opening, frames[0])


def test_a_start_past_the_video_end_or_below_zero_is_refused(owner_api, world, tmp_path):
    short = video_asset(world.owner, pattern_video(tmp_path, "short", seconds=2, rate=12))
    longer = video_asset(world.owner, pattern_video(tmp_path, "long", seconds=5, rate=12))
    project = Project.objects.create(owner=world.owner, name="Bad starts")
    base = f"/api/projects/{project.pk}/shots"
    body = assert_error(owner_api.post(base, {"filename": short.name, "video_start": 2.5},
                                       format="json"), 400)
    assert "video_start" in body["fields"]
    body = assert_error(owner_api.post(base, {"filename": short.name, "video_start": -1},
                                       format="json"), 400)
    assert "video_start" in body["fields"]
    shot = owner_api.post(base, {"filename": longer.name, "video_start": 3.0},
                          format="json").json()
    # Linking a video that ends before the shot's start is refused too; nothing changes.
    body = assert_error(owner_api.put(f"{base}/{shot['id']}", {"filename": short.name},
                                      format="json"), 400)
    assert "video_start" in body["fields"]
    stored = Shot.objects.get(pk=shot["id"])
    assert (stored.asset_id, stored.video_start) == (longer.pk, 3.0)


def test_the_editor_sets_and_shows_a_shot_start(client, world, tmp_path):
    client.login(username="owner", password=PASSWORD)
    logged_in = client
    source = video_asset(world.owner, pattern_video(tmp_path, "source", seconds=3, rate=12))
    project = Project.objects.create(owner=world.owner, name="Editor")
    shot = Shot.objects.create(project=project, position=0, prompt="Harbour", asset=source)
    fields = {"prompt": "Harbour", "duration": 2, "shot_type": "wide", "camera_move": "static",
              "transition": "cut"}
    logged_in.post(f"/studio/{project.pk}/shots/{shot.pk}/update/",
                   {**fields, "video_start": 1.25})
    shot.refresh_from_db()
    assert shot.video_start == 1.25
    page = logged_in.get(f"/studio/{project.pk}/").content.decode()
    assert 'name="video_start"' in page and 'value="1.25"' in page
    r = logged_in.post(f"/studio/{project.pk}/shots/{shot.pk}/update/",
                       {**fields, "video_start": 9}, follow=True)
    assert "before the video" in r.content.decode()
    shot.refresh_from_db()
    assert shot.video_start == 1.25


def test_a_background_story_exports_with_its_shots_continuing_the_loop(
        owner_api, run_jobs, world, tmp_path, django_capture_on_commit_callbacks):
    background = pattern_video(tmp_path, "blocks", seconds=3, rate=12, source="testsrc2")
    library_item_create(kind="background_minecraft", title="Blocks", path=background)
    with run_jobs():
        r = owner_api.post("/api/stories", {
            "mode": "fixed", "video_source": "background_minecraft", "video_format": "16:9",
            "transition": "cut", "resolution": "480p",
            "prompt": "The city wakes up early.\n\nThe forest stays quiet."}, format="json")
    story = completed(story_of(r))
    first, second = story.scenes.select_related("shot")
    assert second.visual_start > 0
    assert (first.shot.video_start, second.shot.video_start) == (0.0, second.visual_start)
    out = export(owner_api, story.project, django_capture_on_commit_callbacks)
    frames = small_frames(background)
    # Half a second into each shot, the background is where the story had it: the second
    # scene continues from where the first stopped, and wraps past the background's end.
    for shot_start, scene in ((0.0, first), (first.shot.duration, second)):
        shown = source_frame_shown(frames, small_frames(out, at=shot_start + 0.5)[0])
        expected = round((scene.visual_start + 0.5) * 12) % len(frames)
        assert min(abs(shown - expected), len(frames) - abs(shown - expected)) <= 1
    assert second.visual_start + second.shot.duration > 3.0  # the loop was needed
