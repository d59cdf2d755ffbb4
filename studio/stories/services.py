"""Writes for stories: submit (validate, price, create the story, its project and its job in
one transaction), resume a failed story, regenerate one scene."""


from django.db import transaction

from assets.models import Asset
from assets.selectors import asset_get_for_user
from assets.services import asset_delete, asset_import_url, asset_upload
from billing.models import Tier
from billing.pricing import IMAGE_MODEL_COSTS, duration_cost, per_clip_cost
from billing.services import credit_account_get
from core.errors import ApplicationError, Conflict, EngineUnavailable, NotFound, TierRequired
from engines import espeak
from engines.base import EngineUnavailableError
from engines.registry import engine_available, get_llm
from jobs.http import request_fingerprint
from jobs.models import Job
from studio.models import Project, Shot, Story, StoryScene
from studio.stories import options as o
from studio.stories.script import split_scenes

STORY_JOB = "story"
SCENE_JOB = "story_scene"
# A generated script's length per scene, for the price of its narration.
SECONDS_PER_SCENE = 7.0
ACTIVE = (Job.Status.QUEUED, Job.Status.PROCESSING)


def _invalid(field: str, message: str) -> ApplicationError:
    return ApplicationError(f"{field}: {message}", code="invalid", fields={field: [message]})


def llm_available(capability: str) -> bool:
    try:
        get_llm(capability)
    except EngineUnavailableError:
        return False
    return True


def _require_llm(capability: str, why: str) -> None:
    if not llm_available(capability):
        raise EngineUnavailable(
            f"{why} needs an OpenAI-compatible server for {capability}, which is not "
            f"configured here. Set OPENAI_BASE_URL and OPENAI_{capability.upper()}_MODEL.",
            engine="openai_compatible")


def _short_side(*, tier: Tier, resolution: str | None) -> int:
    if resolution is None:
        return max(v for v in o.RESOLUTIONS.values() if v <= max(480, tier.max_resolution))
    wanted = o.RESOLUTIONS[resolution]
    if wanted > tier.max_resolution:
        needed = Tier.objects.filter(max_resolution__gte=wanted).order_by("rank").first()
        raise TierRequired(f"Your {tier.name} plan makes videos up to "
                           f"{tier.max_resolution_label}.",
                           required_tier=needed.slug if needed else None,
                           current_tier=tier.slug,
                           fields={"resolution": [f"At most {tier.max_resolution_label}."]})
    return wanted


def _voice(voice: str) -> str:
    from media_tools.selectors import ENGINE_VOICES, speech_engine_available

    if voice in espeak.VOICES:
        return "espeak"
    if voice in ENGINE_VOICES and speech_engine_available():
        return "openai_compatible"
    raise _invalid("voice", "Unknown voice; GET /api/tts/voices lists them.")


def _visual_model(*, data: dict, video_format: str, tier: Tier) -> dict:
    """The generation settings shared by every scene's picture or clip (the prompt and seed
    are the scene's): checked against the model's rules and the plan now, not in the worker."""
    from generation.catalogue import MODELS, engine_for, model_cost, model_enabled, model_overrides
    from generation.services import resolve_params

    image = data["video_source"] == "ai_scenery"
    field = "image_model" if image else "video_model"
    spec = MODELS.get(data[field])
    if spec is None or spec.output != ("image" if image else "video") or spec.inputs:
        kind = "image" if image else "text-to-video"
        choices = sorted(m for m, s in MODELS.items()
                         if s.output == ("image" if image else "video") and not s.inputs)
        raise _invalid(field, f"Use a {kind} model: {', '.join(choices)}.")
    if not model_enabled(spec.id):
        raise _invalid(field, f"{spec.id} is switched off on this server.")
    engine = engine_for(spec.id)
    if not engine_available(engine):
        raise EngineUnavailable(f"{spec.name} runs on the {engine} engine, which is not "
                                "configured here.", engine=engine)
    area = spec.width * spec.height
    if not image:
        area = min(area, tier.max_resolution ** 2 * 16 // 9)
    width, height = o.model_size(video_format, area=area, multiple=spec.size_multiple)
    data = {"prompt": "scene", "width": width, "height": height}
    if not image:
        # Each scene's clip is asked for at the length of its scene, up to the longest clip
        # the model and the plan allow; `cost_per_scene` is that longest clip's price, the
        # quote of a scene whose length cannot be estimated (clip_quotes).
        data["frames"] = clip_frames_cap(spec=spec, tier=tier)
    params = resolve_params(spec=spec, data=data, tier=tier)
    params["task"] = spec.task
    override = model_overrides().get(spec.id, {})
    for key in ("workflow", "servers"):  # an operator's choice, honoured by the engine
        if override.get(key):
            params[key] = override[key]
    cost = (IMAGE_MODEL_COSTS.get(spec.id, 1) if image
            else model_cost(spec, frames=params["frames"], steps=params["steps"]))
    return {"model": spec.id, "engine": engine, "params": params, "cost_per_scene": cost}


def clip_frames_cap(*, spec, tier: Tier) -> int:
    """The longest clip a model makes on a plan: the most frames on the model's k*rule + 1
    rule within the model's and the plan's limits."""
    rule = spec.frame_rule
    return (min(spec.max_model_frames, tier.max_frames) - 1) // rule * rule + 1


def clip_frames(*, seconds: float, fps: float, rule: int, cap: int) -> int:
    """The fewest frames on the k*rule + 1 rule that cover `seconds` at `fps`, at most
    `cap` (a longer scene loops its clip)."""
    import math

    needed = math.ceil(seconds * fps - 1e-6)
    frames = math.ceil(max(0, needed - 1) / rule) * rule + 1
    return min(frames, cap)


def _overlap(opts: dict) -> float:
    from media_tools.composer import TRANSITION

    return 0.0 if opts.get("transition", "cut") == "cut" else TRANSITION


def scene_seconds(*, opts: dict, speech: float | None, uploaded: bool, last: bool) -> float:
    """How long a scene lasts on the story's timeline: its speech and a short pause (a stretch
    of an uploaded narration exactly), plus the transition into the next scene."""
    overlap = 0.0 if last else _overlap(opts)
    if uploaded:
        return (speech or 0.0) + overlap
    return max(o.MIN_SCENE, (speech or o.MIN_SCENE) + o.SCENE_TAIL) + overlap


def narration_shares(texts: list[str], total: float) -> list[float]:
    """An uploaded narration with its script: each scene's stretch of the track, in
    proportion to its text's length."""
    weights = [max(1, len(t)) for t in texts]
    return [total * w / sum(weights) for w in weights]


def clip_quote(*, visual: dict, seconds: float | None) -> dict:
    """What one scene's clip is reserved at: the frames that cover `seconds` of scene (the
    longest clip when the length is not known) and their price."""
    from generation.catalogue import MODELS, model_cost

    params, spec = visual["params"], MODELS[visual["model"]]
    if seconds is None:
        return {"frames": params["frames"], "credits": visual["cost_per_scene"]}
    frames = clip_frames(seconds=seconds, fps=params["fps"], rule=spec.frame_rule,
                         cap=params["frames"])
    return {"frames": frames, "credits": model_cost(spec, frames=frames, steps=params["steps"])}


def clip_quotes(*, opts: dict, visual: dict, scenes: list[tuple[int, str, float | None]],
                uploaded: bool, last_index: int) -> dict[str, dict]:
    """The clips of these scenes ((index, text, measured speech or None)) quoted from their
    lengths: the measured speech when there is one, otherwise the speech's estimate from the
    text (an upper bound), plus the pause and the transition the pipeline adds. Keyed by the
    scene's index, as stored in the story's options (`visual.quotes`)."""
    speed = opts.get("voice_speed", 1.0)
    quotes = {}
    for index, text, speech in scenes:
        if speech is None and uploaded:
            seconds = None  # a stretch of an upload, not timed yet: the longest clip
        else:
            seconds = scene_seconds(
                opts=opts, uploaded=uploaded, last=index == last_index,
                speech=speech if speech is not None else espeak.estimate_seconds(text,
                                                                                 speed=speed))
        quotes[str(index)] = clip_quote(visual=visual, seconds=seconds)
    return quotes


def scene_quote(*, opts: dict, index: int) -> int:
    """Credits reserved for one scene's clip or picture: its stored quote, or the model's
    price per scene."""
    visual = opts.get("visual") or {}
    quote = (visual.get("quotes") or {}).get(str(index))
    return quote["credits"] if quote else visual.get("cost_per_scene", 0)


def _check_library(kind: str, label: str) -> None:
    from media_tools.library import library_has

    if not library_has(kind):
        raise EngineUnavailable(
            f"No {label} is available: the operator's library has none. Add some in the admin "
            "(Media tools > Library items) or run `manage.py library_seed`.", engine="library")


def _check_stock() -> None:
    from media_tools.library import library_has
    from media_tools.stock import stock_providers

    if not stock_providers() and not library_has("stock_video"):
        raise EngineUnavailable(
            "Stock footage is not available: set PEXELS_API_KEY or PIXABAY_API_KEY, or fill "
            "the local stock library (admin, or `manage.py library_seed`).", engine="stock")


def _template(*, user, data: dict, width: int, height: int) -> dict:
    """The frame template and its checked parameters; a background image given as a file you
    own or as a URL (fetched through the SSRF guard) becomes one of your image assets."""
    from media_tools import frames

    name = data.get("frame_template") or ""
    params = dict(data.get("template_params") or {})
    if not name:
        if params:
            raise _invalid("template_params", "Give a frame_template to use template_params.")
        return {}
    try:
        template, size = frames.resolve_template(name)
        if template.name not in frames.template_names(width, height) or (
                size and abs(size[0] / size[1] - width / height) > 0.01):
            shown = ", ".join(frames.template_names(width, height))
            raise frames.TemplateError(
                f"{name} is not drawn in the {data['video_format']} format; use one of: "
                f"{shown}.", fields={"frame_template": [f"Use one of: {shown}."]})
        cleaned = frames.validate_params(template, params)
    except frames.TemplateError as exc:
        fields = {(k if k in ("frame_template", "template_params") else
                   "frame_template" if k == "size" else f"template_params.{k}"): v
                  for k, v in (exc.fields or {}).items()} or {"frame_template": [exc.message]}
        raise ApplicationError(exc.message, code="invalid", fields=fields) from None
    background = None
    reference = frames.background_reference(cleaned)
    if reference and reference.startswith(("http://", "https://")):
        background = asset_import_url(owner=user, url=reference, kinds=("image",))
    elif reference:
        background = asset_get_for_user(user=user, name=reference, kinds=(Asset.Kind.IMAGE,))
    if background is not None:
        cleaned["background"] = background.name
    return {"name": template.name, "params": cleaned,
            "background": background.name if background else None}


def _visuals(*, user, data: dict) -> list[str]:
    names = data.get("visual_filenames") or []
    if not names:
        raise _invalid("visual_filenames", "Give your images or videos for video_source=assets.")
    return [asset_get_for_user(user=user, name=n, kinds=(Asset.Kind.IMAGE, Asset.Kind.VIDEO)).name
            for n in names]


def _narration(*, user, data: dict) -> tuple[Asset | None, bool]:
    """(the narration asset, uploaded by this request)."""
    upload, name = data.get("mp3_file"), data.get("narration_filename")
    if upload and name:
        raise _invalid("mp3_file", "Give mp3_file or narration_filename, not both.")
    if upload:
        return asset_upload(owner=user, upload=upload, kinds=("audio",),
                            origin=Asset.Origin.INPUT, field="mp3_file"), True
    if name:
        return asset_get_for_user(user=user, name=name, kinds=(Asset.Kind.AUDIO,)), False
    raise _invalid("mp3_file", "Upload the narration (mp3_file) for audio_source_type=upload.")


def story_cost(*, scenes: int, narration_seconds: float, generate_speech: bool,
               transcribe: bool, visual_cost: int) -> int:
    """Composition like an export (2 per scene, at least 3), the narration at the speech
    rate, a transcription at the subtitle rate, and the generated pictures or clips
    (`visual_cost`, each at its model's price)."""
    cost = per_clip_cost(operation="project_export", clips=scenes)
    if generate_speech:
        cost += duration_cost(operation="tts", seconds=narration_seconds)
    if transcribe:
        cost += 5
    return cost + visual_cost


def _fingerprint(data: dict) -> str:
    body = {k: v for k, v in data.items() if k != "mp3_file"}
    if data.get("mp3_file"):
        body["mp3_file"] = [data["mp3_file"].name, data["mp3_file"].size]
    return request_fingerprint(body)


def story_submit(*, user, data: dict, idempotency_key: str | None = None) -> Story:
    """Validate a story request, reserve its credits and queue its job (202).

    400 with fields for bad combinations, 415 for an upload that is not audio, 403 above the
    plan's resolution, 503 when what it asks for has no engine here (no language model for
    mode=generate, no stock source, no library backgrounds)."""
    from jobs.services import job_for_idempotency_key, job_submit

    fingerprint = _fingerprint(data)
    if idempotency_key:
        existing = job_for_idempotency_key(owner=user, key=idempotency_key,
                                           request_hash=fingerprint)
        if existing is not None:
            return Story.objects.get(job=existing)
    data = dict(data)
    tier = credit_account_get(user=user).tier
    upload = data["audio_source_type"] == "upload"
    prompt = (data.get("prompt") or "").strip()
    if not upload and not prompt:
        raise _invalid("prompt", "Give a topic (mode=generate) or the script (mode=fixed).")
    source = data["video_source"]
    if source == "ai_scenery" and not data.get("ai_scenery_prompt", "").strip():
        raise _invalid("ai_scenery_prompt", "Describe the visual style for ai_scenery "
                                            "(e.g. 'cinematic, photorealistic').")
    if data["caption_style"] == "default":
        data["caption_style"] = "classic"
    width, height = o.output_size(data["video_format"],
                                  _short_side(tier=tier, resolution=data.get("resolution")))
    speech_engine = None if upload else _voice(data["voice"])
    script = data.get("script", "").strip()
    transcribe = upload and not script
    if transcribe:
        _require_llm("transcription", "An uploaded narration without its script")
    generate = not upload and data["mode"] == "generate"
    if generate:
        _require_llm("chat", "mode=generate (the language model writes the script)")
    visual = {"cost_per_scene": 0}
    visuals: list[str] = []
    if source in ("ai_scenery", "ai_video"):
        visual = _visual_model(data=data, video_format=data["video_format"], tier=tier)
    elif source == "stock":
        _check_stock()
    elif source in o.BACKGROUNDS:
        _check_library(source, source.replace("_", " "))
    else:
        visuals = _visuals(user=user, data=data)
    music = None
    if data.get("music_filename"):
        music = asset_get_for_user(user=user, name=data["music_filename"],
                                   kinds=(Asset.Kind.AUDIO,)).name
    template = _template(user=user, data=data, width=width, height=height)

    fixed_text = script if upload else prompt if not generate else ""
    n_scenes = data.get("n_scenes")
    if generate:
        n_scenes = n_scenes or o.DEFAULT_SCENES
        seconds = n_scenes * SECONDS_PER_SCENE
    elif fixed_text:
        n_scenes = len(split_scenes(fixed_text, n_scenes, max_scenes=o.MAX_SCENES))
        seconds = espeak.estimate_seconds(fixed_text, speed=data["voice_speed"])
    else:
        n_scenes = n_scenes or o.DEFAULT_SCENES
        seconds = 0.0
    narration, uploaded = _narration(user=user, data=data) if upload else (None, False)
    visual_cost = visual["cost_per_scene"] * n_scenes
    if source == "ai_video" and fixed_text:
        # The scenes' texts are known: each clip is quoted at its scene's estimated length
        # (from an uploaded narration with its script, the scene's exact share of the track).
        texts = split_scenes(fixed_text, n_scenes, max_scenes=o.MAX_SCENES)
        shares = (narration_shares(texts, narration.duration or 0.0)
                  if upload and narration.duration else [None] * len(texts))
        visual["quotes"] = clip_quotes(
            opts=data, visual=visual, uploaded=upload, last_index=len(texts),
            scenes=[(i, t, share) for i, (t, share) in enumerate(zip(texts, shares,
                                                                     strict=True), start=1)])
        visual_cost = sum(q["credits"] for q in visual["quotes"].values())
    cost = story_cost(scenes=n_scenes, narration_seconds=max(1.0, seconds),
                      generate_speech=not upload, transcribe=transcribe,
                      visual_cost=visual_cost)

    opts = {k: v for k, v in data.items() if k not in ("mp3_file", "webhook")}
    opts.update(width=width, height=height, fps=o.FPS, n_scenes=n_scenes,
                speech_engine=speech_engine, visual=visual if visual.get("model") else None,
                visuals=visuals, music=music, template=template or None)
    try:
        with transaction.atomic():
            title = data.get("title") or (prompt[:60] if prompt else "Narrated story")
            project = Project.objects.create(owner=user, name=title[:200],
                                             description="A narrated story.")
            story = Story.objects.create(owner=user, project=project, title=data.get("title")
                                         or "", prompt=prompt or script, options=opts,
                                         narration=narration)
            job, _created = job_submit(
                owner=user, kind=STORY_JOB, params={"story_id": story.pk}, cost=cost,
                engine=speech_engine or "upload", model=visual.get("model") or source,
                idempotency_key=idempotency_key, request_hash=fingerprint,
                webhook_url=data.get("webhook", ""))
            story.job = job
            story.save(update_fields=["job", "updated_at"])
    except Exception:
        if uploaded:
            asset_delete(asset=narration)
        raise
    return story


def _busy(story: Story) -> None:
    if story.job_id and story.job.status in ACTIVE:
        raise Conflict("The story is being worked on; wait for its job to finish.",
                       job_id=str(story.job.public_id))


def story_resume(*, story: Story, idempotency_key: str | None = None) -> Story:
    """Queue a failed or canceled story again: the new job starts from the first step whose
    result is missing and pays only for what is left to make."""
    from jobs.services import job_submit

    _busy(story)
    if story.video_id and story.job and story.job.status == Job.Status.COMPLETED:
        raise Conflict("The story is already finished; regenerate a scene to change it.")
    opts = story.options
    scenes = list(story.scenes.all())
    n = len(scenes) or opts["n_scenes"]
    missing_speech = [s for s in scenes if s.speech_id is None] if scenes else None
    speed = opts.get("voice_speed", 1.0)
    seconds = (sum(espeak.estimate_seconds(s.text, speed=speed) for s in missing_speech)
               if missing_speech is not None else n * SECONDS_PER_SCENE)
    opts = _requote_clips(story=story, scenes=scenes)
    missing = [s.index for s in scenes if s.visual_id is None] if scenes else range(1, n + 1)
    cost = (per_clip_cost(operation="project_export", clips=n)
            + sum(scene_quote(opts=opts, index=i) for i in missing))
    if opts.get("speech_engine") and seconds > 0:
        cost += duration_cost(operation="tts", seconds=seconds)
    with transaction.atomic():
        story.options = opts
        job, _ = job_submit(owner=story.owner, kind=STORY_JOB, params={"story_id": story.pk,
                                                                      "resume": True},
                            cost=cost, engine=story.job.engine if story.job else "",
                            model=story.job.model if story.job else "",
                            idempotency_key=idempotency_key,
                            request_hash=f"story-resume:{story.pk}:{story.job_id}")
        story.job = job
        story.save(update_fields=["job", "options", "updated_at"])
    return story


def _requote_clips(*, story: Story, scenes: list[StoryScene]) -> dict:
    """The story's options with its missing clips quoted again as submission does: each
    scene from its measured speech or its text; before the scenes exist, from the script
    when it is known (fixed mode, an upload with its script), else at the longest clip."""
    opts = dict(story.options)
    visual = opts.get("visual")
    if opts["video_source"] != "ai_video" or not visual:
        return opts
    uploaded = bool(story.narration_id)
    if scenes:
        todo = [(s.index, s.text, s.speech_duration if (s.speech_id or uploaded) else None)
                for s in scenes if s.visual_id is None]
        last = max(s.index for s in scenes)
    else:
        text = (opts.get("script") or "").strip() if uploaded else (
            story.prompt if opts.get("mode") != "generate" else "")
        texts = split_scenes(text, opts["n_scenes"], max_scenes=o.MAX_SCENES) if text else []
        total = story.narration.duration if uploaded else None
        shares = narration_shares(texts, total) if total else [None] * len(texts)
        todo = [(i, t, share) for i, (t, share) in enumerate(zip(texts, shares, strict=True),
                                                             start=1)]
        last = len(texts)
    quotes = dict(visual.get("quotes") or {})
    if not scenes:
        quotes = {}  # the scenes are made again: nothing quoted before stands
    quotes.update(clip_quotes(opts=opts, visual=visual, scenes=todo, uploaded=uploaded,
                              last_index=last))
    opts["visual"] = {**visual, "quotes": quotes}
    return opts


def story_scene_regenerate(*, story: Story, index: int, data: dict,
                           idempotency_key: str | None = None) -> Job:
    """Queue new narration and/or a new picture for one scene, then the recomposition; the
    other scenes keep their stored narration and pictures."""
    from jobs.services import job_submit

    scene = story.scenes.filter(index=index).first()
    if scene is None:
        raise NotFound(f"The story has no scene {index}.")
    _busy(story)
    unfinished = [s.index for s in story.scenes.all()
                  if s.visual_id is None or (s.speech_id is None and not story.narration_id)]
    if unfinished:
        # The job redoes one scene and recomposes: it must not make the others' missing parts
        # at the price of one scene. Resume makes them, and charges for them.
        raise Conflict("The story stopped before all its scenes were made (missing: scenes "
                       f"{', '.join(map(str, unfinished))}); resume it first with "
                       f"POST /api/stories/{story.pk}/resume.",
                       missing_scenes=unfinished)
    if not (data.get("text") or "visual_prompt" in data or data.get("visual")
            or data.get("voice")):
        raise _invalid("text", "Give new text, a visual_prompt, visual=true or a voice.")
    opts = story.options
    if story.narration_id and (data.get("text") or data.get("voice")):
        raise _invalid("text", "This story's narration was uploaded; its words cannot be "
                               "spoken again. Change the visual instead.")
    if data.get("voice"):
        _voice(data["voice"])
    if opts["video_source"] in o.BACKGROUNDS and ("visual_prompt" in data or data.get("visual")):
        raise _invalid("visual", "Background stories share one background; there is no "
                                 "picture per scene to change.")
    n = story.scenes.count()
    cost = per_clip_cost(operation="project_export", clips=n)
    new_speech = bool(data.get("text") or data.get("voice"))
    if new_speech:
        text = data.get("text") or scene.text
        cost += duration_cost(operation="tts", seconds=espeak.estimate_seconds(
            text, speed=story.options.get("voice_speed", 1.0)))
    new_visual = "visual_prompt" in data or bool(data.get("visual"))
    if new_visual and opts["video_source"] == "ai_video" and opts.get("visual"):
        # The new clip is quoted at the scene's length: its narration's when it keeps it,
        # otherwise the estimate from its (new) text.
        speech = (None if new_speech else scene.speech_duration)
        opts = dict(opts)
        opts["visual"] = {**opts["visual"], "quotes": {
            **(opts["visual"].get("quotes") or {}),
            **clip_quotes(opts=opts, visual=opts["visual"], uploaded=bool(story.narration_id),
                          last_index=n, scenes=[(index, data.get("text") or scene.text,
                                                 speech)])}}
    if new_visual:
        cost += scene_quote(opts=opts, index=index)
    changes = {k: data[k] for k in ("text", "visual_prompt", "voice") if k in data}
    changes.update(new_speech=new_speech, new_visual=new_visual)
    with transaction.atomic():
        job, _ = job_submit(owner=story.owner, kind=SCENE_JOB,
                            params={"story_id": story.pk, "scene": index, "changes": changes,
                                    "revision": scene.revision + 1},
                            cost=cost, engine=story.job.engine if story.job else "",
                            model=story.job.model if story.job else "",
                            idempotency_key=idempotency_key,
                            request_hash=request_fingerprint({"story": story.pk,
                                                              "scene": index, **changes}),
                            webhook_url=data.get("webhook", ""))
        story.job = job
        story.options = opts
        story.save(update_fields=["job", "options", "updated_at"])
    return job


def story_scenes_create(*, story: Story, scenes: list[dict]) -> list[StoryScene]:
    """The scenes and their studio shots, in one transaction (the scenes step)."""
    with transaction.atomic():
        created = []
        for i, item in enumerate(scenes, start=1):
            shot = Shot.objects.create(project=story.project, position=i,
                                       prompt=item.get("visual", "")[:2000],
                                       notes=item["text"][:5000],
                                       duration=min(120.0, max(0.5, item.get("duration", 4.0))))
            created.append(StoryScene.objects.create(
                story=story, index=i, text=item["text"], visual_prompt=item.get("visual", ""),
                shot=shot, speech_start=item.get("speech_start", 0.0),
                speech_duration=item.get("speech_duration"), words=item.get("words", []),
                words_source=item.get("words_source", "")))
        return created



def story_delete(*, story: Story) -> None:
    """Delete a story with its studio project and every file its jobs made (the video, its
    subtitles, narration and pictures); files you gave it (uploads, your own pictures) stay.
    409 while a job is working on it (cancel it first)."""
    _busy(story)
    job_ids = Job.objects.filter(owner=story.owner, kind__in=(STORY_JOB, SCENE_JOB),
                                 params__story_id=story.pk).values_list("public_id", flat=True)
    made = Asset.objects.filter(owner=story.owner, source_job_id__in=list(job_ids)).exclude(
        origin=Asset.Origin.THUMBNAIL).select_related("thumbnail")
    with transaction.atomic():
        for asset in made:
            asset_delete(asset=asset)
        story.project.delete()  # the story and its scenes go with it
