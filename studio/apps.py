from django.apps import AppConfig


class StudioConfig(AppConfig):
    name = "studio"
    verbose_name = "Studio"

    def ready(self):
        from jobs.registry import register

        register("project_export", queue="media", run="studio.export.run_export")
        register("story", queue="media", run="studio.stories.handlers.run_story")
        register("story_scene", queue="media", run="studio.stories.handlers.run_story")
