from datetime import timedelta

import pytest
from django.utils import timezone

from jobs.models import Job
from tests.conftest import assert_error
from tests.generation.test_history_api import finished

pytestmark = pytest.mark.django_db


def test_usage_by_day_and_summary(owner_api, world):
    a = finished(world.owner)
    b = finished(world.owner)
    finished(world.other)
    yesterday = timezone.now() - timedelta(days=1)
    Job.objects.filter(pk=b.job.pk).update(finished_at=yesterday)
    body = owner_api.get("/api/analytics/usage").json()
    assert len(body["days"]) == 30
    today, previous = body["days"][-1], body["days"][-2]
    assert today["generations"] == {"generate_video": 1} and today["total"] == 1
    assert today["credits_spent"] == a.job.cost
    assert previous["total"] == 1
    summary = owner_api.get("/api/analytics/summary").json()
    assert summary["total_generations"] == 2 and summary["videos"] == 2
    assert summary["favourite_model"] == "wan-t2v" and summary["video_minutes"] > 0
    assert summary["credits_spent"] == a.job.cost + b.job.cost


def test_usage_date_range_is_validated(owner_api):
    assert "start" in assert_error(owner_api.get(
        "/api/analytics/usage?start=2026-05-02&end=2026-05-01"), 400)["fields"]
    assert "start" in assert_error(owner_api.get(
        "/api/analytics/usage?start=2020-01-01&end=2026-05-01"), 400)["fields"]
    body = owner_api.get("/api/analytics/usage?start=2026-05-01&end=2026-05-03").json()
    assert [d["date"] for d in body["days"]] == ["2026-05-01", "2026-05-02", "2026-05-03"]


def test_analytics_need_credentials(api):
    assert_error(api.get("/api/analytics/usage"), 401)
    assert_error(api.get("/api/analytics/summary"), 401)


def test_usage_page_draws_the_charts(client, world):
    from tests.factories import PASSWORD

    finished(world.owner)
    client.login(username="owner", password=PASSWORD)
    html = client.get("/usage/").content.decode()
    assert "Credits spent per day" in html and html.count('class="bar"') == 30
    assert "wan-t2v" in html
