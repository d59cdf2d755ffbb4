"""Media tool requests: check the inputs against the files they name, price them, queue them.

Every submit function takes the validated request (`data`), the user and the Idempotency-Key,
and returns the job. Inputs are the user's own files by opaque name (someone else's is a 404);
times, regions and sizes are checked against the file's recorded dimensions here, so a bad
request is a 400 with `fields` and never reaches a worker.
"""

from django.db import transaction

from assets.models import Asset
from assets.selectors import asset_get_for_user
from assets.services import asset_delete, asset_upload
from billing.models import Tier
from billing.permissions import tier_require
from billing.pricing import OPERATION_COSTS, duration_cost, per_clip_cost
from billing.services import credit_account_get
from core.errors import ApplicationError, EngineUnavailable, TierRequired
from engines import espeak
from engines.base import EngineUnavailableError
from engines.registry import engine_available, get_llm
from jobs.http import request_fingerprint
from jobs.models import Job
from jobs.services import job_cancel, job_for_idempotency_key, job_submit
from media_tools import operations
from media_tools.models import AudioGeneration
from media_tools.selectors import ENGINE_VOICES, speech_engine_available

EDIT = OPERATION_COSTS["edit"]["credits"]
PRESETS = {"1080p": (1920, 1080), "720p": (1280, 720)}
TIME_SLACK = 0.05  # recorded durations are rounded; allow an end time this far past them
MAX_OUTPUT_PIXELS = 3840 * 2160
MAX_SRT_BYTES = 2 * 1024 * 1024


def _invalid(field: str, message: str) -> ApplicationError:
    return ApplicationError(f"{field}: {message}", code="invalid", fields={field: [message]})


def _cost(operation: str) -> int:
    return OPERATION_COSTS[operation]["credits"]


def _fingerprint(kind: str, data: dict) -> str:
    # Uploaded files count by name and size: a retried upload is the same request.
    plain = {k: (v.name, v.size) if hasattr(v, "chunks") else v for k, v in data.items()}
    return request_fingerprint({"kind": kind, **plain})


def _replayed(*, user, kind: str, data: dict, idempotency_key: str | None) -> Job | None:
    """The job an earlier identical request created, before any file is stored again."""
    if not idempotency_key:
        return None
    return job_for_idempotency_key(owner=user, key=idempotency_key,
                                   request_hash=_fingerprint(kind, data))


def _submit(*, user, kind: str, data: dict, params: dict, cost: int,
            idempotency_key: str | None, engine: str = "ffmpeg", model: str = "") -> Job:
    job, _created = job_submit(owner=user, kind=kind, params=params, cost=cost, model=model,
                               engine=engine, idempotency_key=idempotency_key,
                               request_hash=_fingerprint(kind, data),
                               webhook_url=data.get("webhook", ""))
    return job


def _video(user, name: str) -> Asset:
    asset = asset_get_for_user(user=user, name=name, kinds=(Asset.Kind.VIDEO,))
    if (asset.duration or 0) > operations.MAX_INPUT_SECONDS:
        raise ApplicationError(
            f"Videos longer than {operations.MAX_INPUT_SECONDS // 60} minutes cannot be "
            "edited.", code="media_too_long", fields={"video_filename": ["Too long."]})
    return asset


def _check_span(asset: Asset, start: float, end: float | None, *, start_field: str,
                end_field: str) -> float:
    """Start and end inside the video and in order; returns the end (default: the end)."""
    duration = asset.duration or 0
    if start >= duration:
        raise _invalid(start_field, f"Must be before the end of the video ({duration:.2f} s).")
    if end is None:
        return duration
    if end <= start:
        raise _invalid(end_field, f"Must be after {start_field}.")
    if end > duration + TIME_SLACK:
        raise _invalid(end_field, f"The video is {duration:.2f} s long.")
    return min(end, duration)


def _llm_or_503(capability: str):
    try:
        return get_llm(capability)
    except EngineUnavailableError as exc:
        raise EngineUnavailable(exc.message, capability=capability) from None


def _comfyui_or_503(what: str) -> str:
    if not engine_available("comfyui"):
        raise EngineUnavailable(
            f"{what} runs on the ComfyUI engine, which is not configured here. "
            "Set COMFYUI_URLS (see docs/engines.md).", engine="comfyui")
    return "comfyui"


def _submit_with_uploads(*, uploads: list[Asset], **kwargs) -> Job:
    """Submit; if that is refused (credits, a race on the key), the files this request
    uploaded are deleted again rather than left behind unused."""
    try:
        return _submit(**kwargs)
    except Exception:
        for asset in uploads:
            asset_delete(asset=asset)
        raise


def _uploaded(data: dict, *pairs: tuple[str, Asset]) -> list[Asset]:
    """The assets among `pairs` (field, asset) that this request uploaded just now."""
    return [asset for field, asset in pairs if data.get(field)]


def _image_input(*, user, data: dict, field: str) -> Asset:
    """An image given as an upload (`field`) or as a filename you own (`field`_filename)."""
    upload, name = data.get(field), data.get(f"{field}_filename")
    if upload and name:
        raise _invalid(field, f"Give {field} or {field}_filename, not both.")
    if upload:
        return asset_upload(owner=user, upload=upload, kinds=("image",),
                            origin=Asset.Origin.INPUT, field=field)
    if name:
        return asset_get_for_user(user=user, name=name, kinds=(Asset.Kind.IMAGE,))
    raise _invalid(field, f"Upload {field} or give {field}_filename.")


# --- edits (3 credits) ------------------------------------------------------------------------

def edit_trim_submit(*, user, data: dict, idempotency_key: str | None = None,
                     kind: str = "edit_trim", start_field: str = "start_seconds",
                     end_field: str = "end_seconds") -> Job:
    asset = _video(user, data["video_filename"])
    start = data[start_field]
    end = _check_span(asset, start, data[end_field], start_field=start_field,
                      end_field=end_field)
    cost = EDIT if kind == "edit_trim" else _cost("trim_video")
    return _submit(user=user, kind=kind, data=data, cost=cost, idempotency_key=idempotency_key,
                   params={"video": asset.name, "start": start, "end": end})


def tool_trim_submit(*, user, data: dict, idempotency_key: str | None = None) -> Job:
    return edit_trim_submit(user=user, data=data, idempotency_key=idempotency_key,
                            kind="tool_trim_video", start_field="start_time",
                            end_field="end_time")


def edit_speed_submit(*, user, data: dict, idempotency_key: str | None = None) -> Job:
    asset = _video(user, data["video_filename"])
    return _submit(user=user, kind="edit_speed", data=data, cost=EDIT,
                   idempotency_key=idempotency_key,
                   params={"video": asset.name, "factor": data["speed_factor"]})


def edit_crop_submit(*, user, data: dict, idempotency_key: str | None = None) -> Job:
    asset = _video(user, data["video_filename"])
    x, y, width, height = data["x"], data["y"], data["width"], data["height"]
    fields = {}
    if x + width > (asset.width or 0):
        fields["width"] = [f"x + width must be at most the frame width ({asset.width})."]
    if y + height > (asset.height or 0):
        fields["height"] = [f"y + height must be at most the frame height ({asset.height})."]
    if fields:
        raise ApplicationError("The region is outside the frame.", code="invalid",
                               fields=fields, frame={"width": asset.width,
                                                     "height": asset.height})
    return _submit(user=user, kind="edit_crop", data=data, cost=EDIT,
                   idempotency_key=idempotency_key,
                   params={"video": asset.name, "x": x, "y": y, "width": width,
                           "height": height})


def edit_resize_submit(*, user, data: dict, idempotency_key: str | None = None) -> Job:
    """A preset is turned to the source's orientation (720p of a portrait video is 720x1280);
    the plan's resolution limit applies to the shorter side, as for generation."""
    asset = _video(user, data["video_filename"])
    if data.get("preset"):
        width, height = PRESETS[data["preset"]]
        if (asset.height or 0) > (asset.width or 0):
            width, height = height, width
    elif data.get("width") and data.get("height"):
        width, height = data["width"], data["height"]
    else:
        raise _invalid("preset", "Give a preset (1080p, 720p) or both width and height.")
    if width * height > MAX_OUTPUT_PIXELS:
        raise _invalid("width", "The output may be at most 3840x2160 pixels.")
    tier = credit_account_get(user=user).tier
    if min(width, height) > tier.max_resolution:
        needed = Tier.objects.filter(max_resolution__gte=min(width, height)).order_by(
            "rank").first()
        raise TierRequired(f"Your {tier.name} plan allows up to {tier.max_resolution_label}.",
                           required_tier=needed.slug if needed else None,
                           current_tier=tier.slug)
    return _submit(user=user, kind="edit_resize", data=data, cost=EDIT,
                   idempotency_key=idempotency_key,
                   params={"video": asset.name, "width": width, "height": height})


def edit_text_overlay_submit(*, user, data: dict, idempotency_key: str | None = None) -> Job:
    asset = _video(user, data["video_filename"])
    start = data["start_time"]
    end = _check_span(asset, start, data.get("end_time"), start_field="start_time",
                      end_field="end_time")
    return _submit(user=user, kind="edit_text_overlay", data=data, cost=EDIT,
                   idempotency_key=idempotency_key,
                   params={"video": asset.name, "text": data["text"],
                           "position": data["position"], "font_size": data["font_size"],
                           "color": data["color"], "start": start, "end": end})


def edit_merge_submit(*, user, data: dict, idempotency_key: str | None = None) -> Job:
    names = [_video(user, name).name for name in data["video_filenames"]]
    return _submit(user=user, kind="edit_merge", data=data, idempotency_key=idempotency_key,
                   cost=per_clip_cost(operation="merge_videos", clips=len(names)),
                   params={"videos": names})


# --- tools ------------------------------------------------------------------------------------

def tool_extract_frames_submit(*, user, data: dict, idempotency_key: str | None = None) -> Job:
    asset = _video(user, data["video_filename"])
    return _submit(user=user, kind="tool_extract_frames", data=data,
                   cost=_cost("extract_frames"), idempotency_key=idempotency_key,
                   params={"video": asset.name, "mode": data["mode"]})


def tool_video_to_gif_submit(*, user, data: dict, idempotency_key: str | None = None) -> Job:
    asset = _video(user, data["video_filename"])
    return _submit(user=user, kind="tool_video_to_gif", data=data,
                   cost=_cost("video_to_gif"), idempotency_key=idempotency_key,
                   params={"video": asset.name, "width": data["width"], "fps": data["fps"]})


def tool_add_watermark_submit(*, user, data: dict, idempotency_key: str | None = None) -> Job:
    kind = "tool_add_watermark"
    replay = _replayed(user=user, kind=kind, data=data, idempotency_key=idempotency_key)
    if replay is not None:
        return replay
    asset = _video(user, data["video_filename"])
    params = {"video": asset.name, "type": data["type"], "position": data["position"],
              "opacity": data["opacity"]}
    if data["type"] == "text":
        if not data.get("text", "").strip():
            raise _invalid("text", "A text watermark needs its text.")
        params["text"] = data["text"]
        uploads = []
    else:
        image = _image_input(user=user, data=data, field="image")
        uploads = _uploaded(data, ("image", image))
        params["image"] = image.name
    return _submit_with_uploads(uploads=uploads, user=user, kind=kind, data=data,
                                cost=_cost("add_watermark"), idempotency_key=idempotency_key,
                                params=params)


def tool_upscale_submit(*, user, data: dict, idempotency_key: str | None = None) -> Job:
    """Creator+. ~2 credits per 10 s of video. The AI workflow on ComfyUI when configured,
    else a lanczos scale (the job's result names the method)."""
    tier_require(user=user, feature="upscale")
    asset = _video(user, data["video_filename"])
    factor = data["scale_factor"]
    if (asset.width or 0) * (asset.height or 0) * factor * factor > MAX_OUTPUT_PIXELS:
        raise _invalid("scale_factor", f"{asset.width}x{asset.height} upscaled {factor}x "
                                       "would be larger than 3840x2160.")
    engine = "comfyui" if engine_available("comfyui") else "ffmpeg"
    return _submit(user=user, kind="tool_upscale_video", data=data, engine=engine,
                   cost=duration_cost(operation="upscale_video", seconds=asset.duration or 0),
                   idempotency_key=idempotency_key,
                   params={"video": asset.name, "factor": factor})


def tool_remove_background_submit(*, user, data: dict,
                                  idempotency_key: str | None = None) -> Job:
    kind = "tool_remove_background"
    engine = _comfyui_or_503("Background removal")
    replay = _replayed(user=user, kind=kind, data=data, idempotency_key=idempotency_key)
    if replay is not None:
        return replay
    image = _image_input(user=user, data=data, field="image")
    return _submit_with_uploads(uploads=_uploaded(data, ("image", image)), user=user,
                                kind=kind, data=data,
                                cost=_cost("remove_background"), engine=engine,
                                idempotency_key=idempotency_key, params={"image": image.name})


def tool_face_swap_submit(*, user, data: dict, idempotency_key: str | None = None) -> Job:
    kind = "tool_face_swap"
    tier_require(user=user, feature="face_swap")
    engine = _comfyui_or_503("Face swap")
    replay = _replayed(user=user, kind=kind, data=data, idempotency_key=idempotency_key)
    if replay is not None:
        return replay
    source = _image_input(user=user, data=data, field="source_image")
    try:
        target = _image_input(user=user, data=data, field="target_image")
    except Exception:
        for asset in _uploaded(data, ("source_image", source)):
            asset_delete(asset=asset)
        raise
    uploads = _uploaded(data, ("source_image", source), ("target_image", target))
    return _submit_with_uploads(uploads=uploads, user=user, kind=kind, data=data,
                                cost=_cost("face_swap"), engine=engine,
                                idempotency_key=idempotency_key,
                                params={"face": source.name, "image": target.name})


# --- audio and speech -------------------------------------------------------------------------

def tts_generate_submit(*, user, data: dict, idempotency_key: str | None = None) -> Job:
    tier_require(user=user, feature="tts")
    voice, text, speed = data["voice_id"], data["text"], data["speed"]
    if voice in espeak.VOICES:
        engine = "espeak"
    elif voice in ENGINE_VOICES and speech_engine_available():
        engine = "openai_compatible"
    else:
        raise _invalid("voice_id", "Unknown voice; GET /api/tts/voices lists them.")
    seconds = espeak.estimate_seconds(text, speed=speed)
    return _submit(user=user, kind="tts_generate", data=data, engine=engine,
                   cost=duration_cost(operation="tts", seconds=seconds),
                   idempotency_key=idempotency_key,
                   params={"text": text, "voice": voice, "speed": speed,
                           "estimated_seconds": round(seconds, 2)})


def tts_add_to_video_submit(*, user, data: dict, idempotency_key: str | None = None) -> Job:
    video = _video(user, data["video_filename"])
    voice = asset_get_for_user(user=user, name=data["tts_filename"], kinds=(Asset.Kind.AUDIO,))
    _check_span(video, data["offset_seconds"], None, start_field="offset_seconds",
                end_field="offset_seconds")
    return _submit(user=user, kind="tts_add_to_video", data=data, cost=EDIT,
                   idempotency_key=idempotency_key,
                   params={"video": video.name, "voice": voice.name,
                           "offset": data["offset_seconds"], "volume": data["volume"]})


def video_add_audio_submit(*, user, data: dict, idempotency_key: str | None = None) -> Job:
    video = _video(user, data["video_filename"])
    track = asset_get_for_user(user=user, name=data["audio_filename"],
                               kinds=(Asset.Kind.AUDIO,))
    return _submit(user=user, kind="video_add_audio", data=data, cost=EDIT,
                   idempotency_key=idempotency_key,
                   params={"video": video.name, "audio": track.name, "mode": data["mode"],
                           "volume": data["volume"]})


def audio_generate_submit(*, user, data: dict,
                          idempotency_key: str | None = None) -> AudioGeneration:
    """Music or sound effects: ACE-Step on ComfyUI when configured, else the preview engine's
    procedural track (labelled `preview`). 8 credits per 30 s, pro-rated."""
    seconds = data["duration_seconds"]
    engine = "comfyui" if engine_available("comfyui") else "preview"
    tags = ", ".join(data.get("tags") or [])
    with transaction.atomic():
        job = _submit(user=user, kind="generate_audio", data=data, engine=engine,
                      model="ace-step", idempotency_key=idempotency_key,
                      cost=duration_cost(operation="audio_generation", seconds=seconds),
                      params={"prompt": data["prompt"], "duration_seconds": seconds,
                              "tags": tags, "seed": data.get("seed")})
        generation, _ = AudioGeneration.objects.get_or_create(
            job=job, defaults={"owner": user, "prompt": data["prompt"], "tags": tags,
                               "duration_seconds": seconds, "engine": engine})
    return generation


def audio_generation_delete(*, generation: AudioGeneration) -> None:
    """Delete the track and its file; a job still running is canceled (and refunded)."""
    job = generation.job
    if not job.is_terminal:
        job_cancel(job=job)
    asset = generation.asset
    generation.delete()
    if asset is not None:
        asset_delete(asset=asset)


# --- subtitles --------------------------------------------------------------------------------

def subtitles_generate_submit(*, user, data: dict, idempotency_key: str | None = None) -> Job:
    video = _video(user, data["video_filename"])
    if not video.has_audio:
        raise _invalid("video_filename", "The video has no sound to transcribe.")
    _llm_or_503("transcription")
    return _submit(user=user, kind="subtitles_generate", data=data, engine="openai_compatible",
                   cost=_cost("subtitle_generation"), idempotency_key=idempotency_key,
                   params={"video": video.name, "language": data["language"]})


def _subtitle(user, name: str) -> Asset:
    return asset_get_for_user(user=user, name=name, kinds=(Asset.Kind.SUBTITLE,))


def subtitles_burn_submit(*, user, data: dict, idempotency_key: str | None = None) -> Job:
    video = _video(user, data["video_filename"])
    srt = _subtitle(user, data["srt_filename"])
    return _submit(user=user, kind="subtitles_burn", data=data, cost=EDIT,
                   idempotency_key=idempotency_key,
                   params={"video": video.name, "srt": srt.name, "style": data["style"]})


def subtitles_translate_submit(*, user, data: dict, idempotency_key: str | None = None) -> Job:
    tier_require(user=user, feature="subtitle_translation")
    srt = _subtitle(user, data["srt_filename"])
    if srt.size > MAX_SRT_BYTES:
        raise _invalid("srt_filename", "The subtitle file is too large to translate.")
    _llm_or_503("chat")
    return _submit(user=user, kind="subtitles_translate", data=data,
                   engine="openai_compatible", cost=_cost("subtitle_translation"),
                   idempotency_key=idempotency_key,
                   params={"srt": srt.name, "target_language": data["target_language"]})
