from django.urls import path

from generation import api

api_urlpatterns = [
    path("models", api.ModelsApi.as_view(), name="api-models"),
    path("image-models", api.ImageModelsApi.as_view(), name="api-image-models"),
    path("generation-cost", api.GenerationCostApi.as_view(), name="api-generation-cost"),
    path("generate", api.GenerateApi.as_view(), name="api-generate"),
    path("generate-image", api.GenerateImageApi.as_view(), name="api-generate-image"),
    path("extend-video", api.ExtendVideoApi.as_view(), name="api-extend-video"),
    path("generate-v2v", api.GenerateV2VApi.as_view(), name="api-generate-v2v"),
    path("generations", api.GenerationListApi.as_view(), name="api-generations"),
    path("generations/<int:generation_id>", api.GenerationDetailApi.as_view(),
         name="api-generation"),
    path("generations/<int:generation_id>/favorite", api.FavoriteApi.as_view(),
         name="api-generation-favorite"),
    path("generations/<int:generation_id>/share", api.ShareApi.as_view(),
         name="api-generation-share"),
    path("generations/<int:generation_id>/public", api.PublicToggleApi.as_view(),
         name="api-generation-public"),
    path("image-generations", api.ImageGenerationListApi.as_view(),
         name="api-image-generations"),
    path("image-generations/<int:generation_id>", api.ImageGenerationDetailApi.as_view(),
         name="api-image-generation"),
    path("share/<str:token>", api.SharedApi.as_view(), name="api-share"),
    path("gallery/community", api.GalleryApi.as_view(), name="api-gallery"),
    path("upload-image", api.UploadImageApi.as_view(), name="api-upload-image"),
    path("video/<str:filename>", api.VideoDownloadApi.as_view(), name="api-video"),
    path("image/<str:filename>", api.ImageDownloadApi.as_view(), name="api-image"),
    path("audio/<str:filename>", api.AudioDownloadApi.as_view(), name="api-audio"),
    path("input-image/<str:filename>", api.ImageDownloadApi.as_view(), name="api-input-image"),
    path("files/<str:filename>", api.DownloadApi.as_view(), name="api-file"),
]
