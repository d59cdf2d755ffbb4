import re

import pytest

from accounts.models import ApiKey, User
from generation.models import Generation

from .journeys import sign_up

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_newcomer_signs_up_creates_a_key_and_sees_credits(page):
    sign_up(page)
    assert page.inner_text("[data-testid=balance]").strip() == "150"
    page.click("text=API keys")
    page.fill("#id_name", "Laptop")
    page.click("form.row button[type=submit]")
    key = page.inner_text("[data-testid=new-key]").strip()
    assert key.startswith("rf_live_")
    assert ApiKey.objects.get(user__username="newcomer").matches(key)
    page.click("button:has-text('Revoke')")
    assert "was revoked" in page.inner_text(".messages")


def test_the_generate_page_quotes_live_and_queues_a_job(page):
    sign_up(page, "maker")
    page.goto("/generate/")
    page.select_option("#id_model", "wan-t2v")
    page.fill("#id_frames", "41")
    page.fill("#id_steps", "4")
    page.wait_for_function(
        "document.querySelector('[data-testid=quote]').textContent.trim() === '21'")
    page.fill("#id_prompt", "A lighthouse in a storm")
    page.click("#generate-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/generations/\d+/$"))
    assert Generation.objects.get(owner__username="maker").prompt == "A lighthouse in a storm"


def test_progress_updates_live_and_the_video_plays(page, job_workers):
    job_workers()  # a real worker; the page follows the job over Server-Sent Events
    sign_up(page, "watcher")
    page.goto("/generate/")
    page.fill("#id_prompt", "Waves at night")
    page.fill("#id_width", "320")
    page.fill("#id_height", "192")
    page.fill("#id_frames", "25")
    page.click("#generate-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/generations/\d+/$"))
    page.wait_for_function(
        "document.querySelector('[data-testid=status]').textContent.trim() === 'completed'",
        timeout=60_000)
    page.wait_for_function("document.querySelector('video') && "
                           "document.querySelector('video').readyState >= 1", timeout=20_000)
    size = page.evaluate("[document.querySelector('video').videoWidth, "
                         "document.querySelector('video').videoHeight]")
    assert size == [320, 192]


def test_the_dashboard_is_usable_on_a_phone_without_javascript(browser, live_server):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False,
                                  viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto("/signup/")
    page.fill("#id_username", "phone")
    page.fill("#id_email", "phone@example.com")
    page.fill("#id_password", "a-long-passphrase")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/dashboard/$"))
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    assert User.objects.filter(username="phone").exists()
    context.close()


def test_a_story_is_made_from_the_form_and_plays_with_its_details(page, job_workers):
    job_workers()  # a real worker makes the story while the page follows it
    sign_up(page, "storyteller")
    page.click("text=Stories")
    page.click("text=New story")
    assert page.input_value("#story-mode") == "fixed"  # no language model configured here
    page.fill("#story-prompt", "Owls hunt at night.\n\nThey hear the smallest mouse.")
    page.select_option("#story-video_source", "ai_scenery")
    page.fill("#story-ai_scenery_prompt", "charcoal drawing")
    page.check("input[name=burn_captions]")
    page.click("#story-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/stories/\d+/$"))
    page.wait_for_selector("[data-testid=story-video]", timeout=90_000)
    page.wait_for_function("document.querySelector('[data-testid=story-video]').readyState >= 1",
                           timeout=20_000)
    size = page.evaluate("[document.querySelector('[data-testid=story-video]').videoWidth, "
                         "document.querySelector('[data-testid=story-video]').videoHeight]")
    assert size == [480, 854]  # 9:16 at the Free plan's 480p
    assert page.input_value("#d-title") == "Owls hunt at night."
    assert page.locator("details[id^=scene-]").count() == 2


def test_music_is_made_from_the_audio_page_plays_and_is_deleted(page, job_workers):
    from media_tools.models import AudioGeneration

    job_workers()  # a real worker; the job page follows it live
    sign_up(page, "composer")
    page.click("nav >> text=Audio")
    page.fill("#generate_audio-prompt", "Slow rain on a tin roof")
    page.fill("#generate_audio-duration_seconds", "4")
    page.fill("#generate_audio-tags", "ambient, calm")
    page.click("#generate_audio button[type=submit]")
    page.wait_for_url(re.compile(r".*/jobs/[0-9a-f-]+/$"))
    page.wait_for_function(
        "document.querySelector('[data-testid=status]').textContent.trim() === 'completed'",
        timeout=60_000)
    page.wait_for_function("document.querySelector('audio') && "
                           "document.querySelector('audio').readyState >= 1", timeout=20_000)
    assert abs(page.evaluate("document.querySelector('audio').duration") - 4) < 0.3
    page.click("text=← Audio")
    player = page.locator("[data-testid=audio-player]")
    assert player.count() == 1
    generation = AudioGeneration.objects.get(owner__username="composer")
    assert generation.tags == "ambient, calm"
    page.click(f"#audio-{generation.pk} button:has-text('Delete')")
    assert "Audio deleted." in page.inner_text(".messages")
    assert page.locator("[data-testid=audio-player]").count() == 0
    assert not AudioGeneration.objects.exists()
