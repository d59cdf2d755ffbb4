from django import forms
from django.contrib import admin
from django.core.cache import cache

from generation.catalogue import MODELS
from generation.models import Generation, ModelOverride


@admin.register(Generation)
class GenerationAdmin(admin.ModelAdmin):
    list_display = ["id", "owner", "output_type", "model", "engine", "is_public",
                    "is_favorite", "created_at"]
    list_filter = ["output_type", "engine", "is_public"]
    search_fields = ["prompt", "owner__username", "model"]
    list_select_related = ["owner"]
    readonly_fields = ["owner", "job", "asset", "params", "engine", "model"]


class ModelOverrideForm(forms.ModelForm):
    model_id = forms.ChoiceField(choices=[(m, m) for m in MODELS])
    engine = forms.ChoiceField(choices=[("", "(default)"), ("preview", "preview"),
                                        ("comfyui", "comfyui")], required=False)

    class Meta:
        model = ModelOverride
        fields = ["model_id", "enabled", "engine", "workflow", "servers"]


@admin.register(ModelOverride)
class ModelOverrideAdmin(admin.ModelAdmin):
    form = ModelOverrideForm
    list_display = ["model_id", "enabled", "engine", "workflow", "updated_at"]
    list_editable = ["enabled"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        cache.delete("generation:model-overrides")

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        cache.delete("generation:model-overrides")
