from django.contrib import admin

from media_tools.models import AudioGeneration


@admin.register(AudioGeneration)
class AudioGenerationAdmin(admin.ModelAdmin):
    list_display = ["id", "owner", "prompt", "duration_seconds", "engine", "created_at"]
    list_select_related = ["owner"]
    search_fields = ["prompt", "owner__username", "owner__email"]
    raw_id_fields = ["owner", "job", "asset"]
    readonly_fields = ["job", "asset", "engine", "created_at", "updated_at"]
