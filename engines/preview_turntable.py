"""Turntable frames for the preview of a 3D model: a seeded, flat-shaded solid turning once.

The preview makes no mesh. It draws, with Pillow, a simple solid (prism or bipyramid) whose
shape, colours and tilt come from the seed, rotating 360 degrees over the clip, so that the
3D pipeline (job, storage, player) can be exercised without a GPU. Frames are drawn at most
960 px on their long side; ffmpeg scales them to the requested size.
"""

from __future__ import annotations

import colorsys
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

Vec = tuple[float, float, float]
MAX_SIDE = 960


@dataclass(frozen=True)
class Solid:
    vertices: tuple[Vec, ...]
    faces: tuple[tuple[int, ...], ...]
    color: tuple[int, int, int]
    edge: tuple[int, int, int]
    background: tuple[tuple[int, int, int], tuple[int, int, int]]
    tilt: float  # radians around x, towards the camera


def _prism(sides: int) -> tuple[list[Vec], list[tuple[int, ...]]]:
    ring = [(math.cos(2 * math.pi * i / sides), math.sin(2 * math.pi * i / sides))
            for i in range(sides)]
    vertices = [(x, 0.8, z) for x, z in ring] + [(x, -0.8, z) for x, z in ring]
    faces = [tuple(range(sides - 1, -1, -1)), tuple(range(sides, 2 * sides))]
    faces += [(i, (i + 1) % sides, sides + (i + 1) % sides, sides + i) for i in range(sides)]
    return vertices, faces


def _bipyramid(sides: int) -> tuple[list[Vec], list[tuple[int, ...]]]:
    ring = [(math.cos(2 * math.pi * i / sides), 0.0, math.sin(2 * math.pi * i / sides))
            for i in range(sides)]
    top, bottom = sides, sides + 1
    vertices = [*ring, (0.0, 1.3, 0.0), (0.0, -1.3, 0.0)]
    faces = [(top, (i + 1) % sides, i) for i in range(sides)]
    faces += [(bottom, i, (i + 1) % sides) for i in range(sides)]
    return vertices, faces


def _rgb(hue: float, saturation: float, value: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(hue % 1.0, saturation, value)
    return round(r * 255), round(g * 255), round(b * 255)


def design(seed: int) -> Solid:
    """The solid for a seed: same seed, same shape and colours."""
    rng = random.Random(f"turntable:{seed}")  # noqa: S311 - reproducible, not secret
    builder = rng.choice((_prism, _bipyramid))
    vertices, faces = builder(rng.randint(3, 8))
    hue = rng.random()
    return Solid(
        vertices=tuple(vertices), faces=tuple(faces),
        color=_rgb(hue, 0.55 + 0.35 * rng.random(), 0.9),
        edge=_rgb(hue, 0.2, 1.0),
        background=(_rgb(hue + 0.5, 0.35, 0.25), _rgb(hue + 0.5, 0.25, 0.08)),
        tilt=math.radians(rng.uniform(18, 32)),
    )


def frame_size(width: int, height: int) -> tuple[int, int]:
    """Drawing size: the requested aspect ratio, at most MAX_SIDE px on the long side."""
    scale = min(1.0, MAX_SIDE / max(width, height))
    return max(2, round(width * scale)), max(2, round(height * scale))


def _backdrop(size: tuple[int, int], solid: Solid) -> Image.Image:
    width, height = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    top, bottom = solid.background
    for y in range(height):
        mix = y / max(1, height - 1)
        draw.line([(0, y), (width, y)],
                  fill=tuple(round(a + (b - a) * mix) for a, b in zip(top, bottom, strict=True)))
    shadow_w, shadow_h = width * 0.22, height * 0.05
    cx, cy = width / 2, height * 0.8
    draw.ellipse([cx - shadow_w, cy - shadow_h, cx + shadow_w, cy + shadow_h], fill=(0, 0, 0))
    return image


def _transform(vertex: Vec, angle: float, tilt: float) -> Vec:
    x, y, z = vertex
    x, z = x * math.cos(angle) + z * math.sin(angle), -x * math.sin(angle) + z * math.cos(angle)
    y, z = y * math.cos(tilt) - z * math.sin(tilt), y * math.sin(tilt) + z * math.cos(tilt)
    return x, y, z


def draw_frame(solid: Solid, backdrop: Image.Image, angle: float) -> Image.Image:
    """One frame: the solid turned by `angle` radians, faces painted back to front."""
    image = backdrop.copy()
    draw = ImageDraw.Draw(image)
    width, height = image.size
    scale, camera = min(width, height) * 0.3 * 4.0, 4.0
    points = [_transform(v, angle, solid.tilt) for v in solid.vertices]
    projected = [(width / 2 + scale * x / (camera - z), height * 0.45 - scale * y / (camera - z))
                 for x, y, z in points]
    light = (-0.33, 0.82, 0.47)  # from above, left and front: the top face is the lightest
    painted = []
    for face in solid.faces:
        a, b, c = (points[i] for i in face[:3])
        normal = _cross(_sub(b, a), _sub(c, a))
        length = math.sqrt(sum(n * n for n in normal)) or 1.0
        normal = tuple(n / length for n in normal)
        if normal[2] <= 0:  # facing away from the camera
            continue
        shade = 0.35 + 0.65 * max(0.0, sum(n * k for n, k in zip(normal, light, strict=True)))
        depth = sum(points[i][2] for i in face) / len(face)
        painted.append((depth, face, tuple(min(255, round(ch * shade)) for ch in solid.color)))
    for _depth, face, fill in sorted(painted, key=lambda item: item[0]):
        draw.polygon([projected[i] for i in face], fill=fill, outline=solid.edge)
    return image


def _sub(a: Vec, b: Vec) -> Vec:
    return a[0] - b[0], a[1] - b[1], a[2] - b[2]


def _cross(a: Vec, b: Vec) -> Vec:
    return a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]


def write_frames(directory: Path, *, seed: int, frames: int, width: int, height: int,
                 reference: Image.Image | None = None,
                 on_frame: Callable[[int], None] | None = None) -> Path:
    """Write `frames` PNGs named 00000.png... into `directory`; return the `%05d.png` pattern.

    `reference` (the request's input image, if any) is shown as an inset. on_frame(i) is
    called after each frame, so the caller can report progress and stop on cancel.
    """
    solid = design(seed)
    size = frame_size(width, height)
    backdrop = _backdrop(size, solid)
    if reference is not None:
        inset = reference.convert("RGB")
        inset.thumbnail((size[0] // 4, size[1] // 4))
        backdrop.paste(inset, (size[0] - inset.width - 4, size[1] - inset.height - 4))
    for i in range(frames):
        frame = draw_frame(solid, backdrop, 2 * math.pi * i / max(frames, 1))
        frame.save(directory / f"{i:05d}.png", compress_level=1)
        if on_frame is not None:
            on_frame(i)
    return directory / "%05d.png"
