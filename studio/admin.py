from django.contrib import admin

from studio.models import Comment, Element, Project, Shot


class ShotInline(admin.TabularInline):
    model = Shot
    fields = ["position", "prompt", "duration", "shot_type", "camera_move", "transition"]
    extra = 0


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "model", "updated_at"]
    search_fields = ["name", "owner__username", "owner__email"]
    list_select_related = ["owner"]
    inlines = [ShotInline]


admin.site.register(Element)
admin.site.register(Comment)
