"""The model catalogue of the API contract: what each model does, takes, defaults to and
costs, and which engine serves it. Operators map models to engines with
`GENERATION_MODEL_ENGINES` (e.g. `{"wan-t2v": "comfyui"}`); unmapped models use the default
engine, `preview` unless `GENERATION_DEFAULT_ENGINE` says otherwise."""

from dataclasses import dataclass, field

from django.conf import settings

from billing.pricing import IMAGE_MODEL_COSTS, VIDEO_MODEL_COSTS


@dataclass(frozen=True)
class ModelSpec:
    id: str
    name: str
    description: str
    task: str  # t2v, i2v, flf, s2v, v2v, specialised, t2i, i2i
    output: str  # video | image
    inputs: tuple[str, ...] = ()  # required input files: image, last_image, audio, video
    optional_inputs: tuple[str, ...] = ()
    width: int = 832
    height: int = 480
    frames: int = 41
    steps: int = 4
    cfg: float = 1.0
    fps: int = 24
    sampler: str = "euler"
    scheduler: str = "normal"
    shift: float = 5.0
    frame_rule: int = 1  # frames must be k*frame_rule + 1
    max_model_frames: int = 999
    size_multiple: int = 16
    extra: dict = field(default_factory=dict)


def _v(id, name, desc, task, inputs=(), **kw) -> ModelSpec:
    return ModelSpec(id=id, name=name, description=desc, task=task, output="video",
                     inputs=inputs, **kw)


WAN = {"frame_rule": 4, "width": 832, "height": 480, "frames": 41, "steps": 4,
       "sampler": "sa_solver", "scheduler": "beta"}
LTX = {"frame_rule": 8, "width": 768, "height": 512, "frames": 41, "steps": 8, "cfg": 3.0}
HUN = {"frame_rule": 4, "width": 848, "height": 480, "frames": 41, "steps": 20, "cfg": 6.0}

VIDEO_MODELS = [
    _v("wan-t2v", "WAN 2.2", "Rich cinematic visuals, longer videos", "t2v", **WAN),
    _v("ltx-t2v", "LTX 2.3", "Fast generation, HD output", "t2v", **LTX),
    _v("ltx-quality", "LTX Quality", "Highest quality, 2-pass upscale to 4K", "t2v", **LTX),
    _v("hunyuan-t2v", "Hunyuan", "Smooth motion, natural movement", "t2v", **HUN),
    _v("hunyuan15-t2v", "Hunyuan 1.5", "Improved motion, latest Hunyuan release", "t2v", **HUN),
    _v("cogvideo-t2v", "CogVideoX 1.5", "High fidelity 5B model, diverse styles", "t2v",
       width=720, height=480, frames=49, frame_rule=8, steps=25, cfg=6.0),
    _v("animatediff", "AnimateDiff", "SD 1.5-based animation, fast & lightweight", "t2v",
       width=512, height=512, frames=16, max_model_frames=32, steps=20, cfg=7.5, fps=8),
    _v("ltx-camera", "LTX Camera Control",
       "Camera dolly movements (in, out, left, right) via LoRA", "t2v", **LTX,
       extra={"camera_moves": ["dolly_in", "dolly_out", "dolly_left", "dolly_right"]}),
    _v("ltx-control", "LTX ControlNet", "ControlNet-guided generation (depth, edge, pose)",
       "v2v", inputs=("video",), **LTX),
    _v("wan-vace", "WAN VACE", "Video conditioning & editing with subject/scene control", "v2v",
       inputs=("video",), optional_inputs=("image",), **WAN),
    _v("wan-animate", "WAN Animate", "Character animation from a single reference image",
       "specialised", inputs=("image", "video"), **WAN),
    _v("hunyuan15-i2v", "Hunyuan 1.5 I2V", "Animate a still image into video", "i2v",
       inputs=("image",), **HUN),
    _v("ltx-i2v", "LTX 2.3 I2V", "Fast image-to-video generation", "i2v", inputs=("image",),
       **LTX),
    _v("svd-i2v", "SVD XT I2V", "Stable Video Diffusion image-to-video", "i2v",
       inputs=("image",), width=1024, height=576, frames=25, max_model_frames=25, steps=20,
       cfg=2.5, fps=8),
    _v("wan-i2v", "WAN 2.2 I2V", "High-quality 14B image-to-video with Lightx2v turbo", "i2v",
       inputs=("image",), **WAN),
    _v("ltx-flf", "LTX 2.3 First-Last Frame",
       "Interpolate between two keyframe images with prompt guidance", "flf",
       inputs=("image", "last_image"), **LTX),
    _v("wan-flf", "WAN 2.2 First-Last Frame",
       "WAN 14B first & last frame interpolation with Lightx2v turbo", "flf",
       inputs=("image", "last_image"), **WAN),
    _v("wan-s2v", "WAN 2.2 Sound-to-Video",
       "Generate talking-head video from a portrait image + audio clip", "s2v",
       inputs=("image", "audio"), **WAN),
    _v("liveportrait", "LivePortrait",
       "Animate a portrait photo with facial expressions from a driving video", "specialised",
       inputs=("image", "video"), width=512, height=512, frames=41, steps=1),
    _v("dreamidv", "DreamID-V", "Face identity transfer — insert a face into generated video",
       "specialised", inputs=("image",), **WAN),
    _v("echomimic", "EchoMimic", "Audio-driven talking portrait from a single photo + audio",
       "s2v", inputs=("image", "audio"), width=512, height=512, frames=49, steps=20, cfg=2.5),
    _v("hunyuan3d", "Hunyuan3D v2",
       "Generate 3D model assets from a text prompt or reference image (turntable preview)",
       "specialised", optional_inputs=("image",), width=512, height=512, frames=49, steps=30),
    _v("v2v", "Video to video", "Style transfer of an existing video", "v2v",
       inputs=("video",), **LTX),
]

IMAGE_MODELS = [
    ModelSpec("sd15", "Stable Diffusion 1.5", "Classic, fast", "t2i", "image", width=512,
              height=512, frames=1, steps=20, cfg=7.0, size_multiple=8),
    ModelSpec("flux", "Flux 2 Klein", "Fast, sharp, good text", "t2i", "image", width=1024,
              height=1024, frames=1, steps=4, cfg=1.0, size_multiple=16),
    ModelSpec("flux-dev", "Flux 2 Dev", "Highest quality", "t2i", "image", width=1024,
              height=1024, frames=1, steps=20, cfg=3.5, size_multiple=16),
    ModelSpec("flux-edit", "Flux 2 Image Edit", "Edit an image with a prompt", "i2i", "image",
              inputs=("image",), width=1024, height=1024, frames=1, steps=20, cfg=3.5,
              size_multiple=16),
]

MODELS: dict[str, ModelSpec] = {m.id: m for m in VIDEO_MODELS + IMAGE_MODELS}
DEFAULT_VIDEO_MODEL = "wan-t2v"
DEFAULT_IMAGE_MODEL = "flux"


def model_overrides() -> dict:
    """Operators' per-model overrides from admin, cached for 30 s per process."""
    from django.core.cache import cache

    from generation.models import ModelOverride

    cached = cache.get("generation:model-overrides")
    if cached is None:
        cached = {o.model_id: {"enabled": o.enabled, "engine": o.engine,
                               "workflow": o.workflow, "servers": o.servers}
                  for o in ModelOverride.objects.all()}
        cache.set("generation:model-overrides", cached, 30)
    return cached


def engine_for(model_id: str) -> str:
    override = model_overrides().get(model_id, {})
    configured = getattr(settings, "GENERATION_MODEL_ENGINES", {}) or {}
    return (override.get("engine") or configured.get(model_id)
            or settings.GENERATION_DEFAULT_ENGINE)


def model_enabled(model_id: str) -> bool:
    return model_overrides().get(model_id, {}).get("enabled", True)


def model_cost(spec: ModelSpec, *, frames: int, steps: int) -> int:
    if spec.output == "image":
        return IMAGE_MODEL_COSTS[spec.id]
    return VIDEO_MODEL_COSTS[spec.id].cost(frames=frames, steps=steps)


def model_payload(spec: ModelSpec) -> dict:
    payload = {
        "id": spec.id, "name": spec.name, "description": spec.description, "task": spec.task,
        "output": spec.output, "engine": engine_for(spec.id), "enabled": model_enabled(spec.id),
        "inputs": list(spec.inputs),
        "optional_inputs": list(spec.optional_inputs),
        "defaults": {"width": spec.width, "height": spec.height, "steps": spec.steps,
                     "cfg": spec.cfg, "sampler": spec.sampler, "scheduler": spec.scheduler},
        "size_multiple": spec.size_multiple,
    }
    if spec.output == "video":
        payload["defaults"].update(frames=spec.frames, frame_rate=spec.fps, shift=spec.shift)
        payload["frame_rule"] = f"{spec.frame_rule}n+1" if spec.frame_rule > 1 else "any"
        payload["max_model_frames"] = spec.max_model_frames
        payload["cost"] = VIDEO_MODEL_COSTS[spec.id].as_dict()
        payload["default_cost"] = model_cost(spec, frames=spec.frames, steps=spec.steps)
    else:
        payload["credit_cost"] = IMAGE_MODEL_COSTS[spec.id]
    payload.update(spec.extra)
    return payload
