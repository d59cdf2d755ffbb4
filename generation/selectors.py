from django.db.models import QuerySet

from core.errors import NotFound
from generation.models import Generation


def generation_list_for_user(*, user, output_type: str) -> QuerySet[Generation]:
    return (Generation.objects.filter(owner=user, output_type=output_type)
            .select_related("job", "asset__thumbnail").order_by("-created_at", "-id"))


def generation_get_for_user(*, user, generation_id, output_type: str | None = None) -> Generation:
    qs = Generation.objects.filter(owner=user, pk=generation_id).select_related(
        "job", "asset__thumbnail")
    if output_type:
        qs = qs.filter(output_type=output_type)
    generation = qs.first()
    if generation is None:
        raise NotFound("Generation not found.")
    return generation


def generation_get_shared(*, token: str) -> Generation:
    generation = (Generation.objects.filter(asset__share_token=token)
                  .select_related("owner", "asset__thumbnail").first()) if token else None
    if generation is None:
        raise NotFound("This share link is not valid.")
    return generation


def generation_list_public() -> QuerySet[Generation]:
    return (Generation.objects.filter(is_public=True, asset__isnull=False)
            .select_related("owner", "asset__thumbnail").order_by("-created_at", "-id"))


def generation_get_public(*, generation_id) -> Generation:
    generation = generation_list_public().filter(pk=generation_id).first()
    if generation is None:
        raise NotFound("Not found.")
    return generation
