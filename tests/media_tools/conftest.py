import pytest

from assets.services import asset_create_from_path
from billing.models import CreditAccount, Tier
from billing.services import tier_set
from engines.ffmpeg import probe
from engines.registry import configure
from jobs.models import Job
from tests.engines.media import make_audio, make_video
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.stock_server import FakeStock


def stored(user, path, kind: str):
    info = probe(path)
    return asset_create_from_path(owner=user, path=path, kind=kind,
                                  extension=path.suffix.lstrip("."), origin="upload", info=info)


@pytest.fixture
def media(tmp_path):
    """Makes small real files and stores them as someone's assets."""

    class Media:
        def video(self, user, *, seconds=1.0, size="160x96", rate=12, audio=True, name="v"):
            path = make_video(tmp_path / f"{name}-{seconds}-{size}-{rate}-{audio}.mp4",
                              seconds=seconds, size=size, rate=rate, audio=audio)
            return stored(user, path, "video")

        def audio(self, user, *, seconds=0.5):
            return stored(user, make_audio(tmp_path / f"a-{seconds}.wav", seconds=seconds),
                          "audio")

        def srt(self, user, text: str):
            path = tmp_path / "subs.srt"
            path.write_text(text, encoding="utf-8")
            return asset_create_from_path(owner=user, path=path, kind="subtitle",
                                          extension="srt")

    return Media()


@pytest.fixture
def run_jobs(django_capture_on_commit_callbacks):
    """Submit inside this context and the job runs inline when the request commits."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def balance(user) -> int:
    return CreditAccount.objects.get(user=user).balance


def finished(response) -> Job:
    assert response.status_code == 202, response.content
    job = Job.objects.get(public_id=response.json()["job_id"])
    assert job.status == "completed", (job.error_code, job.error_message)
    return job


def on_plan(user, slug: str) -> None:
    tier_set(user=user, tier=Tier.objects.get(slug=slug))


@pytest.fixture
def llm():
    with FakeOpenAI() as server:
        configure(openai={"base_url": server.base_url, "api_key": server.api_key,
                          "chat_model": "gpt-test", "speech_model": "tts-test",
                          "transcription_model": "whisper-test", "timeout": 10})
        yield server
    configure(openai={})


@pytest.fixture
def fake_stock(settings):
    """The fake Pexels and Pixabay server, with both keys configured and loopback allowed."""
    with FakeStock() as server:
        settings.PEXELS_API_KEY = server.pexels_key
        settings.PIXABAY_API_KEY = server.pixabay_key
        settings.PEXELS_API_URL = server.pexels_url
        settings.PIXABAY_API_URL = server.pixabay_url
        settings.STOCK_ALLOW_PRIVATE = True
        settings.STOCK_TIMEOUT = 5
        settings.STOCK_DOWNLOAD_TIMEOUT = 10
        yield server
