"""Job handlers, registered per kind by the apps that own the work (generation, media tools...).

jobs sits below those apps, so it cannot import them; they register here from AppConfig.ready.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.module_loading import import_string


@dataclass(frozen=True)
class JobHandler:
    kind: str
    queue: str
    path: str  # dotted path of run(job, ctx) -> dict; imported in the worker on first use

    @property
    def run(self) -> Callable:
        return import_string(self.path)


_handlers: dict[str, JobHandler] = {}


def register(kind: str, *, queue: str, run: str) -> None:
    _handlers[kind] = JobHandler(kind=kind, queue=queue, path=run)


def handler_for(kind: str) -> JobHandler:
    try:
        return _handlers[kind]
    except KeyError:
        raise LookupError(f"No handler registered for job kind {kind!r}") from None


def registered_kinds() -> list[str]:
    return sorted(_handlers)
