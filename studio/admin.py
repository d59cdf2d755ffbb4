from django.contrib import admin

from studio.models import Comment, Element, Project, Shot, Story, StoryScene


class ShotInline(admin.TabularInline):
    model = Shot
    fields = ["position", "prompt", "duration", "shot_type", "camera_move", "transition",
              "asset", "video_start", "audio", "audio_volume"]
    raw_id_fields = ["asset", "audio"]
    extra = 0


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "model", "updated_at"]
    search_fields = ["name", "owner__username", "owner__email"]
    list_select_related = ["owner"]
    fields = ["owner", "name", "description", "model", "music", "music_volume"]
    raw_id_fields = ["owner", "music"]
    inlines = [ShotInline]


admin.site.register(Element)
admin.site.register(Comment)


class StorySceneInline(admin.TabularInline):
    model = StoryScene
    fields = ["index", "text", "visual_prompt", "speech_duration", "visual_source", "revision"]
    readonly_fields = ["speech_duration", "visual_source", "revision"]
    extra = 0


@admin.register(Story)
class StoryAdmin(admin.ModelAdmin):
    list_display = ["__str__", "owner", "script_method", "duration", "created_at"]
    list_filter = ["script_method"]
    search_fields = ["title", "prompt", "owner__username", "owner__email"]
    list_select_related = ["owner"]
    readonly_fields = ["project", "job", "narration", "video", "subtitles", "options",
                       "details"]
    inlines = [StorySceneInline]
