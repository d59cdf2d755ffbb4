"""Editing and tool endpoints: jobs that run, their outputs, prices, and every refusal."""

import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from assets.models import Asset
from billing.models import LedgerEntry
from engines.ffmpeg import probe
from engines.registry import configure
from jobs.models import Job
from tests.conftest import assert_error
from tests.generation.media import make_png
from tests.media_tools.conftest import balance, finished, on_plan

pytestmark = pytest.mark.django_db


def output(job, index=0) -> Asset:
    return Asset.objects.get(name=job.result["outputs"][index])


def output_info(job):
    asset = output(job)
    return asset, probe(asset.file.path)


def test_trim_runs_charges_three_credits_once_and_names_its_method(owner_api, world, media,
                                                                   run_jobs):
    video = media.video(world.owner, seconds=2.0)
    with run_jobs():
        r = owner_api.post("/api/edit/trim", {"video_filename": video.name,
                                              "start_seconds": 0.5, "end_seconds": 1.5},
                           format="json")
    body = r.json()
    assert body["cost"] == 3 and body["engine"] == "ffmpeg" and "queue_position" in body
    job = finished(r)
    asset, info = output_info(job)
    assert job.result["method"] == "reencode" and abs(info.duration - 1.0) < 0.1
    assert asset.owner == world.owner and asset.thumbnail is not None
    assert balance(world.owner) == 147
    assert sorted(LedgerEntry.objects.filter(reference=job.credit_reference)
                  .values_list("kind", flat=True)) == ["charge", "reserve"]
    status = owner_api.get(f"/api/status/{job.public_id}").json()
    assert status["outputs"][0]["filename"] == asset.name


def test_trim_from_zero_is_a_stream_copy_and_takes_a_webhook(owner_api, world, media,
                                                             run_jobs):
    on_plan(world.owner, "starter")  # the Free plan's mark needs a re-encode
    video = media.video(world.owner, seconds=2.0)
    with run_jobs():
        r = owner_api.post("/api/edit/trim", {"video_filename": video.name,
                                              "start_seconds": 0, "end_seconds": 1,
                                              "webhook": "https://example.com/hook"},
                           format="json")
    job = finished(r)
    assert job.result["method"] == "stream_copy"
    assert job.webhook_url == "https://example.com/hook"
    assert "webhook" in assert_error(owner_api.post("/api/edit/trim", {
        "video_filename": video.name, "start_seconds": 0, "end_seconds": 1,
        "webhook": "not a url"}, format="json"), 400)["fields"]


@pytest.mark.parametrize("start,end,field", [(3, 4, "start_seconds"), (1, 0.5, "end_seconds"),
                                             (0, 9, "end_seconds"), (-1, 1, "start_seconds")])
def test_trim_times_outside_the_video_are_400_with_the_field(owner_api, world, media, start,
                                                             end, field):
    video = media.video(world.owner, seconds=2.0)
    body = assert_error(owner_api.post("/api/edit/trim", {
        "video_filename": video.name, "start_seconds": start, "end_seconds": end},
        format="json"), 400, "invalid")
    assert field in body["fields"]
    assert not Job.objects.exists() and balance(world.owner) == 150


def test_idempotent_retry_creates_one_job(owner_api, world, media, run_jobs):
    video = media.video(world.owner)
    payload = {"video_filename": video.name, "speed_factor": 2}
    with run_jobs():
        first = owner_api.post("/api/edit/speed", payload, format="json",
                               HTTP_IDEMPOTENCY_KEY="k1")
        again = owner_api.post("/api/edit/speed", payload, format="json",
                               HTTP_IDEMPOTENCY_KEY="k1")
    assert first.json()["job_id"] == again.json()["job_id"]
    assert again["Idempotent-Replayed"] == "true"
    assert Job.objects.count() == 1 and balance(world.owner) == 147
    assert_error(owner_api.post("/api/edit/speed", {**payload, "speed_factor": 3},
                                format="json", HTTP_IDEMPOTENCY_KEY="k1"), 422)


def test_speed_halves_the_duration(owner_api, world, media, run_jobs):
    video = media.video(world.owner, seconds=2.0)
    with run_jobs():
        r = owner_api.post("/api/edit/speed", {"video_filename": video.name,
                                               "speed_factor": 2.0}, format="json")
    _asset, info = output_info(finished(r))
    assert abs(info.duration - 1.0) < 0.1 and info.has_audio
    body = assert_error(owner_api.post("/api/edit/speed", {"video_filename": video.name,
                                                           "speed_factor": 5}, format="json"),
                        400)
    assert "speed_factor" in body["fields"]


def test_crop_inside_the_frame_and_outside_it(owner_api, world, media, run_jobs):
    video = media.video(world.owner)
    with run_jobs():
        r = owner_api.post("/api/edit/crop", {"video_filename": video.name, "x": 10, "y": 10,
                                              "width": 80, "height": 64}, format="json")
    _asset, info = output_info(finished(r))
    assert (info.width, info.height) == (80, 64)
    body = assert_error(owner_api.post("/api/edit/crop", {
        "video_filename": video.name, "x": 100, "y": 50, "width": 80, "height": 64},
        format="json"), 400, "invalid")
    assert set(body["fields"]) == {"width", "height"}
    assert body["frame"] == {"width": 160, "height": 96}


def test_resize_to_a_preset_is_held_to_the_plan(owner_api, world, media, run_jobs):
    video = media.video(world.owner)
    body = assert_error(owner_api.post("/api/edit/resize", {"video_filename": video.name,
                                                            "preset": "720p"}, format="json"),
                        403, "tier_required")
    assert body["required_tier"] == "starter"
    on_plan(world.owner, "starter")
    with run_jobs():
        r = owner_api.post("/api/edit/resize", {"video_filename": video.name,
                                                "preset": "720p"}, format="json")
    _asset, info = output_info(finished(r))
    assert (info.width, info.height) == (1280, 720)
    assert "preset" in assert_error(owner_api.post(
        "/api/edit/resize", {"video_filename": video.name}, format="json"), 400)["fields"]


def test_resize_by_width_and_height_pads(owner_api, world, media, run_jobs):
    video = media.video(world.owner)
    with run_jobs():
        r = owner_api.post("/api/edit/resize", {"video_filename": video.name, "width": 200,
                                                "height": 200}, format="json")
    _asset, info = output_info(finished(r))
    assert (info.width, info.height) == (200, 200)


def test_text_overlay_with_hostile_text(owner_api, world, media, run_jobs):
    video = media.video(world.owner)
    text = "It's 100%: %{pts} \\ 'q' \"d\" [a];b,c\nline two ✓ 🎬"
    with run_jobs():
        r = owner_api.post("/api/edit/text-overlay", {
            "video_filename": video.name, "text": text, "position": "top", "font_size": 16,
            "color": "#ffcc00", "start_time": 0, "end_time": 0.5}, format="json")
    job = finished(r)
    assert job.params["text"] == text and job.params["color"] == "0xffcc00"
    for bad, field in [({"text": "  "}, "text"), ({"color": "red;rm"}, "color"),
                       ({"position": "left"}, "position"), ({"end_time": 9}, "end_time")]:
        body = assert_error(owner_api.post("/api/edit/text-overlay", {
            "video_filename": video.name, "text": "x", **bad}, format="json"), 400)
        assert field in body["fields"], body


def test_merge_prices_per_clip_and_sums_durations(owner_api, world, media, run_jobs):
    clips = [media.video(world.owner, seconds=1.0, size="160x96", name="a"),
             media.video(world.owner, seconds=0.5, size="96x160", rate=24, audio=False,
                         name="b")]
    with run_jobs():
        r = owner_api.post("/api/edit/merge", {"video_filenames": [c.name for c in clips]},
                           format="json")
    assert r.json()["cost"] == 4
    _asset, info = output_info(finished(r))
    assert abs(info.duration - 1.5) < 0.1 and info.has_audio
    body = assert_error(owner_api.post("/api/edit/merge", {
        "video_filenames": [clips[0].name] * 21}, format="json"), 400)
    assert "video_filenames" in body["fields"]


def test_extract_frames_as_images_or_a_zip(owner_api, world, media, run_jobs):
    video = media.video(world.owner, seconds=2.0)
    with run_jobs():
        last = owner_api.post("/api/tools/extract-frames", {"video_filename": video.name,
                                                            "mode": "last"}, format="json")
        every = owner_api.post("/api/tools/extract-frames", {"video_filename": video.name,
                                                             "mode": "all_1fps"},
                               format="json")
    image = output(finished(last))
    assert image.kind == "image" and (image.width, image.height) == (160, 96)
    archive = output(finished(every))
    assert archive.kind == "archive" and archive.name.endswith(".zip")
    with zipfile.ZipFile(archive.file.path) as zf:
        assert len(zf.namelist()) == 2
    assert balance(world.owner) == 148


def test_tools_trim_and_gif_cost_one_credit(owner_api, world, media, run_jobs):
    video = media.video(world.owner, seconds=2.0)
    with run_jobs():
        trim = owner_api.post("/api/tools/trim-video", {"video_filename": video.name,
                                                        "start_time": 0.5, "end_time": 1.0},
                              format="json")
        gif = owner_api.post("/api/tools/video-to-gif", {"video_filename": video.name,
                                                         "width": 80, "fps": 5},
                             format="json")
    assert abs(output_info(finished(trim))[1].duration - 0.5) < 0.1
    asset = output(finished(gif))
    assert asset.name.endswith(".gif") and asset.width == 80
    assert balance(world.owner) == 148
    assert "end_time" in assert_error(owner_api.post("/api/tools/trim-video", {
        "video_filename": video.name, "start_time": 1, "end_time": 0.5}, format="json"),
        400)["fields"]


def test_watermark_with_text_or_an_uploaded_image(owner_api, world, media, run_jobs):
    video = media.video(world.owner)
    with run_jobs():
        text = owner_api.post("/api/tools/add-watermark", {
            "video_filename": video.name, "type": "text", "text": "© me: 100%",
            "position": "top-left", "opacity": 0.5}, format="json")
        logo = SimpleUploadedFile("logo.png", make_png().read_bytes(), "image/png")
        image = owner_api.post("/api/tools/add-watermark", {
            "video_filename": video.name, "type": "image", "image": logo}, format="multipart")
    assert finished(text).result["type"] == "text"
    assert finished(image).result["type"] == "image"
    assert "text" in assert_error(owner_api.post("/api/tools/add-watermark", {
        "video_filename": video.name, "type": "text"}, format="json"), 400)["fields"]
    assert "image" in assert_error(owner_api.post("/api/tools/add-watermark", {
        "video_filename": video.name, "type": "image"}, format="json"), 400)["fields"]


def test_watermark_upload_that_is_really_a_playlist_is_refused(owner_api, world, media):
    video = media.video(world.owner)
    playlist = SimpleUploadedFile("logo.png", b"#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n")
    assert "image" in assert_error(owner_api.post("/api/tools/add-watermark", {
        "video_filename": video.name, "type": "image", "image": playlist},
        format="multipart"), 415)["fields"]
    assert not Job.objects.exists()


def test_upscale_needs_creator_and_says_it_used_lanczos(owner_api, world, media, run_jobs):
    video = media.video(world.owner)
    body = assert_error(owner_api.post("/api/tools/upscale-video", {
        "video_filename": video.name, "scale_factor": 2}, format="json"), 403, "tier_required")
    assert body["required_tier"] == "creator"
    on_plan(world.owner, "creator")
    with run_jobs():
        r = owner_api.post("/api/tools/upscale-video", {"video_filename": video.name,
                                                        "scale_factor": 2}, format="json")
    assert r.json()["cost"] == 2
    job = finished(r)
    assert job.result["method"] == "ffmpeg_lanczos"
    assert (output(job).width, output(job).height) == (320, 192)


def test_background_removal_and_face_swap_need_comfyui(owner_api, world):
    configure(comfyui_urls=[])
    png = SimpleUploadedFile("a.png", make_png().read_bytes(), "image/png")
    assert_error(owner_api.post("/api/tools/remove-background", {"image": png},
                                format="multipart"), 503, "engine_unavailable")
    body = assert_error(owner_api.post("/api/tools/face-swap", {}, format="multipart"), 403,
                        "tier_required")
    assert body["required_tier"] == "pro"
    on_plan(world.owner, "pro")
    assert_error(owner_api.post("/api/tools/face-swap", {}, format="multipart"), 503,
                 "engine_unavailable")
    assert not Job.objects.exists() and balance(world.owner) == 150


EDIT_ENDPOINTS = [
    ("/api/edit/trim", {"start_seconds": 0, "end_seconds": 0.5}),
    ("/api/edit/speed", {"speed_factor": 2}),
    ("/api/edit/crop", {"x": 0, "y": 0, "width": 32, "height": 32}),
    ("/api/edit/resize", {"width": 64, "height": 64}),
    ("/api/edit/text-overlay", {"text": "hi"}),
    ("/api/tools/extract-frames", {"mode": "first"}),
    ("/api/tools/trim-video", {"start_time": 0, "end_time": 0.5}),
    ("/api/tools/video-to-gif", {}),
    ("/api/tools/add-watermark", {"text": "x"}),
    ("/api/tools/upscale-video", {"scale_factor": 2}),
    ("/api/video/add-audio", {"audio_filename": None}),
    ("/api/tts/add-to-video", {"tts_filename": None}),
    ("/api/subtitles/burn", {"srt_filename": None}),
]


@pytest.mark.parametrize("path,extra", EDIT_ENDPOINTS)
def test_someone_elses_video_is_404_and_no_credentials_is_401(owner_api, other_api, api, world,
                                                               media, path, extra):
    on_plan(world.other, "pro")
    theirs = media.video(world.owner)
    mine_audio = media.audio(world.other)
    mine_srt = media.srt(world.other, "1\n00:00:00,000 --> 00:00:00,500\nhi\n")
    extra = {k: (mine_srt.name if k == "srt_filename" else mine_audio.name) if v is None else v
             for k, v in extra.items()}
    payload = {"video_filename": theirs.name, **extra}
    assert_error(other_api.post(path, payload, format="json"), 404, "not_found")
    assert_error(other_api.post(path, {**payload, "video_filename": "../../etc/passwd"},
                                format="json"), 404)
    assert_error(api.post(path, payload, format="json"), 401)
    assert not Job.objects.exists()


def test_merge_with_someone_elses_clip_is_404(other_api, world, media):
    theirs = media.video(world.owner)
    mine = media.video(world.other)
    assert_error(other_api.post("/api/edit/merge", {
        "video_filenames": [mine.name, theirs.name]}, format="json"), 404)


def test_short_balance_is_402_and_creates_no_job(owner_api, world, media):
    from billing.services import credits_adjust

    credits_adjust(user=world.owner, amount=-149, reason="test")
    clips = [media.video(world.owner, name=f"c{n}") for n in range(2)]
    body = assert_error(owner_api.post("/api/edit/merge", {
        "video_filenames": [c.name for c in clips]}, format="json"), 402,
        "insufficient_credits")
    assert body["required_credits"] == 4
    assert not Job.objects.exists()


def test_with_comfyui_configured_ai_tools_queue_on_the_gpu(owner_api, world):
    on_plan(world.owner, "pro")
    configure(comfyui_urls=["http://127.0.0.1:9"])
    try:
        png = SimpleUploadedFile("a.png", make_png().read_bytes(), "image/png")
        r = owner_api.post("/api/tools/remove-background", {"image": png}, format="multipart")
        face = SimpleUploadedFile("f.png", make_png().read_bytes(), "image/png")
        target = SimpleUploadedFile("t.png", make_png().read_bytes(), "image/png")
        swap = owner_api.post("/api/tools/face-swap", {"source_image": face,
                                                       "target_image": target},
                              format="multipart")
    finally:
        configure(comfyui_urls=[])
    for response in (r, swap):
        assert response.status_code == 202, response.content
        assert response.json()["cost"] == 1 and response.json()["engine"] == "comfyui"
        job = Job.objects.get(public_id=response.json()["job_id"])
        assert job.queue == "gpu" and job.status == "queued"
    assert Job.objects.get(kind="tool_face_swap").params.keys() == {"face", "image"}


def test_an_upload_refused_for_credits_is_not_kept(owner_api, world, media):
    from billing.services import credits_adjust

    video = media.video(world.owner)
    credits_adjust(user=world.owner, amount=-150, reason="test")
    before = Asset.objects.count()
    logo = SimpleUploadedFile("logo.png", make_png().read_bytes(), "image/png")
    assert_error(owner_api.post("/api/tools/add-watermark", {
        "video_filename": video.name, "type": "image", "image": logo}, format="multipart"),
        402, "insufficient_credits")
    assert Asset.objects.count() == before


def test_a_ten_hour_video_is_refused_before_queueing(owner_api, world, tmp_path):
    from tests.engines.media import ffmpeg
    from tests.media_tools.conftest import stored

    src = tmp_path / "ten-hours.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=s=16x16:r=1:d=3", "-vf", "setpts=PTS*18000",
           "-fps_mode", "passthrough", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(src))
    video = stored(world.owner, src, "video")
    body = assert_error(owner_api.post("/api/edit/speed", {"video_filename": video.name,
                                                           "speed_factor": 2}, format="json"),
                        400, "media_too_long")
    assert "video_filename" in body["fields"]
    assert not Job.objects.exists() and balance(world.owner) == 150


def test_someone_elses_image_for_an_ai_tool_is_404(other_api, world, media):
    from tests.media_tools.conftest import stored

    on_plan(world.other, "pro")
    theirs = stored(world.owner, make_png(), "image")
    configure(comfyui_urls=["http://127.0.0.1:9"])
    try:
        assert_error(other_api.post("/api/tools/remove-background",
                                    {"image_filename": theirs.name}, format="json"), 404)
        assert_error(other_api.post("/api/tools/face-swap", {
            "source_image_filename": theirs.name, "target_image_filename": theirs.name},
            format="json"), 404)
        assert_error(other_api.post("/api/tools/add-watermark", {
            "video_filename": media.video(world.other).name, "type": "image",
            "image_filename": theirs.name}, format="json"), 404)
    finally:
        configure(comfyui_urls=[])
    assert not Job.objects.exists()
