"""A fake Stripe API: a real HTTP server on loopback that answers the calls Reelforge makes
(customers, Checkout Sessions, portal sessions) the way Stripe does, including replaying the
response to a repeated Idempotency-Key. Tests point the SDK at it with STRIPE_API_BASE."""

import json
import os
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

IDENTITY_PATH = "/__fake_stripe__"


@dataclass
class Call:
    method: str
    path: str
    params: dict
    idempotency_key: str | None


@dataclass
class FakeStripe:
    token: str = field(default_factory=lambda: secrets.token_hex(8))
    calls: list[Call] = field(default_factory=list)
    fail_next: tuple[int, dict] | None = None
    _replies: dict = field(default_factory=dict)
    _ids: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> "FakeStripe":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.path == IDENTITY_PATH:
                    return self._send(200, {"pid": os.getpid(), "token": fake.token})
                return self._send(404, _error("invalid_request_error", "No such route."))

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                params = dict(parse_qsl(self.rfile.read(length).decode()))
                key = self.headers.get("Idempotency-Key")
                if not (self.headers.get("Authorization") or "").startswith("Bearer sk_test_"):
                    return self._send(401, _error("invalid_request_error", "Invalid API Key."))
                with fake._lock:
                    fake.calls.append(Call("POST", self.path, params, key))
                    if key and (self.path, key) in fake._replies:
                        return self._send(*fake._replies[(self.path, key)])
                    if fake.fail_next is not None:
                        reply, fake.fail_next = fake.fail_next, None
                    else:
                        reply = fake._answer(self.path, params)
                    if key:
                        fake._replies[(self.path, key)] = reply
                return self._send(*reply)

            def _send(self, status: int, body: dict):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", f"req_{secrets.token_hex(6)}")
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def calls_to(self, path: str) -> list[Call]:
        return [c for c in self.calls if c.path == path]

    def _next_id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}_test_{self._ids:06d}"

    def _answer(self, path: str, params: dict) -> tuple[int, dict]:
        metadata = {k[len("metadata["):-1]: v for k, v in params.items()
                    if k.startswith("metadata[")}
        if path == "/v1/customers":
            return 200, {"id": self._next_id("cus"), "object": "customer",
                         "email": params.get("email"), "metadata": metadata}
        if path == "/v1/checkout/sessions":
            session_id = self._next_id("cs")
            return 200, {"id": session_id, "object": "checkout.session",
                         "mode": params.get("mode"), "customer": params.get("customer"),
                         "status": "open", "payment_status": "unpaid", "metadata": metadata,
                         "url": f"https://checkout.stripe.test/c/pay/{session_id}"}
        if path == "/v1/billing_portal/sessions":
            portal_id = self._next_id("bps")
            return 200, {"id": portal_id, "object": "billing_portal.session",
                         "customer": params.get("customer"),
                         "return_url": params.get("return_url"),
                         "url": f"https://billing.stripe.test/p/session/{portal_id}"}
        return 404, _error("invalid_request_error", f"Unrecognized request URL (POST: {path}).")


def _error(kind: str, message: str, code: str | None = None) -> dict:
    error = {"type": kind, "message": message}
    if code:
        error["code"] = code
    return {"error": error}
