"""Engine instances by name. The `preview` engine always exists; others need configuration."""

from engines.base import Engine, EngineUnavailableError


def get_engine(name: str) -> Engine:
    if name == "preview":
        from engines.preview import PreviewEngine

        return PreviewEngine()
    raise EngineUnavailableError(
        f"The {name!r} engine is not configured on this server.", code="engine_unavailable")


def engine_available(name: str) -> bool:
    return name == "preview"
