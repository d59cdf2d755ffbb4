"""Files in and out of a job's scratch directory: input assets as local paths, results stored
as assets (videos with a thumbnail). Shared by every app whose jobs make media."""

import shutil
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage

from assets.models import Asset
from assets.services import asset_create_from_path
from engines import ffmpeg
from engines.base import EngineError


def materialise(asset: Asset, workdir: Path, stem: str) -> Path:
    """A local path to the asset's bytes: the file itself on local storage, a copy from S3."""
    storage = asset.file.storage
    if isinstance(storage, FileSystemStorage):
        return Path(storage.path(asset.file.name))
    target = workdir / f"{stem}.{asset.name.rsplit('.', 1)[-1]}"
    with storage.open(asset.file.name, "rb") as src, target.open("wb") as dst:
        shutil.copyfileobj(src, dst, 1024 * 1024)
    return target


def extract_frame(video: Path, target: Path, *, position: str = "last") -> Path:
    """One PNG frame of a video: the first, the middle or the last."""
    if position == "last":
        # Decode the final second, overwriting one file: it ends holding the last frame.
        args = [*ffmpeg.input_args(video, options=("-sseof", "-1")), "-update", "1"]
    elif position == "middle":
        duration = ffmpeg.probe(video).duration or 0
        args = [*ffmpeg.input_args(video, options=("-ss", f"{duration / 2:.3f}")),
                "-frames:v", "1"]
    else:
        args = [*ffmpeg.input_args(video), "-frames:v", "1"]
    ffmpeg.run_ffmpeg([*args, "-an", str(target)], timeout=60, stage="frame")
    if not target.exists():
        raise EngineError("Could not read a frame from the video.", code="frame_extract_failed")
    return target


def store_image(job, path: Path, *, origin: str = Asset.Origin.OUTPUT) -> Asset:
    from engines.validation import validate_image

    info = validate_image(path, max_bytes=200 * 1024 * 1024,
                          max_pixels=settings.MAX_IMAGE_PIXELS)
    return asset_create_from_path(owner=job.owner, path=path, kind=Asset.Kind.IMAGE,
                                  extension=path.suffix.lstrip(".") or "png", origin=origin,
                                  source_job_id=job.public_id, info=info)


def store_video(job, path: Path, workdir: Path, *, origin: str = Asset.Origin.OUTPUT) -> Asset:
    """Store a rendered video with a thumbnail of its first frame, as the job's output."""
    info = ffmpeg.probe(path)
    thumb_path = extract_frame(path, workdir / f"{path.stem}-thumb.png", position="first")
    thumb = store_image(job, thumb_path, origin=Asset.Origin.THUMBNAIL)
    return asset_create_from_path(owner=job.owner, path=path, kind="video", extension="mp4",
                                  source_job_id=job.public_id, info=info, thumbnail=thumb,
                                  origin=origin)


def store_output(job, path: Path, *, kind: str, workdir: Path,
                 origin: str = Asset.Origin.OUTPUT) -> Asset:
    """Store one result file of a job by kind: video, image, audio, subtitle or archive.
    `origin=intermediate` keeps a step's file (a story's narration or scene picture) without
    listing it among the job's outputs."""
    if kind == Asset.Kind.VIDEO:
        return store_video(job, path, workdir, origin=origin)
    if kind == Asset.Kind.IMAGE and path.suffix != ".gif":
        return store_image(job, path, origin=origin)
    info = ffmpeg.probe(path) if kind in (Asset.Kind.AUDIO, Asset.Kind.IMAGE) else None
    return asset_create_from_path(owner=job.owner, path=path, kind=kind,
                                  extension=path.suffix.lstrip("."),
                                  source_job_id=job.public_id, info=info, origin=origin)
