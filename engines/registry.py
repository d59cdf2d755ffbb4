"""Engine instances by name.

This package imports no Django: the application passes its settings in once at start-up
(`configure`, called from media_tools' AppConfig.ready). `preview` always exists; `comfyui`
exists when servers are configured. Engines that keep state between jobs (the ComfyUI pool's
health and cool-downs) are built once per process.
"""

import threading

from engines.base import Engine, EngineUnavailableError

_config: dict = {"comfyui_urls": [], "comfyui_options": {}, "openai": {}}
_instances: dict[str, Engine] = {}
_lock = threading.Lock()


def configure(**options) -> None:
    with _lock:
        _config.update(options)
        _instances.clear()


def engine_available(name: str) -> bool:
    if name == "preview":
        return True
    if name == "comfyui":
        return bool(_config["comfyui_urls"])
    return False


def get_engine(name: str) -> Engine:
    if not engine_available(name):
        raise EngineUnavailableError(
            f"The {name!r} engine is not configured on this server.", code="engine_unavailable")
    with _lock:
        if name not in _instances:
            _instances[name] = _build(name)
        return _instances[name]


def _build(name: str) -> Engine:
    if name == "preview":
        from engines.preview import PreviewEngine

        return PreviewEngine()
    from engines.comfyui.engine import ComfyUIEngine

    return ComfyUIEngine(urls=list(_config["comfyui_urls"]), **_config["comfyui_options"])


def get_llm(capability: str = "chat"):
    """The OpenAI-compatible client when it is configured for `capability`
    (chat, speech, transcription, image); EngineUnavailableError otherwise."""
    from engines.openai_compatible import OpenAICompatibleClient

    options = _config["openai"]
    client = OpenAICompatibleClient(**options) if options.get("base_url") else None
    if client is None or not client.supports(capability):
        raise EngineUnavailableError(
            f"No OpenAI-compatible server is configured for {capability}. Set OPENAI_BASE_URL "
            f"and OPENAI_{capability.upper()}_MODEL.", code="engine_unavailable")
    return client


def engines_health() -> dict[str, dict]:
    """Each known engine's health; an unconfigured engine is reported as such."""
    report = {"preview": {"engine": "preview", "online": True, "configured": True,
                          "ai": False,
                          "description": "Renders real media with ffmpeg from the request; "
                                         "not an AI model."}}
    if engine_available("comfyui"):
        try:
            report["comfyui"] = {"configured": True, **get_engine("comfyui").health()}
        except Exception as exc:  # a health report never raises
            report["comfyui"] = {"engine": "comfyui", "configured": True, "online": False,
                                 "error": str(exc)[:200]}
    else:
        report["comfyui"] = {"engine": "comfyui", "configured": False, "online": False,
                             "hint": "Set COMFYUI_URLS to one or more ComfyUI servers."}
    openai = _config["openai"]
    report["openai_compatible"] = {
        "engine": "openai_compatible", "configured": bool(openai.get("base_url")),
        "capabilities": sorted(k.removesuffix("_model") for k, v in openai.items()
                               if k.endswith("_model") and v),
    }
    return report
