"""The story pages: the form built from the API serializer, the story page, scene actions."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from engines.ffmpeg import probe
from studio.models import Story, StoryScene
from tests.factories import PASSWORD
from tests.studio.stories import completed, path_of, story_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client, world):
    client.login(username="owner", password=PASSWORD)
    return client


def test_the_new_story_page_offers_every_api_option(logged_in):
    page = logged_in.get("/stories/new/").content.decode()
    for name in ("audio_source_type", "prompt", "mode", "mp3_file", "n_scenes", "video_format",
                 "video_source", "ai_scenery_prompt", "voice", "voice_speed", "burn_captions",
                 "caption_style", "text_transform", "caption_position", "add_music",
                 "bgm_volume", "add_sound_effects", "frame_template", "template_params"):
        assert f'name="{name}"' in page, name


def test_submitting_the_form_queues_a_story_and_opens_its_page(logged_in, world):
    r = logged_in.post("/stories/new/", {
        "audio_source_type": "generate", "mode": "fixed", "prompt": "One. Two.",
        "video_format": "1:1", "video_source": "ai_scenery", "ai_scenery_prompt": "ink",
        "voice": "en_gb_male", "voice_speed": "1.0", "caption_style": "segnals",
        "text_transform": "uppercase", "caption_position": "center", "bgm_volume": "0.3",
        "burn_captions": "on", "template_params": '{"accent_color": "#ff0066"}',
        "frame_template": "image_card", "image_model": "flux", "video_model": "wan-t2v",
        "transition": "cut", "language": "en"})
    story = Story.objects.get(owner=world.owner)
    assert r.status_code == 302 and r["Location"] == f"/stories/{story.pk}/"
    assert story.options["burn_captions"] is True
    assert story.options["template"]["params"]["accent_color"] == "#ff0066"
    page = logged_in.get(r["Location"]).content.decode()
    assert 'data-testid="status"' in page and "queued" in page
    for stage in ("script", "narration", "visuals", "compose", "metadata"):
        assert f">{stage}<" in page


def test_form_errors_are_shown_next_to_the_form(logged_in):
    r = logged_in.post("/stories/new/", {"mode": "fixed", "prompt": "x",
                                         "video_source": "ai_scenery"})
    assert r.status_code == 400
    assert "ai_scenery_prompt" in r.content.decode()


def test_the_story_page_shows_details_with_copy_buttons_and_scene_forms(logged_in, world):
    logged_in.post("/stories/new/", {"mode": "fixed", "prompt": "One.\n\nTwo.",
                                     "video_source": "ai_scenery", "ai_scenery_prompt": "ink"})
    story = Story.objects.get(owner=world.owner)
    story.details = {"youtube_title": "T", "youtube_description": "D",
                     "instagram_caption": "I", "hashtags": ["#a"], "derived": True}
    story.save()
    for n in (1, 2):
        StoryScene.objects.create(story=story, index=n, text=f"Scene {n}")
    page = logged_in.get(f"/stories/{story.pk}/").content.decode()
    assert page.count('class="copy"') == 4 and "derived from the script" in page
    assert f'action="/stories/{story.pk}/scene-2/"' in page


def test_someone_elses_story_page_is_404(client, world):
    story_owner = world.owner
    client.login(username="other", password=PASSWORD)
    from studio.models import Project

    story = Story.objects.create(owner=story_owner, prompt="x", project=Project.objects.create(
        owner=story_owner, name="x"))
    assert client.get(f"/stories/{story.pk}/").status_code == 404
    assert client.post(f"/stories/{story.pk}/resume/").status_code == 404


def test_the_story_list_costs_a_fixed_number_of_queries(logged_in, world):
    for n in range(3):
        logged_in.post("/stories/new/", {"mode": "fixed", "prompt": f"Story {n}.",
                                         "video_source": "ai_scenery",
                                         "ai_scenery_prompt": "ink"})
    with CaptureQueriesContext(connection) as queries:
        page = logged_in.get("/stories/")
    assert page.content.decode().count("Story ") >= 3
    # session, user, credit account (navigation), stories with their jobs and videos
    assert len(queries) <= 6, [q["sql"] for q in queries]


def test_a_finished_storys_player_has_an_edit_link_that_preselects_its_video(
        logged_in, owner_api, world, run_jobs):
    with run_jobs():
        r = owner_api.post("/api/stories", {"mode": "fixed", "prompt": "One short line.",
                                            "video_source": "ai_scenery",
                                            "ai_scenery_prompt": "ink", "resolution": "480p"},
                           format="json")
    story = completed(story_of(r))
    assert probe(path_of(story.video)).duration > 0.5
    page = logged_in.get(f"/stories/{story.pk}/").content.decode()
    link = f'href="/tools/?video={story.video.name}" data-testid="edit-video"'
    assert 'data-testid="story-video"' in page and page.count(link) == 1
    tools = logged_in.get(f"/tools/?video={story.video.name}").content.decode()
    assert f'value="{story.video.name}" selected' in tools


def test_a_story_still_running_has_no_edit_link(logged_in, world):
    logged_in.post("/stories/new/", {"mode": "fixed", "prompt": "One.",
                                     "video_source": "ai_scenery", "ai_scenery_prompt": "ink"})
    story = Story.objects.get(owner=world.owner)
    page = logged_in.get(f"/stories/{story.pk}/").content.decode()
    assert "queued" in page and 'data-testid="edit-video"' not in page
