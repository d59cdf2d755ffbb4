"""Shots carry their own sound and projects a soundtrack, and the export plays them where the
shots are: measured in the exported file's samples."""

import subprocess
from pathlib import Path

import pytest

from assets.models import Asset
from studio.models import Project, Shot
from tests.conftest import assert_error
from tests.engines.media import make_image
from tests.media_tools.conftest import on_plan, stored
from tests.studio.stories import completed, export, path_of, rms, samples, story_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _plan(world):
    on_plan(world.owner, "starter")


def tone(path: Path, *, seconds: float, freq: int = 440) -> Path:
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                    f"sine=f={freq}:r=44100:d={seconds}", "-c:a", "libmp3lame", str(path)],
                   check=True)
    return path


def picture(user, tmp_path, name: str) -> Asset:
    return stored(user, make_image(tmp_path / f"{name}.png", size=(320, 240)), "image")


def loud(path: Path, start: float, end: float) -> float:
    return rms(samples(path, start=start, length=end - start))


def test_each_shot_sound_starts_with_its_shot_and_moves_with_it_when_reordered(
        owner_api, world, tmp_path, django_capture_on_commit_callbacks):
    project = Project.objects.create(owner=world.owner, name="Two voices")
    long_line = stored(world.owner, tone(tmp_path / "a.mp3", seconds=3.0), "audio")
    short_line = stored(world.owner, tone(tmp_path / "b.mp3", seconds=1.0, freq=660), "audio")
    first = Shot.objects.create(project=project, position=0, duration=2.0,
                                asset=picture(world.owner, tmp_path, "one"),
                                transition="crossfade")
    second = Shot.objects.create(project=project, position=1, duration=2.0,
                                 asset=picture(world.owner, tmp_path, "two"))
    for shot, line in ((first, long_line), (second, short_line)):
        r = owner_api.put(f"/api/projects/{project.pk}/shots/{shot.pk}",
                          {"audio": line.name}, format="json")
        assert r.status_code == 200, r.content
        assert r.json()["audio"] == line.name and r.json()["audio_url"].endswith(line.name)

    out = export(owner_api, project, django_capture_on_commit_callbacks)
    # 2 s + 2 s with a 0.5 s crossfade: the second shot starts at 1.5 s, so its 1 s line
    # plays 1.5-2.5; the first shot's 3 s line is cut where its shot ends, at 2 s.
    from engines.ffmpeg import probe

    assert probe(out).duration == pytest.approx(3.5, abs=0.1)
    assert loud(out, 0.2, 1.3) > 1000
    assert loud(out, 2.1, 2.4) > 1000  # the second line, started under the crossfade
    assert loud(out, 2.6, 3.4) < 30  # both lines over: not the first running on

    r = owner_api.post(f"/api/projects/{project.pk}/shots/reorder",
                       {"order": [second.pk, first.pk]}, format="json")
    assert r.status_code == 200, r.content
    out = export(owner_api, project, django_capture_on_commit_callbacks)
    # Now the short line opens the video and the long one starts with its shot at 2 s.
    assert probe(out).duration == pytest.approx(4.0, abs=0.1)
    assert loud(out, 0.1, 0.9) > 1000
    assert loud(out, 1.1, 1.9) < 30
    assert loud(out, 2.1, 3.9) > 1000


def test_project_music_plays_under_the_whole_export_and_fades_out(
        owner_api, world, tmp_path, django_capture_on_commit_callbacks):
    music = stored(world.owner, tone(tmp_path / "m.mp3", seconds=1.0, freq=330), "audio")
    r = owner_api.post("/api/projects", {"name": "Scored", "music": music.name,
                                         "music_volume": 0.5}, format="json")
    assert r.status_code == 201, r.content
    assert (r.json()["music"], r.json()["music_volume"]) == (music.name, 0.5)
    project = Project.objects.get(pk=r.json()["id"])
    Shot.objects.create(project=project, position=0, duration=4.0,
                        asset=picture(world.owner, tmp_path, "one"))
    out = export(owner_api, project, django_capture_on_commit_callbacks)
    # A one-second track looped over four seconds, then faded out over the last two.
    assert loud(out, 1.2, 1.8) > 300
    assert loud(out, 2.5, 2.9) > 300
    assert loud(out, 3.8, 3.95) < loud(out, 2.2, 2.35) / 2


def test_a_shot_or_project_refuses_sound_that_is_not_your_audio(
        owner_api, other_api, world, tmp_path):
    project = Project.objects.create(owner=world.owner, name="Mine")
    shot = Shot.objects.create(project=project, position=0)
    theirs = stored(world.other, tone(tmp_path / "t.mp3", seconds=1.0), "audio")
    mine_picture = picture(world.owner, tmp_path, "p")
    base = f"/api/projects/{project.pk}"
    assert_error(owner_api.put(f"{base}/shots/{shot.pk}", {"audio": theirs.name},
                               format="json"), 404)
    assert_error(owner_api.post(f"{base}/shots", {"audio": theirs.name}, format="json"), 404)
    body = assert_error(owner_api.put(f"{base}/shots/{shot.pk}", {"audio": mine_picture.name},
                                      format="json"), 400)
    assert "audio" in body["fields"]
    assert_error(owner_api.put(base, {"music": theirs.name}, format="json"), 404)
    assert_error(owner_api.put(base, {"music_volume": 1.5}, format="json"), 400)
    assert_error(owner_api.put(f"{base}/shots/{shot.pk}", {"audio_volume": 2.5},
                               format="json"), 400)
    # The other user cannot attach their sound to the project either.
    assert_error(other_api.put(f"{base}/shots/{shot.pk}", {"audio": theirs.name},
                               format="json"), 404)
    shot.refresh_from_db()
    project.refresh_from_db()
    assert shot.audio_id is None and project.music_id is None
    assert Shot.objects.filter(project=project).count() == 1


def test_a_story_project_exports_with_its_narration_and_music(
        owner_api, world, run_jobs, tmp_path, django_capture_on_commit_callbacks):
    music = stored(world.owner, tone(tmp_path / "music.mp3", seconds=2.0, freq=220), "audio")
    with run_jobs():
        r = owner_api.post("/api/stories", {
            "mode": "fixed", "video_source": "ai_scenery", "ai_scenery_prompt": "watercolour",
            "resolution": "480p", "transition": "crossfade", "add_music": True,
            "music_filename": music.name, "bgm_volume": 0.2,
            "prompt": "Bees visit flowers all day long.\n\nThey carry pollen from plant to "
                      "plant.\n\nWithout them many fruits would never grow."}, format="json")
    story = completed(story_of(r))
    scenes = list(story.scenes.select_related("shot").order_by("index"))
    project = story.project
    assert (project.music_id, project.music_volume) == (music.pk, 0.2)
    assert [s.shot.audio_id for s in scenes] == [s.speech_id for s in scenes]
    assert [s.shot.transition for s in scenes] == ["crossfade", "crossfade", "cut"]

    out = export(owner_api, project, django_capture_on_commit_callbacks)
    from engines.ffmpeg import probe

    info, made = probe(out), probe(path_of(story.video))
    assert info.has_audio
    assert info.duration == pytest.approx(made.duration, abs=0.1)
    # Loudness follows the narration as in the story itself: window by window the two files
    # rise and fall together.
    step, ours, theirs = 0.1, [], []
    t = 0.0
    while t + step < made.duration - 0.1:
        ours.append(loud(out, t, t + step))
        theirs.append(loud(path_of(story.video), t, t + step))
        t += step
    n = len(ours)
    mean_a, mean_b = sum(ours) / n, sum(theirs) / n
    cov = sum((a - mean_a) * (b - mean_b) for a, b in zip(ours, theirs, strict=True))
    var_a = sum((a - mean_a) ** 2 for a in ours)
    var_b = sum((b - mean_b) ** 2 for b in theirs)
    assert cov / (var_a * var_b) ** 0.5 > 0.9
    # Speech is louder than the ducked music in the pause after the first scene's words.
    first = scenes[0].speech_duration
    assert loud(out, 0.2, first - 0.3) > 2 * loud(out, first + 0.05, first + 0.3)
    # After the last words only the music plays.
    assert loud(out, made.duration - 0.3, made.duration - 0.05) > 1


def test_a_story_made_from_an_uploaded_narration_gives_each_shot_its_stretch(
        owner_api, world, run_jobs, tmp_path):
    from tests.engines.media import make_audio

    track = stored(world.owner, make_audio(tmp_path / "voice.wav", seconds=4.0), "audio")
    with run_jobs():
        r = owner_api.post("/api/stories", {
            "audio_source_type": "upload", "narration_filename": track.name,
            "script": "The first half of the story.\n\nThe second half of the story.",
            "video_source": "ai_scenery", "ai_scenery_prompt": "ink", "resolution": "480p",
            "transition": "cut"}, format="json")
    story = completed(story_of(r))
    scenes = list(story.scenes.select_related("shot__audio").order_by("index"))
    lengths = [s.shot.audio.duration for s in scenes]
    assert lengths == [pytest.approx(s.speech_duration, abs=0.06) for s in scenes]
    assert sum(lengths) == pytest.approx(4.0, abs=0.1)
