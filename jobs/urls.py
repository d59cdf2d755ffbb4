from django.urls import path

from jobs import api

api_urlpatterns = [
    path("status", api.StatusApi.as_view(), name="api-status"),
    path("status/<str:job_id>", api.StatusDetailApi.as_view(), name="api-status-detail"),
    path("cancel", api.CancelApi.as_view(), name="api-cancel"),
    path("queue", api.QueueApi.as_view(), name="api-queue"),
    path("jobs/<str:job_id>/events", api.JobEventsApi.as_view(), name="api-job-events"),
    path("webhooks/secret", api.WebhookSecretApi.as_view(), name="api-webhook-secret"),
]
