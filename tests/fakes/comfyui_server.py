"""A fake ComfyUI server on loopback: real HTTP and a real websocket, behaving like the
recordings of ComfyUI 0.3.64 in `../shared/comfyui/protocol/`.

- `POST /prompt` validates the graph with `engines.comfyui.validate` (object_info plus the
  declared custom nodes; uploaded inputs must exist) and answers with ComfyUI's shapes.
- One prompt runs at a time; every node that feeds an output "executes" in dependency order
  with the recorded websocket sequence (status, execution_start, execution_cached, then per
  node progress_state / executing / progress / executed, execution_success, status and
  `executing` with `node: null`), plus binary preview frames while sampling.
- Save nodes write real media made with ffmpeg at the graph's size, length and rate, served
  by `/view`; `/upload/image`, `/queue`, `/history`, `/interrupt`, `/system_stats`,
  `/object_info`, `GET /prompt` behave as recorded.
- Faults for tests: `step_delay` (slow), `fail_class` / `fail_node` (execution_error),
  `drop_ws_after_steps` (websocket connections cut mid-run), `stop()` / `start()` (down and
  up again on the same port). Set them as attributes or with `POST /fake/control`.

Differences from a real server, on purpose: no output caching (`execution_cached` lists no
nodes), model-file combos accept any name (see validate.py), and one sampler-like node per
graph reports `steps` progress ticks.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
import struct
import threading
import time
import uuid
from http.server import ThreadingHTTPServer
from pathlib import Path

from engines.comfyui.validate import NodeCatalog, validate_prompt
from tests.fakes import comfyui_media as media
from tests.fakes.comfyui_http import WebSocketConn, make_handler

_SAVE_NODES = {
    "SaveVideo": ("images", ".mp4", True), "SaveWEBM": ("images", ".webm", True),
    "SaveAnimatedWEBP": ("images", ".webp", True), "SaveImage": ("images", ".png", False),
    "PreviewImage": ("images", ".png", False), "SaveAudio": ("audio", ".flac", False),
    "SaveAudioMP3": ("audio", ".mp3", False), "SaveAudioOpus": ("audio", ".opus", False),
    "SaveGLB": ("3d", ".glb", False), "VHS_VideoCombine": ("gifs", ".mp4", False),
}
_UPLOAD_FOLDERS = {"input", "temp", "output"}


class _Interrupted(Exception):
    pass


class _ExecutionError(Exception):
    def __init__(self, node_id: str, exc_type: str, message: str):
        super().__init__(message)
        self.node_id, self.exc_type, self.message = node_id, exc_type, message


class FakeComfyUI:
    """Start with `start()` (or as a context manager); `url` is its base URL."""

    def __init__(self, catalog: NodeCatalog, root: Path, *, port: int = 0,
                 step_delay: float = 0.01, devices: list[dict] | None = None,
                 model_files: list[str] | None = None):
        self.catalog = catalog
        self.root = Path(root)
        for folder in _UPLOAD_FOLDERS:
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        self.token = secrets.token_hex(8)
        self.model_files = list(model_files or [])  # listed in /object_info's file combos
        self.port = port
        self.step_delay = step_delay
        self.fail_class: str | None = None
        self.fail_node: str | None = None
        self.drop_ws_after_steps: int | None = None
        self.devices = devices or [{
            "name": "cuda:0 NVIDIA Fake GPU : cudaMallocAsync", "type": "cuda", "index": 0,
            "vram_total": 25769803776, "vram_free": 24696061952,
            "torch_vram_total": 0, "torch_vram_free": 0}]
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.RLock()
        self._wake = threading.Condition(self._lock)
        self._pending: list[list] = []
        self._running: list | None = None
        self._history: dict[str, dict] = {}
        self._sockets: list[WebSocketConn] = []
        self._number = itertools.count()
        self._interrupt = threading.Event()
        self._counters: dict[str, int] = {}
        self._server: ThreadingHTTPServer | None = None
        self._stopping = False
        self._worker = threading.Thread(target=self._work, daemon=True)
        self._worker.start()

    # --- lifecycle ----------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeComfyUI:
        server = ThreadingHTTPServer(("127.0.0.1", self.port), make_handler(self))
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop answering: close the listening socket and every websocket."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        for ws in list(self._sockets):
            ws.cut()
        self._sockets.clear()

    def close(self) -> None:
        self.stop()
        with self._lock:
            self._stopping = True
            self._wake.notify_all()

    def __enter__(self) -> FakeComfyUI:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # --- state --------------------------------------------------------------------------
    def queue_body(self) -> dict:
        with self._lock:
            return {"queue_running": [self._running] if self._running else [],
                    "queue_pending": list(self._pending)}

    def queue_remaining(self) -> int:
        with self._lock:
            return len(self._pending) + (1 if self._running else 0)

    def input_path(self, name: str, subfolder: str = "", kind: str = "input") -> Path | None:
        base = (self.root / kind).resolve()
        path = (base / subfolder / name).resolve()
        if base not in path.parents or not path.is_file():
            return None
        return path

    def submit(self, body: dict) -> tuple[int, dict]:
        """`POST /prompt`."""
        if "prompt" not in body:
            return 400, {"error": {"type": "no_prompt", "message": "No prompt provided",
                                   "details": "No prompt provided", "extra_info": {}},
                         "node_errors": {}}
        prompt = body["prompt"]
        check = validate_prompt(prompt, self.catalog,
                                file_exists=lambda kind, name: self.input_path(name) is not None)
        if not check.ok:
            return 400, check.response_body()
        prompt_id = str(body.get("prompt_id") or uuid.uuid4())
        extra = dict(body.get("extra_data") or {})
        if body.get("client_id"):
            extra["client_id"] = body["client_id"]
        with self._lock:
            number = next(self._number)
            self._pending.append([number, prompt_id, prompt, extra, check.outputs])
            # The queue's status goes out before the runner can start, as in the recordings;
            # sent after the wake-up it could land between execution messages.
            self._broadcast_status()
            self._wake.notify_all()
        return 200, {"prompt_id": prompt_id, "number": number, "node_errors": check.node_errors}

    def delete_pending(self, prompt_ids: list[str]) -> None:
        with self._lock:
            self._pending = [item for item in self._pending if item[1] not in prompt_ids]
        self._broadcast_status()

    def interrupt(self, prompt_id: str | None) -> None:
        """`POST /interrupt`: only the running prompt, and only if it is the one named."""
        with self._lock:
            if self._running and (prompt_id is None or self._running[1] == prompt_id):
                self._interrupt.set()

    def history(self, prompt_id: str | None = None) -> dict:
        with self._lock:
            if prompt_id is None:
                return dict(self._history)
            return {prompt_id: self._history[prompt_id]} if prompt_id in self._history else {}

    def upload(self, data: bytes, filename: str, *, subfolder: str, kind: str,
               overwrite: bool) -> dict:
        """`POST /upload/image`: keep the name, or `name (1).ext` on a collision with other
        content; the same content under the same name is not stored twice."""
        folder = (self.root / kind / subfolder).resolve()
        if (self.root / kind).resolve() not in (folder, *folder.parents):
            raise ValueError("bad subfolder")
        folder.mkdir(parents=True, exist_ok=True)
        stem, dot, ext = Path(filename).name.rpartition(".")
        stem, ext = (stem, dot + ext) if dot else (ext, "")
        name, i = f"{stem}{ext}", 1
        while not overwrite and (folder / name).exists():
            if hashlib.sha256((folder / name).read_bytes()).digest() == \
                    hashlib.sha256(data).digest():
                break
            name, i = f"{stem} ({i}){ext}", i + 1
        (folder / name).write_bytes(data)
        return {"name": name, "subfolder": subfolder, "type": kind}

    # --- websockets ---------------------------------------------------------------------
    def add_socket(self, ws: WebSocketConn) -> None:
        with self._lock:
            self._sockets.append(ws)
        ws.send_json({"type": "status", "data": {"status": {"exec_info": {
            "queue_remaining": self.queue_remaining()}}, "sid": ws.client_id}})

    def remove_socket(self, ws: WebSocketConn) -> None:
        with self._lock:
            if ws in self._sockets:
                self._sockets.remove(ws)

    def _send(self, client_id: str | None, kind: str, data: dict) -> None:
        if client_id is None:
            return  # ComfyUI sends execution messages only to the prompt's client
        for ws in [s for s in list(self._sockets) if s.client_id == client_id]:
            ws.send_json({"type": kind, "data": data})

    def _send_preview(self, client_id: str | None) -> None:
        for ws in [s for s in list(self._sockets) if s.client_id == client_id]:
            ws.send_binary(struct.pack(">II", 1, 1) + _PREVIEW_JPEG)

    def _broadcast_status(self) -> None:
        status = {"status": {"exec_info": {"queue_remaining": self.queue_remaining()}}}
        for ws in list(self._sockets):
            ws.send_json({"type": "status", "data": status})

    # --- execution ----------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._pending and not self._stopping:
                    self._wake.wait()
                if self._stopping:
                    return
                self._running = self._pending.pop(0)
                self._interrupt.clear()
                item = self._running
            try:
                self._execute(item)
            finally:
                with self._lock:
                    self._running = None
                self._broadcast_status()
                self._send(item[3].get("client_id"), "executing",
                           {"node": None, "prompt_id": item[1]})

    def _execute(self, item: list) -> None:
        _number, prompt_id, prompt, extra, outputs = item
        client = extra.get("client_id")
        messages: list = []

        def say(kind: str, data: dict, *, keep: bool = False) -> None:
            data = {"prompt_id": prompt_id, **data}
            if keep:
                data["timestamp"] = int(time.time() * 1000)
                messages.append([kind, data])
            self._send(client, kind, data)

        say("execution_start", {}, keep=True)
        say("execution_cached", {"nodes": []}, keep=True)
        order = _execution_order(prompt, outputs)
        ui_outputs: dict[str, dict] = {}
        states: dict[str, dict] = {}
        executed: list[str] = []
        status = "success"
        try:
            for node_id in order:
                self._run_node(prompt_id, prompt, node_id, client, states, ui_outputs, say)
                executed.append(node_id)
            say("execution_success", {}, keep=True)
        except _Interrupted:
            status = "error"
            say("execution_interrupted", {"node_id": node_id,
                                          "node_type": prompt[node_id]["class_type"],
                                          "executed": executed}, keep=True)
        except _ExecutionError as exc:
            status = "error"
            say("execution_error", {
                "node_id": exc.node_id, "node_type": prompt[exc.node_id]["class_type"],
                "executed": executed, "exception_message": exc.message,
                "exception_type": exc.exc_type,
                "traceback": ["  File \"COMFYUI_ROOT/execution.py\", line 496, in execute\n"],
                "current_inputs": {}, "current_outputs": order}, keep=True)
        with self._lock:
            self._history[prompt_id] = {
                "prompt": item, "outputs": ui_outputs if status == "success" else {},
                "status": {"status_str": status, "completed": status == "success",
                           "messages": messages},
                "meta": {nid: {"node_id": nid, "display_node": nid, "parent_node": None,
                               "real_node_id": nid}
                         for nid in (ui_outputs if status == "success" else {})}}

    def _run_node(self, prompt_id, prompt, node_id, client, states, ui_outputs, say) -> None:
        node = prompt[node_id]

        def state(value, maximum, label):
            states[node_id] = {"value": value, "max": maximum, "state": label,
                               "node_id": node_id, "prompt_id": prompt_id,
                               "display_node_id": node_id, "parent_node_id": None,
                               "real_node_id": node_id}
            say("progress_state", {"nodes": dict(states)})

        state(0.0, 1.0, "running")
        say("executing", {"node": node_id, "display_node": node_id})
        if self._interrupt.is_set():
            raise _Interrupted
        if node_id == self.fail_node or node["class_type"] == self.fail_class:
            raise _ExecutionError(node_id, "RuntimeError",
                                  f"Fake failure in {node['class_type']} (node {node_id})\n")
        steps = node["inputs"].get("steps") if _is_sampler(node) else None
        if isinstance(steps, int) and steps > 0:
            for step in range(1, steps + 1):
                time.sleep(self.step_delay)
                if self._interrupt.is_set():
                    raise _Interrupted
                state(step, steps, "running")
                say("progress", {"value": step, "max": steps, "node": node_id})
                self._send_preview(client)
                if self.drop_ws_after_steps is not None and step >= self.drop_ws_after_steps:
                    self.drop_ws_after_steps = None
                    for ws in list(self._sockets):
                        ws.cut()
        else:
            time.sleep(self.step_delay)
        if node["class_type"] in _SAVE_NODES:
            output = self._save(prompt, node_id)
            ui_outputs[node_id] = output
            say("executed", {"node": node_id, "display_node": node_id, "output": output})
        state(1.0, 1.0, "finished")

    def _save(self, prompt: dict, node_id: str) -> dict:
        node = prompt[node_id]
        key, ext, animated = _SAVE_NODES[node["class_type"]]
        prefix = str(node["inputs"].get("filename_prefix", "ComfyUI"))
        if node["class_type"] == "VHS_VideoCombine" and \
                node["inputs"].get("format") == "video/webm":
            ext = ".webm"
        kind = "temp" if node["class_type"] == "PreviewImage" else "output"
        subfolder, _, stem = prefix.rpartition("/")
        with self._lock:
            count = self._counters[prefix] = self._counters.get(prefix, 0) + 1
        filename = f"{stem}_{count:05}_{ext}"
        folder = self.root / kind / subfolder
        folder.mkdir(parents=True, exist_ok=True)
        spec = media.media_spec(prompt, node_id, lambda name: self.input_path(name))
        path = folder / filename
        if ext in (".mp4", ".webm", ".webp"):
            media.make_video(path, spec) if ext != ".webp" else media.make_image(path, spec)
        elif ext == ".png":
            media.make_image(path, spec)
        elif ext == ".glb":
            media.make_glb(path)
        else:
            media.make_audio(path, spec)
        entry = {"filename": filename, "subfolder": subfolder, "type": kind}
        if key == "gifs":
            entry.update(format="video/h264-mp4", frame_rate=spec.fps,
                         workflow=f"{stem}_{count:05}.png", fullpath=str(path))
        output = {key: [entry]}
        if animated:
            output["animated"] = [True]
        return output


def _is_sampler(node: dict) -> bool:
    cls = node["class_type"]
    return "Sampler" in cls or cls in ("BasicScheduler", "LTXVScheduler", "Echo_Sampler")


def _execution_order(prompt: dict, outputs: list[str]) -> list[str]:
    """Dependencies first, each node once: what ComfyUI executes for these outputs."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(node_id: str) -> None:
        if node_id in seen:
            return
        seen.add(node_id)
        for value in prompt[node_id].get("inputs", {}).values():
            if isinstance(value, list) and len(value) == 2 and str(value[0]) in prompt:
                visit(str(value[0]))
        order.append(node_id)

    for out in outputs:
        visit(out)
    return order


# A 1x1 JPEG: what a binary preview frame carries after its 8-byte header.
_PREVIEW_JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b"
    "0c1912130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ff"
    "c0000b080001000101011100ffc4001f0000010501010101010100000000000000000102030405060708090a0b"
    "ffc400b5100002010303020403050504040000017d01020300041105122131410613516107227114328191a108"
    "2342b1c11552d1f02433627282090a161718191a25262728292a3435363738393a434445464748494a53545556"
    "5758595a636465666768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9"
    "aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7"
    "f8f9faffda0008010100003f00fbd3ffd9")


