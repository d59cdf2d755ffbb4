from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "generation"
    verbose_name = "Generation"

    def ready(self):
        from jobs.registry import register

        register("generate_video", queue="gpu", run="generation.handlers.run_generation")
        register("generate_image", queue="gpu", run="generation.handlers.run_generation")
