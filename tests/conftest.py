import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import api_key_create
from tests.factories import PASSWORD, UserFactory

ROOT = Path(__file__).resolve().parent.parent


def _seed_reference_data():
    """Transactional tests flush the database, data migrations included: put the plans back."""
    import importlib

    from django.apps import apps

    importlib.import_module("billing.migrations.0002_seed_tiers").seed(apps, None)
    importlib.import_module("billing.migrations.0004_quota_defaults_and_buckets").seed_quotas(
        apps, None)


@pytest.fixture(autouse=True)
def _reference_data(request):
    marker = request.node.get_closest_marker("django_db")
    if "transactional_db" in request.fixturenames or (
            marker is not None and marker.kwargs.get("transaction")):
        request.getfixturevalue("transactional_db")
        _seed_reference_data()


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api():
    return APIClient()


@dataclass
class World:
    owner: User
    other: User
    password: str = PASSWORD


@pytest.fixture
def world(db, django_capture_on_commit_callbacks) -> World:
    """The owner of the objects under test and another user who must never see them."""
    with django_capture_on_commit_callbacks(execute=True):
        owner = UserFactory(username="owner")
        other = UserFactory(username="other")
    return World(owner=owner, other=other)


def bearer(client: APIClient, user: User) -> APIClient:
    """Authenticate `client` as `user` with a fresh API key, the way API clients do."""
    _key, raw = api_key_create(user=user, name="tests")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def owner_api(world) -> APIClient:
    return bearer(APIClient(), world.owner)


@pytest.fixture
def other_api(world) -> APIClient:
    return bearer(APIClient(), world.other)


def assert_error(response, status: int, code: str | None = None) -> dict:
    """Every API error has one shape: error (sentence), code (snake_case), fields (dict)."""
    assert response.status_code == status, response.content
    body = response.json()
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["code"], str) and body["code"]
    assert isinstance(body["fields"], dict)
    if code is not None:
        assert body["code"] == code, body
    return body


# --- a real Celery worker ---------------------------------------------------------------------

def _worker_env(tmp_path: Path) -> dict:
    from django.conf import settings
    from django.db import connection

    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    env["CELERY_TASK_ALWAYS_EAGER"] = "false"
    env["REELFORGE_TEST_DB_NAME"] = str(connection.settings_dict["NAME"])
    env["REELFORGE_VAR_DIR"] = str(settings.VAR_DIR)
    return env


def start_worker(tmp_path: Path, *, queues: str, extra_env: dict | None = None):
    """Start a real `celery worker` process pointed at the test database; wait for its pong."""
    from config.celery import app

    env = _worker_env(tmp_path)
    env.update(extra_env or {})
    name = f"test-{os.getpid()}-{time.monotonic_ns()}@localhost"
    log = tmp_path / f"worker-{time.monotonic_ns()}.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "prefork",
         "--concurrency", "1", "-Q", queues, "--hostname", name, "--loglevel", "INFO",
         "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    worker = _LiveWorker(app=app, name=name, queue=queues, proc=proc, log=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"worker exited early:\n{log.read_text()}")
        if app.control.ping(destination=[name], timeout=1.0):
            return worker
    worker.stop()
    raise RuntimeError(f"worker did not answer ping:\n{log.read_text()}")


@pytest.fixture
def live_worker(transactional_db, tmp_path, settings):
    """A real worker on a private queue; tasks sent with the yielded app run in it."""
    from config.celery import app

    queue = f"test-{os.getpid()}-{time.monotonic_ns()}"
    previous = (app.conf.task_always_eager, app.conf.task_default_queue)
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    worker = start_worker(tmp_path, queues=queue)
    try:
        yield worker
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = previous
        worker.stop()


@pytest.fixture
def job_workers(transactional_db, tmp_path, settings):
    """Start real workers on the job queues (default, media, gpu); all are stopped after."""
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    started: list[_LiveWorker] = []

    def start(**env) -> _LiveWorker:
        worker = start_worker(tmp_path, queues="default,media,gpu",
                              extra_env={k: str(v) for k, v in env.items()})
        started.append(worker)
        return worker

    try:
        yield start
    finally:
        app.conf.task_always_eager = previous
        for worker in started:
            worker.stop()


@dataclass
class _LiveWorker:
    app: object
    name: str
    queue: str
    proc: subprocess.Popen
    log: Path

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def kill(self):
        """SIGKILL the whole worker (main process and pool) at once."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def pool_children(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True,
                             text=True)
        return [int(p) for p in out.stdout.split()]

    def wait_for(self, predicate, timeout: float = 30.0, interval: float = 0.1):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = predicate()
            if result:
                return result
            time.sleep(interval)
        raise AssertionError(
            f"condition not met in {timeout}s; worker log:\n{self.log.read_text()}")
