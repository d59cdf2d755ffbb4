"""A fake OpenAI-compatible server on loopback, speaking the real API's shapes: chat
completions (text and json_object), audio/speech, audio/transcriptions (verbose_json with
segments and words) and images/generations (b64_json). Tests script its answers and failures.
"""

import base64
import email.parser
import email.policy
import io
import json
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from PIL import Image


class FakeOpenAI:
    def __init__(self, *, api_key: str = "sk-test"):
        self.api_key = api_key
        self.requests: list[dict] = []
        self.fail_next: list[int] = []  # statuses to answer before behaving
        self.delay = 0.0
        self.chat_text = lambda messages: "Enhanced: " + messages[-1]["content"]
        self.chat_json = lambda messages: {"echo": messages[-1]["content"]}
        self.chat_raw: str | None = None  # when set, sent as the content whatever was asked
        self.transcript_text = "hello world from the fake transcriber"
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, body: bytes, ctype="application/json", headers=None):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def _json(self, status, obj, headers=None):
                self._send(status, json.dumps(obj).encode(), headers=headers)

            def _error(self, status, message, code="invalid_request_error"):
                self._json(status, {"error": {"message": message, "type": code, "code": code}},
                           headers={"Retry-After": "0"} if status == 429 else None)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                server.requests.append({"path": self.path, "headers": dict(self.headers),
                                        "body": raw})
                if server.delay:
                    time.sleep(server.delay)
                if server.api_key and self.headers.get("Authorization") != (
                        f"Bearer {server.api_key}"):
                    return self._error(401, "Incorrect API key provided.", "invalid_api_key")
                if server.fail_next:
                    status = server.fail_next.pop(0)
                    return self._error(status, f"Simulated HTTP {status}.", "simulated")
                routes = {"/v1/chat/completions": self._chat, "/v1/audio/speech": self._speech,
                          "/v1/audio/transcriptions": self._transcribe,
                          "/v1/images/generations": self._images}
                handler = routes.get(self.path)
                if handler is None:
                    return self._error(404, f"Unknown path {self.path}.", "not_found")
                return handler(raw)

            def _chat(self, raw):
                body = json.loads(raw or b"{}")
                messages = body.get("messages")
                if not body.get("model") or not isinstance(messages, list) or not messages:
                    return self._error(400, "'model' and 'messages' are required.")
                if server.chat_raw is not None:
                    content = server.chat_raw
                elif (body.get("response_format") or {}).get("type") == "json_object":
                    content = json.dumps(server.chat_json(messages))
                else:
                    content = server.chat_text(messages)
                self._json(200, {
                    "id": "chatcmpl-fake", "object": "chat.completion", "model": body["model"],
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": content}}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})

            def _speech(self, raw):
                body = json.loads(raw or b"{}")
                text = body.get("input") or ""
                if not text or not body.get("voice"):
                    return self._error(400, "'input' and 'voice' are required.")
                fmt = body.get("response_format", "mp3")
                seconds = max(0.5, len(text) * 0.06 / float(body.get("speed") or 1.0))
                with tempfile.TemporaryDirectory() as tmp:
                    out = Path(tmp) / f"speech.{fmt}"
                    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-f",
                                    "lavfi", "-i", f"sine=frequency=220:duration={seconds:.2f}",
                                    str(out)], check=True, timeout=30)
                    data = out.read_bytes()
                self._send(200, data, "audio/mpeg" if fmt == "mp3" else f"audio/{fmt}")

            def _transcribe(self, raw):
                message = email.parser.BytesParser(policy=email.policy.default).parsebytes(
                    b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + raw)
                fields, audio = {}, None
                for part in message.iter_parts():
                    name = part.get_param("name", header="content-disposition")
                    if name == "file":
                        audio = part.get_payload(decode=True)
                    else:
                        fields.setdefault(name, []).append(part.get_content().strip())
                if not audio or not fields.get("model"):
                    return self._error(400, "'file' and 'model' are required.")
                with tempfile.NamedTemporaryFile(suffix=".bin") as tmp:
                    tmp.write(audio)
                    tmp.flush()
                    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries",
                                            "format=duration", "-of", "csv=p=0", tmp.name],
                                           capture_output=True, text=True, timeout=30)
                try:
                    duration = float(probe.stdout.strip())
                except ValueError:
                    return self._error(400, "Invalid audio file.")
                words = server.transcript_text.split()
                step = duration / max(1, len(words))
                word_items = [{"word": w, "start": round(i * step, 3),
                               "end": round((i + 1) * step, 3)} for i, w in enumerate(words)]
                half = max(1, len(words) // 2)
                segments = [
                    {"id": 0, "start": 0.0, "end": round(half * step, 3),
                     "text": " ".join(words[:half])},
                    {"id": 1, "start": round(half * step, 3), "end": round(duration, 3),
                     "text": " ".join(words[half:])},
                ]
                self._json(200, {"task": "transcribe", "language": (fields.get("language") or
                                                                    ["english"])[0],
                                 "duration": duration, "text": server.transcript_text,
                                 "segments": [s for s in segments if s["text"]],
                                 "words": word_items})

            def _images(self, raw):
                body = json.loads(raw or b"{}")
                try:
                    width, height = (int(v) for v in body.get("size", "256x256").split("x"))
                except ValueError:
                    return self._error(400, "Invalid size.")
                images = []
                for index in range(int(body.get("n") or 1)):
                    out = io.BytesIO()
                    Image.new("RGB", (width, height), (40 * index % 255, 90, 160)).save(
                        out, format="PNG")
                    images.append({"b64_json": base64.b64encode(out.getvalue()).decode()})
                self._json(200, {"created": int(time.time()), "data": images})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
