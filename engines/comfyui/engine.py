"""`ComfyUIEngine`: renders a request with a repository workflow on a pool of ComfyUI servers.

One run: pick the least-busy server, upload the input files, bind the parameters into a copy
of the workflow, open the websocket, submit `/prompt` with our client id, follow progress
until `executing` with `node: null` for our prompt, read `/history/<id>` and download the
output files with `/view` into the request's work directory.
"""

from __future__ import annotations

import contextlib
import json
import mimetypes
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from websockets.exceptions import ConnectionClosed

from engines.base import (
    Canceled,
    CancelFn,
    Engine,
    EngineError,
    EngineUnavailableError,
    ProgressFn,
    RenderOutput,
    RenderRequest,
)
from engines.comfyui.client import ComfyClient, ComfyPool, Rejected, ServerDown
from engines.comfyui.workflows import WORKFLOW_DIR, Workflow, bind, load_workflow, workflow_names

# Sampling dominates a run's time; loaders and savers take little of the bar.
_SAMPLER_WEIGHT = 20.0
_KIND_BY_EXT = {".mp4": "video", ".webm": "video", ".webp": "video", ".gif": "video",
                ".mov": "video", ".png": "image", ".jpg": "image", ".jpeg": "image",
                ".flac": "audio", ".mp3": "audio", ".wav": "audio", ".opus": "audio",
                ".ogg": "audio", ".glb": "model"}
_MIME_BY_EXT = {".glb": "model/gltf-binary", ".flac": "audio/flac", ".opus": "audio/ogg",
                ".webm": "video/webm", ".webp": "image/webp"}


def stage_for(class_type: str) -> str:
    """A short stage code for the node that is executing."""
    name = class_type.lower()
    for needle, stage in (("sampler", "sampling"), ("scheduler", "sampling"),
                          ("decode", "decode"), ("upscale", "upscale"), ("save", "save"),
                          ("combine", "save"), ("createvideo", "save"), ("encode", "encode"),
                          ("load", "load")):
        if needle in name:
            return stage
    return "process"


def _is_sampler(class_type: str) -> bool:
    return "Sampler" in class_type or class_type in ("BasicScheduler", "LTXVScheduler")


def _nodes_to_run(graph: dict, output: str) -> list[str]:
    order, seen = [], set()

    def visit(node_id: str) -> None:
        if node_id in seen or node_id not in graph:
            return
        seen.add(node_id)
        for value in graph[node_id].get("inputs", {}).values():
            if isinstance(value, list) and len(value) == 2:
                visit(str(value[0]))
        order.append(node_id)

    visit(output)
    return order


@dataclass
class ProgressTracker:
    """Turns per-node websocket progress into one fraction that never goes down."""

    graph: dict
    output: str
    report: ProgressFn
    weights: dict[str, float] = field(default_factory=dict)
    done: dict[str, float] = field(default_factory=dict)
    fraction: float = 0.0
    stage: str = "queued"

    def __post_init__(self) -> None:
        for node_id in _nodes_to_run(self.graph, self.output):
            cls = self.graph[node_id]["class_type"]
            self.weights[node_id] = _SAMPLER_WEIGHT if _is_sampler(cls) else 1.0

    def node(self, node_id: str, value: float) -> None:
        """Record node progress (0..1) and report the overall fraction if it rose."""
        if node_id not in self.weights:
            return
        self.done[node_id] = max(self.done.get(node_id, 0.0), min(max(value, 0.0), 1.0))
        self.stage = stage_for(self.graph[node_id]["class_type"])
        total = sum(self.weights.values())
        fraction = sum(self.weights[n] * v for n, v in self.done.items()) / total
        self._emit(min(fraction, 0.99))

    def _emit(self, fraction: float) -> None:
        if fraction > self.fraction:
            self.fraction = fraction
            self.report(fraction, self.stage)

    def running(self, node_id: str) -> None:
        if node_id in self.graph:
            self.stage = stage_for(self.graph[node_id]["class_type"])
            self.report(self.fraction, self.stage)


@dataclass
class _Run:
    client: ComfyClient
    prompt_id: str
    client_id: str
    graph: dict
    tracker: ProgressTracker
    error: dict | None = None
    interrupted: bool = False
    finished: bool = False
    history: dict | None = None


class ComfyUIEngine(Engine):
    """Renders catalogue models and tools with ComfyUI.

    `urls`: the ComfyUI servers (`COMFYUI_URLS`). `workflows`: model id -> workflow name
    overrides (an operator's choice); `workflow_dirs`: extra folders searched before the
    repository's. Timeouts: `http_timeout` per request, `job_timeout` for a whole render.
    A server that stops answering is retried on another server, or after its cooldown,
    up to `max_attempts` times; then EngineUnavailableError."""

    name = "comfyui"

    def __init__(self, urls: list[str], *, workflows: dict[str, str] | None = None,
                 workflow_dirs: list[Path] | None = None, http_timeout: float = 30.0,
                 job_timeout: float = 3600.0, cooldown: float = 30.0, max_attempts: int = 3,
                 poll_interval: float = 5.0, models_ttl: float = 300.0):
        self.pool = ComfyPool(urls, timeout=http_timeout, cooldown=cooldown)
        self.workflows = dict(workflows or {})
        self.workflow_dirs = (WORKFLOW_DIR, *[Path(d) for d in workflow_dirs or []])
        self.job_timeout = job_timeout
        self.max_attempts = max_attempts
        self.poll_interval = poll_interval
        self.models_ttl = models_ttl
        self._servable: dict[str, tuple[float, dict[str, list[str]]]] = {}

    # --- public ---------------------------------------------------------------------------
    def workflow_for(self, model: str) -> Workflow:
        return load_workflow(self.workflows.get(model, model), self.workflow_dirs)

    def health(self, *, include_models: bool = False) -> dict:
        """`{"engine", "online", "servers": [...], "models": [...]}`: each server's state,
        queue depth, devices and VRAM (see `ComfyPool.health`); `models` lists the
        repository's workflows. With `include_models`, each online server also gets
        `models`: the workflows it has every node and model file for (from its
        `/object_info`, cached for `models_ttl` seconds)."""
        servers = self.pool.health()
        if include_models:
            for server in servers:
                if server["online"]:
                    lacking = self._servable_cached(server["url"])
                    server["models"] = sorted(n for n, missing in lacking.items() if not missing)
        return {"engine": self.name, "online": any(s["online"] for s in servers),
                "servers": servers, "models": workflow_names(self.workflow_dirs)}

    def servable_models(self, url: str) -> dict[str, list[str]]:
        """For one server: workflow -> what it lacks (node classes, model files); an empty
        list means the server can run it. Reads that server's `/object_info` (large)."""
        info = ComfyClient(url, timeout=60.0).object_info()
        result = {}
        for name in workflow_names(self.workflow_dirs):
            workflow = load_workflow(name, self.workflow_dirs)
            result[name] = _missing_on(workflow, info)
        return result

    def _servable_cached(self, url: str) -> dict[str, list[str]]:
        cached = self._servable.get(url)
        if cached is None or time.monotonic() - cached[0] > self.models_ttl:
            try:
                cached = (time.monotonic(), self.servable_models(url))
            except ServerDown:
                return {}
            self._servable[url] = cached
        return cached[1]

    def render(self, request: RenderRequest, *, progress: ProgressFn,
               is_canceled: CancelFn) -> list[RenderOutput]:
        # An operator's per-model choice (admin) arrives with the request: another workflow,
        # or a subset of the servers.
        override = request.params.get("workflow")
        workflow = (load_workflow(override, self.workflow_dirs) if override
                    else self.workflow_for(request.model))
        allowed = {url.rstrip("/") for url in request.params.get("servers") or []}
        blocked = {s.client.url for s in self.pool.servers if allowed and s.client.url
                   not in allowed}
        # Refuse bad parameters and missing input files before touching any server.
        bind(workflow, request.params, {role: Path(p).name for role, p in request.inputs.items()})
        progress = _Monotonic(progress)  # a retry on another server must not move it back
        deadline = time.monotonic() + self.job_timeout
        tried: set[str] = set()
        last_error = "no attempt"
        for _attempt in range(self.max_attempts):
            if is_canceled():
                raise Canceled("Canceled before it started.")
            client = self._choose(tried, deadline, is_canceled, blocked)
            release = _Once(lambda url=client.url: self.pool.release(url))
            try:
                return self._run(client, workflow, request, progress, is_canceled, deadline,
                                 submitted=release)
            except ServerDown as exc:
                last_error = str(exc)
                self.pool.mark_down(client.url, last_error)
                tried.add(client.url)
                progress(0.0, "retry")
            finally:
                release()
        raise EngineUnavailableError(
            "The ComfyUI servers did not answer; the job can be retried later.",
            detail={"last_error": last_error, "servers": self.pool.health_summary()})

    # --- one attempt ----------------------------------------------------------------------
    def _choose(self, tried: set[str], deadline: float, is_canceled: CancelFn,
                blocked: set[str] = frozenset()) -> ComfyClient:
        """Another server than those that failed (and than `blocked`, the servers this model
        may not use); when none is left, wait for a cooldown to end (a server that was down
        may be back) and try them all again."""
        try:
            return self.pool.choose(exclude=tried | blocked)
        except EngineUnavailableError:
            tried.clear()
            wait = self.pool.seconds_until_retry()
            if time.monotonic() + wait > deadline:
                raise
            end = time.monotonic() + wait
            while time.monotonic() < end:
                if is_canceled():
                    raise Canceled("Canceled while waiting for a ComfyUI server.") from None
                time.sleep(min(0.2, max(0.0, end - time.monotonic())))
            return self.pool.choose(exclude=blocked)

    def _run(self, client: ComfyClient, workflow: Workflow, request: RenderRequest,
             progress: ProgressFn, is_canceled: CancelFn, deadline: float,
             submitted: Callable[[], None]) -> list[RenderOutput]:
        progress(0.0, "upload")
        uploaded = {}
        tag = uuid.uuid4().hex[:12]
        for role in workflow.input_roles:
            path = request.inputs.get(role)
            if path is not None:
                uploaded[role] = client.upload(Path(path), name=f"rf-{tag}-{role}"
                                               f"{Path(path).suffix.lower()}")
        graph = bind(workflow, request.params, uploaded)
        run = _Run(client, str(uuid.uuid4()), uuid.uuid4().hex, graph,
                   ProgressTracker(graph, workflow.output_node, progress))
        ws = client.websocket(run.client_id)
        try:
            try:
                client.submit(graph, client_id=run.client_id, prompt_id=run.prompt_id,
                              extra_data={"reelforge": {"model": request.model,
                                                        "task": request.task}})
            except Rejected as exc:
                raise _rejected(exc.body) from None
            submitted()
            progress(0.0, "queued")
            ws = self._follow(run, ws, is_canceled, deadline)
        finally:
            ws.close()
        if run.interrupted:
            raise EngineError("ComfyUI interrupted the prompt.", code="engine_interrupted")
        if run.error is not None:
            raise EngineError(run.error.get("exception_message", "").strip()
                              or "ComfyUI failed to run the workflow.",
                              code="engine_execution_error", detail={
                                  k: run.error.get(k) for k in (
                                      "node_id", "node_type", "exception_type",
                                      "exception_message")})
        progress(max(run.tracker.fraction, 0.99), "download")
        outputs = self._download(run, workflow, request.workdir)
        progress(1.0, "done")
        return outputs

    def _follow(self, run: _Run, ws, is_canceled: CancelFn, deadline: float):
        """Read websocket messages until our prompt is done; returns the (maybe new)
        connection. Reconnects once per drop and falls back to polling `/history`."""
        last_poll = time.monotonic()
        while not run.finished:
            if is_canceled():
                self._cancel(run)
            if time.monotonic() > deadline:
                self._cancel_quietly(run)
                raise EngineError("The render took longer than its time limit.",
                                  code="engine_timeout")
            try:
                message = ws.recv(timeout=0.5)
            except TimeoutError:
                message = None
            except ConnectionClosed:
                ws = run.client.websocket(run.client_id)  # ServerDown if it is gone
                self._check_history(run)  # it may have finished while we were away
                continue
            if isinstance(message, str):
                # A message outside the protocol we know is ignored, not fatal.
                with contextlib.suppress(ValueError, TypeError, AttributeError):
                    self._handle(run, json.loads(message))
            if not run.finished and time.monotonic() - last_poll > self.poll_interval:
                # Messages are only sent to connected clients: a drop can lose the end.
                last_poll = time.monotonic()
                self._check_history(run)
        return ws

    def _handle(self, run: _Run, message: dict) -> None:
        kind, data = message.get("type"), message.get("data") or {}
        if data.get("prompt_id") not in (None, run.prompt_id):
            return
        if kind == "execution_cached":
            for node_id in data.get("nodes", []):
                run.tracker.node(node_id, 1.0)
        elif kind == "executing" and data.get("prompt_id") == run.prompt_id:
            node = data.get("node")
            if node is None:
                run.finished = True
            else:
                run.tracker.running(node)
        elif kind == "progress" and data.get("max"):
            run.tracker.node(str(data.get("node")), data["value"] / data["max"])
        elif kind == "progress_state":
            for node_id, state in (data.get("nodes") or {}).items():
                if state.get("max"):
                    run.tracker.node(node_id, state["value"] / state["max"])
        elif kind == "executed" and data.get("node"):
            run.tracker.node(str(data["node"]), 1.0)
        elif kind == "execution_error":
            run.error = data
        elif kind == "execution_interrupted":
            run.interrupted = True

    def _check_history(self, run: _Run) -> None:
        entry = run.client.history(run.prompt_id)
        if not entry:
            return
        run.finished = True
        status = entry.get("status") or {}
        if status.get("status_str") == "error":
            for kind, data in status.get("messages", []):
                if kind == "execution_error":
                    run.error = data
                elif kind == "execution_interrupted":
                    run.interrupted = True
            if run.error is None and not run.interrupted:
                run.error = {"exception_message": "ComfyUI reported an error."}
        run.history = entry

    def _cancel(self, run: _Run) -> None:
        """Interrupt our prompt if it is running, take it out of the queue if pending."""
        self._cancel_quietly(run)
        raise Canceled("Canceled.")

    def _cancel_quietly(self, run: _Run) -> None:
        try:
            queue = run.client.queue()
            if any(item[1] == run.prompt_id for item in queue.get("queue_running", [])):
                run.client.interrupt(run.prompt_id)
            else:
                run.client.delete_queued(run.prompt_id)
        except ServerDown:
            pass  # the server is gone and the prompt with it

    def _download(self, run: _Run, workflow: Workflow, workdir: Path) -> list[RenderOutput]:
        entry = run.history or {}
        for _ in range(50):  # ComfyUI stores the history just before its "done" message
            if entry:
                break
            time.sleep(0.1)
            entry = run.client.history(run.prompt_id)
        outputs = entry.get("outputs") or {}
        node_outputs = outputs.get(workflow.output_node) or next(iter(outputs.values()), {})
        files = [item for value in node_outputs.values() if isinstance(value, list)
                 for item in value if isinstance(item, dict) and "filename" in item]
        if not files:
            raise EngineError("ComfyUI finished without an output file.", code="no_output")
        workdir.mkdir(parents=True, exist_ok=True)
        results = []
        for index, item in enumerate(files):
            ext = Path(item["filename"]).suffix.lower()
            dest = workdir / f"{workflow.name}-{index}{ext}"
            run.client.download(item, dest)
            kind = _KIND_BY_EXT.get(ext, workflow.output_kind)
            mime = _MIME_BY_EXT.get(ext) or mimetypes.guess_type(dest.name)[0] or \
                "application/octet-stream"
            results.append(RenderOutput(path=dest, kind=kind, mime=mime))
        return results


class _Once:
    """Calls `fn` the first time it is called, never again."""

    def __init__(self, fn: Callable[[], None]):
        self.fn, self.done = fn, False

    def __call__(self) -> None:
        if not self.done:
            self.done = True
            self.fn()


class _Monotonic:
    """Reports the highest fraction seen so far, with the current stage."""

    def __init__(self, report: ProgressFn):
        self.report, self.high = report, 0.0

    def __call__(self, fraction: float, stage: str) -> None:
        self.high = max(self.high, fraction)
        self.report(self.high, stage)


def _rejected(body: dict) -> EngineError:
    error = body.get("error") or {}
    node_errors = body.get("node_errors") or {}
    lines = [f"{info.get('class_type')} #{node_id}: {e.get('message')} ({e.get('details')})"
             for node_id, info in node_errors.items() for e in info.get("errors", [])]
    message = "ComfyUI rejected the workflow: " + (
        "; ".join(lines) or f"{error.get('message', 'invalid prompt')} {error.get('details', '')}"
    ).strip()
    return EngineError(message, code="engine_rejected",
                       detail={"error": error, "node_errors": node_errors})


def _missing_on(workflow: Workflow, object_info: dict) -> list[str]:
    missing = []
    for node in workflow.graph.values():
        spec = object_info.get(node["class_type"])
        if spec is None:
            missing.append(f"node {node['class_type']}")
            continue
        inputs = {**spec.get("input", {}).get("required", {}),
                  **spec.get("input", {}).get("optional", {})}
        for name, value in node.get("inputs", {}).items():
            config = inputs.get(name)
            if not isinstance(value, str) or not config or node["class_type"].startswith("Load"):
                continue
            options = config[0] if isinstance(config[0], list) else (
                config[1].get("options") if config[0] == "COMBO" and len(config) > 1 else None)
            if options is not None and value not in options:
                missing.append(f"file {value}")
    return missing
