"""Generation requests: per-model validation, plan limits, inputs, cost, submission."""

import secrets

from django.db import transaction

from assets.models import Asset
from assets.selectors import asset_get_for_user
from assets.services import asset_delete, asset_import_url, asset_share
from billing.models import Tier
from billing.pricing import duration_cost
from billing.services import credit_account_get
from core.errors import ApplicationError, EngineUnavailable, TierRequired
from engines.registry import engine_available
from generation.catalogue import (
    MODELS,
    ModelSpec,
    engine_for,
    model_cost,
    model_enabled,
    model_overrides,
)
from generation.models import Generation
from jobs.http import request_fingerprint
from jobs.services import job_submit

INPUT_KINDS = {"image": ("image",), "last_image": ("image",), "audio": ("audio",),
               "video": ("video",)}
VIDEO_JOB = "generate_video"
IMAGE_JOB = "generate_image"

def _invalid(field: str, message: str) -> ApplicationError:
    return ApplicationError(f"{field}: {message}", code="invalid", fields={field: [message]})

def _frame_examples(rule: int, upto: int) -> str:
    values = [n * rule + 1 for n in range(1, 200) if n * rule + 1 <= upto]
    picks = values[:3] + ([values[-1]] if len(values) > 3 else [])
    return ", ".join(str(v) for v in picks)

def _lowest_tier(predicate) -> Tier | None:
    return next((t for t in Tier.objects.order_by("rank") if predicate(t)), None)

def resolve_params(*, spec: ModelSpec, data: dict, tier: Tier) -> dict:
    """The full parameter set for a model: defaults filled in, checked against the model's
    rules (allowed values named in the error) and the plan's limits (403 with the plan
    that would allow it)."""
    width = data.get("width") or spec.width
    height = data.get("height") or spec.height
    if (spec.output == "video" and not data.get("width") and not data.get("height")
            and min(width, height) > tier.max_resolution):
        # No size asked for: fit the model's default framing into the plan's resolution.
        scale = tier.max_resolution / min(width, height)
        m = spec.size_multiple
        width, height = (max(m, int(width * scale) // m * m), max(m, int(height * scale) // m * m))
    for name, value in (("width", width), ("height", height)):
        if value % spec.size_multiple:
            near = max(spec.size_multiple, round(value / spec.size_multiple) * spec.size_multiple)
            raise _invalid(name, f"{spec.id} needs a multiple of {spec.size_multiple} "
                                 f"(e.g. {near}).")
    params = {
        "prompt": data["prompt"], "negative_prompt": data.get("negative_prompt", ""),
        "width": width, "height": height,
        "steps": data.get("steps") or spec.steps,
        "cfg": data.get("cfg", spec.cfg),
        "sampler": data.get("sampler") or spec.sampler,
        "scheduler": data.get("scheduler") or spec.scheduler,
        "seed": data.get("seed", -1),
    }
    if params["seed"] == -1:
        params["seed"] = secrets.randbelow(2**32)
    if spec.output == "video":
        frames = data.get("frames") or spec.frames
        if spec.frame_rule > 1 and (frames - 1) % spec.frame_rule:
            raise _invalid("frames", f"{spec.id} needs {spec.frame_rule}n+1 frames "
                                     f"(e.g. {_frame_examples(spec.frame_rule, 121)}).")
        if frames > spec.max_model_frames:
            raise _invalid("frames", f"{spec.id} makes at most {spec.max_model_frames} frames.")
        if frames > tier.max_frames:
            needed = _lowest_tier(lambda t: t.max_frames >= frames)
            raise TierRequired(
                f"Your {tier.name} plan allows up to {tier.max_frames} frames.",
                required_tier=needed.slug if needed else None, current_tier=tier.slug,
                fields={"frames": [f"At most {tier.max_frames} on the {tier.name} plan."]})
        params.update(frames=frames, fps=data.get("frame_rate") or spec.fps,
                      shift=data.get("shift", spec.shift))
        for optional in ("strength", "camera_move", "project_id"):
            if data.get(optional) is not None:
                params[optional] = data[optional]
    # The plan's resolution cap is a video limit (the contract lists it beside max frames);
    # images are priced per image at the model's own sizes.
    if spec.output == "video" and min(width, height) > tier.max_resolution:
        needed = _lowest_tier(lambda t: t.max_resolution >= min(width, height))
        raise TierRequired(
            f"Your {tier.name} plan allows up to {tier.max_resolution_label}.",
            required_tier=needed.slug if needed else None, current_tier=tier.slug,
            fields={"height": [f"The shorter side may be at most {tier.max_resolution} px."]})
    return params

def _a(role: str) -> str:
    words = role.replace("_", " ")
    return ("an " if words[0] in "aeiou" else "a ") + words


def resolve_inputs(*, user, spec: ModelSpec, data: dict) -> dict[str, str]:
    """Input files by role -> asset names. Each comes from a filename you own or a public URL
    (fetched through the SSRF guard), never both; inputs a model does not take are refused."""
    allowed = set(spec.inputs) | set(spec.optional_inputs)
    inputs: dict[str, str] = {}
    for role in ("image", "last_image", "audio", "video"):
        filename, url = data.get(f"{role}_filename"), data.get(f"{role}_url")
        if not filename and not url:
            if role in spec.inputs:
                raise _invalid(f"{role}_filename",
                               f"{spec.id} needs {_a(role)}: give "
                               f"{role}_filename or {role}_url.")
            continue
        if filename and url:
            raise _invalid(f"{role}_url", f"Give {role}_filename or {role}_url, not both.")
        if role not in allowed:
            takers = [m.id for m in MODELS.values() if role in m.inputs and
                      m.output == spec.output][:6]
            raise _invalid(f"{role}_filename" if filename else f"{role}_url",
                           f"{spec.id} does not take {_a(role)}"
                           + (f"; models that do: {', '.join(takers)}." if takers else "."))
        if filename:
            asset = asset_get_for_user(user=user, name=filename, kinds=INPUT_KINDS[role])
        else:
            asset = asset_import_url(owner=user, url=url, kinds=INPUT_KINDS[role])
        inputs[role] = asset.name
    return inputs

def _engine_or_503(spec: ModelSpec) -> str:
    if not model_enabled(spec.id):
        raise ApplicationError(f"model: {spec.id} is switched off on this server.",
                               code="model_disabled",
                               fields={"model": [f"{spec.id} is not available here."]})
    engine = engine_for(spec.id)
    if not engine_available(engine):
        raise EngineUnavailable(
            f"{spec.name} runs on the {engine} engine, which is not configured here. "
            "Configure it (see docs/engines.md) or map the model to another engine with "
            "GENERATION_MODEL_ENGINES.", engine=engine)
    return engine

def generation_submit(*, user, data: dict, idempotency_key: str | None = None,
                      kind: str = VIDEO_JOB, parent=None,
                      extend_from: Asset | None = None) -> Generation:
    """Validate a generation request, reserve its credits and queue its job.

    `extend_from`: a video whose last frame becomes the input image (POST /api/extend-video);
    the frame is taken in the worker, so the request stays fast.
    """
    spec = MODELS[data["model"]]
    if extend_from is not None and extend_from.width and extend_from.height:
        # Keep the source's framing when the model accepts its size.
        m = spec.size_multiple
        if not data.get("width") and extend_from.width % m == 0 and extend_from.height % m == 0:
            data = {**data, "width": extend_from.width, "height": extend_from.height}
    tier = credit_account_get(user=user).tier
    params = resolve_params(spec=spec, data=data, tier=tier)
    engine = _engine_or_503(spec)
    fingerprint = request_fingerprint(data)
    if idempotency_key:
        from jobs.services import job_for_idempotency_key

        existing = job_for_idempotency_key(owner=user, key=idempotency_key,
                                           request_hash=fingerprint)
        if existing is not None:
            return existing.generation
    if extend_from is not None:
        params["inputs"] = {"video": extend_from.name}
        params["extend_from"] = extend_from.name
    else:
        params["inputs"] = resolve_inputs(user=user, spec=spec, data=data)
    params["task"] = spec.task
    override = model_overrides().get(spec.id, {})
    for key in ("workflow", "servers"):  # an operator's choice, honoured by the engine
        if override.get(key):
            params[key] = override[key]
    cost = model_cost(spec, frames=params.get("frames", 1), steps=params["steps"])
    if spec.id == "v2v":
        # Priced by the input's length: ~3 credits per 10 seconds, at least 3.
        source = Asset.objects.get(name=params["inputs"]["video"])
        cost = duration_cost(operation="video_to_video", seconds=source.duration or 0)
    with transaction.atomic():
        job, created = job_submit(
            owner=user, kind=kind, model=spec.id, engine=engine, params=params, cost=cost,
            idempotency_key=idempotency_key, request_hash=fingerprint,
            webhook_url=data.get("webhook", ""), parent=parent)
        if not created:
            return job.generation
        return Generation.objects.create(
            owner=user, job=job, output_type=spec.output, model=spec.id, engine=engine,
            prompt=params["prompt"], negative_prompt=params["negative_prompt"], params=params,
            project_id=params.get("project_id"))

def generation_quote(*, model: str, frames: int | None, steps: int | None) -> dict:
    spec = MODELS[model]
    frames = frames or (spec.frames if spec.output == "video" else 1)
    steps = steps or spec.steps
    return {"model": model, "frames": frames, "steps": steps, "engine": engine_for(model),
            "credits": model_cost(spec, frames=frames, steps=steps)}

def generation_toggle_favorite(*, generation: Generation) -> Generation:
    generation.is_favorite = not generation.is_favorite
    generation.save(update_fields=["is_favorite", "updated_at"])
    return generation

def generation_toggle_public(*, generation: Generation) -> Generation:
    if not generation.is_public and generation.asset_id is None:
        raise ApplicationError("Only a finished generation can be made public.",
                               code="not_ready", status=409)
    generation.is_public = not generation.is_public
    generation.save(update_fields=["is_public", "updated_at"])
    return generation

def generation_share(*, generation: Generation) -> str:
    if generation.asset_id is None:
        raise ApplicationError("Only a finished generation can be shared.", code="not_ready",
                               status=409)
    return asset_share(asset=generation.asset)

def generation_delete(*, generation: Generation) -> None:
    """Delete a generation and its file; a job still running is canceled (and refunded)."""
    from jobs.models import Job
    from jobs.services import job_cancel

    job = generation.job
    if job.status in (Job.Status.QUEUED, Job.Status.PROCESSING):
        job_cancel(job=job)
    asset = generation.asset
    generation.delete()
    if asset is not None:
        asset_delete(asset=asset)
    for extra in Asset.objects.filter(source_job_id=job.public_id, origin="output"):
        asset_delete(asset=extra)

def generation_last_frame_source(*, user, data: dict) -> Asset:
    """The video whose last frame an extension starts from."""
    if data.get("generation_id"):
        gen = Generation.objects.filter(owner=user, pk=data["generation_id"],
                                        output_type="video").select_related("asset").first()
        if gen is None or gen.asset is None:
            from core.errors import NotFound

            raise NotFound("Generation not found or not finished.")
        return gen.asset
    return asset_get_for_user(user=user, name=data["video_filename"], kinds=("video",))


def generation_submit_many(*, user, data: dict, count: int, kind: str,
                           idempotency_key: str | None = None) -> list[Generation]:
    """`count` generations of one request (image batches): consecutive seeds when a seed is
    given, one job each, all or none; each carries its own idempotency key."""
    generations = []
    with transaction.atomic():
        for index in range(count):
            item = {**data, "_index": index}
            if count > 1 and item.get("seed", -1) != -1:
                item["seed"] = (item["seed"] + index) % 2**32
            generations.append(generation_submit(
                user=user, data=item, kind=kind,
                idempotency_key=f"{idempotency_key}:{index}" if idempotency_key else None))
    return generations
