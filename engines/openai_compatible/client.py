"""A client for any OpenAI-compatible server: chat (text or JSON), speech, transcription and
images. Plain Python (requests), no Django: the application passes the base URL, key and a
model name per capability.

Failures are EngineErrors with stable codes: `engine_unavailable` (unreachable, timeouts,
429/5xx after retries), `engine_rejected` (the server refused the request: 4xx), and
`engine_bad_output` (an answer we cannot use, such as invalid JSON when JSON was asked for).
"""

from __future__ import annotations

import base64
import json
import logging
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from engines.base import EngineError, EngineUnavailableError

logger = logging.getLogger(__name__)
RETRYABLE = {408, 409, 429, 500, 502, 503, 504}


@dataclass
class Transcript:
    text: str
    language: str | None = None
    duration: float | None = None
    segments: list[dict] = field(default_factory=list)  # {start, end, text}
    words: list[dict] = field(default_factory=list)  # {start, end, word}


class OpenAICompatibleClient:
    def __init__(self, *, base_url: str, api_key: str = "", chat_model: str = "",
                 speech_model: str = "", transcription_model: str = "", image_model: str = "",
                 timeout: float = 60.0, max_retries: int = 3, backoff: float = 1.0):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.models = {"chat": chat_model, "speech": speech_model,
                       "transcription": transcription_model, "image": image_model}
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.session = requests.Session()

    def supports(self, capability: str) -> bool:
        return bool(self.base_url and self.models.get(capability))

    # --- transport --------------------------------------------------------------------------

    def _post(self, path: str, *, json_body: dict | None = None, files=None, data=None,
              stream: bool = False) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        url = f"{self.base_url}/{path.lstrip('/')}"
        last_error = ""
        for attempt in range(self.max_retries + 1):
            try:
                response = self.session.post(url, json=json_body, files=files, data=data,
                                             headers=headers, timeout=self.timeout,
                                             stream=stream)
            except (requests.ConnectionError, requests.Timeout) as exc:
                last_error = f"{type(exc).__name__}"
            else:
                if response.status_code < 400:
                    return response
                if response.status_code not in RETRYABLE:
                    raise EngineError(
                        f"The AI server refused the request (HTTP {response.status_code}): "
                        f"{_error_text(response)}", code="engine_rejected",
                        detail={"status": response.status_code})
                last_error = f"HTTP {response.status_code}"
                retry_after = _retry_after(response)
                if attempt < self.max_retries and retry_after is not None:
                    time.sleep(min(retry_after, 30))
                    continue
            if attempt < self.max_retries:
                # Exponential backoff with jitter so many workers do not retry in step.
                time.sleep(self.backoff * (2 ** attempt) * (0.5 + random.random() / 2))  # noqa: S311
        raise EngineUnavailableError(
            f"The AI server at {self.base_url} is not answering ({last_error}).",
            code="engine_unavailable")

    # --- capabilities -----------------------------------------------------------------------

    def chat(self, messages: list[dict], *, temperature: float = 0.7,
             max_tokens: int | None = None) -> str:
        body = {"model": self.models["chat"], "messages": messages, "temperature": temperature}
        if max_tokens:
            body["max_tokens"] = max_tokens
        payload = self._post("chat/completions", json_body=body).json()
        try:
            return payload["choices"][0]["message"]["content"] or ""
        except (KeyError, IndexError, TypeError):
            raise EngineError("The AI server answered without a message.",
                              code="engine_bad_output") from None

    def chat_json(self, messages: list[dict], *, temperature: float = 0.2) -> dict | list:
        """A chat answer parsed as JSON (response_format json_object)."""
        body = {"model": self.models["chat"], "messages": messages, "temperature": temperature,
                "response_format": {"type": "json_object"}}
        payload = self._post("chat/completions", json_body=body).json()
        try:
            content = payload["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise EngineError("The AI server answered without a message.",
                              code="engine_bad_output") from None
        try:
            return json.loads(_strip_fences(content))
        except (TypeError, ValueError):
            raise EngineError("The AI server's answer was not valid JSON.",
                              code="engine_bad_output") from None

    def speech(self, text: str, *, voice: str, target: Path, speed: float = 1.0,
               response_format: str = "mp3") -> Path:
        response = self._post("audio/speech", json_body={
            "model": self.models["speech"], "input": text, "voice": voice, "speed": speed,
            "response_format": response_format}, stream=True)
        with target.open("wb") as out:
            for chunk in response.iter_content(64 * 1024):
                out.write(chunk)
        if target.stat().st_size == 0:
            raise EngineError("The AI server returned empty audio.", code="engine_bad_output")
        return target

    def transcribe(self, audio: Path, *, language: str | None = None,
                   word_timestamps: bool = True) -> Transcript:
        data = [("model", self.models["transcription"]), ("response_format", "verbose_json"),
                ("timestamp_granularities[]", "segment")]
        if word_timestamps:
            data.append(("timestamp_granularities[]", "word"))
        if language:
            data.append(("language", language))
        with audio.open("rb") as handle:
            payload = self._post("audio/transcriptions", data=data,
                                 files={"file": (audio.name, handle)}).json()
        if "text" not in payload:
            raise EngineError("The transcription had no text.", code="engine_bad_output")
        return Transcript(
            text=payload["text"], language=payload.get("language"),
            duration=payload.get("duration"),
            segments=[{"start": float(s["start"]), "end": float(s["end"]),
                       "text": s["text"].strip()} for s in payload.get("segments") or []],
            words=[{"start": float(w["start"]), "end": float(w["end"]), "word": w["word"]}
                   for w in payload.get("words") or []],
        )

    def images(self, prompt: str, *, size: str, n: int = 1) -> list[bytes]:
        payload = self._post("images/generations", json_body={
            "model": self.models["image"], "prompt": prompt, "size": size, "n": n,
            "response_format": "b64_json"}).json()
        try:
            return [base64.b64decode(item["b64_json"]) for item in payload["data"]]
        except (KeyError, TypeError, ValueError):
            raise EngineError("The AI server returned no image data.",
                              code="engine_bad_output") from None


def _error_text(response: requests.Response) -> str:
    try:
        body = response.json()
        message = body.get("error", {}).get("message") if isinstance(body, dict) else None
    except ValueError:
        message = None
    return (message or response.text or "")[:300]


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _strip_fences(content: str) -> str:
    text = (content or "").strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rsplit("```", 1)[0]
    return text
