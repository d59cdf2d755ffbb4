"""The operator's media library: stock clips, background loops, music and sound effects that
story pipelines pick from when no stock provider is configured (or as their fallback).

Writes probe every file before a row exists (`library_item_create`); reads rank the enabled
items of one kind by how well their tags and title match a scene's words, and always fall back
to some enabled item of that kind, so a library with anything in it never answers "nothing".
"""

from __future__ import annotations

import hashlib
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage
from django.db import transaction
from django.utils.text import slugify

from assets.services import spool_upload
from core.errors import ApplicationError
from engines import validation
from engines.base import EngineError
from media_tools.models import LibraryItem, normalise_tags

Kind = LibraryItem.Kind
VIDEO_KINDS = frozenset({Kind.STOCK_VIDEO, Kind.BACKGROUND_YOUTUBE, Kind.BACKGROUND_MINECRAFT,
                         Kind.BACKGROUND_SUBWAY})
AUDIO_KINDS = frozenset({Kind.MUSIC, Kind.SOUND_EFFECT})

_STATUS_FOR_CODE = {"unsupported_media": 415, "file_too_large": 413, "image_too_large": 413}
# Sniffed container (engines.validation.sniff) -> the extension the stored file gets.
_EXTENSIONS = {"mp4": "mp4", "mov": "mov", "m4a": "m4a", "webm": "webm", "mkv": "mkv",
               "mp3": "mp3", "wav": "wav", "ogg": "ogg", "flac": "flac"}


# --- writes -----------------------------------------------------------------------------------

def library_item_create(*, kind: str, title: str, path: Path | str | None = None, upload=None,
                        tags: str | Iterable[str] = "", mood: str = "", sfx_role: str = "",
                        origin: str = LibraryItem.Origin.OPERATOR,
                        enabled: bool = True) -> LibraryItem:
    """Store a file (a local `path`, or an uploaded file `upload`) as a library item.

    The content decides, never the name: the magic bytes, then ffprobe behind the format and
    protocol whitelists (engines.validation.validate_media), so a playlist or a text file named
    `.mp4` is refused before anything could fetch a URL. Video kinds need a video stream, music
    and sound effects an audio stream; size, duration and pixel limits are the upload limits.
    Refusals are ApplicationError (`unsupported_media` 415, `file_too_large` 413, ...);
    invalid fields (a sound effect without a role, a mood on a clip) are ValidationError.
    The stored name is generated; the row is written after the file is stored.
    """
    if kind not in Kind.values:
        raise ApplicationError(f"Unknown library kind {kind!r}.", code="invalid",
                               fields={"kind": ["Not a library kind."]})
    if (path is None) == (upload is None):
        raise ValueError("give exactly one of path and upload")
    media_kind = "video" if kind in VIDEO_KINDS else "audio"
    limit = settings.UPLOAD_MAX_BYTES[media_kind]
    workdir = Path(tempfile.mkdtemp(prefix="library-"))
    try:
        source = (Path(path) if path is not None
                  else spool_upload(upload, workdir / "upload.bin", limit))
        try:
            info = validation.validate_media(
                source, kind=media_kind, max_bytes=limit,
                max_duration=settings.UPLOAD_MAX_DURATION, max_pixels=settings.MAX_VIDEO_PIXELS)
        except EngineError as exc:
            raise ApplicationError(exc.message, code=exc.code,
                                   status=_STATUS_FOR_CODE.get(exc.code, 400)) from None
        item = LibraryItem(
            kind=kind, title=" ".join(str(title).split()), tags=normalise_tags(tags),
            mood=mood or "", sfx_role=sfx_role or "", origin=origin, enabled=enabled,
            duration=info.duration, has_audio=info.has_audio,
            width=info.width if info.has_video else None,
            height=info.height if info.has_video else None)
        item.full_clean(exclude=["file"])
        extension = _EXTENSIONS[validation.sniff(source)]
        name = f"{slugify(item.title)[:48] or 'item'}-{secrets.token_hex(4)}.{extension}"
        with source.open("rb") as handle:
            # Slow I/O (S3) before the row is written, outside any transaction.
            item.file.save(name, File(handle), save=False)
        try:
            item.save()
        except Exception:
            item.file.storage.delete(item.file.name)
            raise
        return item
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def library_item_delete(*, item: LibraryItem) -> None:
    """Delete the row, then its file once the deletion has committed."""
    storage, name = item.file.storage, item.file.name
    with transaction.atomic():
        item.delete()
        transaction.on_commit(lambda: storage.delete(name) if name else None)


def library_item_local_path(item: LibraryItem, workdir: Path) -> Path:
    """A local path to the item's bytes: the file itself on local storage, else a copy made in
    `workdir` (S3)."""
    storage = item.file.storage
    if isinstance(storage, FileSystemStorage):
        return Path(storage.path(item.file.name))
    target = Path(workdir) / f"library-{item.pk}{Path(item.file.name).suffix}"
    with storage.open(item.file.name, "rb") as src, target.open("wb") as dst:
        shutil.copyfileobj(src, dst, 1024 * 1024)
    return target


# --- reads ------------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+")
_STOPWORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "has", "have", "he",
    "her", "his", "in", "into", "is", "it", "its", "of", "on", "or", "our", "she", "so", "that",
    "the", "their", "them", "then", "there", "they", "this", "to", "was", "we", "were", "what",
    "when", "where", "which", "who", "will", "with", "you", "your",
})


def _stem(word: str) -> str:
    """A crude English plural and final-e stripper, applied to both sides of a match, so that
    'cities' meets 'city', 'buses' 'bus' and 'waves' 'wave'. Never shorter than 3 letters."""
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("es") and len(word) >= 5:
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) >= 4:
        word = word[:-1]
    if word.endswith("e") and len(word) >= 4:
        word = word[:-1]
    return word


def query_words(text: str | None) -> frozenset[str]:
    """The words of a query (or of tags and titles) as matched: lower-case, stemmed, without
    stop words and one-letter words."""
    words = _WORD.findall((text or "").lower())
    return frozenset(_stem(w) for w in words if len(w) > 1 and w not in _STOPWORDS)


def _tiebreak(key: str, item_id: int) -> str:
    # The same query always orders equal scores the same way; another query another way, so
    # that unrelated scenes do not all land on the library's first item.
    return hashlib.sha256(f"{key}|{item_id}".encode()).hexdigest()


def _score(words: frozenset[str], item: LibraryItem) -> int:
    tag_words = query_words(item.tags.replace(",", " "))
    title_words = query_words(item.title) - tag_words
    return 2 * len(words & tag_words) + len(words & title_words)


def library_search(kind: str, query: str, *, count: int = 1, min_duration: float = 0.0,
                   exclude_ids: Iterable[int] = ()) -> list[LibraryItem]:
    """Up to `count` enabled items of `kind`, best first, for a scene described by `query`.

    Ranking: each query word found among an item's tags counts 2, found only in its title 1.
    Among equal scores, items at least `min_duration` seconds long come first, then a fixed
    order derived from the query (stable for the same query). Items whose id is in
    `exclude_ids` (already used by earlier scenes) come after all others, so they are only
    returned when nothing else is left. Only an empty kind gives an empty list.
    """
    words = query_words(query)
    excluded = set(exclude_ids)
    key = " ".join(sorted(words))
    items = LibraryItem.objects.filter(kind=kind, enabled=True)
    ranked = sorted(items, key=lambda item: (
        item.pk in excluded, -_score(words, item), item.duration < min_duration,
        _tiebreak(key, item.pk)))
    return ranked[:max(0, count)]


def library_music(mood: str | None) -> LibraryItem | None:
    """One enabled music track for a mood: one whose mood is exactly it, else one tagged with
    it, else any track (the same one for the same mood). None when there is no music."""
    wanted = " ".join((mood or "").lower().split())
    words = query_words(wanted)

    def rank(item: LibraryItem):
        tagged = bool(words) and words <= query_words(item.tags.replace(",", " "))
        exact = bool(wanted) and item.mood == wanted
        return (not exact, not tagged, _tiebreak(wanted, item.pk))

    tracks = LibraryItem.objects.filter(kind=Kind.MUSIC, enabled=True)
    return min(tracks, key=rank, default=None)


def library_sound_effects(role: str) -> list[LibraryItem]:
    """The enabled sound effects for a role (`transition` or `emphasis`), by title."""
    return list(LibraryItem.objects.filter(kind=Kind.SOUND_EFFECT, sfx_role=role, enabled=True)
                .order_by("title", "id"))


def library_has(kind: str) -> bool:
    """Whether the library holds at least one enabled item of `kind`."""
    return LibraryItem.objects.filter(kind=kind, enabled=True).exists()
