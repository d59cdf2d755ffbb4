from django.urls import path

from studio import api
from studio.stories import api as stories

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
    path("stories", stories.StoryListApi.as_view(), name="api-stories"),
    path("stories/templates", stories.FrameTemplatesApi.as_view(), name="api-story-templates"),
    path("stories/<int:story_id>", stories.StoryDetailApi.as_view(), name="api-story"),
    path("stories/<int:story_id>/resume", stories.StoryResumeApi.as_view(),
         name="api-story-resume"),
    path("stories/<int:story_id>/scenes/<int:index>/regenerate",
         stories.SceneRegenerateApi.as_view(), name="api-story-scene-regenerate"),
    path("studio/script-to-shots", api.ScriptToShotsApi.as_view(), name="api-script-to-shots"),
]
