from django.contrib import admin, messages

from jobs.models import Job, WebhookDelivery
from jobs.services import job_cancel


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["public_id", "kind", "model", "engine", "owner", "status", "progress",
                    "stage", "cost", "attempts", "created_at"]
    list_filter = ["status", "kind", "queue", "engine"]
    search_fields = ["public_id", "owner__username", "owner__email", "model"]
    readonly_fields = [f.name for f in Job._meta.fields]
    list_select_related = ["owner"]
    actions = ["cancel"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Cancel selected jobs (refunds their credits)")
    def cancel(self, request, queryset):
        canceled = 0
        for job in queryset.filter(status__in=[Job.Status.QUEUED, Job.Status.PROCESSING]):
            job_cancel(job=job)
            canceled += 1
        messages.success(request, f"{canceled} job(s) canceled.")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["job", "event", "url", "status", "attempts", "last_status_code",
                    "next_attempt_at"]
    list_filter = ["status", "event"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]

    def has_add_permission(self, request):
        return False
