"""Stories made end to end in the request's process (the worker's code path, run inline):
espeak-ng narration, preview-engine pictures, the composer; results measured with ffprobe,
pixels and samples."""

import math
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from assets.models import Asset
from engines.ffmpeg import probe
from jobs.models import Job
from media_tools.composer import compose
from studio.models import Story, StoryScene
from studio.stories.pipeline import Run, build_timeline, step_captions
from tests.conftest import assert_error
from tests.media_tools.conftest import on_plan, stored
from tests.studio.stories import completed, frame, path_of, rms, samples, story_of

pytestmark = pytest.mark.django_db

SCRIPT = ("Bees visit flowers all day long.\n\nThey carry pollen from plant to plant.\n\n"
          "Without them many fruits would never grow.")
SCENERY = {"video_source": "ai_scenery", "ai_scenery_prompt": "soft watercolour",
           "resolution": "480p"}


def make_story(api, run_jobs, **data) -> Story:
    with run_jobs():
        r = api.post("/api/stories", {"mode": "fixed", "prompt": SCRIPT, **SCENERY, **data},
                     format="json")
    return completed(story_of(r))


@pytest.fixture(autouse=True)
def _plan(world):
    on_plan(world.owner, "starter")


def narration_length(story: Story) -> float:
    return sum(s.speech_duration for s in story.scenes.all())


def test_a_fixed_script_becomes_a_portrait_video_as_long_as_its_narration(owner_api, run_jobs):
    story = make_story(owner_api, run_jobs, burn_captions=True)
    info = probe(path_of(story.video))
    assert (info.width, info.height) == (480, 854)
    assert info.has_audio
    scenes = list(story.scenes.all())
    assert [s.index for s in scenes] == [1, 2, 3]
    assert all(s.speech_id and s.visual_id and s.visual.kind == "image" for s in scenes)
    # Narration plus a short pause after each scene.
    assert info.duration == pytest.approx(narration_length(story) + 3 * 0.35, abs=0.5)
    assert story.subtitles.kind == "subtitle"
    srt = path_of(story.subtitles).read_text()
    assert "Bees visit flowers" in srt and "-->" in srt
    # Every scene is a studio shot holding its picture.
    shots = list(story.project.shots.order_by("position"))
    assert [s.asset_id for s in shots] == [s.visual_id for s in scenes]


@pytest.mark.parametrize(("video_format", "size"), [("16:9", (854, 480)), ("1:1", (480, 480)),
                                                     ("4:5", (480, 600))])
def test_each_format_has_its_own_frame(owner_api, run_jobs, video_format, size):
    story = make_story(owner_api, run_jobs, prompt="One short line.", video_format=video_format)
    info = probe(path_of(story.video))
    assert (info.width, info.height) == size


def without_captions(story: Story) -> Path:
    """The story's own timeline composed again without the subtitles: a reference that differs
    from the story's video only where captions were burned."""
    job = Job.objects.get(pk=story.job_id)

    class Ctx:
        workdir = path_of(story.video).parent.parent / "recompose"
        def progress(self, *a): pass
        def is_canceled(self): return False

    Ctx.workdir.mkdir(exist_ok=True)
    run = Run(story=story, job=job, ctx=Ctx())
    run.reload_scenes()
    step_captions(run)
    run.subtitles = None
    plain = Ctx.workdir / "plain.mp4"
    compose(build_timeline(run), plain)
    return plain


def test_burned_captions_change_the_caption_band_only_when_asked(owner_api, run_jobs):
    story = make_story(owner_api, run_jobs, burn_captions=True, caption_style="clonevest")
    plain = without_captions(story)
    at = story.scenes.first().speech_duration / 2
    w, h, captioned = frame(path_of(story.video), at)
    _w, _h, without = frame(plain, at)
    band = slice(int(h * 0.6) * w * 3, int(h * 0.95) * w * 3)
    top = slice(0, int(h * 0.3) * w * 3)
    changed = sum(abs(a - b) > 40 for a, b in zip(captioned[band], without[band], strict=True))
    assert changed > 500  # the caption's letters
    same = sum(abs(a - b) > 40 for a, b in zip(captioned[top], without[top], strict=True))
    assert same < changed / 10


def _tone_level(values, *, rate: int, hz: float) -> float:
    """Goertzel: the strength of one frequency in a stretch of samples."""
    k = 2 * math.cos(2 * math.pi * hz / rate)
    s1 = s2 = 0.0
    for v in values:
        s1, s2 = v + k * s1 - s2, s1
    return math.sqrt(max(0.0, s1 * s1 + s2 * s2 - k * s1 * s2)) / max(1, len(values))


def test_music_is_heard_in_pauses_and_ducked_under_the_speech(owner_api, run_jobs, world,
                                                              tmp_path):
    # The narration: a sentence, two seconds of silence, another sentence.
    parts = []
    for n, line in enumerate(["The first sentence is spoken here.",
                              "And here is the second one."]):
        wav = tmp_path / f"line{n}.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(wav), line], check=True)
        parts.append(wav)
    narration = tmp_path / "narration.wav"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(parts[0]), "-f", "lavfi", "-t", "2",
                    "-i", "anullsrc=r=22050:cl=mono", "-i", str(parts[1]), "-filter_complex",
                    "[0:a][1:a][2:a]concat=n=3:v=0:a=1", str(narration)], check=True)
    first = probe(parts[0]).duration
    music = tmp_path / "music.wav"  # a 6 kHz tone: easy to find beside a voice
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                    "sine=f=6000:r=44100:d=20", str(music)], check=True)
    voice = stored(world.owner, narration, "audio")
    track = stored(world.owner, music, "audio")
    with run_jobs():
        r = owner_api.post("/api/stories", {
            "audio_source_type": "upload", "narration_filename": voice.name, **SCENERY,
            "script": "The first sentence is spoken here.\n\nAnd here is the second one.",
            "add_music": True, "music_filename": track.name, "bgm_volume": 0.5,
            "transition": "cut"}, format="json")
    story = completed(story_of(r))
    out = path_of(story.video)
    assert probe(out).duration == pytest.approx(probe(narration).duration, abs=0.5)
    rate = 48000  # well above 2 x 6 kHz
    under = samples(out, start=first * 0.3, length=first * 0.4, rate=rate)
    pause = samples(out, start=first + 1.2, length=0.6, rate=rate)
    in_pause = _tone_level(pause, rate=rate, hz=6000)
    in_speech = _tone_level(under, rate=rate, hz=6000)
    assert in_pause > 20  # audible
    assert in_speech < in_pause * 0.7  # pushed down while the narrator speaks


def test_generate_mode_writes_the_script_and_details_with_the_language_model(
        owner_api, run_jobs, llm):
    def answer(messages):
        if "narration scripts" in messages[0]["content"]:
            return {"title": "Why bees matter", "scenes": [
                {"text": f"Scene number {n} about bees.", "visual": f"bee on flower {n}"}
                for n in range(1, 5)]}
        return {"youtube_title": "Bees, briefly", "youtube_description": "All about bees.",
                "instagram_caption": "Bees!", "hashtags": ["bees", "#nature"]}

    llm.chat_json = answer
    story = make_story(owner_api, run_jobs, mode="generate", prompt="Why bees matter",
                       n_scenes=4)
    assert story.script_method == "llm" and story.title == "Why bees matter"
    assert [s.text for s in story.scenes.all()] == [
        f"Scene number {n} about bees." for n in range(1, 5)]
    assert story.details == {"youtube_title": "Bees, briefly",
                             "youtube_description": "All about bees.",
                             "instagram_caption": "Bees!", "hashtags": ["#bees", "#nature"],
                             "derived": False}
    status = owner_api.get(f"/api/status/{story.job.public_id}").json()
    assert status["result"]["details"]["youtube_title"] == "Bees, briefly"
    assert status["result"]["srt"] == story.subtitles.name
    assert {o["kind"] for o in status["outputs"]} == {"video", "subtitle"}


def test_without_a_language_model_the_details_are_derived_and_marked(owner_api, run_jobs):
    story = make_story(owner_api, run_jobs)
    assert story.details["derived"] is True
    assert story.details["youtube_title"].startswith("Bees visit flowers")
    assert "#pollen" in story.details["hashtags"] or "#flowers" in story.details["hashtags"]


def test_regenerating_scene_two_keeps_scenes_one_and_three(owner_api, run_jobs):
    story = make_story(owner_api, run_jobs)
    before = {s.index: (s.speech_id, s.visual_id) for s in story.scenes.all()}
    old_video = story.video_id
    with run_jobs():
        r = owner_api.post(f"/api/stories/{story.pk}/scenes/2/regenerate",
                           {"text": "Bees also make honey for the winter.",
                            "visual_prompt": "a honeycomb"}, format="json")
    assert r.status_code == 202, r.content
    story = completed(story)
    after = {s.index: (s.speech_id, s.visual_id) for s in story.scenes.all()}
    assert after[1] == before[1] and after[3] == before[3]
    assert after[2][0] != before[2][0] and after[2][1] != before[2][1]
    scene = story.scenes.get(index=2)
    assert scene.text == "Bees also make honey for the winter." and scene.revision == 2
    assert story.video_id != old_video
    assert "honey" in path_of(story.subtitles).read_text()
    assert Job.objects.get(pk=story.job_id).kind == "story_scene"
    # The scene's shot follows: its sound is the new narration and it lasts the new scene
    # (speech, pause and the crossfade into scene three).
    scene.shot.refresh_from_db()
    assert scene.shot.audio_id == scene.speech_id
    assert scene.shot.duration == pytest.approx(scene.speech_duration + 0.35 + 0.5, abs=0.01)


def test_a_scene_cannot_be_regenerated_while_the_story_is_running(owner_api, world):
    r = owner_api.post("/api/stories", {"mode": "fixed", "prompt": SCRIPT, **SCENERY},
                       format="json")  # queued: no worker runs it
    story = story_of(r)
    StoryScene.objects.create(story=story, index=1, text="x")
    assert_error(owner_api.post(f"/api/stories/{story.pk}/scenes/1/regenerate",
                                {"text": "y"}, format="json"), 409)
    assert_error(owner_api.post(f"/api/stories/{story.pk}/scenes/9/regenerate",
                                {"text": "y"}, format="json"), 404)


def test_the_free_plan_gets_the_watermark_in_the_same_encode(owner_api, run_jobs, world):
    on_plan(world.owner, "free")
    story = make_story(owner_api, run_jobs, prompt="A single line of narration.")
    assert Job.objects.get(pk=story.job_id).result["watermark"] is True
    w, h, pixels = frame(path_of(story.video), 0.5)
    corner = [pixels[(y * w + x) * 3] for y in range(h // 40, h // 12)
              for x in range(w - w // 3, w - 4)]
    assert max(corner) > 200  # white letters in the top right corner


def test_intermediates_are_kept_but_not_listed_as_outputs(owner_api, run_jobs):
    story = make_story(owner_api, run_jobs)
    kinds = set(Asset.objects.filter(source_job_id=story.job.public_id, origin="intermediate")
                .values_list("kind", flat=True))
    assert kinds == {"audio", "image"}
    status = owner_api.get(f"/api/status/{story.job.public_id}").json()
    assert len(status["outputs"]) == 2


def test_music_from_an_empty_library_falls_back_to_a_procedural_track(owner_api, run_jobs):
    line = "Listen to this. The music plays under the voice and then it fades away."
    story = make_story(owner_api, run_jobs, add_music=True, prompt=line)
    out = path_of(story.video)
    end = probe(out).duration
    # After the narration only the music plays (fading out); without music it is silent.
    assert rms(samples(out, start=end - 0.3, length=0.25)) > 1
    quiet = make_story(owner_api, run_jobs, prompt=line)
    end = probe(path_of(quiet.video)).duration
    assert rms(samples(path_of(quiet.video), start=end - 0.3, length=0.25)) < 0.5


def test_word_timings_come_from_the_transcription_engine_when_it_has_them(
        owner_api, run_jobs, llm):
    story = make_story(owner_api, run_jobs, prompt="A short line to be heard.",
                       burn_captions=True)
    scene = story.scenes.get()
    assert scene.words_source == "engine"
    assert [w[0] for w in scene.words] == llm.transcript_text.split()
    assert all(0 <= w[1] <= w[2] <= scene.speech_duration + 0.01 for w in scene.words)
    assert "hello world" in path_of(story.subtitles).read_text()


def test_deleting_a_story_removes_its_project_and_the_files_its_jobs_made(
        owner_api, other_api, run_jobs, world):
    story = make_story(owner_api, run_jobs)
    made = list(Asset.objects.filter(source_job_id=story.job.public_id))
    paths = [path_of(a) for a in made]
    assert len(made) >= 8 and all(p.exists() for p in paths)  # video, thumbnail, srt, 3+3
    assert_error(other_api.delete(f"/api/stories/{story.pk}"), 404)
    with run_jobs():
        assert owner_api.delete(f"/api/stories/{story.pk}").status_code == 204
    assert not Story.objects.filter(pk=story.pk).exists()
    assert not Asset.objects.filter(pk__in=[a.pk for a in made]).exists()
    assert not any(p.exists() for p in paths)
    assert not world.owner.projects.exists()


def test_a_story_being_made_cannot_be_deleted(owner_api):
    r = owner_api.post("/api/stories", {"mode": "fixed", "prompt": SCRIPT, **SCENERY},
                       format="json")  # queued: no worker runs it
    assert_error(owner_api.delete(f"/api/stories/{r.json()['story_id']}"), 409)


def counted_frames(path: Path) -> int:
    out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
                          "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0",
                          str(path)], capture_output=True, text=True, check=True).stdout
    return int(out.strip())


def wan_cost(frames: int) -> int:
    """The seed's formula with wan-t2v's published rule (GET /api/pricing), 4 steps."""
    from billing.pricing import cost_rules

    rule = cost_rules()["video_models"]["wan-t2v"]
    return math.ceil(rule["base"] + frames * rule["per_frame"] + 4 * rule["per_step"])


def test_an_ai_video_scene_asks_for_a_clip_as_long_as_the_scene(owner_api, run_jobs):
    story = make_story(owner_api, run_jobs, video_source="ai_video", video_model="wan-t2v",
                       prompt="A river runs through the valley and into the sea.")
    scene = story.scenes.get()
    assert scene.visual.kind == "video" and scene.visual_source.startswith("preview:wan-t2v")
    frames = counted_frames(path_of(scene.visual))
    scene_length = scene.speech_duration + 0.35  # the only scene: its speech and the pause
    # The fewest 4n+1 frames at 24 fps that cover the scene: no loop needed.
    assert (frames - 1) % 4 == 0
    assert frames / 24 >= scene_length > (frames - 4) / 24
    info = probe(path_of(story.video))
    assert (info.width, info.height) == (480, 854)
    assert info.duration == pytest.approx(scene_length, abs=0.1)
    job = Job.objects.get(pk=story.job_id)
    # Quoted from the script's estimated speech (an upper bound), charged for the frames
    # asked for: compose 3, the clip, the speech.
    quoted = story.options["visual"]["quotes"]["1"]
    assert quoted["frames"] >= frames and job.cost == 3 + quoted["credits"] + 1
    assert job.credits_charged == 3 + wan_cost(frames) + 1 <= job.cost


def test_an_ai_video_scene_longer_than_the_longest_clip_loops_it(owner_api, run_jobs):
    line = ("The river runs slowly through the quiet green valley, past the old mill and the "
            "sleeping village, and on towards the wide grey sea beyond the hills.")
    story = make_story(owner_api, run_jobs, video_source="ai_video", video_model="wan-t2v",
                       prompt=line, n_scenes=1)
    scene = story.scenes.get()
    scene_length = scene.speech_duration + 0.35
    assert scene_length > 121 / 24
    assert counted_frames(path_of(scene.visual)) == 121  # the plan's longest 4n+1 clip
    assert probe(path_of(story.video)).duration == pytest.approx(scene_length, abs=0.1)
    job = Job.objects.get(pk=story.job_id)
    assert job.credits_charged == job.cost  # the quote was exact


def test_a_frame_template_frames_each_scene_and_the_captions_use_its_free_band(
        owner_api, run_jobs, tmp_path):
    from media_tools import frames

    story = make_story(owner_api, run_jobs, frame_template="image_card", burn_captions=True,
                       caption_style="clonevest",
                       template_params={"accent_color": "#ff6600", "background": "#f4efe6"})
    out = path_of(story.video)
    w, h, pixels = frame(out, 1.0)
    layout = frames.render_frame("image_card", width=w, height=h,
                                 params=story.options["template"]["params"], title="",
                                 text="x", index=1, total=3, out=tmp_path / "f.png")
    def rgb(px, py):
        return pixels[(py * w + px) * 3:(py * w + px) * 3 + 3]

    def near(a, b):
        return all(abs(p - q) < 24 for p, q in zip(a, b, strict=True))

    x, y, ww, wh = layout.window
    assert near(rgb(4, 4), (0xf4, 0xef, 0xe6))  # the template's background outside
    assert not near(rgb(x + ww // 2, y + wh // 2), (0xf4, 0xef, 0xe6))  # the scene inside
    orange = sum(1 for i in range(0, len(pixels), 3)
                 if pixels[i] > 200 and 60 < pixels[i + 1] < 140 and pixels[i + 2] < 60)
    assert orange > 200  # the accent border around the window
    # The captions lie in the band the layout keeps free: against the same timeline composed
    # without them, only rows there change (the seeded pictures may hold any colour, so the
    # captions are found by difference, not by their yellow).
    _w, _h, plain = frame(without_captions(story), 1.0)
    per_row = Counter(i // 3 // w for i in range(len(pixels)) if abs(pixels[i] - plain[i]) > 60)
    rows = {row for row, count in per_row.items() if count >= 6}
    assert len(rows) > 10, "no caption on screen"
    band_top, band_bottom = layout.caption_safe
    assert band_top - h * 0.12 <= min(rows) and max(rows) <= band_bottom + 2


def _mp3_narration(tmp_path, text: str) -> bytes:
    wav, mp3 = tmp_path / "voice.wav", tmp_path / "voice.mp3"
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(wav), text], check=True)
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(wav), "-c:a", "libmp3lame", str(mp3)],
                   check=True)
    return mp3.read_bytes()


def test_an_uploaded_mp3_is_transcribed_into_the_script_and_its_word_timings(
        owner_api, run_jobs, llm, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    voice = _mp3_narration(tmp_path, "Hello world from the narrator of this story.")
    with run_jobs():
        r = owner_api.post("/api/stories", {
            "audio_source_type": "upload", "burn_captions": "true", **SCENERY,
            "mp3_file": SimpleUploadedFile("voice.mp3", voice, content_type="audio/mpeg")},
            format="multipart")
    assert r.status_code == 202, r.content
    story = completed(story_of(r))
    assert story.script_method == "transcript"
    assert story.script == llm.transcript_text
    narration = probe(path_of(story.narration)).duration
    assert probe(path_of(story.video)).duration == pytest.approx(narration, abs=0.5)
    words = [w for s in story.scenes.all() for w in s.words]
    assert [w[0] for w in words] == llm.transcript_text.split()
    assert {s.words_source for s in story.scenes.all()} == {"engine"}
    assert "hello world" in path_of(story.subtitles).read_text()


def test_an_uploaded_mp3_with_its_script_needs_no_transcription_engine(
        owner_api, run_jobs, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    script = "Rivers carve valleys.\n\nWind shapes the dunes."
    voice = _mp3_narration(tmp_path, "Rivers carve valleys. Wind shapes the dunes.")
    with run_jobs():
        r = owner_api.post("/api/stories", {
            "audio_source_type": "upload", "script": script, "burn_captions": "true",
            **SCENERY, "mp3_file": SimpleUploadedFile("voice.mp3", voice)}, format="multipart")
    assert r.status_code == 202, r.content
    story = completed(story_of(r))
    scenes = list(story.scenes.all())
    assert [s.text for s in scenes] == ["Rivers carve valleys.", "Wind shapes the dunes."]
    assert {s.words_source for s in scenes} == {"spread"}
    narration = probe(path_of(story.narration)).duration
    assert probe(path_of(story.video)).duration == pytest.approx(narration, abs=0.5)
    # The scenes split the one track: they follow each other without a gap or an overlap.
    assert scenes[0].speech_start == 0
    assert scenes[1].speech_start == pytest.approx(
        scenes[0].speech_start + scenes[0].speech_duration, abs=0.05)
    assert "Wind shapes the dunes" in path_of(story.subtitles).read_text()
