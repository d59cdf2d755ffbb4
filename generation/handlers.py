"""The job handlers of generation: they run in Celery workers (queue `gpu`)."""

import shutil
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage

from assets.models import Asset
from assets.services import asset_create_from_path
from billing.services import credit_account_get
from engines import ffmpeg
from engines.base import EngineError, RenderRequest
from engines.registry import get_engine
from engines.validation import validate_image
from generation.models import Generation


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
        args = ["-sseof", "-1", *ffmpeg.input_args(video), "-update", "1"]
    elif position == "middle":
        duration = ffmpeg.probe(video).duration or 0
        args = ["-ss", f"{duration / 2:.3f}", *ffmpeg.input_args(video), "-frames:v", "1"]
    else:
        args = [*ffmpeg.input_args(video), "-frames:v", "1"]
    ffmpeg.run_ffmpeg([*args, "-an", str(target)], timeout=60, stage="frame")
    if not target.exists():
        raise EngineError("Could not read a frame from the video.", code="frame_extract_failed")
    return target


def store_video(job, path: Path, workdir: Path) -> Asset:
    """Store a rendered video with a thumbnail of its first frame, as the job's output."""
    info = ffmpeg.probe(path)
    thumb_path = extract_frame(path, workdir / f"{path.stem}-thumb.png", position="first")
    thumb = asset_create_from_path(
        owner=job.owner, path=thumb_path, kind=Asset.Kind.IMAGE, extension="png",
        origin=Asset.Origin.THUMBNAIL, source_job_id=job.public_id,
        info=validate_image(thumb_path, max_bytes=50 * 1024 * 1024,
                            max_pixels=settings.MAX_IMAGE_PIXELS))
    return asset_create_from_path(owner=job.owner, path=path, kind="video", extension="mp4",
                                  source_job_id=job.public_id, info=info, thumbnail=thumb)


def _store(job, out, workdir: Path) -> Asset:
    if out.kind == "video":
        return store_video(job, out.path, workdir)
    if out.kind == "image":
        info = validate_image(out.path, max_bytes=200 * 1024 * 1024,
                              max_pixels=settings.MAX_IMAGE_PIXELS)
        return asset_create_from_path(owner=job.owner, path=out.path, kind="image",
                                      extension=out.path.suffix.lstrip(".") or "png",
                                      source_job_id=job.public_id, info=info)
    if out.kind == "audio":
        info = ffmpeg.probe(out.path)
        return asset_create_from_path(owner=job.owner, path=out.path, kind="audio",
                                      extension=out.path.suffix.lstrip("."),
                                      source_job_id=job.public_id, info=info)
    # Anything else (a 3D model from Hunyuan3D, a GLB file) is stored as a download.
    return asset_create_from_path(owner=job.owner, path=out.path, kind=Asset.Kind.ARCHIVE,
                                  extension=out.path.suffix.lstrip(".") or "bin",
                                  source_job_id=job.public_id)


def _watermarked(out, ctx):
    """The Free plan's outputs carry the watermark (videos re-encoded once, images drawn)."""
    from engines.base import RenderOutput
    from media_tools.watermark import watermark_image, watermark_video

    target = out.path.with_name(f"{out.path.stem}-wm{out.path.suffix}")
    if out.kind == "video":
        ctx.progress(0.9, "watermark")
        watermark_video(out.path, target, is_canceled=ctx.is_canceled,
                        duration=ffmpeg.probe(out.path).duration)
    elif out.kind == "image":
        target = target.with_suffix(".png")
        watermark_image(out.path, target)
    else:
        return out
    return RenderOutput(path=target, kind=out.kind, mime=out.mime)


def run_generation(job, ctx) -> dict:
    """Render a video or image with the job's engine and store the result as assets."""
    generation = Generation.objects.get(job=job)
    params = dict(job.params)
    inputs: dict[str, Path] = {}
    for role, name in (params.get("inputs") or {}).items():
        asset = Asset.objects.get(owner=job.owner, name=name)
        inputs[role] = materialise(asset, ctx.workdir, f"in-{role}")
    if params.get("extend_from") and "video" in inputs:
        ctx.progress(0.02, "last_frame")
        inputs["image"] = extract_frame(inputs.pop("video"), ctx.workdir / "last-frame.png")
    outdir = ctx.workdir / "out"
    outdir.mkdir()
    request = RenderRequest(task=params.get("task", "t2v"), model=job.model, params=params,
                            workdir=outdir, inputs=inputs)
    engine = get_engine(job.engine)
    outputs = engine.render(request, progress=lambda f, stage: ctx.progress(0.05 + f * 0.85,
                                                                            stage),
                            is_canceled=ctx.is_canceled)
    if not outputs:
        raise EngineError("The engine returned no output.", code="no_output")
    if credit_account_get(user=job.owner).tier.watermark:
        outputs = [_watermarked(out, ctx) for out in outputs]
    ctx.progress(0.95, "store")
    stored = [_store(job, out, ctx.workdir) for out in outputs]
    generation.asset = stored[0]
    generation.save(update_fields=["asset", "updated_at"])
    return {"outputs": [a.name for a in stored], "engine": engine.name}
