from django.apps import AppConfig


class MediaToolsConfig(AppConfig):
    name = "media_tools"
    verbose_name = "Media tools"

    def ready(self):
        from django.conf import settings

        from engines.registry import configure

        # The engines package reads no Django settings; hand them over once.
        configure(comfyui_urls=settings.COMFYUI_URLS)
