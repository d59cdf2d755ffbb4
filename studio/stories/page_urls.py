from django.urls import path

from studio.stories import views

urlpatterns = [
    path("stories/", views.stories_view, name="stories"),
    path("stories/new/", views.story_new_view, name="story-new"),
    path("stories/<int:story_id>/", views.story_view, name="story"),
    path("stories/<int:story_id>/<str:action>/", views.story_action_view,
         name="story-action"),
]
