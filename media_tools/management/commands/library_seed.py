"""`manage.py library_seed`: a small procedural starter library, so that a fresh install can
make stories with no stock API keys and no uploads.

Everything is drawn by ffmpeg's own sources (gradients, mandelbrot, life, cellauto, aevalsrc),
so there is nothing to license; titles say "Procedural" and tags describe what is actually on
screen. A kind (a role, for sound effects) that holds any item already is left alone, so
running the command again adds nothing; `--force` deletes the starter items and makes them
again. `--small` makes tiny, one-second files (for tests).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from engines import preview_music
from engines.base import EngineError
from engines.ffmpeg import bitexact_args, escape_filter_text, lavfi_input, run_ffmpeg
from media_tools.library import library_item_create, library_item_delete
from media_tools.models import LibraryItem

Kind = LibraryItem.Kind
RENDER_TIMEOUT = 120.0


@dataclass(frozen=True)
class Scale:
    width: int
    height: int
    fps: int
    clip_seconds: float  # stock clips
    loop_seconds: float  # background loops
    music_seconds: float | None  # None: two full cycles of the chord progression

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"

    def part(self, divisor: float) -> str:
        """The frame size divided by `divisor`, rounded to even numbers (for yuv420p)."""
        return f"{_even(self.width / divisor)}x{_even(self.height / divisor)}"


FULL = Scale(width=540, height=960, fps=24, clip_seconds=6, loop_seconds=8, music_seconds=None)
SMALL = Scale(width=144, height=256, fps=12, clip_seconds=1, loop_seconds=1, music_seconds=1)


def _even(value: float) -> int:
    return max(2, int(value) // 2 * 2)


@dataclass(frozen=True)
class Starter:
    kind: str
    title: str
    tags: str
    render: Callable[[Path, Scale], Path]
    mood: str = ""
    sfx_role: str = ""


# --- video ------------------------------------------------------------------------------------

def _video(graph: str, out: Path, scale: Scale, seconds: float) -> Path:
    frames = max(1, round(seconds * scale.fps))
    run_ffmpeg([*lavfi_input(graph), "-frames:v", str(frames), "-r", str(scale.fps),
                "-c:v", "libx264", "-preset", "veryfast", "-crf", "26", "-pix_fmt", "yuv420p",
                "-threads", "1", "-movflags", "+faststart", "-an", *bitexact_args(),
                "-f", "mp4", str(out)], timeout=RENDER_TIMEOUT, stage="seed")
    return out


def _clip(graph: Callable[[Scale], str]) -> Callable[[Path, Scale], Path]:
    return lambda out, s: _video(graph(s), out.with_suffix(".mp4"), s, s.clip_seconds)


def _loop(graph: Callable[[Scale], str]) -> Callable[[Path, Scale], Path]:
    return lambda out, s: _video(graph(s), out.with_suffix(".mp4"), s, s.loop_seconds)


def _still(source: str) -> str:
    """One frame of a source repeated forever (scrolled or recoloured afterwards)."""
    return f"{source},trim=end_frame=1,loop=loop=-1:size=1"


def _gradients(colors: tuple[str, ...], seed: int) -> Callable[[Scale], str]:
    stops = ":".join(f"c{i}={c}" for i, c in enumerate(colors))
    # Rendered at half size: a smooth gradient loses nothing by being scaled up.
    return lambda s: (f"gradients=s={s.part(2)}:r={s.fps}:n={len(colors)}:{stops}"
                      f":speed=0.015:seed={seed},scale={s.width}:{s.height},format=yuv420p")


def _mandelbrot(s: Scale) -> str:
    # end_pts counts frames (the source's time base is 1/rate), not seconds.
    frames = max(1, round(s.clip_seconds * s.fps))
    return (f"mandelbrot=s={s.part(4)}:r={s.fps}:maxiter=48:start_scale=3:end_scale=0.05"
            f":end_pts={frames}:outer=normalized_iteration_count,"
            f"scale={s.width}:{s.height}:flags=bicubic,format=yuv420p")


def _life(s: Scale) -> str:
    return (f"life=s={s.part(4)}:r={max(1, s.fps // 2)}:ratio=0.25:mold=25:seed=5"
            f":life_color=0x7fffd4:death_color=0x0b1d2a:mold_color=0x1f5f6b,"
            f"scale={s.width}:{s.height}:flags=neighbor,fps={s.fps},format=yuv420p")


def _cascade(s: Scale) -> str:
    return (f"cellauto=s={s.part(8)}:rule=30:r={max(1, s.fps // 2)}:random_fill_ratio=0.1"
            f":seed=3,format=rgb24,lutrgb=r=val*0.1:g=val*0.9:b=val*0.45,"
            f"scale={s.width}:{s.height}:flags=neighbor,fps={s.fps},format=yuv420p")


def _stars(s: Scale) -> str:
    # Sparse white pixels on black, softened by the upscale, drifting down half a screen.
    sky = _still(f"nullsrc=s={s.part(3)}:r={s.fps},"
                 "geq=lum='if(lt(random(1),0.004),255,0)':cb=128:cr=128")
    speed = 0.5 / max(1, round(s.clip_seconds * s.fps))
    return f"{sky},scale={s.width}:{s.height},scroll=vertical=-{speed:.6f},format=yuv420p"


def _wrap(s: Scale, axis: str) -> str:
    """A crop window over a picture that is the frame repeated twice along `axis` (x: side by
    side, y: one above the other), moving by exactly one frame per loop: frame N, the one
    after the last, equals frame 0, so the loop has no seam. Vertical content moves down,
    horizontal content moves left."""
    frames = max(1, round(s.loop_seconds * s.fps))
    if axis == "y":
        return f"crop={s.width}:{s.height}:0:'{s.height}-mod(n*{s.height}/{frames},{s.height})'"
    return f"crop={s.width}:{s.height}:'mod(n*{s.width}/{frames},{s.width})':0"


def _subway(s: Scale) -> str:
    w, h = s.width, s.height
    period = h // 16  # sleepers; h is a multiple of it, so the doubled picture has no seam
    rail = max(2, w // 50)
    # Drawn once, twice as tall as the frame; per frame there is only the crop and the encoder.
    track = _still(f"color=c=0x2b2d42:s={w}x{2 * h}:r={s.fps},"
                   f"drawgrid=w=iw:h={period}:t={max(1, period * 3 // 10)}:c=0x6b4f3a,"
                   f"drawbox=x=0:y=0:w={w // 5}:h=ih:c=0x1b1b2f:t=fill,"
                   f"drawbox=x=iw-{w // 5}:y=0:w={w // 5}:h=ih:c=0x1b1b2f:t=fill,"
                   f"drawbox=x={w * 35 // 100}:y=0:w={rail}:h=ih:c=0xc0c0c8:t=fill,"
                   f"drawbox=x={w * 63 // 100}:y=0:w={rail}:h=ih:c=0xc0c0c8:t=fill")
    return f"{track},{_wrap(s, 'y')},format=yuv420p"


def _blocks(s: Scale) -> str:
    cell = max(1, s.width // 36)  # 36 x 64 blocks at 9:16
    terrain = _still(f"cellauto=s=36x64:r={s.fps}:rule=30:full=1:random_fill_ratio=0.5:seed=11,"
                     "format=rgb24,lutrgb=r='if(gt(val,127),96,121)'"
                     ":g='if(gt(val,127),168,85)':b='if(gt(val,127),64,58)',"
                     f"scale={cell * 36}:{cell * 64}:flags=neighbor,"
                     f"drawgrid=w={cell}:h={cell}:t={max(1, cell // 10)}:c=black@0.3,"
                     f"scale={s.width}:{s.height}:flags=neighbor,format=yuv420p")
    return f"{terrain},split[a][b];[a][b]hstack,{_wrap(s, 'x')},format=yuv420p"


def _colour_cycle(s: Scale) -> str:
    # The hue turns a full circle per loop: the last frame leads into the first.
    cell = _even(s.width / 9)
    base = _still(f"gradients=s={s.part(2)}:r={s.fps}:n=4:c0=0x6a11cb:c1=0x2575fc:c2=0xf7971e"
                  f":c3=0xff4e50:seed=4,scale={s.width}:{s.height},"
                  f"drawgrid=w={cell}:h={cell}:t=2:c=white@0.2")
    return f"{base},hue=H=2*PI*t/{s.loop_seconds:g},format=yuv420p"


# --- audio ------------------------------------------------------------------------------------

def _audio(graph: str, out: Path, codec: list[str]) -> Path:
    run_ffmpeg([*lavfi_input(graph), *codec, *bitexact_args(), str(out)],
               timeout=RENDER_TIMEOUT, stage="seed")
    return out


def _music(song: preview_music.Song) -> Callable[[Path, Scale], Path]:
    def render(out: Path, s: Scale) -> Path:
        left, right = preview_music.stereo_expressions(song)
        cycle = 16 * song.beat  # four bars: every envelope is back at zero where it ends
        rate = preview_music.SAMPLE_RATE
        seconds = s.music_seconds or cycle
        graph = (f"aevalsrc=exprs={escape_filter_text(left + '|' + right)}:s={rate}"
                 f":d={seconds:.6f}")
        if s.music_seconds is None:
            # The second cycle is the first one repeated, seamless and half the work.
            graph += f",aloop=loop=1:size={round(cycle * rate)}"
        return _audio(graph, out.with_suffix(".flac"), ["-c:a", "flac"])
    return render


def _sfx(expression: str, seconds: float) -> Callable[[Path, Scale], Path]:
    graph = f"aevalsrc=exprs={escape_filter_text(expression)}:s=44100:d={seconds}"
    return lambda out, s: _audio(graph, out.with_suffix(".wav"), ["-c:a", "pcm_s16le"])


# A whoosh: white noise through two one-pole low-pass filters whose cutoff sweeps up and back
# down (registers 0 and 3 keep the filter state between samples), under a swell envelope.
WHOOSH = ("st(2,0.01+0.3*pow(sin(PI*t/0.9),2));st(0,ld(0)+ld(2)*(2*random(1)-1-ld(0)));"
          "st(3,ld(3)+ld(2)*(ld(0)-ld(3)));1.2*pow(sin(PI*t/0.9),2)*ld(3)")
# A pop: a sine whose pitch falls from about 900 Hz to 180 Hz in a few milliseconds.
POP = ("0.8*exp(-t/0.03)*(1-exp(-t/0.002))"
       "*sin(2*PI*(180*t+700*0.015*(1-exp(-t/0.015))))")
# A ding: three inharmonic bell partials, the higher ones dying faster.
DING = ("(1-exp(-t/0.002))*(0.5*exp(-3*t)*sin(2*PI*880*t)+0.25*exp(-6*t)*sin(2*PI*2428.8*t)"
        "+0.12*exp(-10*t)*sin(2*PI*4752*t))")

_P = preview_music.PROGRESSIONS
STARTERS: tuple[Starter, ...] = (
    Starter(Kind.STOCK_VIDEO, "Procedural: warm drifting gradients",
            "abstract, gradient, warm, orange, soft, calm, background",
            _clip(_gradients(("0xff7a59", "0xffc857", "0x8e44ad"), seed=7))),
    Starter(Kind.STOCK_VIDEO, "Procedural: blue-green drifting gradients",
            "abstract, gradient, blue, water, cool, calm, background",
            _clip(_gradients(("0x0b3d91", "0x1fa2a6", "0x0f5e78", "0x6ad5cb"), seed=3))),
    Starter(Kind.STOCK_VIDEO, "Procedural: Mandelbrot fractal zoom",
            "abstract, fractal, mathematics, zoom, infinity, psychedelic, science",
            _clip(_mandelbrot)),
    Starter(Kind.STOCK_VIDEO, "Procedural: Game of Life cells",
            "abstract, cells, life, growth, biology, nature, science, pattern",
            _clip(_life)),
    Starter(Kind.STOCK_VIDEO, "Procedural: cascading data pattern",
            "technology, data, code, digital, computer, pattern, abstract",
            _clip(_cascade)),
    Starter(Kind.STOCK_VIDEO, "Procedural: drifting starfield",
            "space, stars, night, sky, universe, calm, dark",
            _clip(_stars)),
    Starter(Kind.BACKGROUND_SUBWAY, "Procedural placeholder: scrolling rails (subway-runner style)",
            "rails, track, train, scrolling, loop, placeholder", _loop(_subway)),
    Starter(Kind.BACKGROUND_MINECRAFT, "Procedural placeholder: blocky terrain (Minecraft style)",
            "blocks, terrain, pixel, scrolling, loop, placeholder", _loop(_blocks)),
    Starter(Kind.BACKGROUND_YOUTUBE, "Procedural placeholder: colour-cycling gradient",
            "gradient, colour, grid, abstract, loop, placeholder", _loop(_colour_cycle)),
    Starter(Kind.MUSIC, "Procedural: calm chord loop", "calm, relaxed, peaceful, soft, ambient",
            _music(preview_music.Song(key=50, bpm=72, progression=_P[2], arpeggio=(0, 1, 2, 3))),
            mood="calm"),
    Starter(Kind.MUSIC, "Procedural: upbeat chord loop", "upbeat, happy, energetic, bright, fun",
            _music(preview_music.Song(key=52, bpm=120, progression=_P[0],
                                      arpeggio=(0, 2, 1, 3))),
            mood="upbeat"),
    Starter(Kind.MUSIC, "Procedural: dramatic minor loop",
            "dramatic, tense, epic, cinematic, serious",
            _music(preview_music.Song(key=45, bpm=90, progression=_P[5], arpeggio=(3, 2, 1, 0))),
            mood="dramatic"),
    Starter(Kind.MUSIC, "Procedural: inspiring chord loop",
            "inspiring, hopeful, uplifting, motivational, positive",
            _music(preview_music.Song(key=48, bpm=96, progression=_P[1], arpeggio=(0, 1, 3, 2))),
            mood="inspiring"),
    Starter(Kind.MUSIC, "Procedural: dark minor loop", "dark, mysterious, sad, moody, night",
            _music(preview_music.Song(key=47, bpm=72, progression=_P[4], arpeggio=(0, 2, 3, 1))),
            mood="dark"),
    Starter(Kind.SOUND_EFFECT, "Procedural: whoosh", "whoosh, swoosh, transition, air",
            _sfx(WHOOSH, 0.9), sfx_role=LibraryItem.SfxRole.TRANSITION),
    Starter(Kind.SOUND_EFFECT, "Procedural: pop", "pop, bubble, click, emphasis",
            _sfx(POP, 0.25), sfx_role=LibraryItem.SfxRole.EMPHASIS),
    Starter(Kind.SOUND_EFFECT, "Procedural: ding", "ding, bell, chime, emphasis",
            _sfx(DING, 1.2), sfx_role=LibraryItem.SfxRole.EMPHASIS),
)


def _slot_filled(starter: Starter) -> bool:
    items = LibraryItem.objects.filter(kind=starter.kind)
    if starter.sfx_role:
        items = items.filter(sfx_role=starter.sfx_role)
    return items.exists()


class Command(BaseCommand):
    help = ("Fill an empty media library with procedural starter clips, backgrounds, music and "
            "sound effects (idempotent).")

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true",
                            help="Delete the starter items and make them again.")
        parser.add_argument("--small", action="store_true",
                            help="Tiny one-second files (for tests).")

    def handle(self, *args, force: bool = False, small: bool = False, **options):
        started = time.monotonic()
        if force:
            starters = LibraryItem.objects.filter(origin=LibraryItem.Origin.STARTER)
            for item in starters:
                library_item_delete(item=item)
            todo = list(STARTERS)
        else:
            # Decided before anything is added: the first new clip must not hide the others.
            todo = [starter for starter in STARTERS if not _slot_filled(starter)]
        if not todo:
            self.stdout.write("The library has items of every kind already; nothing added.")
            return
        scale = SMALL if small else FULL
        with tempfile.TemporaryDirectory(prefix="library-seed-") as tmp, \
                ThreadPoolExecutor(max_workers=max(1, min(2, os.cpu_count() or 1))) as pool:
            futures = [pool.submit(starter.render, Path(tmp) / f"starter-{index}", scale)
                       for index, starter in enumerate(todo)]
            for starter, future in zip(todo, futures, strict=True):
                try:
                    path = future.result()
                except EngineError as exc:
                    raise CommandError(f"Could not make {starter.title!r}: {exc.message} "
                                       f"{exc.detail.get('stderr', '')}") from None
                # Rows are written here, on the command's own thread and connection.
                item = library_item_create(
                    kind=starter.kind, title=starter.title, path=path, tags=starter.tags,
                    mood=starter.mood, sfx_role=starter.sfx_role,
                    origin=LibraryItem.Origin.STARTER)
                self.stdout.write(f"Added {item.get_kind_display().lower()}: {item.title} "
                                  f"({item.duration:.1f} s)")
        self.stdout.write(self.style.SUCCESS(
            f"Added {len(todo)} starter items in {time.monotonic() - started:.1f} s."))
