from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import ApiKey, User
from accounts.services import api_key_revoke


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "email", "display_name", "is_active", "is_staff", "date_joined"]
    search_fields = ["username", "email", "display_name"]
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        ("Profile", {"fields": ["display_name", "bio", "avatar", "profile_public", "theme"]}),
    ]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "user", "is_active", "created_at", "last_used"]
    list_filter = ["is_active"]
    search_fields = ["name", "prefix", "user__username", "user__email"]
    readonly_fields = ["user", "prefix", "is_active", "created_at", "last_used", "revoked_at"]
    fields = ["user", "name", "prefix", "is_active", "created_at", "last_used", "revoked_at"]
    actions = ["revoke"]
    list_select_related = ["user"]

    def has_add_permission(self, request):
        return False  # keys are created by their owners, who alone see the secret

    @admin.action(description="Revoke selected keys")
    def revoke(self, request, queryset):
        for key in queryset.filter(is_active=True):
            api_key_revoke(key=key)
        messages.success(request, "The selected keys were revoked.")
