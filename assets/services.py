"""Writes for stored files: uploads (validated), job outputs, deletion, share tokens."""

import hashlib
import mimetypes
import secrets
import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import transaction

from assets.models import Asset, new_asset_name
from core.errors import ApplicationError
from engines.base import EngineError

_STATUS_FOR_CODE = {
    "unsupported_media": 415,
    "file_too_large": 413,
    "image_too_large": 413,
    "media_too_long": 400,
}

_MIME_BY_EXT = {
    "mp4": "video/mp4", "webm": "video/webm", "mov": "video/quicktime", "png": "image/png",
    "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp", "gif": "image/gif",
    "mp3": "audio/mpeg", "wav": "audio/wav", "m4a": "audio/mp4", "ogg": "audio/ogg",
    "flac": "audio/flac", "srt": "application/x-subrip", "vtt": "text/vtt",
    "zip": "application/zip", "glb": "model/gltf-binary",
}


# What a file's content (never its name) must be for each kind of upload.
_KIND_BY_FORMAT = {
    "png": "image", "jpeg": "image", "webp": "image",
    "mp4": "video", "mov": "video", "webm": "video",
    "mp3": "audio", "wav": "audio", "m4a": "audio", "ogg": "audio", "flac": "audio",
}


def mime_for(extension: str) -> str:
    ext = extension.lstrip(".").lower()
    return _MIME_BY_EXT.get(ext) or mimetypes.guess_type(f"x.{ext}")[0] or (
        "application/octet-stream")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def asset_create_from_path(*, owner, path: Path, kind: str, extension: str,
                           origin: str = Asset.Origin.OUTPUT, original_filename: str = "",
                           source_job_id=None, info=None, thumbnail: Asset | None = None) -> Asset:
    """Store a file from local disk as a new asset; `info` is a probe result (MediaInfo or
    ImageInfo) whose dimensions and timing are copied onto the row."""
    path = Path(path)
    name = new_asset_name(extension)
    asset = Asset(
        owner=owner, kind=kind, origin=origin, name=name, original_filename=original_filename[:255],
        mime=mime_for(extension), size=path.stat().st_size, sha256=_sha256(path),
        source_job_id=source_job_id, thumbnail=thumbnail,
    )
    if info is not None:
        asset.width = getattr(info, "width", None) or None
        asset.height = getattr(info, "height", None) or None
        asset.duration = getattr(info, "duration", None) or None
        asset.fps = getattr(info, "fps", None) or None
        asset.frame_count = getattr(info, "frame_count", None) or None
        asset.has_audio = bool(getattr(info, "has_audio", False))
    with path.open("rb") as handle:
        # Slow I/O (S3) happens before the row is written, outside any transaction.
        asset.file.save(name, File(handle), save=False)
    try:
        asset.full_clean(exclude=["file", "thumbnail"])
        asset.save()
    except Exception:
        asset.file.storage.delete(asset.file.name)
        raise
    return asset


def _validation_error(exc: EngineError) -> ApplicationError:
    return ApplicationError(exc.message, code=exc.code,
                            status=_STATUS_FOR_CODE.get(exc.code, 400))


def spool_upload(upload, target: Path, limit: int) -> Path:
    """Write an uploaded file to `target`, 413 past `limit` bytes whatever its declared size
    said (a lying Content-Length is caught while copying)."""
    too_large = ApplicationError(f"The file is larger than {limit // (1024 * 1024)} MB.",
                                 code="file_too_large", status=413)
    if upload.size is not None and upload.size > limit:
        raise too_large
    written = 0
    with target.open("wb") as out:
        for chunk in upload.chunks():
            written += len(chunk)
            if written > limit:
                raise too_large
            out.write(chunk)
    return target


def asset_upload(*, owner, upload, kinds: tuple[str, ...], origin: str = Asset.Origin.UPLOAD,
                 field: str = "file") -> Asset:
    """Validate an uploaded file by its content (never its name or declared type) and store it.

    Images: PNG/JPEG/WebP up to IMAGE_UPLOAD_MAX_BYTES, pixel count checked before decoding.
    Video: mp4/webm/mov; audio: mp3/wav/m4a/ogg/flac — probed with ffprobe behind a format
    whitelist, so playlists and other disguised files are refused (415). Errors name `field`,
    the request field the file came in.
    """
    try:
        return _asset_upload(owner=owner, upload=upload, kinds=kinds, origin=origin)
    except ApplicationError as exc:
        exc.fields = exc.fields or {field: [exc.message]}
        raise


def _asset_upload(*, owner, upload, kinds: tuple[str, ...], origin: str) -> Asset:
    from engines import validation

    limit = max(settings.UPLOAD_MAX_BYTES[k] for k in kinds)
    if not upload.size:
        raise ApplicationError("The file is empty.", code="invalid")
    workdir = Path(tempfile.mkdtemp(prefix="upload-"))
    try:
        path = spool_upload(upload, workdir / "upload.bin", limit)
        sniffed = validation.sniff(path)
        kind = _KIND_BY_FORMAT.get(sniffed or "")
        if kind not in kinds:
            allowed = ", ".join(kinds)
            raise ApplicationError(f"Unsupported file: upload {allowed} files only.",
                                   code="unsupported_media", status=415)
        try:
            if kind == Asset.Kind.IMAGE:
                info = validation.validate_image(
                    path, max_bytes=settings.UPLOAD_MAX_BYTES["image"],
                    max_pixels=settings.MAX_IMAGE_PIXELS)
                extension = "jpg" if sniffed == "jpeg" else sniffed
            else:
                info = validation.validate_media(
                    path, kind=kind, max_bytes=settings.UPLOAD_MAX_BYTES[kind],
                    max_duration=settings.UPLOAD_MAX_DURATION,
                    max_pixels=settings.MAX_VIDEO_PIXELS)
                extension = sniffed
        except EngineError as exc:
            raise _validation_error(exc) from None
        return asset_create_from_path(owner=owner, path=path, kind=kind, extension=extension,
                                      origin=origin, original_filename=upload.name or "",
                                      info=info)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def asset_delete(*, asset: Asset) -> None:
    """Delete the row, then its files (and its thumbnail's) once the deletion has committed."""
    names = [asset.file.name]
    if asset.thumbnail_id:
        names.append(asset.thumbnail.file.name)
    storage = asset.file.storage
    with transaction.atomic():
        if asset.thumbnail_id:
            asset.thumbnail.delete()
        asset.delete()
        transaction.on_commit(lambda: [storage.delete(n) for n in names])


def asset_share(*, asset: Asset) -> str:
    """A share token for the asset (kept if one exists)."""
    if not asset.share_token:
        asset.share_token = secrets.token_urlsafe(24)
        asset.save(update_fields=["share_token", "updated_at"])
    return asset.share_token


def asset_import_url(*, owner, url: str, kinds: tuple[str, ...]) -> Asset:
    """Fetch a public URL through the SSRF guard and store it like an upload."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from core.netguard import UnsafeUrl, safe_request

    limit = max(settings.UPLOAD_MAX_BYTES[k] for k in kinds)
    try:
        response = safe_request("GET", url, timeout=settings.URL_FETCH_TIMEOUT, max_bytes=limit,
                                max_redirects=3, allow_private=settings.URL_FETCH_ALLOW_PRIVATE)
    except UnsafeUrl as exc:
        status = 413 if exc.code == "response_too_large" else 400
        raise ApplicationError(f"Cannot fetch the URL: {exc.message}", code=exc.code,
                               status=status) from None
    except (OSError, TimeoutError):
        raise ApplicationError("Cannot fetch the URL: the server did not answer in time.",
                               code="url_fetch_failed") from None
    if response.status != 200:
        raise ApplicationError(f"Cannot fetch the URL: it answered HTTP {response.status}.",
                               code="url_fetch_failed")
    name = url.rsplit("/", 1)[-1][:100] or "download"
    return asset_upload(owner=owner, upload=SimpleUploadedFile(name, response.body),
                        kinds=kinds, origin=Asset.Origin.INPUT)
