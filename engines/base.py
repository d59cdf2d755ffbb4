"""The engine interface. An engine turns a validated request into media files on disk.

Engines are plain Python: they import no Django app, take paths and plain values, and report
progress through a callback. The jobs app stores what they return as assets.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


class EngineError(Exception):
    """The engine could not produce the output. `code` is a snake_case error code."""

    code = "engine_error"

    def __init__(self, message: str, *, code: str | None = None, detail: dict | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.detail = detail or {}


class EngineUnavailableError(EngineError):
    """The back end is not reachable or not configured; the work may be retried later."""

    code = "engine_unavailable"


class Canceled(EngineError):
    code = "canceled"


ProgressFn = Callable[[float, str], None]  # (fraction 0..1, short stage code)
CancelFn = Callable[[], bool]  # True once the job has been canceled


@dataclass
class RenderRequest:
    """What to make. `task` is one of: t2v, i2v, flf, s2v, v2v, specialised, t2i, i2i, audio."""

    task: str
    model: str
    params: dict
    workdir: Path
    # Named input files, already validated: image, last_image, audio, video.
    inputs: dict[str, Path] = field(default_factory=dict)


@dataclass
class RenderOutput:
    path: Path
    kind: str  # video | image | audio
    mime: str


class Engine(abc.ABC):
    name: str = ""

    @abc.abstractmethod
    def render(self, request: RenderRequest, *, progress: ProgressFn,
               is_canceled: CancelFn) -> list[RenderOutput]:
        """Produce the outputs in `request.workdir`. Raise EngineError on failure and
        Canceled when `is_canceled()` turns true."""

    def health(self) -> dict:
        """A short, JSON-able description of the engine's state."""
        return {"engine": self.name, "online": True}
