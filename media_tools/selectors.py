from django.db.models import QuerySet

from core.errors import NotFound
from engines import espeak
from engines.base import EngineUnavailableError
from engines.registry import get_llm
from media_tools.models import AudioGeneration

# The OpenAI speech endpoint's voices, offered when a speech model is configured.
ENGINE_VOICES = ("alloy", "echo", "fable", "onyx", "nova", "shimmer")


def audio_generation_list_for_user(*, user) -> QuerySet[AudioGeneration]:
    return (AudioGeneration.objects.filter(owner=user).select_related("job", "asset")
            .order_by("-created_at", "-id"))


def audio_generation_get_for_user(*, user, generation_id) -> AudioGeneration:
    generation = audio_generation_list_for_user(user=user).filter(pk=generation_id).first()
    if generation is None:
        raise NotFound("Audio generation not found.")
    return generation


def speech_engine_available() -> bool:
    try:
        get_llm("speech")
    except EngineUnavailableError:
        return False
    return True


def tts_voices() -> list[dict]:
    """The espeak-ng voices (always), then the speech engine's when one is configured. `id`
    and `voice_id` are the same value: the contract's table names the column "Voice ID"."""
    voices = [{"id": v.id, "voice_id": v.id, "name": v.name, "language": v.language,
               "engine": "espeak",
               "description": f"{v.name} ({v.language}), spoken by espeak-ng on this server"}
              for v in espeak.VOICES.values()]
    if speech_engine_available():
        voices += [{"id": name, "voice_id": name, "name": name.capitalize(),
                    "language": "multilingual", "engine": "openai_compatible",
                    "description": f"{name.capitalize()}, multilingual, from the configured "
                                   "speech engine"}
                   for name in ENGINE_VOICES]
    return voices
