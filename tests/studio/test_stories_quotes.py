"""What an ai_video story reserves and charges: each clip quoted from its scene's estimated
length when the script is known, charged at the frames the scene asked for (never above the
quote), and at the longest clip when the script is not known yet."""

import math

import pytest

from billing.models import CreditAccount
from billing.pricing import cost_rules, duration_cost
from billing.services import credit_account_get, credits_adjust
from engines import espeak
from jobs.models import Job
from tests.conftest import assert_error
from tests.media_tools.conftest import on_plan
from tests.studio.stories import completed, path_of, story_of
from tests.studio.test_stories_pipeline import counted_frames

pytestmark = pytest.mark.django_db

SCENES = ["Bees fly.", "They hum.", "Fruit grows."]
AI_VIDEO = {"mode": "fixed", "prompt": "\n\n".join(SCENES), "video_source": "ai_video",
            "video_model": "wan-t2v", "resolution": "480p"}


def wan_cost(frames: int) -> int:
    """The seed's formula with wan-t2v's published rule (GET /api/pricing), 4 steps."""
    rule = cost_rules()["video_models"]["wan-t2v"]
    return math.ceil(rule["base"] + frames * rule["per_frame"] + 4 * rule["per_step"])


def frames_for(seconds: float) -> int:
    """The fewest 4n+1 frames at 24 fps that cover `seconds`."""
    return math.ceil((math.ceil(seconds * 24 - 1e-6) - 1) / 4) * 4 + 1


def estimated_clips(texts: list[str], cap: int) -> list[int]:
    """Each scene's frames from its estimated speech, the 0.35 s pause (at least 1.5 s) and
    the half-second crossfade into the next scene."""
    lengths = [max(1.5, espeak.estimate_seconds(t) + 0.35) + (0.5 if n < len(texts) - 1
                                                              else 0.0)
               for n, t in enumerate(texts)]
    return [min(cap, frames_for(seconds)) for seconds in lengths]


def narration_cost(texts: list[str]) -> int:
    return duration_cost(operation="tts", seconds=espeak.estimate_seconds("\n\n".join(texts)))


def set_balance(user, amount: int) -> None:
    balance = credit_account_get(user=user).balance
    if balance != amount:
        credits_adjust(user=user, amount=amount - balance, reason="test balance")


def test_a_short_script_is_quoted_from_its_scenes_not_from_the_longest_clip(
        owner_api, world):
    on_plan(world.owner, "starter")
    r = owner_api.post("/api/stories", AI_VIDEO, format="json")  # queued, not run
    story = story_of(r)
    job = Job.objects.get(pk=story.job_id)
    frames = estimated_clips(SCENES, cap=121)
    expected = 2 * 3 + narration_cost(SCENES) + sum(wan_cost(f) for f in frames)
    assert job.cost == expected
    assert job.cost < 2 * 3 + narration_cost(SCENES) + 3 * wan_cost(121)
    quotes = story.options["visual"]["quotes"]
    assert [quotes[str(i)] for i in (1, 2, 3)] == [
        {"frames": f, "credits": wan_cost(f)} for f in frames]


def test_a_free_user_who_can_pay_for_the_script_gets_the_story_and_pays_the_frames(
        owner_api, run_jobs, world):
    on_plan(world.owner, "free")
    frames = estimated_clips(SCENES, cap=81)  # the Free plan's longest clip: 81 frames
    quote = 2 * 3 + narration_cost(SCENES) + sum(wan_cost(f) for f in frames)
    cap_quote = 2 * 3 + narration_cost(SCENES) + 3 * wan_cost(81)
    assert quote < cap_quote
    set_balance(world.owner, quote)
    with run_jobs():
        r = owner_api.post("/api/stories", AI_VIDEO, format="json")
    story = completed(story_of(r))
    job = Job.objects.get(pk=story.job_id)
    assert job.cost == quote
    made = [counted_frames(path_of(s.visual)) for s in story.scenes.order_by("index")]
    assert all(m <= f for m, f in zip(made, frames, strict=True))
    assert job.credits_charged == 2 * 3 + narration_cost(SCENES) + sum(map(wan_cost, made))
    assert CreditAccount.objects.get(user=world.owner).balance == quote - job.credits_charged


def test_a_free_user_short_of_the_script_quote_gets_402(owner_api, world):
    on_plan(world.owner, "free")
    frames = estimated_clips(SCENES, cap=81)
    set_balance(world.owner, 2 * 3 + narration_cost(SCENES) + sum(map(wan_cost, frames)) - 1)
    body = assert_error(owner_api.post("/api/stories", AI_VIDEO, format="json"), 402)
    assert body["code"] == "insufficient_credits"


def test_generate_mode_quotes_the_longest_clip_per_scene(owner_api, world, llm):
    on_plan(world.owner, "starter")
    r = owner_api.post("/api/stories", {**AI_VIDEO, "mode": "generate", "prompt": "Bees",
                                        "n_scenes": 2}, format="json")
    story = story_of(r)
    job = Job.objects.get(pk=story.job_id)
    narration = duration_cost(operation="tts", seconds=2 * 7.0)
    assert job.cost == max(3, 2 * 2) + narration + 2 * wan_cost(121)
    assert not story.options["visual"].get("quotes")


def test_regenerating_an_ai_video_scene_quotes_its_clip_from_its_narration(
        owner_api, run_jobs, world):
    on_plan(world.owner, "starter")
    with run_jobs():
        r = owner_api.post("/api/stories", AI_VIDEO, format="json")
    story = completed(story_of(r))
    scene = story.scenes.get(index=2)
    with run_jobs():
        r = owner_api.post(f"/api/stories/{story.pk}/scenes/2/regenerate", {"visual": True},
                           format="json")
    assert r.status_code == 202, r.content
    story = completed(story)
    job = Job.objects.get(pk=story.job_id)
    # The scene keeps its narration: its length is known, so the quote is exact.
    frames = frames_for(max(1.5, scene.speech_duration + 0.35) + 0.5)
    assert job.cost == 2 * 3 + wan_cost(frames)
    assert counted_frames(path_of(story.scenes.get(index=2).visual)) == frames
    assert job.credits_charged == job.cost
    assert story.options["visual"]["quotes"]["2"] == {"frames": frames,
                                                       "credits": wan_cost(frames)}


def test_a_resumed_story_quotes_its_missing_clip_from_the_scene_narration(
        owner_api, run_jobs, world):
    on_plan(world.owner, "starter")
    with run_jobs():
        r = owner_api.post("/api/stories", AI_VIDEO, format="json")
    story = completed(story_of(r))
    # The story as a worker that died after the narration and two clips leaves it.
    last = story.scenes.get(index=3)
    last.visual = None
    last.save(update_fields=["visual"])
    Job.objects.filter(pk=story.job_id).update(status=Job.Status.FAILED)
    with run_jobs():
        r = owner_api.post(f"/api/stories/{story.pk}/resume")
    assert r.status_code == 202, r.content
    story = completed(story)
    job = Job.objects.get(pk=story.job_id)
    frames = frames_for(max(1.5, last.speech_duration + 0.35))  # the last scene: no crossfade
    assert job.cost == 2 * 3 + wan_cost(frames)
    assert counted_frames(path_of(story.scenes.get(index=3).visual)) == frames
    assert job.credits_charged == job.cost
