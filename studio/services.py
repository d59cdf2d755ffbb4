"""Writes for studio projects: projects, shots, elements, comments, script breakdown."""

import re

from django.db import transaction
from django.db.models import Max

from assets.models import Asset
from assets.selectors import asset_get_for_user
from core.errors import ApplicationError, EngineUnavailable, NotFound
from engines.base import EngineError, EngineUnavailableError
from generation.catalogue import MODELS
from generation.services import generation_submit
from studio.models import Comment, Element, Project, Shot

PROJECT_FIELDS = {"name", "description", "model", "music_volume"}
SHOT_FIELDS = {"prompt", "notes", "duration", "shot_type", "camera_move", "transition",
               "audio_volume", "video_start"}


def _check_model(model: str) -> None:
    spec = MODELS.get(model)
    if spec is None or spec.output != "video":
        raise ApplicationError("model: Choose a video model.", code="invalid",
                               fields={"model": ["Choose a video model from GET /api/models."]})


def audio_asset_for(*, owner, name: str | None, field: str) -> Asset | bool | None:
    """The owner's audio file with this name for `field`: False when the field was not given
    (no change), None for "" (unlink). Someone else's file or an unknown name is a 404, like
    every lookup; one of your files that is not audio is a 400."""
    if name is None:
        return False
    if name == "":
        return None
    asset = Asset.objects.filter(owner=owner, name=str(name)[:64]).first()
    if asset is None:
        raise NotFound("File not found.")
    if asset.kind != Asset.Kind.AUDIO:
        raise ApplicationError(f"{field}: {asset.name} is {asset.kind}, not audio.",
                               code="invalid", fields={field: ["Choose an audio file."]})
    return asset


def project_create(*, owner, name: str, description: str = "", model: str = "wan-t2v",
                   music: str | None = None, music_volume: float | None = None) -> Project:
    _check_model(model)
    project = Project(owner=owner, name=name, description=description, model=model)
    track = audio_asset_for(owner=owner, name=music, field="music")
    if track is not False:
        project.music = track
    if music_volume is not None:
        project.music_volume = music_volume
    project.full_clean()
    project.save()
    return project


def project_update(*, project: Project, data: dict) -> Project:
    if "model" in data:
        _check_model(data["model"])
    changed = [name for name in PROJECT_FIELDS if data.get(name) is not None]
    for name in changed:
        setattr(project, name, data[name])
    track = audio_asset_for(owner=project.owner, name=data.get("music"), field="music")
    if track is not False:
        project.music = track
        changed.append("music")
    project.full_clean()
    project.save(update_fields=[*changed, "updated_at"])
    return project


def project_delete(*, project: Project) -> None:
    project.delete()


@transaction.atomic
def project_duplicate(*, project: Project) -> Project:
    """A deep copy: the project, its shots (with their linked videos) and its elements."""
    copy = Project.objects.create(owner=project.owner, name=f"{project.name} (copy)"[:200],
                                  description=project.description, model=project.model,
                                  music_id=project.music_id, music_volume=project.music_volume)
    Shot.objects.bulk_create([
        Shot(project=copy, position=s.position, prompt=s.prompt, notes=s.notes,
             duration=s.duration, shot_type=s.shot_type, camera_move=s.camera_move,
             transition=s.transition, generation_id=s.generation_id, asset_id=s.asset_id,
             audio_id=s.audio_id, audio_volume=s.audio_volume, video_start=s.video_start)
        for s in project.shots.order_by("position", "id")])
    Element.objects.bulk_create([
        Element(project=copy, kind=e.kind, name=e.name, description=e.description,
                reference_image_id=e.reference_image_id) for e in project.elements.all()])
    return copy


def _link_video(shot: Shot, filename: str | None) -> None:
    if filename is None:
        return
    if filename == "":
        shot.asset = None
        return
    shot.asset = asset_get_for_user(user=shot.project.owner, name=filename, kinds=("video",))


def _check_start(shot: Shot) -> None:
    """A shot begins inside its video: 400 when `video_start` is at or past the video's end."""
    asset = shot.asset
    if (asset is not None and asset.kind == Asset.Kind.VIDEO and asset.duration
            and shot.video_start >= asset.duration):
        message = f"Start before the video's end ({asset.duration:.2f} s)."
        raise ApplicationError(f"video_start: {message}", code="invalid",
                               fields={"video_start": [message]})


def _link_audio(shot: Shot, name: str | None) -> None:
    track = audio_asset_for(owner=shot.project.owner, name=name, field="audio")
    if track is not False:
        shot.audio = track


def shot_create(*, project: Project, data: dict) -> Shot:
    with transaction.atomic():
        # Lock the project row so two concurrent appends get distinct positions.
        Project.objects.select_for_update().filter(pk=project.pk).first()
        last = project.shots.aggregate(m=Max("position"))["m"]
        shot = Shot(project=project, position=0 if last is None else last + 1,
                    **{k: v for k, v in data.items() if k in SHOT_FIELDS and v is not None})
        _link_video(shot, data.get("filename"))
        _link_audio(shot, data.get("audio"))
        _check_start(shot)
        shot.full_clean()
        shot.save()
    return shot


def shot_update(*, shot: Shot, data: dict) -> Shot:
    for name in SHOT_FIELDS & set(data):
        if data[name] is not None:
            setattr(shot, name, data[name])
    _link_video(shot, data.get("filename"))
    _link_audio(shot, data.get("audio"))
    _check_start(shot)
    shot.full_clean()
    shot.save()
    return shot


def shot_delete(*, shot: Shot) -> None:
    shot.delete()


@transaction.atomic
def shots_reorder(*, project: Project, order: list[int]) -> list[Shot]:
    """Reorder by a list that must name each of the project's shots exactly once."""
    shots = {s.pk: s for s in Shot.objects.select_for_update().filter(project=project)}
    if len(order) != len(set(order)) or set(order) != set(shots):
        missing = sorted(set(shots) - set(order))
        unknown = sorted(set(order) - set(shots))
        detail = []
        if missing:
            detail.append(f"missing shots {missing}")
        if unknown:
            detail.append(f"shots not in this project {unknown}")
        if len(order) != len(set(order)):
            detail.append("repeated ids")
        raise ApplicationError(
            "order must list every shot of the project exactly once: " + "; ".join(detail) + ".",
            code="invalid", fields={"order": ["Must be exactly this project's shot ids."]})
    for position, shot_id in enumerate(order):
        shots[shot_id].position = position
    Shot.objects.bulk_update(shots.values(), ["position"])
    return [shots[i] for i in order]


def shot_prompt(*, shot: Shot) -> str:
    """The shot's prompt enriched with the project's elements and the shot's framing."""
    parts = [shot.prompt.strip()]
    framing = []
    if shot.shot_type:
        framing.append(shot.get_shot_type_display().lower() + " shot")
    if shot.camera_move and shot.camera_move != Shot.CameraMove.STATIC:
        framing.append("camera " + shot.get_camera_move_display().lower())
    if framing:
        parts.append(", ".join(framing) + ".")
    elements = list(shot.project.elements.all())
    mentioned = [e for e in elements if e.name.lower() in shot.prompt.lower()] or elements
    for element in mentioned[:6]:
        if element.description:
            parts.append(f"{element.name}: {element.description.strip()}")
    return " ".join(p for p in parts if p)[:2000]


def shot_generate(*, shot: Shot, idempotency_key: str | None = None, overrides: dict | None = None):
    """Queue a generation for the shot with the project's model; it is linked to the shot
    now and its video once the job completes."""
    if not shot.prompt.strip():
        raise ApplicationError("prompt: The shot needs a prompt before it can be generated.",
                               code="invalid", fields={"prompt": ["Write a prompt first."]})
    project = shot.project
    spec = MODELS[project.model]
    data = {"model": project.model, "prompt": shot_prompt(shot=shot), "seed": -1,
            "project_id": project.pk, **(overrides or {})}
    if spec.output == "video" and not data.get("frames"):
        # Frames for the shot's duration at the model's rate, on the model's frame rule,
        # within what the model and the plan allow (a longer shot is extended later).
        from billing.services import credit_account_get

        rule = spec.frame_rule
        cap = min(spec.max_model_frames, credit_account_get(user=project.owner).tier.max_frames)
        frames = max(1, round((shot.duration * spec.fps - 1) / rule)) * rule + 1
        while frames > cap and frames - rule >= 1:
            frames -= rule
        data["frames"] = frames
    generation = generation_submit(user=project.owner, data=data,
                                   idempotency_key=idempotency_key)
    shot.generation = generation
    shot.save(update_fields=["generation", "updated_at"])
    return generation


def element_create(*, project: Project, data: dict) -> Element:
    element = Element(project=project, kind=data.get("kind", Element.Kind.CHARACTER),
                      name=data["name"], description=data.get("description", ""))
    if data.get("reference_image"):
        element.reference_image = asset_get_for_user(user=project.owner,
                                                     name=data["reference_image"],
                                                     kinds=("image",))
    element.full_clean()
    element.save()
    return element


def element_update(*, element: Element, data: dict) -> Element:
    for name in {"kind", "name", "description"} & set(data):
        setattr(element, name, data[name])
    if "reference_image" in data:
        element.reference_image = (asset_get_for_user(
            user=element.project.owner, name=data["reference_image"], kinds=("image",))
            if data["reference_image"] else None)
    element.full_clean()
    element.save()
    return element


def comment_create(*, project: Project, author, text: str, shot_id: int | None = None) -> Comment:
    shot = None
    if shot_id is not None:
        shot = Shot.objects.filter(project=project, pk=shot_id).first()
        if shot is None:
            raise ApplicationError("shot_id: No such shot in this project.", code="invalid",
                                   fields={"shot_id": ["No such shot in this project."]})
    comment = Comment(project=project, author=author, text=text, shot=shot)
    comment.full_clean()
    comment.save()
    return comment


# --- script to shots -------------------------------------------------------------------------

SHOTS_SYSTEM = (
    "You are a film director breaking a script into shots for an AI video model. Answer with "
    'JSON: {"shots": [{"prompt": "...", "shot_type": "...", "camera_move": "...", '
    '"duration": 4}]}. Each prompt is a self-contained visual description (subject, action, '
    "setting, lighting). shot_type is one of: " + ", ".join(Shot.ShotType.values) +
    ". camera_move is one of: " + ", ".join(Shot.CameraMove.values) +
    ". duration is 2 to 10 seconds."
)


def _split_script(script: str, max_shots: int) -> list[dict]:
    """Deterministic breakdown: paragraphs, then sentences, merged to at most `max_shots`."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", script) if p.strip()]
    units: list[str] = []
    for paragraph in paragraphs:
        sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", paragraph) if s.strip()]
        units.extend(sentences if len(paragraphs) < max_shots else [paragraph])
    while len(units) > max_shots:
        # Merge the shortest neighbouring pair until the count fits.
        index = min(range(len(units) - 1), key=lambda i: len(units[i]) + len(units[i + 1]))
        units[index:index + 2] = [units[index] + " " + units[index + 1]]
    return [{"prompt": u[:2000], "shot_type": Shot.ShotType.MEDIUM,
             "camera_move": Shot.CameraMove.STATIC,
             "duration": round(min(10.0, max(2.0, len(u.split()) / 2.5)), 1)} for u in units]


def script_to_shots(*, script: str, max_shots: int = 12) -> dict:
    """Shot prompts from a script: with the LLM when one is configured, otherwise a
    deterministic split by paragraphs and sentences. The answer says which it was."""
    from engines.registry import get_llm

    try:
        client = get_llm("chat")
    except EngineUnavailableError:
        return {"method": "split", "engine": None, "shots": _split_script(script, max_shots)}
    try:
        answer = client.chat_json([{"role": "system", "content": SHOTS_SYSTEM},
                                   {"role": "user", "content":
                                    f"At most {max_shots} shots.\n\nScript:\n{script}"}])
    except EngineUnavailableError as exc:
        raise EngineUnavailable(exc.message, engine="openai_compatible") from None
    except EngineError as exc:
        raise ApplicationError(exc.message, code=exc.code, status=502) from None
    shots = []
    for item in (answer.get("shots") if isinstance(answer, dict) else None) or []:
        if not isinstance(item, dict) or not str(item.get("prompt", "")).strip():
            continue
        shot_type = item.get("shot_type")
        camera = item.get("camera_move")
        try:
            duration = min(10.0, max(2.0, float(item.get("duration", 4))))
        except (TypeError, ValueError):
            duration = 4.0
        shots.append({
            "prompt": str(item["prompt"]).strip()[:2000],
            "shot_type": shot_type if shot_type in Shot.ShotType.values else "medium",
            "camera_move": camera if camera in Shot.CameraMove.values else "static",
            "duration": duration})
    if not shots:
        raise ApplicationError("The language model returned no shots.",
                               code="engine_bad_output", status=502)
    return {"method": "llm", "engine": "openai_compatible", "shots": shots[:max_shots]}
