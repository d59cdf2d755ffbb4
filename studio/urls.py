from django.urls import path

from studio import api

P = "projects/<int:project_id>"

api_urlpatterns = [
    path("projects", api.ProjectListApi.as_view(), name="api-projects"),
    path(P, api.ProjectDetailApi.as_view(), name="api-project"),
    path(f"{P}/export", api.ProjectExportApi.as_view(), name="api-project-export"),
    path(f"{P}/duplicate", api.ProjectDuplicateApi.as_view(), name="api-project-duplicate"),
    path(f"{P}/shots", api.ShotListApi.as_view(), name="api-shots"),
    path(f"{P}/shots/reorder", api.ShotReorderApi.as_view(), name="api-shots-reorder"),
    path(f"{P}/shots/<int:shot_id>", api.ShotDetailApi.as_view(), name="api-shot"),
    path(f"{P}/shots/<int:shot_id>/generate", api.ShotGenerateApi.as_view(),
         name="api-shot-generate"),
    path(f"{P}/elements", api.ElementListApi.as_view(), name="api-elements"),
    path(f"{P}/elements/<int:element_id>", api.ElementDetailApi.as_view(), name="api-element"),
    path(f"{P}/comments", api.CommentListApi.as_view(), name="api-comments"),
    path(f"{P}/comments/<int:comment_id>", api.CommentDetailApi.as_view(), name="api-comment"),
    path("studio/script-to-shots", api.ScriptToShotsApi.as_view(), name="api-script-to-shots"),
]
