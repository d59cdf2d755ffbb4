from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from core.errors import ApplicationError
from media_tools.library import library_item_create, library_item_delete
from media_tools.models import AudioGeneration, LibraryItem


@admin.register(AudioGeneration)
class AudioGenerationAdmin(admin.ModelAdmin):
    list_display = ["id", "owner", "prompt", "duration_seconds", "engine", "created_at"]
    list_select_related = ["owner"]
    search_fields = ["prompt", "owner__username", "owner__email"]
    raw_id_fields = ["owner", "job", "asset"]
    readonly_fields = ["job", "asset", "engine", "created_at", "updated_at"]


class LibraryItemAddForm(forms.ModelForm):
    """The upload form: once every field is valid, the file and the fields go through
    library_item_create, whose refusals (a playlist, a text file) become form errors."""

    upload = forms.FileField(label="File", help_text=(
        "Video (mp4, webm, mov) for clips and backgrounds; audio (mp3, wav, m4a, ogg, flac) "
        "for music and sound effects. The content is checked, not the name."))

    class Meta:
        model = LibraryItem
        fields = ["kind", "title", "tags", "mood", "sfx_role", "enabled"]

    def _post_clean(self):
        super()._post_clean()
        if self.errors:
            return
        data = self.cleaned_data
        try:
            self.instance = library_item_create(
                kind=data["kind"], title=data["title"], upload=data["upload"],
                tags=data.get("tags", ""), mood=data.get("mood", ""),
                sfx_role=data.get("sfx_role", ""), enabled=data.get("enabled", True))
        except ApplicationError as exc:
            self.add_error("upload", exc.message)
        except ValidationError as exc:
            self._update_errors(exc)

    def save(self, commit=True):
        # The service has saved the row already.
        self.save_m2m = lambda: None
        return self.instance


@admin.register(LibraryItem)
class LibraryItemAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "mood", "sfx_role", "duration", "origin", "enabled",
                    "created_at"]
    list_filter = ["kind", "mood", "sfx_role", "origin", "enabled"]
    list_editable = ["enabled"]
    search_fields = ["title", "tags"]
    ordering = ["kind", "title"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = LibraryItemAddForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        # The file was probed into these values; a new file is a new item.
        return ["kind", "file", "duration", "width", "height", "has_audio", "origin",
                "created_at", "updated_at"]

    def save_model(self, request, obj, form, change):
        if change:
            obj.save()

    def delete_model(self, request, obj):
        library_item_delete(item=obj)

    def delete_queryset(self, request, queryset):
        for item in queryset:
            library_item_delete(item=item)
