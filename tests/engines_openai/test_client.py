import subprocess

import pytest

from engines.base import EngineError, EngineUnavailableError
from engines.openai_compatible import OpenAICompatibleClient
from tests.fakes.openai_server import FakeOpenAI


@pytest.fixture
def fake():
    with FakeOpenAI() as server:
        yield server


def client_for(fake, **kw) -> OpenAICompatibleClient:
    options = {"chat_model": "gpt-test", "speech_model": "tts-test",
               "transcription_model": "whisper-test", "image_model": "img-test",
               "backoff": 0.01, "timeout": 5}
    options.update(kw)
    options.setdefault("api_key", fake.api_key)
    return OpenAICompatibleClient(base_url=fake.base_url, **options)


def test_chat_returns_the_assistant_message(fake):
    assert client_for(fake).chat([{"role": "user", "content": "a fox"}]) == "Enhanced: a fox"
    sent = fake.requests[0]
    assert sent["headers"]["Authorization"] == "Bearer sk-test"


def test_chat_json_parses_structured_output(fake):
    fake.chat_json = lambda messages: {"shots": [{"prompt": "one"}, {"prompt": "two"}]}
    result = client_for(fake).chat_json([{"role": "user", "content": "split"}])
    assert [s["prompt"] for s in result["shots"]] == ["one", "two"]


def test_chat_json_accepts_fenced_json_and_refuses_invalid_json(fake):
    fake.chat_raw = '```json\n{"ok": true}\n```'
    assert client_for(fake).chat_json([{"role": "user", "content": "x"}]) == {"ok": True}
    fake.chat_raw = "{broken"
    with pytest.raises(EngineError) as exc:
        client_for(fake).chat_json([{"role": "user", "content": "x"}])
    assert exc.value.code == "engine_bad_output"


def test_retries_429_and_500_then_succeeds(fake):
    fake.fail_next = [429, 500]
    assert client_for(fake, max_retries=3).chat([{"role": "user", "content": "x"}])
    assert len(fake.requests) == 3


def test_gives_up_after_retries_with_engine_unavailable(fake):
    fake.fail_next = [503] * 10
    with pytest.raises(EngineUnavailableError):
        client_for(fake, max_retries=2).chat([{"role": "user", "content": "x"}])
    assert len(fake.requests) == 3


def test_client_errors_are_not_retried(fake):
    with pytest.raises(EngineError) as exc:
        client_for(fake, api_key="wrong").chat([{"role": "user", "content": "x"}])
    assert exc.value.code == "engine_rejected" and "Incorrect API key" in exc.value.message
    assert len(fake.requests) == 1


def test_unreachable_server_is_engine_unavailable():
    client = OpenAICompatibleClient(base_url="http://127.0.0.1:9/v1", chat_model="m",
                                    max_retries=1, backoff=0.01, timeout=1)
    with pytest.raises(EngineUnavailableError):
        client.chat([{"role": "user", "content": "x"}])


def test_timeouts_are_enforced(fake):
    fake.delay = 2.0
    with pytest.raises(EngineUnavailableError):
        client_for(fake, timeout=0.5, max_retries=0).chat([{"role": "user", "content": "x"}])


def test_speech_writes_real_audio(fake, tmp_path):
    path = client_for(fake).speech("Hello there, this is narration.", voice="alloy",
                                   target=tmp_path / "speech.mp3")
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration",
                            "-of", "csv=p=0", str(path)], capture_output=True, text=True)
    assert float(probe.stdout) > 1.0


def test_transcription_gives_segments_and_word_timings(fake, tmp_path):
    audio = tmp_path / "a.wav"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i",
                    "sine=frequency=300:duration=3", str(audio)], check=True)
    transcript = client_for(fake).transcribe(audio, language="en")
    assert transcript.text == fake.transcript_text
    assert len(transcript.words) == 6 and transcript.words[-1]["end"] == pytest.approx(3, 0.05)
    assert transcript.segments[0]["start"] == 0.0
    assert all(w["start"] < w["end"] for w in transcript.words)


def test_images_decode_to_png(fake):
    images = client_for(fake).images("a cat", size="64x32", n=2)
    assert len(images) == 2 and all(img.startswith(b"\x89PNG") for img in images)


def test_supports_reports_configured_capabilities(fake):
    client = client_for(fake, image_model="")
    assert client.supports("chat") and not client.supports("image")
