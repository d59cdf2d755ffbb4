"""The Audio page: the generate-audio form, the history with players, delete."""

import os

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assets.models import Asset
from engines.ffmpeg import probe
from jobs.models import Job
from media_tools.models import AudioGeneration
from media_tools.services import audio_generate_submit
from tests.factories import PASSWORD
from tests.media_tools.conftest import balance

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client, world):
    client.login(username="owner", password=PASSWORD)
    return client


def queued(user, prompt: str, seconds: float = 5) -> AudioGeneration:
    return audio_generate_submit(user=user, data={"prompt": prompt,
                                                  "duration_seconds": seconds})


def test_the_audio_page_offers_the_form_and_only_your_tracks(logged_in, world):
    queued(world.owner, "owner's calm piano")
    queued(world.other, "someone else's drums")
    page = logged_in.get("/audio/").content.decode()
    for name in ("prompt", "duration_seconds", "tags"):
        assert f'name="{name}"' in page, name
    assert 'name="webhook"' not in page
    assert "owner&#x27;s calm piano" in page
    assert "someone else" not in page
    assert 'href="/audio/" aria-current="page">Audio</a>' in page


def test_the_form_generates_a_track_that_the_job_page_and_history_play(
        logged_in, world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        r = logged_in.post("/audio/", {"prompt": "rain on a tin roof",
                                       "duration_seconds": "3", "tags": "ambient, calm"})
    generation = AudioGeneration.objects.get(owner=world.owner)
    assert r.status_code == 302 and r["Location"] == f"/jobs/{generation.job.public_id}/"
    generation.refresh_from_db()
    assert generation.job.status == "completed", generation.job.error_message
    assert generation.tags == "ambient, calm" and generation.engine == "preview"
    assert probe(generation.asset.file.path).duration == pytest.approx(3, abs=0.2)
    assert balance(world.owner) == 150 - generation.job.cost
    job_page = logged_in.get(r["Location"]).content.decode()
    assert 'data-testid="status">completed' in job_page and "<audio" in job_page
    assert 'href="/audio/">← Audio' in job_page
    history = logged_in.get("/audio/").content.decode()
    assert f'src="/api/audio/{generation.asset.name}" data-testid="audio-player"' in history
    assert logged_in.get(f"/api/audio/{generation.asset.name}").status_code == 200


def test_bad_input_is_shown_on_the_page_and_nothing_is_queued(logged_in):
    r = logged_in.post("/audio/", {"prompt": "drums", "duration_seconds": "500"})
    assert r.status_code == 400
    page = r.content.decode()
    assert "duration_seconds:" in page and ">drums</textarea>" in page
    assert not Job.objects.exists()


def test_deleting_a_track_removes_it_and_its_file(logged_in, world,
                                                 django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        logged_in.post("/audio/", {"prompt": "bells", "duration_seconds": "2"})
    generation = AudioGeneration.objects.get(owner=world.owner)
    path = generation.asset.file.path
    assert os.path.exists(path)
    with django_capture_on_commit_callbacks(execute=True):
        r = logged_in.post(f"/audio/{generation.pk}/delete/")
    assert r.status_code == 302 and r["Location"] == "/audio/"
    assert not AudioGeneration.objects.exists()
    assert not Asset.objects.filter(pk=generation.asset_id).exists()
    assert not os.path.exists(path)


def test_deleting_a_queued_track_cancels_and_refunds_it(logged_in, world):
    generation = queued(world.owner, "drums", seconds=30)
    assert balance(world.owner) == 150 - 8
    logged_in.post(f"/audio/{generation.pk}/delete/", {"page": "1"})
    assert Job.objects.get(pk=generation.job_id).status == "canceled"
    assert balance(world.owner) == 150


def test_someone_elses_track_is_404_and_kept(logged_in, world):
    generation = queued(world.other, "not yours")
    assert logged_in.post(f"/audio/{generation.pk}/delete/").status_code == 404
    assert AudioGeneration.objects.filter(pk=generation.pk).exists()
    assert logged_in.get(f"/audio/{generation.pk}/delete/").status_code == 405


def test_anonymous_visitors_are_sent_to_log_in(client, world):
    generation = queued(world.owner, "mine")
    assert client.get("/audio/")["Location"].startswith("/login")
    assert client.post(f"/audio/{generation.pk}/delete/")["Location"].startswith("/login")
    assert AudioGeneration.objects.filter(pk=generation.pk).exists()


def test_the_history_is_paginated_at_a_fixed_number_of_queries(logged_in, world):
    for n in range(23):
        queued(world.owner, f"track number {n:02d}", seconds=1)
    with CaptureQueriesContext(connection) as queries:
        first = logged_in.get("/audio/").content.decode()
    # session, user, credit account (navigation), count, one page of tracks with jobs and files
    assert len(queries) <= 5, [q["sql"] for q in queries]
    assert first.count('id="audio-') == 20 and "track number 22" in first
    assert "Page 1 of 2" in first and "track number 02" not in first
    second = logged_in.get("/audio/?page=2").content.decode()
    assert second.count('id="audio-') == 3 and "track number 00" in second
