"""The HTTP routes and the websocket endpoint of the fake ComfyUI server."""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import json
import mimetypes
import secrets
import socket
import threading
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlparse

from websockets.frames import Opcode
from websockets.http11 import Request
from websockets.server import ServerProtocol

if TYPE_CHECKING:
    from tests.fakes.comfyui_server import FakeComfyUI


class WebSocketConn:
    """One websocket connection, driven with websockets' sans-I/O protocol over the socket
    that http.server accepted (so HTTP and `/ws` share one port, as in ComfyUI)."""

    def __init__(self, conn: socket.socket, protocol: ServerProtocol, client_id: str):
        self.conn, self.protocol, self.client_id = conn, protocol, client_id
        self.lock = threading.Lock()
        self.open = True

    def send_json(self, payload: dict) -> None:
        self._send(lambda: self.protocol.send_text(json.dumps(payload).encode()))

    def send_binary(self, data: bytes) -> None:
        self._send(lambda: self.protocol.send_binary(data))

    def _send(self, build) -> None:
        with self.lock:
            if not self.open:
                return
            try:
                build()
                self._flush()
            except Exception:  # a closed connection; the reader thread cleans up
                self.open = False

    def _flush(self) -> None:
        for chunk in self.protocol.data_to_send():
            if chunk:
                self.conn.sendall(chunk)

    def serve(self, fake: FakeComfyUI, rfile) -> None:
        """Read client frames until the connection ends (ComfyUI answers `feature_flags`)."""
        fake.add_socket(self)
        try:
            while self.open:
                data = rfile.read1(65536)
                if not data:
                    break
                with self.lock:
                    self.protocol.receive_data(data)
                    events = self.protocol.events_received()
                    self._flush()
                for event in events:
                    if event.opcode == Opcode.CLOSE:
                        return
                    if event.opcode == Opcode.TEXT:
                        self._on_text(event.data)
        except OSError:
            pass
        finally:
            self.open = False
            fake.remove_socket(self)

    def _on_text(self, data: bytes) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            return
        if message.get("type") == "feature_flags":
            self.send_json({"type": "feature_flags", "data": {
                "supports_preview_metadata": True, "max_upload_size": 104857600}})

    def cut(self) -> None:
        """Drop the TCP connection without a close frame, like a crashed server."""
        self.open = False
        with contextlib.suppress(OSError):
            self.conn.shutdown(socket.SHUT_RDWR)


def make_handler(fake: FakeComfyUI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "Python/3.11 aiohttp/3.14.5"

        def log_message(self, *args):
            pass

        # --- helpers --------------------------------------------------------------------
        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _json_body(self) -> dict:
            raw = self._body()
            try:
                return json.loads(raw) if raw else {}
            except ValueError:
                return {}

        def _send(self, status: int, body: bytes = b"", ctype: str | None = None,
                  headers: dict | None = None) -> None:
            self.send_response(status)
            if ctype:
                self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if body and self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, payload, status: int = 200) -> None:
            self._send(status, json.dumps(payload).encode(), "application/json; charset=utf-8")

        # --- routes -----------------------------------------------------------------------
        def do_GET(self):
            url = urlparse(self.path)
            path, query = url.path.removeprefix("/api") or "/", parse_qs(url.query)
            fake.requests.append(("GET", path))
            if path == "/ws":
                return self._websocket(query)
            if path == "/fake/whoami":
                return self._json({"token": fake.token})
            if path == "/system_stats":
                return self._json({"system": {
                    "os": "posix", "ram_total": 68719476736, "ram_free": 60129542144,
                    "comfyui_version": "0.3.64", "required_frontend_version": "1.27.10",
                    "python_version": "3.11", "pytorch_version": "2.8.0+cu128",
                    "embedded_python": False, "argv": ["main.py"]},
                    "devices": fake.devices})
            if path in ("/queue", "/prompt"):
                if path == "/queue":
                    return self._json(fake.queue_body())
                return self._json({"exec_info": {"queue_remaining": fake.queue_remaining()}})
            if path.startswith("/history"):
                prompt_id = path.removeprefix("/history").strip("/") or None
                return self._json(fake.history(prompt_id))
            if path.startswith("/object_info"):
                info = fake.catalog.object_info(fake.model_files)
                name = path.removeprefix("/object_info").strip("/")
                if name:
                    return self._json({name: info[name]} if name in info else {})
                return self._json(info)
            if path == "/view":
                return self._view(query)
            return self._send(404)

        do_HEAD = do_GET

        def do_POST(self):
            path = urlparse(self.path).path.removeprefix("/api")
            fake.requests.append(("POST", path))
            if path == "/prompt":
                status, body = fake.submit(self._json_body())
                return self._json(body, status)
            if path == "/upload/image":
                return self._upload()
            if path == "/queue":
                body = self._json_body()
                if body.get("clear"):
                    fake.delete_pending([item[1] for item in fake.queue_body()["queue_pending"]])
                fake.delete_pending(list(body.get("delete") or []))
                return self._send(200)
            if path == "/interrupt":
                fake.interrupt(self._json_body().get("prompt_id"))
                return self._send(200)
            if path == "/history":
                return self._send(200)
            if path == "/fake/control":
                for name, value in self._json_body().items():
                    if name in ("step_delay", "fail_class", "fail_node", "drop_ws_after_steps"):
                        setattr(fake, name, value)
                return self._json({"ok": True})
            return self._send(404)

        def _view(self, query: dict) -> None:
            name = (query.get("filename") or [""])[0]
            kind = (query.get("type") or ["output"])[0]
            subfolder = (query.get("subfolder") or [""])[0]
            path = fake.input_path(name, subfolder, kind) if kind in ("input", "output",
                                                                    "temp") else None
            if not name or path is None:
                return self._send(404)
            ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return self._send(200, path.read_bytes(), ctype,
                              {"Content-Disposition": f'filename="{path.name}"'})

        def _upload(self) -> None:
            ctype = self.headers.get("Content-Type", "")
            message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                f"Content-Type: {ctype}\r\n\r\n".encode() + self._body())
            fields, upload = {}, None
            for part in message.iter_parts() if message.is_multipart() else []:
                name = part.get_param("name", header="content-disposition")
                if part.get_filename() is not None and name == "image":
                    upload = (part.get_filename(), part.get_payload(decode=True) or b"")
                elif name:
                    fields[name] = part.get_content().strip()
            if upload is None:
                return self._send(400)
            kind = fields.get("type", "input")
            if kind not in ("input", "temp", "output"):
                kind = "input"
            try:
                answer = fake.upload(upload[1], upload[0], subfolder=fields.get("subfolder", ""),
                                     kind=kind, overwrite=fields.get("overwrite") in ("true", "1"))
            except ValueError:
                return self._send(400)
            return self._json(answer)

        def _websocket(self, query: dict) -> None:
            protocol = ServerProtocol(max_size=None)
            # http.server has read the request already: replay it to the protocol so that
            # its parser moves on to websocket frames.
            raw = "".join(f"{name}: {value}\r\n" for name, value in self.headers.items())
            protocol.receive_data(f"{self.requestline}\r\n{raw}\r\n".encode("latin-1"))
            request = next(e for e in protocol.events_received() if isinstance(e, Request))
            response = protocol.accept(request)
            protocol.send_response(response)
            for chunk in protocol.data_to_send():
                self.wfile.write(chunk)
            self.wfile.flush()
            if response.status_code != 101:
                self.close_connection = True
                return
            client_id = (query.get("clientId") or [secrets.token_hex(16)])[0]
            WebSocketConn(self.connection, protocol, client_id).serve(fake, self.rfile)
            self.close_connection = True

    return Handler
