"""The validator against ComfyUI's recorded answers, and every repository workflow against
the recorded node signatures (plus our declared custom nodes) after binding."""

import copy
import json

import pytest

from engines.base import EngineError
from engines.comfyui.validate import CUSTOM_NODES_PATH, NodeCatalog, validate_prompt
from engines.comfyui.workflows import (
    WORKFLOW_DIR,
    bind,
    derived_params,
    load_workflow,
    workflow_names,
)
from tests.engines_comfyui.conftest import recording, shared_comfyui

ERROR_RECORDINGS = [
    "a2_unknown_node_type_only", "a_unknown_node_type", "b2_missing_required_widget_upstream",
    "b_missing_required_input", "c2_unet_not_in_list_v3_combo", "c_model_not_in_list",
    "d_value_out_of_range", "e_bad_type_value", "f_link_to_missing_node", "g_no_output_node",
    "h_link_type_mismatch", "j_missing_class_type", "k_empty_prompt",
    "m_loadimage_missing_file",
]

SAMPLE_PARAMS = {
    "prompt": "a red fox running through snow", "negative_prompt": "blurry", "width": 832,
    "height": 480, "frames": 49, "fps": 16, "steps": 8, "cfg": 3.5, "seed": 2**40 + 7,
    "sampler": "euler", "scheduler": "simple", "shift": 5.0, "strength": 0.6,
    "camera_move": "dolly_left", "duration_seconds": 12, "tags": "lofi, piano",
}


@pytest.fixture(scope="module")
def core_catalog() -> NodeCatalog:
    return NodeCatalog.from_files(shared_comfyui() / "object_info.json", None)


@pytest.fixture(scope="module")
def full_catalog() -> NodeCatalog:
    return NodeCatalog.from_files(shared_comfyui() / "object_info.json", CUSTOM_NODES_PATH)


def _shape(body: dict) -> dict:
    """What a client relies on: error type/message/details, per-node error kinds."""
    return {
        "error": {k: body["error"][k] for k in ("type", "message", "details")},
        "node_errors": {node_id: {"class_type": info["class_type"],
                                  "dependent_outputs": info["dependent_outputs"],
                                  "errors": [(e["type"], e["message"], e["details"],
                                              e["extra_info"].get("input_name"))
                                             for e in info["errors"]]}
                        for node_id, info in body["node_errors"].items()},
    }


@pytest.mark.parametrize("kind", ERROR_RECORDINGS)
def test_validator_answers_each_recorded_error_like_comfyui(catalog, kind):
    rec = recording(f"POST_prompt__err_{kind}")
    prompt = rec["request"]["json"]["prompt"]
    result = validate_prompt(copy.deepcopy(prompt), catalog, any_file_name=False,
                             file_exists=lambda _kind, _name: False)
    assert rec["status"] == 400 and not result.ok
    assert _shape(result.response_body()) == _shape(rec["body"])


def test_value_errors_echo_the_input_config_and_received_value(catalog):
    rec = recording("POST_prompt__err_d_value_out_of_range")
    body = validate_prompt(rec["request"]["json"]["prompt"], catalog).response_body()
    error = body["node_errors"]["1"]["errors"][0]["extra_info"]
    expected = rec["body"]["node_errors"]["1"]["errors"][0]["extra_info"]
    assert error["input_config"][0] == expected["input_config"][0] == "INT"
    assert error["received_value"] == expected["received_value"] == 999999


def test_a_bad_v3_combo_passes_like_0_3_64_but_fails_in_strict_mode(catalog):
    rec = recording("POST_prompt__err_i_combo_bad_value_v3_node")
    prompt = rec["request"]["json"]["prompt"]
    assert rec["status"] == 200 and validate_prompt(prompt, catalog).ok
    strict = validate_prompt(prompt, catalog, strict_v3_combos=True)
    assert not strict.ok
    assert strict.node_errors["3"]["errors"][0]["type"] == "value_not_in_list"


def test_model_file_names_are_accepted_unless_file_lists_are_enforced(catalog):
    prompt = recording("POST_prompt__err_c_model_not_in_list")["request"]["json"]["prompt"]
    assert validate_prompt(prompt, catalog).ok
    assert not validate_prompt(prompt, catalog, any_file_name=False).ok


def test_nodes_that_feed_no_output_are_not_validated(catalog):
    prompt = {"1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8,
                                                           "batch_size": 1, "color": 0}},
              "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0],
                                                          "filename_prefix": "x"}},
              "3": {"class_type": "EmptyImage", "inputs": {"width": "nonsense"}}}
    assert validate_prompt(prompt, catalog).ok


def test_every_reference_template_validates(catalog):
    for path in sorted((shared_comfyui() / "reference_workflows").glob("*.api.json")):
        result = validate_prompt(json.loads(path.read_text()), catalog, strict_v3_combos=True)
        assert result.ok, (path.name, result.error, result.node_errors)


def test_the_repository_has_a_workflow_for_every_catalogue_model_and_tool():
    models = {"wan-t2v", "ltx-t2v", "ltx-quality", "hunyuan-t2v", "hunyuan15-t2v",
              "cogvideo-t2v", "animatediff", "ltx-camera", "ltx-control", "wan-vace",
              "wan-animate", "hunyuan15-i2v", "ltx-i2v", "svd-i2v", "wan-i2v", "ltx-flf",
              "wan-flf", "wan-s2v", "liveportrait", "dreamidv", "echomimic", "hunyuan3d", "v2v",
              "sd15", "flux", "flux-dev", "flux-edit"}
    tools = {"remove_background", "face_swap", "upscale", "upscale_video", "ace-step"}
    assert models | tools <= set(workflow_names())
    assert load_workflow("audio").name == "ace-step"


@pytest.mark.parametrize("name", workflow_names())
def test_every_workflow_validates_after_binding(full_catalog, name):
    workflow = load_workflow(name)
    uploaded = {role: f"uploaded-{role}.bin" for role in workflow.input_roles}
    graph = bind(workflow, SAMPLE_PARAMS, uploaded)
    result = validate_prompt(graph, full_catalog, strict_v3_combos=True,
                             file_exists=lambda _kind, n: n.startswith("uploaded-"))
    assert result.ok, (result.error, json.dumps(result.node_errors)[:2000])
    assert workflow.output_node in result.outputs
    if workflow.meta.get("optional_inputs"):
        required = {r: n for r, n in uploaded.items() if r in workflow.required_inputs}
        bare = validate_prompt(bind(workflow, SAMPLE_PARAMS, required), full_catalog,
                               strict_v3_combos=True)
        assert bare.ok, (bare.error, bare.node_errors)


@pytest.mark.parametrize("name", workflow_names())
def test_every_workflow_declares_what_it_needs(core_catalog, full_catalog, name):
    core = core_catalog
    workflow = load_workflow(name)
    meta = workflow.meta
    assert meta["comfyui"] and meta["title"] and meta["output"]["kind"]
    assert workflow.graph[workflow.output_node]["class_type"]
    values = derived_params(SAMPLE_PARAMS)
    for param, targets in meta["params"].items():
        assert param in values, f"{param} is bound but never sent"
        for node_id, input_name in targets:
            assert input_name in full_catalog.get(workflow.graph[node_id]["class_type"]).inputs
    extra = {n["class_type"] for n in workflow.graph.values()} - set(core.nodes)
    assert not extra or meta["custom_nodes"], f"{name} uses {extra} without declaring them"


def test_binding_writes_params_into_a_copy_and_keeps_types():
    workflow = load_workflow("wan-t2v")
    before = json.dumps(workflow.graph, sort_keys=True)
    graph = bind(workflow, {**SAMPLE_PARAMS, "steps": 6, "cfg": 1, "width": 640.0}, {})
    assert json.dumps(workflow.graph, sort_keys=True) == before
    assert graph["74"]["inputs"]["width"] == 640 and isinstance(graph["74"]["inputs"]["width"],
                                                                int)
    assert graph["81"]["inputs"]["end_at_step"] == graph["78"]["inputs"]["start_at_step"] == 3
    assert graph["89"]["inputs"]["text"] == SAMPLE_PARAMS["prompt"]
    assert graph["82"]["inputs"]["shift"] == 5.0


def test_camera_moves_map_to_their_lora_and_unknown_moves_are_refused():
    workflow = load_workflow("ltx-camera")
    graph = bind(workflow, {**SAMPLE_PARAMS, "camera_move": "dolly_out"}, {})
    assert "dolly-out" in json.dumps(graph)
    with pytest.raises(EngineError) as info:
        bind(workflow, {**SAMPLE_PARAMS, "camera_move": "barrel_roll"}, {})
    assert info.value.code == "invalid_params"


def test_a_missing_required_input_file_is_refused():
    with pytest.raises(EngineError) as info:
        bind(load_workflow("wan-i2v"), SAMPLE_PARAMS, {})
    assert info.value.code == "invalid_params" and info.value.detail == {"field": "image"}


def test_ace_step_takes_tags_lyrics_and_duration():
    graph = bind(load_workflow("ace-step"), {"prompt": "calm synthwave", "duration_seconds": 7},
                 {})
    assert graph["14"]["inputs"]["tags"] == "calm synthwave"
    assert graph["14"]["inputs"]["lyrics"] == "[instrumental]"
    assert graph["17"]["inputs"]["seconds"] == 7


def test_the_readme_lists_every_workflow():
    readme = (WORKFLOW_DIR.parent / "README.md").read_text()
    missing = [name for name in workflow_names() if f"| `{name}` |" not in readme]
    assert not missing
