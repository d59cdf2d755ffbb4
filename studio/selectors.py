from django.db.models import Count, Prefetch, QuerySet

from core.errors import NotFound
from studio.models import Comment, Element, Project, Shot


def project_list_for_user(*, user) -> QuerySet[Project]:
    return (Project.objects.filter(owner=user).annotate(shot_count=Count("shots"))
            .order_by("-updated_at", "-id"))


def project_get_for_user(*, user, project_id, detail: bool = False) -> Project:
    """The user's project; someone else's is a 404."""
    qs = Project.objects.filter(owner=user, pk=project_id)
    if detail:
        qs = qs.select_related("music").prefetch_related(
            Prefetch("shots", queryset=Shot.objects.select_related(
                "asset__thumbnail", "audio", "generation__job").order_by("position", "id")),
            "elements")
    project = qs.first()
    if project is None:
        raise NotFound("Project not found.")
    return project


def shot_get(*, project: Project, shot_id) -> Shot:
    shot = Shot.objects.filter(project=project, pk=shot_id).first()
    if shot is None:
        raise NotFound("Shot not found.")
    return shot


def element_get(*, project: Project, element_id) -> Element:
    element = Element.objects.filter(project=project, pk=element_id).first()
    if element is None:
        raise NotFound("Element not found.")
    return element


def comment_get(*, project: Project, comment_id) -> Comment:
    comment = Comment.objects.filter(project=project, pk=comment_id).first()
    if comment is None:
        raise NotFound("Comment not found.")
    return comment


def project_covers(*, projects: list[Project]) -> dict[int, Shot]:
    """The first shot with a video, per project: one query for a page of projects."""
    covers: dict[int, Shot] = {}
    shots = (Shot.objects.filter(project__in=projects, asset__isnull=False)
             .select_related("asset__thumbnail").order_by("project_id", "position", "id"))
    for shot in shots:
        covers.setdefault(shot.project_id, shot)
    return covers
