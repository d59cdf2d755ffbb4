from django.urls import path

from jobs.views import job_detail_view
from media_tools import views

urlpatterns = [
    path("tools/", views.tools_view, name="tools"),
    path("audio/", views.audio_view, name="audio"),
    path("audio/<int:generation_id>/delete/", views.audio_delete_view, name="audio-delete"),
    path("jobs/<str:job_id>/", job_detail_view, name="job"),
]
