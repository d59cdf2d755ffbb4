"""Prompt tools: turn a short idea into a full video prompt with the configured LLM."""

from core.errors import EngineUnavailable
from engines.base import EngineError, EngineUnavailableError
from engines.registry import get_llm

SYSTEM = (
    "You write prompts for text-to-video models. Given an idea, answer with JSON: "
    '{"prompt": "...", "negative_prompt": "..."}. The prompt is one paragraph of at most 80 '
    "words: subject, action, setting, camera movement, lighting and style, concrete and "
    "visual. The negative prompt lists artefacts to avoid. No commentary."
)


def prompt_generate(*, idea: str, style: str = "", model: str = "") -> dict:
    """An enhanced prompt for `idea`; 503 engine_unavailable when no LLM is configured."""
    try:
        client = get_llm("chat")
    except EngineUnavailableError as exc:
        raise EngineUnavailable(exc.message, engine="openai_compatible") from None
    details = f"Idea: {idea}" + (f"\nStyle: {style}" if style else "") + (
        f"\nTarget model: {model}" if model else "")
    try:
        answer = client.chat_json([{"role": "system", "content": SYSTEM},
                                   {"role": "user", "content": details}])
    except EngineUnavailableError as exc:
        raise EngineUnavailable(exc.message, engine="openai_compatible") from None
    except EngineError as exc:
        from core.errors import ApplicationError

        raise ApplicationError(exc.message, code=exc.code, status=502) from None
    prompt = str(answer.get("prompt", "")).strip() if isinstance(answer, dict) else ""
    if not prompt:
        from core.errors import ApplicationError

        raise ApplicationError("The language model returned no prompt.",
                               code="engine_bad_output", status=502)
    return {"prompt": prompt[:2000],
            "negative_prompt": str(answer.get("negative_prompt", "")).strip()[:2000],
            "engine": "openai_compatible"}
