from django.urls import include, path

from studio import views

urlpatterns = [
    path("", include("studio.stories.page_urls")),
    path("studio/", views.projects_view, name="projects"),
    path("studio/<int:project_id>/", views.project_view, name="project"),
    path("studio/<int:project_id>/<str:action>/", views.project_action_view,
         name="project-action"),
    path("studio/<int:project_id>/shots/<int:shot_id>/<str:action>/", views.shot_action_view,
         name="shot-action"),
]
