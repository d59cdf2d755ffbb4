"""Where a story's pictures come from: Pexels/Pixabay (a fake server speaking their API on
loopback), the operator's library, looping backgrounds; and resuming a story that failed."""

import subprocess

import pytest

from billing.models import CreditAccount
from engines.ffmpeg import probe
from jobs.models import Job
from media_tools.library import library_item_create
from tests.conftest import assert_error
from tests.media_tools.conftest import on_plan
from tests.studio.stories import completed, path_of, story_of

pytestmark = pytest.mark.django_db

SCRIPT = "The city wakes up early.\n\nThe forest stays quiet."


@pytest.fixture(autouse=True)
def _plan(world):
    on_plan(world.owner, "starter")


@pytest.fixture
def stock(fake_stock):
    return fake_stock


def clip(tmp_path, name: str, *, source: str = "testsrc2", size: str = "320x568",
         seconds: float = 2.0):
    path = tmp_path / f"{name}.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                    f"{source}=size={size}:rate=12", "-t", str(seconds), "-c:v", "libx264",
                    "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


def post(api, run_jobs, **data):
    with run_jobs():
        return api.post("/api/stories", {"mode": "fixed", "prompt": SCRIPT, "resolution": "480p",
                                         "transition": "cut", **data}, format="json")


def test_stock_scenes_come_from_pexels_through_the_guard(owner_api, run_jobs, stock):
    story = completed(story_of(post(owner_api, run_jobs, video_source="stock",
                                    prompt="The ocean waves roll in.\n\nThe forest is quiet.")))
    scenes = list(story.scenes.all())
    assert [s.visual_source for s in scenes] == ["pexels:101", "pexels:103"]
    searches = [r for r in stock.requests if r["path"] == "/pexels/videos/search"]
    assert searches[0]["query"]["orientation"] == "portrait"
    assert {"ocean", "waves"} <= set(searches[0]["query"]["query"].split())
    info = probe(path_of(story.video))
    assert (info.width, info.height) == (480, 854) and info.has_audio


def test_a_scene_without_portrait_footage_falls_back_to_cropping_landscape_footage(
        owner_api, run_jobs, stock):
    story = completed(story_of(post(owner_api, run_jobs, video_source="stock",
                                    prompt="The city lights at night.")))
    assert story.scenes.get().visual_source == "pexels:102"  # landscape only
    info = probe(path_of(story.video))
    assert (info.width, info.height) == (480, 854)


def test_without_keys_the_local_library_is_searched_by_the_scene_words(
        owner_api, run_jobs, tmp_path):
    city = library_item_create(kind="stock_video", title="Streets", tags="city, street",
                               path=clip(tmp_path, "city"))
    forest = library_item_create(kind="stock_video", title="Trees", tags="forest, trees",
                                 path=clip(tmp_path, "forest", source="mandelbrot"))
    story = completed(story_of(post(owner_api, run_jobs, video_source="stock")))
    assert [s.visual_source for s in story.scenes.all()] == [f"library:{city.pk}",
                                                             f"library:{forest.pk}"]


def test_stock_with_no_keys_and_an_empty_library_is_503_before_charging(owner_api, world):
    before = CreditAccount.objects.get(user=world.owner).balance
    body = assert_error(owner_api.post("/api/stories", {"mode": "fixed", "prompt": SCRIPT,
                                                        "video_source": "stock"},
                                       format="json"), 503, "engine_unavailable")
    assert "PEXELS_API_KEY" in body["error"]
    assert CreditAccount.objects.get(user=world.owner).balance == before


def test_a_background_loops_under_the_whole_story_and_continues_between_scenes(
        owner_api, run_jobs, tmp_path):
    library_item_create(kind="background_minecraft", title="Blocks",
                        path=clip(tmp_path, "blocks", seconds=1.5))
    whoosh = tmp_path / "whoosh.wav"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "anoisesrc=d=0.3",
                    str(whoosh)], check=True)
    library_item_create(kind="sound_effect", title="Whoosh", sfx_role="transition",
                        path=whoosh)
    story = completed(story_of(post(owner_api, run_jobs, video_source="background_minecraft",
                                    video_format="16:9", add_sound_effects=True)))
    first, second = story.scenes.all()
    assert first.visual_id == second.visual_id  # one background, stored once
    assert second.visual_start > 0
    info = probe(path_of(story.video))
    assert (info.width, info.height) == (854, 480)
    narration = first.speech_duration + second.speech_duration
    assert info.duration == pytest.approx(narration + 2 * 0.35, abs=0.5)


def test_a_failed_story_resumes_from_the_failed_step_and_pays_only_for_the_rest(
        owner_api, run_jobs, stock, world):
    stock.fail_next = [500] * 40  # Pexels and Pixabay both down, no library to fall back on
    story = story_of(post(owner_api, run_jobs, video_source="stock"))
    failed = Job.objects.get(pk=story.job_id)
    assert failed.status == "failed" and failed.error_code == "stock_not_found"
    spoken = {s.index: s.speech_id for s in story.scenes.all()}
    assert all(spoken.values())  # the narration was made and kept
    balance = CreditAccount.objects.get(user=world.owner).balance
    # Regenerating one scene would make every missing picture at the price of one: refused.
    r = owner_api.post(f"/api/stories/{story.pk}/scenes/1/regenerate", {"text": "New words."},
                       format="json")
    assert_error(r, 409)
    assert r.json()["missing_scenes"] == sorted(spoken)
    assert CreditAccount.objects.get(user=world.owner).balance == balance
    stock.fail_next = []
    with run_jobs():
        r = owner_api.post(f"/api/stories/{story.pk}/resume")
    assert r.status_code == 202, r.content
    story = completed(story)
    assert {s.index: s.speech_id for s in story.scenes.all()} == spoken
    resumed = Job.objects.get(pk=story.job_id)
    assert resumed.cost == 4  # the composition only: the narration was already paid for
    assert CreditAccount.objects.get(user=world.owner).balance == balance - 4
    assert_error(owner_api.post(f"/api/stories/{story.pk}/resume"), 409)
