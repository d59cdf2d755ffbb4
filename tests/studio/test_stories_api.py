"""POST /api/stories: validation, prices, plan limits, tenancy; no worker needed."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from assets.models import Asset
from billing.models import CreditAccount
from jobs.models import Job
from studio.models import Story
from tests.conftest import assert_error
from tests.media_tools.conftest import on_plan

pytestmark = pytest.mark.django_db

SCRIPT = ("The ocean covers most of our planet.\n\nIt holds more life than any forest.\n\n"
          "We have explored only a small part of it.")


def post(api, **data):
    return api.post("/api/stories", {"mode": "fixed", "prompt": SCRIPT, **data}, format="json")


def test_ai_scenery_without_its_style_prompt_is_refused_with_the_field(owner_api):
    body = assert_error(post(owner_api, video_source="ai_scenery"), 400, "invalid")
    assert "ai_scenery_prompt" in body["fields"]


@pytest.mark.parametrize("count", [0, 21])
def test_scene_counts_outside_1_to_20_are_refused(owner_api, count):
    body = assert_error(post(owner_api, video_source="ai_scenery", ai_scenery_prompt="x",
                             n_scenes=count), 400)
    assert "n_scenes" in body["fields"]


def test_a_narration_upload_that_is_not_audio_is_415_and_nothing_is_kept(owner_api, world):
    fake = SimpleUploadedFile("voice.mp3", b"#EXTM3U\n#EXT-X-TARGETDURATION:1\nfile:///etc/passwd\n",
                              content_type="audio/mpeg")
    r = owner_api.post("/api/stories", {"audio_source_type": "upload", "mp3_file": fake,
                                        "script": "Hello there.", "video_source": "ai_scenery",
                                        "ai_scenery_prompt": "calm"}, format="multipart")
    assert "mp3_file" in assert_error(r, 415, "unsupported_media")["fields"]
    assert not Asset.objects.filter(owner=world.owner).exists()
    assert not Story.objects.exists()


def test_an_unknown_template_parameter_is_refused_with_the_allowed_ones(owner_api):
    body = assert_error(post(owner_api, video_source="ai_scenery", ai_scenery_prompt="x",
                             frame_template="image_default",
                             template_params={"acent_color": "#fff"}), 400)
    assert any("acent_color" in key for key in body["fields"]), body


def test_an_unknown_template_is_refused(owner_api):
    body = assert_error(post(owner_api, video_source="ai_scenery", ai_scenery_prompt="x",
                             frame_template="no_such_layout"), 400)
    assert "frame_template" in body["fields"]


def test_generate_mode_without_a_language_model_says_what_to_configure(owner_api):
    body = assert_error(post(owner_api, mode="generate", prompt="The ocean",
                             video_source="ai_scenery", ai_scenery_prompt="x"), 503,
                        "engine_unavailable")
    assert "OPENAI_BASE_URL" in body["error"]


def test_an_upload_without_script_or_transcription_engine_is_503(owner_api, media, world):
    voice = media.audio(world.owner, seconds=1.0)
    body = assert_error(owner_api.post("/api/stories", {
        "audio_source_type": "upload", "narration_filename": voice.name,
        "video_source": "ai_scenery", "ai_scenery_prompt": "x"}, format="json"), 503)
    assert "transcription" in body["error"]


def test_someone_elses_narration_or_visuals_are_404(owner_api, other_api, media, world):
    theirs = media.video(world.other)
    assert_error(post(owner_api, video_source="assets", visual_filenames=[theirs.name]), 404)


def test_a_resolution_above_the_plan_is_403_with_the_plan_needed(owner_api, world):
    on_plan(world.owner, "free")
    body = assert_error(post(owner_api, video_source="ai_scenery", ai_scenery_prompt="x",
                             resolution="1080p"), 403, "tier_required")
    assert body["required_tier"] == "starter"


def test_submission_reserves_the_quoted_price_and_makes_a_project(owner_api, world):
    on_plan(world.owner, "starter")
    before = CreditAccount.objects.get(user=world.owner).balance
    r = post(owner_api, video_source="ai_scenery", ai_scenery_prompt="watercolour")
    assert r.status_code == 202, r.content
    story = Story.objects.get(pk=r.json()["story_id"])
    job = Job.objects.get(public_id=r.json()["job_id"])
    # 3 scenes: compose 6, three flux pictures at 5, the narration (~22 words) at 6/min.
    assert job.cost == 6 + 15 + 1
    assert CreditAccount.objects.get(user=world.owner).balance == before - job.cost
    assert story.project.owner == world.owner and story.options["n_scenes"] == 3
    assert (story.options["width"], story.options["height"]) == (1080, 1920)


def test_an_idempotent_replay_returns_the_same_story(owner_api):
    first = owner_api.post("/api/stories", {"mode": "fixed", "prompt": SCRIPT,
                                            "video_source": "ai_scenery",
                                            "ai_scenery_prompt": "x"},
                           format="json", HTTP_IDEMPOTENCY_KEY="story-1")
    again = owner_api.post("/api/stories", {"mode": "fixed", "prompt": SCRIPT,
                                            "video_source": "ai_scenery",
                                            "ai_scenery_prompt": "x"},
                           format="json", HTTP_IDEMPOTENCY_KEY="story-1")
    assert first.json()["job_id"] == again.json()["job_id"]
    assert again["Idempotent-Replayed"] == "true"
    assert Story.objects.count() == 1


def test_an_outsider_gets_404_for_the_story_and_its_scenes(owner_api, other_api):
    story_id = post(owner_api, video_source="ai_scenery", ai_scenery_prompt="x").json()[
        "story_id"]
    assert_error(other_api.get(f"/api/stories/{story_id}"), 404)
    assert_error(other_api.post(f"/api/stories/{story_id}/scenes/1/regenerate",
                                {"text": "Mine now."}, format="json"), 404)
    assert_error(other_api.post(f"/api/stories/{story_id}/resume"), 404)


def test_anonymous_callers_get_401(api):
    assert_error(api.post("/api/stories", {"prompt": "x"}, format="json"), 401)
    assert_error(api.get("/api/stories"), 401)


def test_the_templates_are_listed_for_every_format(owner_api):
    templates = owner_api.get("/api/stories/templates").json()["templates"]
    for size in ("1080x1920", "1920x1080", "1080x1080", "1080x1350"):
        assert sum(size in t["sizes"] for t in templates) >= 4
    assert all("accent_color" in t["params"] for t in templates)
