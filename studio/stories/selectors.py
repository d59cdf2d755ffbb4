from django.db.models import QuerySet

from core.errors import NotFound
from studio.models import Story


def story_list_for_user(*, user) -> QuerySet[Story]:
    return (Story.objects.filter(owner=user).select_related("job", "video")
            .order_by("-created_at", "-id"))


def story_get_for_user(*, user, story_id) -> Story:
    story = (Story.objects.filter(owner=user, pk=story_id)
             .select_related("job", "video", "subtitles", "project")
             .prefetch_related("scenes__speech", "scenes__visual").first())
    if story is None:
        raise NotFound("Story not found.")
    return story
