"""Speech, audio and subtitle endpoints."""

import json
import math

import pytest

from assets.models import Asset
from engines.espeak import estimate_seconds
from engines.ffmpeg import probe
from jobs.models import Job
from media_tools.models import AudioGeneration
from tests.conftest import assert_error
from tests.media_tools.conftest import balance, finished, on_plan

pytestmark = pytest.mark.django_db


def output(job) -> Asset:
    return Asset.objects.get(name=job.result["outputs"][0])


def test_voices_list_espeak_and_engine_voices_when_configured(owner_api, llm):
    from engines.registry import configure

    voices = {v["id"]: v for v in owner_api.get("/api/tts/voices").json()["voices"]}
    assert {"en_gb_male", "en_gb_female", "en_us_male", "en_us_female"} <= set(voices)
    assert voices["alloy"]["engine"] == "openai_compatible"
    # The contract's columns are "Voice ID / Description"; the earlier keys stay.
    for voice_id, voice in voices.items():
        assert voice["voice_id"] == voice_id and voice["description"]
        assert {"name", "language", "engine"} <= set(voice)
    assert "British English" in voices["en_gb_male"]["description"]
    configure(openai={})
    voices = [v["id"] for v in owner_api.get("/api/tts/voices").json()["voices"]]
    assert voices == ["en_gb_male", "en_gb_female", "en_us_male", "en_us_female"]


def test_tts_needs_creator(owner_api):
    body = assert_error(owner_api.post("/api/tts/generate", {"text": "Hello"}, format="json"),
                        403, "tier_required")
    assert body["required_tier"] == "creator"


def test_tts_is_reserved_on_the_estimate_and_charged_on_the_measured_speech(
        owner_api, world, run_jobs):
    on_plan(world.owner, "creator")
    text = " ".join(["word"] * 330)  # about two minutes of speech
    estimate = estimate_seconds(text, speed=1.0)
    reserved = math.ceil(estimate / 60 * 6)  # 6 credits a minute, pro-rated
    assert 120 < estimate < 180
    with run_jobs():
        r = owner_api.post("/api/tts/generate", {"text": text, "voice_id": "en_gb_male",
                                                 "speed": 1.0}, format="json")
    assert r.json()["cost"] == reserved and r.json()["engine"] == "espeak"
    job = finished(r)
    asset = output(job)
    assert asset.kind == "audio" and asset.name.endswith(".mp3") and asset.duration > 30
    assert job.result["estimated_seconds"] == pytest.approx(estimate, abs=0.01)
    measured = math.ceil(asset.duration / 60 * 6)
    assert measured < reserved  # the estimate is an upper bound: the difference comes back
    assert job.credits_charged == measured == job.result["credits_used"]
    assert balance(world.owner) == 150 - job.credits_charged
    status = owner_api.get(f"/api/status/{job.public_id}").json()
    assert status["credits"] == {"reserved": reserved, "charged": job.credits_charged,
                                 "refunded": reserved - job.credits_charged}


def test_a_handler_can_never_charge_more_than_was_reserved(world):
    from billing.services import credits_reserve
    from jobs.services import job_complete

    job = Job.objects.create(owner=world.owner, kind="tts_generate", params={}, cost=2,
                             status="processing")
    credits_reserve(user=world.owner, amount=2, reference=job.credit_reference)
    assert job_complete(job=job, result={"credits_used": 50})
    job.refresh_from_db()
    assert job.credits_charged == 2 and balance(world.owner) == 150 - 2


def test_tts_short_text_costs_at_least_one_credit(owner_api, world, run_jobs):
    on_plan(world.owner, "creator")
    with run_jobs():
        r = owner_api.post("/api/tts/generate", {"text": "Hi there."}, format="json")
    assert r.json()["cost"] == 1
    finished(r)


def test_tts_with_an_engine_voice_uses_the_speech_server(owner_api, world, llm, run_jobs):
    on_plan(world.owner, "creator")
    with run_jobs():
        r = owner_api.post("/api/tts/generate", {"text": "Hello from the engine",
                                                 "voice_id": "nova"}, format="json")
    job = finished(r)
    assert job.engine == "openai_compatible" and output(job).duration > 0.5
    assert any(req["path"] == "/v1/audio/speech" for req in llm.requests)


def test_tts_refuses_unknown_voices_and_bad_speed(owner_api, world):
    on_plan(world.owner, "creator")
    assert "voice_id" in assert_error(owner_api.post("/api/tts/generate", {
        "text": "x", "voice_id": "nova"}, format="json"), 400)["fields"]
    assert "speed" in assert_error(owner_api.post("/api/tts/generate", {
        "text": "x", "speed": 3}, format="json"), 400)["fields"]


def test_tts_onto_a_video_and_audio_onto_a_video(owner_api, world, media, run_jobs):
    video = media.video(world.owner, seconds=1.5)
    voice = media.audio(world.owner, seconds=0.5)
    with run_jobs():
        spoken = owner_api.post("/api/tts/add-to-video", {
            "video_filename": video.name, "tts_filename": voice.name, "offset_seconds": 0.5,
            "volume": 0.8}, format="json")
        mixed = owner_api.post("/api/video/add-audio", {
            "video_filename": video.name, "audio_filename": voice.name, "mode": "replace"},
            format="json")
    for response in (spoken, mixed):
        asset = output(finished(response))
        info = probe(asset.file.path)
        assert info.has_audio and abs(info.duration - 1.5) < 0.1
    assert finished(spoken).result["ducked"] is True
    assert "offset_seconds" in assert_error(owner_api.post("/api/tts/add-to-video", {
        "video_filename": video.name, "tts_filename": voice.name, "offset_seconds": 5},
        format="json"), 400)["fields"]
    assert "mode" in assert_error(owner_api.post("/api/video/add-audio", {
        "video_filename": video.name, "audio_filename": voice.name, "mode": "blend"},
        format="json"), 400)["fields"]


def test_an_audio_filename_that_is_a_video_is_404(owner_api, world, media):
    video = media.video(world.owner)
    assert_error(owner_api.post("/api/video/add-audio", {
        "video_filename": video.name, "audio_filename": video.name}, format="json"), 404)


def test_generate_audio_lists_and_deletes(owner_api, other_api, world, run_jobs):
    with run_jobs():
        r = owner_api.post("/api/generate-audio", {"prompt": "calm piano",
                                                   "duration_seconds": 2,
                                                   "tags": "ambient, piano"}, format="json")
    assert r.json()["cost"] == 1 and r.json()["engine"] == "preview"
    job = finished(r)
    generation = AudioGeneration.objects.get(job=job)
    assert generation.tags == "ambient, piano" and generation.asset.kind == "audio"
    assert abs(generation.asset.duration - 2.0) < 0.15
    listed = owner_api.get("/api/audio-generations").json()
    assert listed["count"] == 1 and listed["results"][0]["status"] == "completed"
    assert listed["results"][0]["url"].endswith(f"/api/audio/{generation.asset.name}")
    assert owner_api.get(f"/api/audio/{generation.asset.name}").status_code == 200
    assert other_api.get("/api/audio-generations").json()["count"] == 0
    assert_error(other_api.delete(f"/api/audio-generations/{generation.pk}"), 404)
    assert owner_api.delete(f"/api/audio-generations/{generation.pk}").status_code == 204
    assert not AudioGeneration.objects.exists()
    assert not Asset.objects.filter(name=generation.asset.name).exists()


def test_generate_audio_is_priced_per_thirty_seconds(owner_api, world):
    r = owner_api.post("/api/generate-audio", {"prompt": "drums", "duration_seconds": 60},
                       format="json")
    assert r.json()["cost"] == 16
    assert "duration_seconds" in assert_error(owner_api.post("/api/generate-audio", {
        "prompt": "x", "duration_seconds": 999}, format="json"), 400)["fields"]


def test_deleting_a_queued_audio_generation_refunds_it(owner_api, world):
    r = owner_api.post("/api/generate-audio", {"prompt": "drums", "duration_seconds": 30},
                       format="json")
    assert balance(world.owner) == 142
    generation = AudioGeneration.objects.get(pk=r.json()["generation_id"])
    assert owner_api.delete(f"/api/audio-generations/{generation.pk}").status_code == 204
    assert balance(world.owner) == 150
    assert Job.objects.get(pk=generation.job_id).status == "canceled"


SRT = "1\n00:00:00,000 --> 00:00:00,800\nHello: it's {\\b1}100%\n\n" \
      "2\n00:00:00,900 --> 00:00:01,400\nSecond line\n"


def test_subtitles_without_a_transcription_engine_are_503(owner_api, world, media):
    from engines.registry import configure

    configure(openai={})
    video = media.video(world.owner)
    assert_error(owner_api.post("/api/subtitles/generate", {"video_filename": video.name},
                                format="json"), 503, "engine_unavailable")
    assert balance(world.owner) == 150


def test_subtitles_from_speech_download_as_srt(owner_api, other_api, world, media, llm,
                                               run_jobs):
    video = media.video(world.owner, seconds=1.5)
    with run_jobs():
        r = owner_api.post("/api/subtitles/generate", {"video_filename": video.name,
                                                       "language": "en"}, format="json")
    assert r.json()["cost"] == 5
    srt = output(finished(r))
    assert srt.kind == "subtitle" and srt.name.endswith(".srt")
    stem = srt.name.removesuffix(".srt")
    download = owner_api.get(f"/api/subtitles/{stem}.srt")
    text = b"".join(download.streaming_content).decode()
    assert download.status_code == 200 and "hello world" in text and "-->" in text
    assert_error(other_api.get(f"/api/subtitles/{stem}.srt"), 404)
    sent = next(q for q in llm.requests if q["path"] == "/v1/audio/transcriptions")
    assert b'name="language"' in sent["body"]


def test_subtitles_of_a_silent_video_are_400(owner_api, world, media, llm):
    video = media.video(world.owner, audio=False)
    assert "video_filename" in assert_error(owner_api.post("/api/subtitles/generate", {
        "video_filename": video.name}, format="json"), 400)["fields"]


@pytest.mark.parametrize("style", ["default", "bold-yellow", "minimal"])
def test_burn_subtitles_in_each_style(owner_api, world, media, run_jobs, style):
    video = media.video(world.owner, seconds=1.5)
    srt = media.srt(world.owner, SRT)
    with run_jobs():
        r = owner_api.post("/api/subtitles/burn", {"video_filename": video.name,
                                                   "srt_filename": srt.name, "style": style},
                           format="json")
    job = finished(r)
    assert job.result["cues"] == 2 and output(job).kind == "video"


def test_burn_with_a_style_that_does_not_exist_is_400(owner_api, world, media):
    video = media.video(world.owner)
    srt = media.srt(world.owner, SRT)
    assert "style" in assert_error(owner_api.post("/api/subtitles/burn", {
        "video_filename": video.name, "srt_filename": srt.name, "style": "comic"},
        format="json"), 400)["fields"]


def test_translation_needs_pro_keeps_timings_and_costs_five(owner_api, world, media, llm,
                                                            run_jobs):
    srt = media.srt(world.owner, SRT)
    body = assert_error(owner_api.post("/api/subtitles/translate", {
        "srt_filename": srt.name, "target_language": "French"}, format="json"), 403,
        "tier_required")
    assert body["required_tier"] == "pro"
    on_plan(world.owner, "pro")

    def translate(messages):
        lines = json.loads(messages[-1]["content"])["lines"]
        return {"lines": [f"FR {line}" for line in lines]}

    llm.chat_json = translate
    with run_jobs():
        r = owner_api.post("/api/subtitles/translate", {"srt_filename": srt.name,
                                                        "target_language": "French"},
                           format="json")
    assert r.json()["cost"] == 5
    out = output(finished(r))
    text = out.file.read().decode()
    assert "00:00:00,900 --> 00:00:01,400\nFR Second line" in text
    assert "FR Hello: it's 100%" in text
    assert balance(world.owner) == 145


def test_translation_that_loses_lines_fails_and_refunds(owner_api, world, media, llm,
                                                        run_jobs):
    on_plan(world.owner, "pro")
    srt = media.srt(world.owner, SRT)
    llm.chat_json = lambda messages: {"lines": ["only one"]}
    with run_jobs():
        r = owner_api.post("/api/subtitles/translate", {"srt_filename": srt.name,
                                                        "target_language": "de"},
                           format="json")
    job = Job.objects.get(public_id=r.json()["job_id"])
    assert (job.status, job.error_code) == ("failed", "engine_bad_output")
    assert balance(world.owner) == 150


def test_translation_without_an_llm_is_503(owner_api, world, media):
    from engines.registry import configure

    configure(openai={})
    on_plan(world.owner, "pro")
    srt = media.srt(world.owner, SRT)
    assert_error(owner_api.post("/api/subtitles/translate", {
        "srt_filename": srt.name, "target_language": "de"}, format="json"), 503,
        "engine_unavailable")


@pytest.mark.parametrize("path,payload", [
    ("/api/tts/generate", {"text": "x"}),
    ("/api/generate-audio", {"prompt": "x"}),
    ("/api/subtitles/generate", {"video_filename": "x.mp4"}),
    ("/api/subtitles/translate", {"srt_filename": "x.srt", "target_language": "de"}),
])
def test_audio_endpoints_need_credentials(api, path, payload):
    assert_error(api.post(path, payload, format="json"), 401)


def test_lists_and_voices_need_credentials(api):
    assert_error(api.get("/api/audio-generations"), 401)
    assert_error(api.get("/api/tts/voices"), 401)


def test_audio_history_query_count_is_flat(owner_api, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from media_tools.services import audio_generate_submit

    for n in range(4):
        audio_generate_submit(user=world.owner, data={"prompt": f"p{n}",
                                                      "duration_seconds": 2})
    owner_api.get("/api/audio-generations")
    with CaptureQueriesContext(connection) as queries:
        body = owner_api.get("/api/audio-generations?limit=2").json()
    assert body["count"] == 4 and len(body["results"]) == 2
    # 3 queries: API key + user, count, page with job and asset joined.
    assert len(queries) == 3, [q["sql"] for q in queries]


def test_operators_see_audio_generations_in_admin(client, world):
    from media_tools.services import audio_generate_submit
    from tests.factories import PASSWORD, UserFactory

    generation = audio_generate_submit(user=world.owner, data={"prompt": "rain on a roof",
                                                               "duration_seconds": 2})
    UserFactory(username="op", is_staff=True, is_superuser=True)
    client.login(username="op", password=PASSWORD)
    listing = client.get("/admin/media_tools/audiogeneration/?q=rain").content.decode()
    assert "rain on a roof" in listing
    page = client.get(f"/admin/media_tools/audiogeneration/{generation.pk}/change/")
    assert page.status_code == 200


def test_someone_elses_subtitles_and_videos_are_404(other_api, world, media, llm):
    on_plan(world.other, "pro")
    video = media.video(world.owner)
    srt = media.srt(world.owner, SRT)
    assert_error(other_api.post("/api/subtitles/generate", {"video_filename": video.name},
                                format="json"), 404)
    assert_error(other_api.post("/api/subtitles/translate", {
        "srt_filename": srt.name, "target_language": "de"}, format="json"), 404)
    assert_error(other_api.post("/api/subtitles/burn", {
        "video_filename": media.video(world.other).name, "srt_filename": srt.name},
        format="json"), 404)
    assert_error(other_api.get(f"/api/subtitles/{srt.name.removesuffix('.srt')}.srt"), 404)
    assert not Job.objects.exists()


@pytest.mark.parametrize("method,path", [
    ("post", "/api/edit/merge"), ("post", "/api/tools/remove-background"),
    ("post", "/api/tools/face-swap"), ("post", "/api/subtitles/burn"),
    ("post", "/api/tts/add-to-video"), ("post", "/api/video/add-audio"),
    ("get", "/api/subtitles/abc.srt"), ("delete", "/api/audio-generations/1"),
])
def test_every_media_endpoint_needs_credentials(api, method, path):
    assert_error(getattr(api, method)(path, {}, format="json"), 401)
