import hmac

from django.db.models import QuerySet

from assets.models import Asset
from core.errors import NotFound


def asset_get_for_user(*, user, name: str, kinds: tuple[str, ...] | None = None) -> Asset:
    """The user's asset with this opaque name; anything else (someone else's, a path) is 404."""
    qs = Asset.objects.filter(owner=user, name=str(name)[:64])
    if kinds:
        qs = qs.filter(kind__in=kinds)
    asset = qs.select_related("thumbnail").first()
    if asset is None:
        raise NotFound("File not found.")
    return asset


def asset_get_readable(*, user, name: str, token: str | None,
                       kinds: tuple[str, ...] | None = None) -> Asset:
    """For downloads: the owner, or anyone with the asset's share token."""
    qs = Asset.objects.filter(name=str(name)[:64])
    if kinds:
        qs = qs.filter(kind__in=kinds)
    asset = qs.first()
    if asset is None:
        raise NotFound("File not found.")
    if user is not None and user.is_authenticated and asset.owner_id == user.pk:
        return asset
    if token and asset.share_token and hmac.compare_digest(asset.share_token, token):
        return asset
    raise NotFound("File not found.")


def asset_list_for_user(*, user, kind: str | None = None) -> QuerySet[Asset]:
    qs = Asset.objects.filter(owner=user)
    return qs.filter(kind=kind) if kind else qs
