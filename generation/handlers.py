"""The job handlers of generation: they run in Celery workers (queue `gpu`)."""

from pathlib import Path

from assets.models import Asset
from engines.base import EngineError, RenderRequest
from engines.registry import get_engine
from generation.models import Generation
from media_tools.outputs import extract_frame, materialise, store_output


def _store(job, out, workdir: Path) -> Asset:
    return store_output(job, out.path, kind=out.kind, workdir=workdir)


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
    ctx.progress(0.92, "store")
    stored = [_store(job, out, ctx.workdir) for out in outputs]
    generation.asset = stored[0]
    generation.save(update_fields=["asset", "updated_at"])
    return {"outputs": [a.name for a in stored], "engine": engine.name}
