from django.contrib import admin

from assets.models import Asset


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "origin", "owner", "mime", "size", "width", "height",
                    "duration", "created_at"]
    list_filter = ["kind", "origin"]
    search_fields = ["name", "original_filename", "owner__username", "sha256"]
    readonly_fields = [f.name for f in Asset._meta.fields]
    list_select_related = ["owner"]

    def has_add_permission(self, request):
        return False
