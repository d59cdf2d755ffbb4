"""Credit costs from the API contract. Other apps quote prices through these functions.

Video generation: `cost = ceil(base + frames * per_frame + steps * per_step)`. Decimals, not
floats, so that 20.2 is 20.2 and not 20.200000000000003 rounded up to the next credit twice.
"""

import math
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class CostRule:
    base: Decimal
    per_frame: Decimal = Decimal(0)
    per_step: Decimal = Decimal(0)

    def cost(self, *, frames: int = 0, steps: int = 0) -> int:
        return math.ceil(self.base + frames * self.per_frame + steps * self.per_step)

    def as_dict(self) -> dict:
        return {"base": float(self.base), "per_frame": float(self.per_frame),
                "per_step": float(self.per_step)}


def _rule(base: str, per_frame: str = "0", per_step: str = "0") -> CostRule:
    return CostRule(Decimal(base), Decimal(per_frame), Decimal(per_step))


VIDEO_MODEL_COSTS: dict[str, CostRule] = {
    "wan-t2v": _rule("10", "0.20", "0.50"),
    "ltx-t2v": _rule("8", "0.15", "0.30"),
    "ltx-quality": _rule("15", "0.25", "0.40"),
    "hunyuan-t2v": _rule("12", "0.20", "0.40"),
    "hunyuan15-t2v": _rule("12", "0.20", "0.40"),
    "hunyuan15-i2v": _rule("15", "0.25", "0.50"),
    "ltx-i2v": _rule("12", "0.20", "0.40"),
    "cogvideo-t2v": _rule("12", "0.20", "0.40"),
    "animatediff": _rule("6", "0.10", "0.30"),
    "svd-i2v": _rule("10", "0.15", "0.40"),
    "wan-i2v": _rule("12", "0.20", "0.50"),
    "ltx-flf": _rule("12", "0.15", "0.30"),
    "wan-s2v": _rule("15", "0.25", "0.50"),
    "wan-flf": _rule("12", "0.20", "0.50"),
    "ltx-camera": _rule("10", "0.15", "0.30"),
    "ltx-control": _rule("12", "0.15", "0.30"),
    "wan-vace": _rule("15", "0.25", "0.50"),
    "wan-animate": _rule("18", "0.30", "0.50"),
    "liveportrait": _rule("8", "0.10"),
    "hunyuan3d": _rule("20", "0", "0.80"),
    "dreamidv": _rule("15", "0.20", "0.40"),
    "echomimic": _rule("12", "0.15", "0.30"),
    "v2v": _rule("3"),
}

IMAGE_MODEL_COSTS: dict[str, int] = {"sd15": 2, "flux": 5, "flux-dev": 8, "flux-edit": 6}

# Flat and duration-based operation costs, as the contract lists them.
OPERATION_COSTS: dict[str, dict] = {
    "audio_generation": {"credits": 8, "per_seconds": 30, "prorated": True},
    "tts": {"credits": 6, "per_seconds": 60, "prorated": True},
    "subtitle_generation": {"credits": 5},
    "subtitle_translation": {"credits": 5},
    "edit": {"credits": 3},
    "remove_background": {"credits": 1},
    "face_swap": {"credits": 1},
    "extract_frames": {"credits": 1},
    "trim_video": {"credits": 1},
    "video_to_gif": {"credits": 1},
    "add_watermark": {"credits": 1},
    "upscale_video": {"credits": 2, "per_seconds": 10, "minimum": 2},
    "video_to_video": {"credits": 3, "per_seconds": 10, "minimum": 3},
    "project_export": {"credits_per_clip": 2, "minimum": 3},
    "merge_videos": {"credits_per_clip": 2, "minimum": 3},
}

TOPUP_MIN_CREDITS = 100
TOPUP_MAX_CREDITS = 50_000
TOPUP_PENCE_PER_CREDIT = 1


def video_generation_cost(*, model: str, frames: int = 0, steps: int = 0) -> int:
    return VIDEO_MODEL_COSTS[model].cost(frames=frames, steps=steps)


def duration_cost(*, operation: str, seconds: float) -> int:
    """Cost of a duration-priced operation: pro-rated, or per started block, with a minimum."""
    rule = OPERATION_COSTS[operation]
    blocks = Decimal(str(seconds)) / rule["per_seconds"]
    if not rule.get("prorated"):
        blocks = Decimal(math.ceil(blocks))
    cost = math.ceil(blocks * rule["credits"])
    return max(cost, rule.get("minimum", 1))


def per_clip_cost(*, operation: str, clips: int) -> int:
    rule = OPERATION_COSTS[operation]
    return max(rule["minimum"], rule["credits_per_clip"] * clips)


def cost_rules() -> dict:
    """The public price list served by GET /api/pricing."""
    return {
        "video_formula": "ceil(base + frames * per_frame + steps * per_step)",
        "video_models": {name: rule.as_dict() for name, rule in VIDEO_MODEL_COSTS.items()},
        "image_models": {name: {"per_image": c} for name, c in IMAGE_MODEL_COSTS.items()},
        "operations": OPERATION_COSTS,
        "topup": {"min_credits": TOPUP_MIN_CREDITS, "max_credits": TOPUP_MAX_CREDITS,
                  "pence_per_credit": TOPUP_PENCE_PER_CREDIT},
    }
