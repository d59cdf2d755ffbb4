from engines.openai_compatible.client import OpenAICompatibleClient, Transcript

__all__ = ["OpenAICompatibleClient", "Transcript"]
