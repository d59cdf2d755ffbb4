"""The Free plan's watermark on media tool outputs: the same operation on the same input by a
Free-plan user and by a Starter-plan user, measured in pixels."""

import io
import zipfile
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from assets.models import Asset
from engines.ffmpeg import probe
from media_tools import audio, operations, subtitles
from media_tools.operations import Runner
from tests.engines.media import frame_rgb, make_audio, make_video
from tests.media_tools.conftest import finished, on_plan

pytestmark = pytest.mark.django_db

SIZE = "320x192"


def output(job, index=0) -> Asset:
    return Asset.objects.get(name=job.result["outputs"][index])


def difference(a: Image.Image, b: Image.Image) -> tuple[float, float]:
    """Mean absolute difference (0-255) in the top right corner, where the mark goes, and in
    the rest of the frame below it."""
    assert a.size == b.size
    width, height = a.size
    diff = ImageChops.difference(a.convert("RGB"), b.convert("RGB")).convert("L")
    corner = diff.crop((width * 6 // 10, 0, width, height // 10))
    rest = diff.crop((0, height // 5, width, height))
    return ImageStat.Stat(corner).mean[0], ImageStat.Stat(rest).mean[0]


def assert_marked_only_for_free(free: Image.Image, paid: Image.Image,
                                source: Image.Image | None = None) -> None:
    corner, rest = difference(free, paid)
    assert corner > 12, f"no mark in the Free plan's corner (mean difference {corner:.1f})"
    assert rest < 3, f"the rest of the frame changed (mean difference {rest:.1f})"
    if source is not None:
        # The paid output is the operation alone: nothing drawn over its corner.
        paid_corner, _ = difference(paid, source)
        assert paid_corner < 3, f"the paid plan's corner changed ({paid_corner:.1f})"


@pytest.fixture
def plans(world, owner_api, other_api, media, run_jobs):
    """Runs one request as the Free-plan owner and as the other user on Starter, each on
    their own copy of the same generated video; returns both finished jobs."""
    on_plan(world.other, "starter")

    def run(path: str, payload, *, videos: int = 1, **video_options):
        jobs = []
        for user, client in ((world.owner, owner_api), (world.other, other_api)):
            inputs = [media.video(user, size=SIZE, name=f"in{n}", **video_options)
                      for n in range(videos)]
            with run_jobs():
                response = client.post(path, payload([a.name for a in inputs]), format="json")
            jobs.append(finished(response))
        return jobs[0], jobs[1], inputs

    return run


def test_trim_from_the_start_reencodes_with_the_mark_for_free_and_copies_for_paid(plans):
    free, paid, (source,) = plans("/api/edit/trim", lambda names: {
        "video_filename": names[0], "start_seconds": 0, "end_seconds": 1.0}, seconds=2.0)
    assert free.result["method"] == "reencode" and free.result["reason"] == "watermark"
    assert free.result["watermark"] is True
    assert paid.result["method"] == "stream_copy" and paid.result["watermark"] is False
    free_out, paid_out = Path(output(free).file.path), Path(output(paid).file.path)
    assert abs(probe(free_out).duration - 1.0) < 0.1 and probe(free_out).has_audio
    for index in (0, 11):
        assert_marked_only_for_free(frame_rgb(free_out, index), frame_rgb(paid_out, index),
                                    frame_rgb(Path(source.file.path), index))


def test_cropped_video_is_marked_at_its_new_size_only_on_the_free_plan(plans):
    free, paid, _ = plans("/api/edit/crop", lambda names: {
        "video_filename": names[0], "x": 20, "y": 12, "width": 240, "height": 160})
    assert (free.result["watermark"], paid.result["watermark"]) == (True, False)
    free_out, paid_out = Path(output(free).file.path), Path(output(paid).file.path)
    assert (probe(free_out).width, probe(free_out).height) == (240, 160)
    assert_marked_only_for_free(frame_rgb(free_out, 5), frame_rgb(paid_out, 5))


def test_merged_video_is_marked_over_every_clip_only_on_the_free_plan(plans):
    free, paid, _ = plans("/api/edit/merge", lambda names: {"video_filenames": names},
                          videos=2, seconds=0.5)
    assert (free.result["watermark"], paid.result["watermark"]) == (True, False)
    free_out, paid_out = Path(output(free).file.path), Path(output(paid).file.path)
    assert abs(probe(free_out).duration - 1.0) < 0.1
    for index in (0, 9):  # in the first clip and in the second
        assert_marked_only_for_free(frame_rgb(free_out, index), frame_rgb(paid_out, index))


def gif_frame(path: Path, index: int) -> Image.Image:
    with Image.open(path) as gif:
        gif.seek(index)
        return gif.convert("RGB")


def test_gif_is_marked_before_its_palette_only_on_the_free_plan(plans):
    free, paid, _ = plans("/api/tools/video-to-gif", lambda names: {
        "video_filename": names[0], "width": 240, "fps": 6})
    assert (free.result["watermark"], paid.result["watermark"]) == (True, False)
    free_out, paid_out = Path(output(free).file.path), Path(output(paid).file.path)
    with Image.open(free_out) as gif:
        assert gif.size == (240, 144) and gif.n_frames == 6
    for index in (0, 5):
        # Each GIF has its own palette (the Free one made with the mark in the picture), yet
        # below the corner they dither to nearly the same pixels.
        assert_marked_only_for_free(gif_frame(free_out, index), gif_frame(paid_out, index))


def test_extracted_frames_are_marked_only_on_the_free_plan(plans):
    free, paid, (source,) = plans("/api/tools/extract-frames", lambda names: {
        "video_filename": names[0], "mode": "first"})
    assert (free.result["watermark"], paid.result["watermark"]) == (True, False)
    with Image.open(output(free).file.path) as a, Image.open(output(paid).file.path) as b:
        assert_marked_only_for_free(a, b, frame_rgb(Path(source.file.path), 0))


def test_every_frame_in_the_archive_is_marked_on_the_free_plan(plans):
    free, paid, _ = plans("/api/tools/extract-frames", lambda names: {
        "video_filename": names[0], "mode": "all_1fps"}, seconds=2.0)
    archives = [zipfile.ZipFile(output(job).file.path) for job in (free, paid)]
    names = archives[0].namelist()
    assert len(names) == 2 and archives[1].namelist() == names
    for name in names:
        free_frame, paid_frame = (Image.open(io.BytesIO(zf.read(name))) for zf in archives)
        assert_marked_only_for_free(free_frame, paid_frame)


def test_adding_audio_reencodes_the_picture_with_the_mark_only_on_the_free_plan(
        world, owner_api, other_api, media, run_jobs):
    on_plan(world.other, "starter")
    jobs = []
    for user, client in ((world.owner, owner_api), (world.other, other_api)):
        video = media.video(user, size=SIZE, seconds=1.0, audio=False)
        sound = media.audio(user, seconds=0.5)
        with run_jobs():
            response = client.post("/api/video/add-audio", {
                "video_filename": video.name, "audio_filename": sound.name,
                "mode": "replace"}, format="json")
        jobs.append(finished(response))
    free, paid = jobs
    assert (free.result["watermark"], paid.result["watermark"]) == (True, False)
    free_out, paid_out = Path(output(free).file.path), Path(output(paid).file.path)
    assert probe(free_out).has_audio and abs(probe(free_out).duration - 1.0) < 0.1
    # The paid plan's picture is the source's own stream, copied untouched.
    assert_marked_only_for_free(frame_rgb(free_out, 3), frame_rgb(paid_out, 3),
                                frame_rgb(Path(video.file.path), 3))


# Every operation that re-encodes a picture draws the mark in its own filtergraph: the same
# call with and without `mark` differs in the corner only, at the output's size.
OPERATIONS = {
    "speed": lambda src, out, tmp, mark: operations.speed(
        src, out, factor=2.0, runner=Runner(), mark=mark),
    "resize": lambda src, out, tmp, mark: operations.resize(
        src, out, width=240, height=240, runner=Runner(), mark=mark),
    "text_overlay": lambda src, out, tmp, mark: operations.text_overlay(
        src, out, text="bottom line", workdir=tmp, position="bottom", font_size=16,
        runner=Runner(), mark=mark),
    "watermark_text": lambda src, out, tmp, mark: operations.watermark_text(
        src, out, text="own mark", workdir=tmp, position="bottom-left", opacity=0.8,
        runner=Runner(), mark=mark),
    "watermark_image": lambda src, out, tmp, mark: operations.watermark_image(
        src, out, image=make_logo(tmp), position="bottom-left", opacity=0.5,
        runner=Runner(), mark=mark),
    "upscale": lambda src, out, tmp, mark: operations.upscale(
        src, out, factor=2, runner=Runner(), mark=mark),
    "add_voice": lambda src, out, tmp, mark: audio.add_voice(
        src, make_audio(tmp / "voice.wav", seconds=0.5), out, offset=0.2, runner=Runner(),
        mark=mark),
    "burn": lambda src, out, tmp, mark: subtitles.burn(
        src, out, cues=[subtitles.Cue(0, 1, "bottom line")], style="default", workdir=tmp,
        runner=Runner(), mark=mark),
}


def make_logo(tmp: Path) -> Path:
    logo = tmp / "logo.png"
    Image.new("RGB", (64, 64), (255, 255, 255)).save(logo)
    return logo


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_each_reencoding_operation_draws_the_mark_in_its_own_encode(tmp_path, name):
    src = make_video(tmp_path / "src.mp4", size=SIZE, seconds=1.0, rate=12)
    plain, marked = tmp_path / "plain.mp4", tmp_path / "marked.mp4"
    OPERATIONS[name](src, plain, tmp_path, False)
    OPERATIONS[name](src, marked, tmp_path, True)
    assert (probe(marked).width, probe(marked).height) == (probe(plain).width,
                                                          probe(plain).height)
    assert probe(marked).has_audio
    assert_marked_only_for_free(frame_rgb(marked, 4), frame_rgb(plain, 4))
