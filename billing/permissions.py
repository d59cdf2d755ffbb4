from billing.models import FeatureGate
from billing.services import credit_account_get
from core.errors import TierRequired


def tier_require(*, user, feature: str) -> None:
    """Raise 403 `tier_required` unless the user's plan includes `feature`."""
    gate = FeatureGate.objects.select_related("min_tier").filter(code=feature).first()
    if gate is None:
        return
    account = credit_account_get(user=user)
    if account.tier.rank < gate.min_tier.rank:
        raise TierRequired(
            f"{gate.name} needs the {gate.min_tier.name} plan or higher.",
            required_tier=gate.min_tier.slug, current_tier=account.tier.slug,
        )


class TierFeaturePermission:
    """DRF permission gate: `permission_classes = [IsAuthenticated,
    TierFeaturePermission.for_("tts")]`. A plan below the gate's minimum is a 403
    `{"code": "tier_required", "required_tier": ..., "current_tier": ...}`; the gates are
    data (FeatureGate rows, editable in admin)."""

    feature = ""

    @classmethod
    def for_(cls, feature: str):
        return type(f"TierFeature_{feature}", (cls,), {"feature": feature})

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False  # DRF answers 401
        tier_require(user=request.user, feature=self.feature)
        return True

    def has_object_permission(self, request, view, obj) -> bool:
        return True
