"""Procedural music for the preview engine: a seeded chord loop as ffmpeg `aevalsrc` expressions.

Nothing is sampled or learned. A seed picks a key, a tempo, a four-chord progression and an
arpeggio pattern; the track is three sine "pad" voices swelling over each bar, a plucked bass
on every beat and an arpeggio in eighth notes. Every envelope returns to zero where its note
changes frequency, so the phase jump of `sin(2*PI*f*t)` is not heard as a click.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# Progressions as (semitones above the key, chord quality).
PROGRESSIONS: tuple[tuple[tuple[int, str], ...], ...] = (
    ((0, "maj"), (7, "maj"), (9, "min"), (5, "maj")),   # I V vi IV
    ((9, "min"), (5, "maj"), (0, "maj"), (7, "maj")),   # vi IV I V
    ((0, "maj"), (9, "min"), (5, "maj"), (7, "maj")),   # I vi IV V
    ((2, "min"), (7, "maj"), (0, "maj"), (0, "maj")),   # ii V I I
    ((0, "min"), (8, "maj"), (3, "maj"), (10, "maj")),  # i VI III VII
    ((0, "min"), (5, "min"), (7, "maj"), (0, "min")),   # i iv V i
)
TEMPOS = (72, 84, 90, 96, 104, 112, 120)
SAMPLE_RATE = 44100
_THIRD = {"maj": 4, "min": 3}


@dataclass(frozen=True)
class Song:
    key: int  # MIDI note of the tonic, A2..G#3
    bpm: int
    progression: tuple[tuple[int, str], ...]
    arpeggio: tuple[int, ...]  # indexes into (root, third, fifth, octave)

    @property
    def beat(self) -> float:
        return 60.0 / self.bpm


def compose(seed: int) -> Song:
    """The song for a seed: same seed, same song."""
    rng = random.Random(f"music:{seed}")  # noqa: S311 - reproducible, not secret
    pattern = [0, 1, 2, 3]
    rng.shuffle(pattern)
    return Song(key=rng.randint(45, 56), bpm=rng.choice(TEMPOS),
                progression=rng.choice(PROGRESSIONS), arpeggio=tuple(pattern))


def _hz(midi: float) -> float:
    return 440.0 * 2 ** ((midi - 69) / 12)


def _into(midi: int, low: int) -> int:
    """Move a note by octaves into [low, low + 12), keeping the voices close together."""
    return low + (midi - low) % 12


def _chord_notes(song: Song, index: int) -> tuple[int, int, int, int]:
    offset, quality = song.progression[index]
    root = song.key + offset
    return root, root + _THIRD[quality], root + 7, root + 12


def _select(values: list[float], var: int) -> str:
    """An expression that is values[ld(var)] for ld(var) in 0..len-1 (nested ifs)."""
    expr = f"{values[-1]:.4f}"
    for i in range(len(values) - 2, -1, -1):
        expr = f"if(eq(ld({var}),{i}),{values[i]:.4f},{expr})"
    return expr


def channel_expression(song: Song, *, detune: float, arp_gain: float) -> str:
    """One channel of the track as an av_expr expression of `t` (seconds).

    Registers: 0 = chord index, 1 = time in bar, 2 = time in beat, 3 = arpeggio step,
    4 = time in step.
    """
    beat = song.beat
    bar, step = 4 * beat, beat / 2
    chords = [_chord_notes(song, i) for i in range(4)]
    pad_voices = [[_hz(_into(chord[v], song.key + 12)) * detune for chord in chords]
                  for v in range(3)]
    bass = [_hz(_into(chord[0], song.key - 12)) for chord in chords]
    arp = [[_hz(_into(chord[song.arpeggio[k]], song.key + 24) + (12 if k == 3 else 0))
            for k in range(4)] for chord in chords]
    # arpeggio frequency: chord (reg 0) x step (reg 3) -> index 4*chord + step in reg 5
    arp_flat = [freq for chord in arp for freq in chord]
    setup = (f"st(0,mod(floor(t/{bar:.6f}),4));st(1,mod(t,{bar:.6f}));"
             f"st(2,mod(t,{beat:.6f}));st(3,mod(floor(t/{step:.6f}),4));"
             f"st(4,mod(t,{step:.6f}));st(5,4*ld(0)+ld(3));")
    pad_env = f"sin(PI*ld(1)/{bar:.6f})"
    pad = "+".join(f"sin(2*PI*t*{_select(voice, 0)})" for voice in pad_voices)
    bass_env = f"exp(-5*ld(2))*(1-ld(2)/{beat:.6f})"
    arp_env = f"exp(-9*ld(4))*(1-ld(4)/{step:.6f})"
    return (setup + f"0.11*{pad_env}*({pad})"
            f"+0.24*{bass_env}*sin(2*PI*t*{_select(bass, 0)})"
            f"+{0.16 * arp_gain:.3f}*{arp_env}*sin(2*PI*t*{_select(arp_flat, 5)})")


def stereo_expressions(song: Song) -> tuple[str, str]:
    """Left and right channels: the pad slightly detuned and the arpeggio panned right."""
    return (channel_expression(song, detune=1.0, arp_gain=0.6),
            channel_expression(song, detune=1.003, arp_gain=1.0))
