from django.urls import path

from generation import views

urlpatterns = [
    path("generate/", views.generate_view, name="generate"),
    path("generate/image/", views.generate_image_view, name="generate-image"),
    path("videos/", views.videos_view, name="videos"),
    path("images/", views.images_view, name="images"),
    path("gallery/", views.gallery_view, name="gallery"),
    path("usage/", views.usage_view, name="usage"),
    path("generations/<int:generation_id>/", views.generation_detail_view,
         name="generation-detail"),
    path("generations/<int:generation_id>/<str:action>/", views.generation_action_view,
         name="generation-action"),
]
