"""HTTP and websocket access to ComfyUI servers, and the pool that picks one per job.

Plain `http.client` (no proxy from the environment: ComfyUI servers sit on the private
network next to the workers) and `websockets`' synchronous client. Every call has a
timeout; a server that does not answer raises `ServerDown`, and the pool keeps it out of
rotation for a cooldown before trying it again.
"""

from __future__ import annotations

import http.client
import json
import mimetypes
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode, urlparse

from websockets.sync.client import ClientConnection, connect

from engines.base import EngineUnavailableError


class ServerDown(Exception):
    """The server did not answer (refused, timed out, reset, or a 5xx)."""


class Rejected(Exception):
    """`POST /prompt` answered 400: the body holds ComfyUI's `error` and `node_errors`."""

    def __init__(self, body: dict):
        super().__init__(str(body.get("error")))
        self.body = body


class ComfyClient:
    """One ComfyUI server, e.g. `ComfyClient("http://gpu-1:8188")`."""

    def __init__(self, url: str, *, timeout: float = 30.0):
        parsed = urlparse(url.rstrip("/"))
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"Not a ComfyUI URL: {url!r}")
        self.url = url.rstrip("/")
        self._parsed = parsed
        self.timeout = timeout

    # --- HTTP -----------------------------------------------------------------------------
    def _request(self, method: str, path: str, body: bytes | None = None,
                 headers: dict | None = None, timeout: float | None = None
                 ) -> tuple[int, bytes, dict]:
        conn_class = (http.client.HTTPSConnection if self._parsed.scheme == "https"
                      else http.client.HTTPConnection)
        conn = conn_class(self._parsed.hostname, self._parsed.port,
                          timeout=timeout or self.timeout)
        try:
            conn.request(method, (self._parsed.path or "") + path, body=body,
                         headers=headers or {})
            response = conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise ServerDown(f"{self.url}: {exc}") from exc
        finally:
            conn.close()
        if response.status >= 500:
            raise ServerDown(f"{self.url}: HTTP {response.status} on {path}")
        return response.status, data, {k.lower(): v for k, v in response.getheaders()}

    def get_json(self, path: str, timeout: float | None = None) -> dict:
        status, data, _ = self._request("GET", path, timeout=timeout)
        if status != 200:
            raise ServerDown(f"{self.url}: HTTP {status} on {path}")
        try:
            return json.loads(data)
        except ValueError as exc:
            raise ServerDown(f"{self.url}: {path} did not answer JSON") from exc

    def post_json(self, path: str, payload: dict) -> tuple[int, dict]:
        status, data, _ = self._request("POST", path, json.dumps(payload).encode(),
                                        {"Content-Type": "application/json"})
        try:
            return status, (json.loads(data) if data else {})
        except ValueError:
            return status, {}

    def system_stats(self, timeout: float | None = None) -> dict:
        return self.get_json("/system_stats", timeout)

    def queue(self, timeout: float | None = None) -> dict:
        return self.get_json("/queue", timeout)

    def history(self, prompt_id: str) -> dict:
        """The prompt's history entry, or {} while it has not finished."""
        return self.get_json(f"/history/{quote(prompt_id)}").get(prompt_id) or {}

    def object_info(self) -> dict:
        return self.get_json("/object_info", timeout=max(self.timeout, 60.0))

    def submit(self, prompt: dict, *, client_id: str, prompt_id: str,
               extra_data: dict | None = None) -> dict:
        """`POST /prompt`. Raises `Rejected` on a 400 (validation), `ServerDown` otherwise."""
        status, body = self.post_json("/prompt", {
            "prompt": prompt, "client_id": client_id, "prompt_id": prompt_id,
            "extra_data": extra_data or {}})
        if status == 400:
            raise Rejected(body)
        if status != 200 or "prompt_id" not in body:
            raise ServerDown(f"{self.url}: /prompt answered {status}")
        return body

    def upload(self, path: Path, *, name: str, overwrite: bool = False) -> str:
        """Upload an input file (images, audio and video all go through `/upload/image`);
        returns the name to put in the graph, `subfolder/name` when in a subfolder."""
        boundary = uuid.uuid4().hex
        ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        parts = [
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; "
            f"filename=\"{name}\"\r\nContent-Type: {ctype}\r\n\r\n".encode(),
            Path(path).read_bytes(),
            f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"overwrite\"\r\n\r\n"
            f"{'true' if overwrite else 'false'}\r\n--{boundary}--\r\n".encode(),
        ]
        status, data, _ = self._request(
            "POST", "/upload/image", b"".join(parts),
            {"Content-Type": f"multipart/form-data; boundary={boundary}"},
            timeout=max(self.timeout, 120.0))
        if status != 200:
            raise ServerDown(f"{self.url}: upload answered {status}")
        answer = json.loads(data)
        return f"{answer['subfolder']}/{answer['name']}" if answer.get("subfolder") \
            else answer["name"]

    def interrupt(self, prompt_id: str) -> None:
        self.post_json("/interrupt", {"prompt_id": prompt_id})

    def delete_queued(self, prompt_id: str) -> None:
        self.post_json("/queue", {"delete": [prompt_id]})

    def download(self, entry: dict, dest: Path) -> Path:
        """Fetch one output file (`{filename, subfolder, type}`) with `/view` into `dest`."""
        query = urlencode({"filename": entry["filename"], "subfolder": entry.get("subfolder", ""),
                           "type": entry.get("type", "output")})
        status, data, _ = self._request("GET", f"/view?{query}",
                                        timeout=max(self.timeout, 300.0))
        if status != 200:
            raise ServerDown(f"{self.url}: /view answered {status} for {entry['filename']}")
        dest.write_bytes(data)
        return dest

    # --- websocket ------------------------------------------------------------------------
    def websocket(self, client_id: str, *, timeout: float = 10.0) -> ClientConnection:
        scheme = "wss" if self._parsed.scheme == "https" else "ws"
        netloc = self._parsed.netloc
        try:
            return connect(f"{scheme}://{netloc}{self._parsed.path}/ws?clientId={client_id}",
                           open_timeout=timeout, close_timeout=2, proxy=None,
                           max_size=None, compression=None, legacy=True)
        except Exception as exc:  # refused, timed out, bad handshake: all mean "not now"
            raise ServerDown(f"{self.url}: websocket: {exc}") from exc


@dataclass
class _Server:
    client: ComfyClient
    down_until: float = 0.0
    last_error: str | None = None
    failures: int = 0
    last_stats: dict = field(default_factory=dict)
    # Jobs this process has sent to the server that are not in its queue yet: without
    # them, jobs starting together would all see the same empty queue and pick one server.
    starting: int = 0


class ComfyPool:
    """ComfyUI servers by URL. `choose()` returns the least-busy server that answers; a
    server that fails is out of rotation for `cooldown` seconds (doubling on repeated
    failures, up to `max_cooldown`), then tried again."""

    def __init__(self, urls: list[str], *, timeout: float = 30.0, probe_timeout: float = 5.0,
                 cooldown: float = 30.0, max_cooldown: float = 600.0,
                 clock: Callable[[], float] = time.monotonic):
        if not urls:
            raise EngineUnavailableError("No ComfyUI server is configured (COMFYUI_URLS).")
        self.servers = [_Server(ComfyClient(u, timeout=timeout)) for u in urls]
        self.probe_timeout = probe_timeout
        self.cooldown, self.max_cooldown = cooldown, max_cooldown
        self.clock = clock
        self._lock = threading.Lock()
        self._choice_lock = threading.Lock()

    def _server(self, url: str) -> _Server:
        return next(s for s in self.servers if s.client.url == url.rstrip("/"))

    def mark_down(self, url: str, error: str) -> None:
        with self._lock:
            server = self._server(url)
            server.failures += 1
            delay = min(self.cooldown * 2 ** (server.failures - 1), self.max_cooldown)
            server.down_until = self.clock() + delay
            server.last_error = error

    def mark_up(self, url: str) -> None:
        with self._lock:
            server = self._server(url)
            server.failures, server.down_until, server.last_error = 0, 0.0, None

    def _depth(self, server: _Server) -> int:
        queue = server.client.queue(timeout=self.probe_timeout)
        return len(queue.get("queue_running", [])) + len(queue.get("queue_pending", []))

    def choose(self, exclude: set[str] = frozenset()) -> ComfyClient:
        """The healthy server with the shortest queue (ties: the order of `urls`), skipping
        `exclude` and servers in cooldown, and counting jobs this process is starting on
        each. The choice counts as one more starting job until `release(url)`.
        Raises EngineUnavailableError when no server answers."""
        now = self.clock()
        depths: list[tuple[int, _Server]] = []
        for index, server in enumerate(self.servers):
            if server.client.url in exclude or server.down_until > now:
                continue
            try:
                depths.append((index, server, self._depth(server)))
            except ServerDown as exc:
                self.mark_down(server.client.url, str(exc))
                continue
            self.mark_up(server.client.url)
        if not depths:
            raise EngineUnavailableError(
                "No ComfyUI server is answering.", detail={"servers": self.health_summary()})
        with self._choice_lock:
            _, _, server = min((depth + server.starting, index, server)
                               for index, server, depth in depths)
            server.starting += 1
        return server.client

    def release(self, url: str) -> None:
        """The job chosen for `url` is in its queue now, or will not be."""
        with self._choice_lock:
            server = self._server(url)
            server.starting = max(0, server.starting - 1)

    def seconds_until_retry(self) -> float:
        """How long until the first server in cooldown may be tried again (0 if one may)."""
        now = self.clock()
        return max(0.0, min(s.down_until for s in self.servers) - now)

    def health_summary(self) -> list[dict]:
        now = self.clock()
        return [{"url": s.client.url, "error": s.last_error,
                 "retry_in": round(max(0.0, s.down_until - now), 1)} for s in self.servers]

    def health(self) -> list[dict]:
        """Each server's state, probed now: online, ComfyUI version, queue (running and
        pending), devices with VRAM, and the last error. JSON-able."""
        report = []
        for server in self.servers:
            entry: dict = {"url": server.client.url, "online": False}
            try:
                stats = server.client.system_stats(timeout=self.probe_timeout)
                queue = server.client.queue(timeout=self.probe_timeout)
            except ServerDown as exc:
                self.mark_down(server.client.url, str(exc))
                entry["error"] = server.last_error
                entry["retry_in"] = round(max(0.0, server.down_until - self.clock()), 1)
                report.append(entry)
                continue
            self.mark_up(server.client.url)
            server.last_stats = stats
            system = stats.get("system", {})
            entry.update(
                online=True, comfyui_version=system.get("comfyui_version"),
                queue_running=len(queue.get("queue_running", [])),
                queue_pending=len(queue.get("queue_pending", [])),
                devices=[{"name": d.get("name"), "type": d.get("type"),
                          "vram_total": d.get("vram_total"), "vram_free": d.get("vram_free")}
                         for d in stats.get("devices", [])])
            entry["queue_depth"] = entry["queue_running"] + entry["queue_pending"]
            report.append(entry)
        return report
