from django.apps import AppConfig


class MediaToolsConfig(AppConfig):
    name = "media_tools"
    verbose_name = "Media tools"
