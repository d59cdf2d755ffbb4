"""The fake ComfyUI server keeps to the recorded protocol, so the engine tests mean
something: same answers, same websocket sequence, same queue and upload behaviour."""

import contextlib
import json
import time

from websockets.sync.client import connect

from engines.comfyui.client import ComfyClient, Rejected
from engines.comfyui.workflows import WORKFLOW_DIR
from tests.engines_comfyui.conftest import recording


def _collapse(types: list[str]) -> list[str]:
    return [t for i, t in enumerate(types) if i == 0 or types[i - 1] != t]


def _frames_until_done(ws, prompt_id: str) -> list[dict]:
    frames = []
    while True:
        raw = ws.recv(timeout=10)
        if isinstance(raw, bytes):
            frames.append({"type": "binary", "data": raw})
            continue
        message = json.loads(raw)
        frames.append(message)
        if message["type"] == "executing" and message["data"]["node"] is None \
                and message["data"]["prompt_id"] == prompt_id:
            return frames


def test_a_run_sends_the_recorded_websocket_sequence(fake):
    rec = recording("run3_createvideo_savevideo__post_prompt")["request"]["json"]
    recorded = [f["json"]["type"] for f in recording("run3_createvideo_savevideo__ws")]
    client = ComfyClient(fake.url)
    with connect(f"ws://127.0.0.1:{fake.port}/ws?clientId=c1", proxy=None) as ws:
        hello = json.loads(ws.recv(timeout=5))
        assert hello["type"] == "status" and hello["data"]["sid"] == "c1"
        answer = client.submit(rec["prompt"], client_id="c1", prompt_id="p-1")
        assert answer == {"prompt_id": "p-1", "number": answer["number"], "node_errors": {}}
        frames = _frames_until_done(ws, "p-1")
    assert _collapse(["status"] + [f["type"] for f in frames]) == _collapse(recorded)
    executed = next(f for f in frames if f["type"] == "executed")["data"]["output"]
    assert executed["animated"] == [True] and executed["images"][0]["subfolder"] == "video"
    entry = client.history("p-1")
    assert entry["status"]["status_str"] == "success" and entry["outputs"]["3"] == executed
    assert [m[0] for m in entry["status"]["messages"]] == [
        "execution_start", "execution_cached", "execution_success"]


def test_sampling_sends_progress_and_binary_previews(fake):
    graph = json.loads((WORKFLOW_DIR / "sd15.json").read_text())
    graph["5"]["inputs"]["steps"] = 3
    with connect(f"ws://127.0.0.1:{fake.port}/ws?clientId=c2", proxy=None) as ws:
        ws.recv(timeout=5)
        ComfyClient(fake.url).submit(graph, client_id="c2", prompt_id="p-2")
        frames = _frames_until_done(ws, "p-2")
    ticks = [f["data"]["value"] for f in frames if f["type"] == "progress"]
    assert ticks == [1, 2, 3]
    previews = [f["data"] for f in frames if f["type"] == "binary"]
    assert len(previews) == 3 and previews[0][:8] == b"\0\0\0\1\0\0\0\1"
    assert previews[0][8:10] == b"\xff\xd8"


def test_execution_messages_go_only_to_the_prompts_client(fake):
    rec = recording("run1_emptyimage_saveimage__post_prompt")["request"]["json"]
    with connect(f"ws://127.0.0.1:{fake.port}/ws?clientId=other", proxy=None) as ws:
        ws.recv(timeout=5)
        ComfyClient(fake.url).submit(rec["prompt"], client_id="owner", prompt_id="p-3")
        deadline = time.monotonic() + 3
        seen = set()
        while time.monotonic() < deadline and not ComfyClient(fake.url).history("p-3"):
            with contextlib.suppress(TimeoutError):
                seen.add(json.loads(ws.recv(timeout=0.2))["type"])
    assert seen <= {"status"}


def test_invalid_graphs_get_the_recorded_400_answers_over_http(fake):
    for kind in ("h_link_type_mismatch", "m_loadimage_missing_file", "l_no_prompt_key"):
        rec = recording(f"POST_prompt__err_{kind}")
        status, body = ComfyClient(fake.url).post_json("/prompt", rec["request"]["json"])
        assert status == 400
        assert body["error"]["type"] == rec["body"]["error"]["type"]
        assert body["node_errors"].keys() == rec["body"]["node_errors"].keys()
    try:
        ComfyClient(fake.url).submit({}, client_id="x", prompt_id="y")
    except Rejected as exc:
        assert exc.body["error"]["type"] == "prompt_no_outputs"


def test_uploads_rename_on_collision_unless_overwrite(fake, media_dir):
    client = ComfyClient(fake.url)
    assert client.upload(media_dir / "a.png", name="in.png") == "in.png"
    assert client.upload(media_dir / "a.png", name="in.png") == "in.png"  # same bytes
    assert client.upload(media_dir / "b.png", name="in.png") == "in (1).png"
    assert client.upload(media_dir / "b.png", name="in.png", overwrite=True) == "in.png"
    assert (fake.root / "input" / "in.png").read_bytes() == (media_dir / "b.png").read_bytes()
    assert client.upload(media_dir / "voice.wav", name="voice.wav") == "voice.wav"


def test_one_prompt_runs_at_a_time_and_pending_ones_can_be_deleted(fake):
    fake.step_delay = 0.05
    client = ComfyClient(fake.url)
    graph = json.loads((WORKFLOW_DIR / "sd15.json").read_text())
    graph["5"]["inputs"]["steps"] = 40
    for name in ("q-1", "q-2", "q-3"):
        client.submit(graph, client_id="c", prompt_id=name)
    time.sleep(0.2)
    queue = client.queue()
    assert [item[1] for item in queue["queue_running"]] == ["q-1"]
    assert [item[1] for item in queue["queue_pending"]] == ["q-2", "q-3"]
    _number, _prompt_id, prompt, extra, outputs = queue["queue_pending"][0]
    assert prompt == graph and extra == {"client_id": "c"} and outputs == ["7"]
    assert client.get_json("/prompt") == {"exec_info": {"queue_remaining": 3}}
    client.delete_queued("q-3")
    client.interrupt("q-2")  # not running: ignored, as ComfyUI does
    client.interrupt("q-1")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not client.history("q-2"):
        time.sleep(0.05)
    assert client.history("q-1")["status"]["status_str"] == "error"
    assert client.history("q-2")["status"]["status_str"] == "success"
    assert client.history("q-3") == {}


def test_read_endpoints_answer_like_comfyui(fake):
    client = ComfyClient(fake.url)
    assert client.get_json("/history/00000000-0000-0000-0000-000000000000") == {}
    assert client.get_json("/object_info/NoSuchNode") == {}
    assert "KSampler" in client.get_json("/object_info/KSampler")
    assert client._request("GET", "/view?filename=nope.png&type=output")[0] == 404
    assert client._request("GET", "/view?filename=../../etc/passwd&type=input")[0] == 404
    stats = client.system_stats()
    assert stats["system"]["comfyui_version"] == "0.3.64" and stats["devices"]


def test_the_control_endpoint_injects_an_execution_error(fake):
    client = ComfyClient(fake.url)
    assert client.post_json("/fake/control", {"fail_node": "2"})[0] == 200
    rec = recording("run1_emptyimage_saveimage__post_prompt")["request"]["json"]
    client.submit(rec["prompt"], client_id="c", prompt_id="e-1")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not client.history("e-1"):
        time.sleep(0.05)
    kinds = [m[0] for m in client.history("e-1")["status"]["messages"]]
    assert kinds[-1] == "execution_error"
