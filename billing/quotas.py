"""Daily API-call quotas per plan (`Tier.daily_api_calls`), reset at midnight UTC.

Counted in the Django cache (Redis when REDIS_URL is set) with `add` + `incr`, which are atomic
there, so concurrent requests on any number of web nodes share one count. Job-creating API
views attach the quota with

    throttle_classes = [*api_settings.DEFAULT_THROTTLE_CLASSES, DailyApiQuotaThrottle]

and then answer every call with `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`
(seconds until the reset); a call over the quota is a 429 with `Retry-After` as well and is
not counted. DRF asks every throttle of a view, so a call that the request-rate throttle
refuses is still counted here: the quota measures attempts, the rate limit bursts.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core.cache import cache
from django.utils import timezone
from rest_framework.throttling import BaseThrottle

from billing.models import Tier
from billing.services import credit_account_get
from core.errors import RateLimited


@dataclass(frozen=True)
class QuotaState:
    tier: str
    limit: int | None  # None: unlimited
    used: int
    reset_time: datetime
    now: datetime

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.used)

    @property
    def seconds_to_reset(self) -> int:
        return max(1, int((self.reset_time - self.now).total_seconds() + 0.999))

    def headers(self) -> dict[str, str]:
        if self.limit is None:
            return {}
        return {"RateLimit-Limit": str(self.limit), "RateLimit-Remaining": str(self.remaining),
                "RateLimit-Reset": str(self.seconds_to_reset)}

    def as_dict(self) -> dict:
        return {"tier": self.tier, "limit": self.limit, "used": self.used,
                "remaining": self.remaining, "reset_time": self.reset_time}


def _day_bounds(now: datetime) -> tuple[str, datetime]:
    now = now.astimezone(UTC)
    midnight = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
    return now.strftime("%Y%m%d"), midnight


def _key(user_id: int, day: str) -> str:
    return f"billing:api-quota:{user_id}:{day}"


def api_quota_status(*, user, tier: Tier | None = None,
                     now: datetime | None = None) -> QuotaState:
    """Today's quota of `user` (on `tier`, when the caller has it) without counting a call."""
    now = now or timezone.now()
    tier = tier or credit_account_get(user=user).tier
    day, reset = _day_bounds(now)
    used = cache.get(_key(user.pk, day), 0)
    if tier.daily_api_calls is not None:
        used = min(used, tier.daily_api_calls)
    return QuotaState(tier=tier.slug, limit=tier.daily_api_calls, used=used, reset_time=reset,
                      now=now)


def api_quota_consume(*, user, now: datetime | None = None) -> QuotaState:
    """Count one job-creating API call. Over the plan's daily quota: 429 `daily_quota_exceeded`
    with Retry-After and RateLimit-* headers, and the refused call is not counted."""
    now = now or timezone.now()
    tier = credit_account_get(user=user).tier
    day, reset = _day_bounds(now)
    key = _key(user.pk, day)
    # The key outlives its day by an hour so that a clock a little behind still finds it.
    cache.add(key, 0, timeout=int((reset - now).total_seconds()) + 3600)
    try:
        used = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.add(key, 1, timeout=int((reset - now).total_seconds()) + 3600)
        used = 1
    limit = tier.daily_api_calls
    if limit is not None and used > limit:
        cache.decr(key)
        state = QuotaState(tier=tier.slug, limit=limit, used=limit, reset_time=reset, now=now)
        raise RateLimited(
            f"Your {tier.name} plan allows {limit} API calls a day; the quota resets at "
            f"midnight UTC.",
            code="daily_quota_exceeded", retry_after=state.seconds_to_reset, limit=limit,
            reset_time=reset.isoformat().replace("+00:00", "Z"),
            headers={**state.headers(), "Retry-After": str(state.seconds_to_reset)})
    return QuotaState(tier=tier.slug, limit=limit, used=used, reset_time=reset, now=now)


class DailyApiQuotaThrottle(BaseThrottle):
    """DRF throttle for job-creating endpoints: counts the call against the plan's daily
    quota and puts the RateLimit-* headers on the response, refused or not."""

    def allow_request(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return True
        state = api_quota_consume(user=request.user)
        # APIView.finalize_response copies view.headers onto the response.
        view.headers.update(state.headers())
        return True


def job_creating_throttles() -> list:
    """The throttles of an endpoint that creates jobs: request rate plus the daily quota."""
    from rest_framework.settings import api_settings

    return [*api_settings.DEFAULT_THROTTLE_CLASSES, DailyApiQuotaThrottle]
