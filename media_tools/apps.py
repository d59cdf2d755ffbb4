from django.apps import AppConfig


class MediaToolsConfig(AppConfig):
    name = "media_tools"
    verbose_name = "Media tools"

    def ready(self):
        from django.conf import settings

        from engines.registry import configure
        from jobs.registry import register
        from media_tools.handlers import GPU_KINDS, HANDLERS

        # The engines package reads no Django settings; hand them over once.
        configure(comfyui_urls=settings.COMFYUI_URLS, openai={
            "base_url": settings.OPENAI_BASE_URL, "api_key": settings.OPENAI_API_KEY,
            "chat_model": settings.OPENAI_CHAT_MODEL,
            "speech_model": settings.OPENAI_SPEECH_MODEL,
            "transcription_model": settings.OPENAI_TRANSCRIPTION_MODEL,
            "image_model": settings.OPENAI_IMAGE_MODEL,
            "timeout": settings.OPENAI_TIMEOUT,
        })
        for kind in HANDLERS:
            register(kind, queue="gpu" if kind in GPU_KINDS else "media",
                     run="media_tools.handlers.run")
