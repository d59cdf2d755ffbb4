"""The operator's media library: validation on the way in, ranking on the way out, the admin
upload form and the procedural starter set."""

import io
import subprocess

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import IntegrityError, transaction
from PIL import ImageChops, ImageStat

from core.errors import ApplicationError
from engines.ffmpeg import probe
from media_tools.library import (
    library_has,
    library_item_create,
    library_item_local_path,
    library_music,
    library_search,
    library_sound_effects,
    query_words,
)
from media_tools.models import LibraryItem
from tests.engines.media import frame_rgb, make_audio, make_video

pytestmark = pytest.mark.django_db
Kind = LibraryItem.Kind
PLAYLIST = b"#EXTM3U\n#EXTINF:1.0,\nhttp://169.254.169.254/latest/meta-data/segment.ts\n"


@pytest.fixture(autouse=True)
def _remove_stored_files():
    yield
    for item in LibraryItem.objects.all():
        item.file.storage.delete(item.file.name)


def item(kind=Kind.STOCK_VIDEO, title="clip", tags="", *, duration=6.0, enabled=True, mood="",
         sfx_role=""):
    """A row without a file: enough for the selectors, which never open files."""
    return LibraryItem.objects.create(kind=kind, title=title, tags=tags, duration=duration,
                                      enabled=enabled, mood=mood, sfx_role=sfx_role,
                                      file=f"library/{kind}/{title}.mp4")


# --- library_item_create ----------------------------------------------------------------------

def test_a_video_is_probed_and_stored_under_its_kind(tmp_path):
    video = make_video(tmp_path / "v.mp4", size="160x96", seconds=1.0, audio=False)
    created = library_item_create(kind=Kind.BACKGROUND_SUBWAY, title="  Rails   loop ",
                                  path=video, tags="Rails, TRAIN,rails,  night  sky ")
    created.refresh_from_db()
    assert (created.width, created.height, created.has_audio) == (160, 96, False)
    assert created.duration == pytest.approx(1.0, abs=0.1)
    assert created.title == "Rails loop"
    assert created.tags == "rails, train, night sky"
    assert created.file.name.startswith("library/background_subway/rails-loop-")
    assert probe(library_item_local_path(created, tmp_path)).width == 160


def test_a_text_playlist_named_mp4_is_refused_before_anything_is_stored(tmp_path):
    fake = tmp_path / "clip.mp4"
    fake.write_bytes(PLAYLIST)
    with pytest.raises(ApplicationError) as caught:
        library_item_create(kind=Kind.STOCK_VIDEO, title="sneaky", path=fake)
    assert (caught.value.code, caught.value.status_code) == ("unsupported_media", 415)
    assert not LibraryItem.objects.exists()


def test_an_uploaded_playlist_is_refused_too():
    upload = SimpleUploadedFile("clip.mp4", PLAYLIST, content_type="video/mp4")
    with pytest.raises(ApplicationError) as caught:
        library_item_create(kind=Kind.MUSIC, title="sneaky", upload=upload, mood="calm")
    assert caught.value.code == "unsupported_media"
    assert not LibraryItem.objects.exists()


def test_an_audio_file_is_not_accepted_as_a_stock_clip(tmp_path):
    audio = make_audio(tmp_path / "a.wav", seconds=0.5)
    with pytest.raises(ApplicationError) as caught:
        library_item_create(kind=Kind.STOCK_VIDEO, title="no picture", path=audio)
    assert caught.value.code == "unsupported_media"


def test_music_keeps_its_mood_and_has_no_picture_size(tmp_path):
    audio = make_audio(tmp_path / "a.wav", seconds=0.5)
    track = library_item_create(kind=Kind.MUSIC, title="Song", path=audio, mood=" Calm ")
    assert (track.mood, track.has_audio, track.width, track.height) == ("calm", True, None, None)
    assert track.file.name.endswith(".wav")


def test_a_sound_effect_needs_a_role_and_only_sound_effects_have_one(tmp_path):
    audio = make_audio(tmp_path / "a.wav", seconds=0.2)
    with pytest.raises(ValidationError) as caught:
        library_item_create(kind=Kind.SOUND_EFFECT, title="pop", path=audio)
    assert "sfx_role" in caught.value.message_dict
    with pytest.raises(ValidationError):
        library_item_create(kind=Kind.MUSIC, title="song", path=audio, sfx_role="emphasis")
    assert not LibraryItem.objects.exists()


def test_the_database_refuses_a_role_on_anything_but_a_sound_effect():
    with pytest.raises(IntegrityError), transaction.atomic():
        item(Kind.MUSIC, "song", sfx_role="transition")


# --- library_search ---------------------------------------------------------------------------

def test_items_matching_more_query_words_rank_first():
    item(title="A", tags="city")
    best = item(title="B", tags="city, night, rain")
    item(title="C", tags="forest")
    second = item(title="D", tags="night, city lights")
    ranked = library_search(Kind.STOCK_VIDEO, "Rain at night in the city", count=3)
    assert [i.title for i in ranked[:2]] == [best.title, second.title]


def test_a_tag_match_outranks_a_title_match():
    item(title="Ocean at dawn", tags="beach")
    tagged = item(title="Blue clip", tags="ocean")
    assert library_search(Kind.STOCK_VIDEO, "ocean")[0] == tagged


def test_plural_query_words_meet_singular_tags():
    city = item(title="skyline", tags="city, building")
    item(title="meadow", tags="grass")
    assert library_search(Kind.STOCK_VIDEO, "Cities and their buildings")[0] == city
    assert query_words("The cities, the BUSES and the boxes") == {"city", "bus", "box"}


def test_with_no_match_any_enabled_item_of_the_kind_is_returned():
    only = item(title="gradient", tags="abstract")
    item(Kind.MUSIC, "song", mood="calm")
    item(title="hidden", tags="dragon", enabled=False)
    assert library_search(Kind.STOCK_VIDEO, "dragon", count=5) == [only]


def test_the_same_query_always_gives_the_same_order():
    for n in range(6):
        item(title=f"clip {n}", tags="abstract")
    first = library_search(Kind.STOCK_VIDEO, "space rocket", count=6)
    assert library_search(Kind.STOCK_VIDEO, "rocket space", count=6) == first
    assert len(set(first)) == 6


def test_excluded_ids_give_each_scene_another_clip_and_come_back_when_nothing_is_left():
    for n in range(3):
        item(title=f"waves {n}", tags="ocean, waves")
    item(title="desert", tags="sand")
    used: list[int] = []
    for _scene in range(3):
        used.append(library_search(Kind.STOCK_VIDEO, "ocean waves", exclude_ids=used)[0].pk)
    assert len(set(used)) == 3
    assert {i.title for i in LibraryItem.objects.filter(pk__in=used)} == {
        "waves 0", "waves 1", "waves 2"}
    assert library_search(Kind.STOCK_VIDEO, "ocean waves", exclude_ids=used)[0].title == "desert"
    everything = [i.pk for i in LibraryItem.objects.all()]
    assert library_search(Kind.STOCK_VIDEO, "ocean", exclude_ids=everything)[0].pk in used


def test_items_long_enough_for_the_scene_come_before_shorter_ones_of_equal_score():
    short = item(title="short", tags="ocean", duration=2.0)
    long = item(title="long", tags="ocean", duration=9.0)
    assert library_search(Kind.STOCK_VIDEO, "ocean", count=2, min_duration=5) == [long, short]


def test_search_is_one_query(django_assert_num_queries):
    for n in range(5):
        item(title=f"clip {n}", tags="abstract")
    # 1 query: the enabled items of the kind
    with django_assert_num_queries(1):
        library_search(Kind.STOCK_VIDEO, "abstract", count=3)


def test_an_empty_kind_gives_nothing_and_library_has_says_so():
    assert library_search(Kind.BACKGROUND_MINECRAFT, "blocks") == []
    assert not library_has(Kind.BACKGROUND_MINECRAFT)
    item(Kind.BACKGROUND_MINECRAFT, "disabled", enabled=False)
    assert not library_has(Kind.BACKGROUND_MINECRAFT)
    item(Kind.BACKGROUND_MINECRAFT, "blocks")
    assert library_has(Kind.BACKGROUND_MINECRAFT)


def test_music_is_picked_by_exact_mood_then_by_tag_then_any_track():
    assert library_music("calm") is None
    upbeat = item(Kind.MUSIC, "Upbeat", tags="upbeat, happy", mood="upbeat")
    calm = item(Kind.MUSIC, "Calm", tags="calm, soft", mood="calm")
    item(Kind.MUSIC, "Off", mood="calm", enabled=False)
    assert library_music("Calm") == calm
    assert library_music("happy") == upbeat
    assert library_music("furious") in (upbeat, calm)
    assert library_music("furious") == library_music("furious")
    assert library_music(None) in (upbeat, calm)


def test_sound_effects_are_listed_by_role():
    ding = item(Kind.SOUND_EFFECT, "ding", sfx_role="emphasis")
    pop = item(Kind.SOUND_EFFECT, "pop", sfx_role="emphasis")
    whoosh = item(Kind.SOUND_EFFECT, "whoosh", sfx_role="transition")
    item(Kind.SOUND_EFFECT, "muted", sfx_role="emphasis", enabled=False)
    assert library_sound_effects("emphasis") == [ding, pop]
    assert library_sound_effects("transition") == [whoosh]


# --- admin ------------------------------------------------------------------------------------

def _add(admin_client, name: str, content: bytes, **fields):
    data = {"kind": Kind.STOCK_VIDEO, "title": "Uploaded", "tags": "Sea, WAVES", "mood": "",
            "sfx_role": "", "enabled": "on", **fields,
            "upload": SimpleUploadedFile(name, content, content_type="video/mp4")}
    return admin_client.post("/admin/media_tools/libraryitem/add/", data)


def test_the_admin_upload_refuses_a_playlist_with_a_form_error(admin_client):
    response = _add(admin_client, "clip.mp4", PLAYLIST)
    assert response.status_code == 200
    assert "upload" in response.context["adminform"].form.errors
    assert not LibraryItem.objects.exists()


def test_the_admin_upload_stores_a_probed_item(admin_client, tmp_path):
    video = make_video(tmp_path / "v.mp4", size="160x96", seconds=1.0)
    response = _add(admin_client, "v.mp4", video.read_bytes())
    assert response.status_code == 302, response.context["adminform"].form.errors
    stored = LibraryItem.objects.get()
    assert (stored.title, stored.tags, stored.width, stored.has_audio) == (
        "Uploaded", "sea, waves", 160, True)
    assert stored.origin == "operator"
    listing = admin_client.get("/admin/media_tools/libraryitem/?kind__exact=stock_video&q=waves")
    assert b"Uploaded" in listing.content


# --- library_seed -----------------------------------------------------------------------------

def _peak_db(path) -> float:
    out = subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-i", str(path), "-af",
                          "volumedetect", "-f", "null", "-"], capture_output=True, text=True,
                         check=True, timeout=60).stderr
    return float(out.split("max_volume:")[1].split("dB")[0])


def test_library_seed_fills_empty_kinds_and_a_second_run_adds_nothing(tmp_path):
    operator_track = item(Kind.MUSIC, "Operator's own song", mood="calm")
    out = io.StringIO()
    call_command("library_seed", "--small", stdout=out)
    starters = LibraryItem.objects.filter(origin="starter")
    counts = {kind: starters.filter(kind=kind).count() for kind in Kind.values}
    assert counts == {"stock_video": 6, "background_youtube": 1, "background_minecraft": 1,
                      "background_subway": 1, "music": 0, "sound_effect": 3}
    assert list(LibraryItem.objects.filter(kind=Kind.MUSIC)) == [operator_track]
    assert "Added 12 starter items" in out.getvalue()
    assert all(i.title.startswith("Procedural") for i in starters)
    for clip in starters.exclude(kind=Kind.SOUND_EFFECT):
        path = library_item_local_path(clip, tmp_path)
        assert (probe(path).width, probe(path).height) == (144, 256)
        spread = ImageStat.Stat(frame_rgb(path, 0).convert("L")).stddev[0]
        assert spread > 3, f"{clip.title} is a flat picture"
    roles = sorted(starters.filter(kind=Kind.SOUND_EFFECT).values_list("sfx_role", flat=True))
    assert roles == ["emphasis", "emphasis", "transition"]
    for effect in starters.filter(kind=Kind.SOUND_EFFECT):
        assert -20 < _peak_db(library_item_local_path(effect, tmp_path)) <= 0, effect.title
    again = io.StringIO()
    call_command("library_seed", "--small", stdout=again)
    assert LibraryItem.objects.count() == 13
    assert "nothing added" in again.getvalue()


def test_library_seed_force_remakes_the_starter_items_and_keeps_the_operators(
        tmp_path, django_capture_on_commit_callbacks):
    operator_clip = item(Kind.STOCK_VIDEO, "Operator's clip", tags="city")
    call_command("library_seed", "--small", stdout=io.StringIO())
    old = list(LibraryItem.objects.filter(origin="starter"))
    assert len(old) == 11  # every kind but stock video, which the operator filled
    storage = old[0].file.storage
    with django_capture_on_commit_callbacks(execute=True):  # files go once the rows have
        call_command("library_seed", "--small", "--force", stdout=io.StringIO())
    new = LibraryItem.objects.filter(origin="starter")
    assert new.count() == 17 and not new.filter(pk__in=[o.pk for o in old]).exists()
    assert not any(storage.exists(o.file.name) for o in old)
    assert LibraryItem.objects.filter(pk=operator_clip.pk).exists()
    track = library_music("dramatic")
    assert track.mood == "dramatic" and probe(library_item_local_path(track, tmp_path)).has_audio


@pytest.mark.parametrize("name", ["_subway", "_blocks", "_colour_cycle"])
def test_background_loops_end_where_they_begin(name, tmp_path):
    from media_tools.management.commands import library_seed

    scale = library_seed.SMALL
    frames = round(scale.loop_seconds * scale.fps)
    graph = getattr(library_seed, name)(scale)
    # Render one frame past the loop: frame N must be frame 0 again, and frame 1 must differ.
    out = tmp_path / "loop.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-f", "lavfi", "-i", graph,
                    "-frames:v", str(frames + 1), "-c:v", "libx264", "-qp", "0",
                    "-pix_fmt", "yuv444p", str(out)], check=True, timeout=60)
    first, after_last, second = (frame_rgb(out, n) for n in (0, frames, 1))
    assert ImageChops.difference(first, after_last).getbbox() is None
    assert ImageChops.difference(first, second).getbbox() is not None
