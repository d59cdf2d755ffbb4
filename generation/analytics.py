"""Usage analytics from the job and generation records: per-day activity and totals."""

from datetime import date, timedelta

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from assets.models import Asset
from generation.models import Generation
from jobs.models import Job

MAX_DAYS = 366


def usage_by_day(*, user, start: date, end: date) -> list[dict]:
    """One row per day in [start, end]: jobs by kind (completed), credits spent."""
    jobs = (Job.objects.filter(owner=user, status=Job.Status.COMPLETED,
                               finished_at__date__gte=start, finished_at__date__lte=end)
            .annotate(day=TruncDate("finished_at"))
            .values("day", "kind").annotate(count=Count("id"), credits=Sum("credits_charged")))
    days: dict[date, dict] = {}
    current = start
    while current <= end:
        days[current] = {"date": current.isoformat(), "generations": {}, "credits_spent": 0}
        current += timedelta(days=1)
    for row in jobs:
        entry = days.get(row["day"])
        if entry is None:
            continue
        entry["generations"][row["kind"]] = row["count"]
        entry["credits_spent"] += row["credits"] or 0
    for entry in days.values():
        entry["total"] = sum(entry["generations"].values())
    return list(days.values())


def usage_summary(*, user) -> dict:
    gens = Generation.objects.filter(owner=user, job__status=Job.Status.COMPLETED)
    counts = gens.aggregate(videos=Count("id", filter=Q(output_type="video")),
                            images=Count("id", filter=Q(output_type="image")))
    seconds = (Asset.objects.filter(owner=user, kind="video", origin="output")
               .aggregate(s=Sum("duration"))["s"] or 0)
    favourite = (gens.values("model").annotate(n=Count("id")).order_by("-n", "model").first())
    jobs = Job.objects.filter(owner=user)
    totals = jobs.aggregate(completed=Count("id", filter=Q(status=Job.Status.COMPLETED)),
                            failed=Count("id", filter=Q(status=Job.Status.FAILED)),
                            credits=Sum("credits_charged"))
    return {
        "total_generations": counts["videos"] + counts["images"],
        "videos": counts["videos"], "images": counts["images"],
        "video_minutes": round(seconds / 60, 2),
        "favourite_model": favourite["model"] if favourite else None,
        "jobs_completed": totals["completed"], "jobs_failed": totals["failed"],
        "credits_spent": totals["credits"] or 0,
    }


def default_range() -> tuple[date, date]:
    today = timezone.now().date()
    return today - timedelta(days=29), today
