"""The job handlers of generation: they run in Celery workers (queue `gpu`)."""

from pathlib import Path

from assets.models import Asset
from billing.services import credit_account_get
from engines import ffmpeg
from engines.base import EngineError, RenderRequest
from engines.registry import get_engine
from generation.models import Generation
from media_tools.outputs import extract_frame, materialise, store_output


def _store(job, out, workdir: Path) -> Asset:
    # Anything that is not media (a 3D model from Hunyuan3D) is stored as a download.
    kind = out.kind if out.kind in Asset.Kind.values else Asset.Kind.ARCHIVE
    return store_output(job, out.path, kind=kind, workdir=workdir)


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
