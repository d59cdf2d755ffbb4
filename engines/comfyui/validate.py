"""Validate an API-format ComfyUI graph the way ComfyUI 0.3.64 does in `POST /prompt`.

The checks and the error shapes follow `execution.validate_prompt` / `validate_inputs` of
that release (compared with the recordings in `../shared/comfyui/protocol/POST_prompt__err_*`):
a node without `class_type` or of an unknown class stops validation at once
(`invalid_prompt`); a graph without an output node is `prompt_no_outputs`; otherwise every
output node and everything that feeds it is checked (required inputs present, links to
existing nodes with a matching output type, values convertible to INT/FLOAT/STRING/BOOLEAN,
within min/max, legacy combo values in their list) and failures are reported per node in
`node_errors`. Nodes that feed no output are not validated, as in ComfyUI.

Two deliberate differences, both switchable:
- File-name combos (checkpoints, LoRAs, VAEs, uploaded inputs) list the files of the server
  they were recorded on; the recording had no models, so their lists are empty. Any string
  is accepted for them by default (`any_file_name`); `file_exists` (when given) checks
  uploaded inputs like ComfyUI's `LoadImage.VALIDATE_INPUTS` does.
- ComfyUI 0.3.64 does not check values of V3 `COMBO` inputs at validation (a bad option
  fails at execution). `strict_v3_combos=True` checks them too; the repository's workflow
  tests use it so that such a mistake fails our suite instead of a user's job.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

CUSTOM_NODES_PATH = Path(__file__).with_name("custom_nodes.json")

# Inputs that name files on the ComfyUI server. Their recorded lists are empty or hold only
# placeholders ("pixel_space" for VAELoader, "example.png" for LoadImage).
_FILE_INPUT_FLAGS = ("image_upload", "audio_upload", "video_upload", "file_upload")
_FILE_COMBOS_WITH_PLACEHOLDERS = {("VAELoader", "vae_name")}
# Upload inputs that ComfyUI checks with a custom validator, and the word its message uses.
_UPLOAD_KINDS = {"image_upload": "image", "audio_upload": "audio", "video_upload": "video"}


@dataclass
class InputSpec:
    name: str
    category: str  # required | optional
    type: str | list  # "INT", "MODEL", "COMBO" (V3) or a list of options (legacy combo)
    options: dict

    @property
    def config(self) -> list:
        """The `input_config` ComfyUI echoes in error details."""
        return [self.type, self.options]


@dataclass
class NodeSpec:
    class_type: str
    inputs: dict[str, InputSpec]
    outputs: list
    output_node: bool
    file_inputs: set[str] = field(default_factory=set)
    upload_kinds: dict[str, str] = field(default_factory=dict)


class NodeCatalog:
    """Node signatures: ComfyUI's `/object_info` plus our declared custom nodes."""

    def __init__(self, object_info: dict, custom_nodes: dict | None = None,
                 core_extensions: dict | None = None):
        self.nodes: dict[str, NodeSpec] = {}
        for class_type, info in object_info.items():
            self.nodes[class_type] = _from_object_info(class_type, info)
        for class_type, sig in (custom_nodes or {}).items():
            self.nodes[class_type] = _from_signature(class_type, sig)
        for class_type, extra in (core_extensions or {}).items():
            if class_type.startswith("_") or class_type not in self.nodes:
                continue
            for name, options in extra.items():
                inp = self.nodes[class_type].inputs[name]
                if isinstance(inp.type, list):
                    inp.type = inp.type + [o for o in options if o not in inp.type]

    @classmethod
    def from_files(cls, object_info: Path, custom_nodes: Path | None = CUSTOM_NODES_PATH
                   ) -> NodeCatalog:
        info = json.loads(Path(object_info).read_text())
        declared = json.loads(Path(custom_nodes).read_text()) if custom_nodes else {}
        return cls(info, declared.get("nodes"), declared.get("core_extensions"))

    def get(self, class_type: str) -> NodeSpec | None:
        return self.nodes.get(class_type)

    def object_info(self, files: list[str] = ()) -> dict:
        """The catalogue in `/object_info` form (for a fake server to serve), with `files`
        listed in every model-file combo, as a server with those files installed does."""
        out = {}
        for name, spec in self.nodes.items():
            inputs: dict[str, dict] = {"required": {}, "optional": {}}
            for inp in spec.inputs.values():
                config = inp.config
                if inp.name in spec.file_inputs and inp.name not in spec.upload_kinds:
                    if isinstance(inp.type, list):
                        config = [[*inp.type, *files], inp.options]
                    else:
                        config = [inp.type, {**inp.options, "options": list(files)}]
                inputs[inp.category][inp.name] = config
            out[name] = {"input": inputs, "output": spec.outputs, "name": name,
                         "output_node": spec.output_node}
        return out


def _is_file_combo(class_type: str, name: str, type_: object, options: dict) -> bool:
    if any(options.get(flag) for flag in _FILE_INPUT_FLAGS):
        return True
    if (class_type, name) in _FILE_COMBOS_WITH_PLACEHOLDERS:
        return True
    if options.get("files"):
        return True
    combo = type_ if isinstance(type_, list) else (
        options.get("options") if type_ == "COMBO" else None)
    return combo is not None and len(combo) == 0


def _finish(spec: NodeSpec) -> NodeSpec:
    for inp in spec.inputs.values():
        if _is_file_combo(spec.class_type, inp.name, inp.type, inp.options):
            spec.file_inputs.add(inp.name)
        for flag, kind in _UPLOAD_KINDS.items():
            if inp.options.get(flag):
                spec.upload_kinds[inp.name] = kind
    return spec


def _from_object_info(class_type: str, info: dict) -> NodeSpec:
    inputs = {}
    for category in ("required", "optional"):
        for name, cfg in (info.get("input", {}).get(category) or {}).items():
            options = cfg[1] if len(cfg) > 1 and isinstance(cfg[1], dict) else {}
            inputs[name] = InputSpec(name, category, cfg[0], options)
    return _finish(NodeSpec(class_type, inputs, list(info.get("output", [])),
                            bool(info.get("output_node"))))


def _from_signature(class_type: str, sig: dict) -> NodeSpec:
    """A custom node declared in node_signatures.json form. Its combos are legacy lists
    (custom nodes declare them that way), so their values are checked."""
    inputs = {}
    for category in ("required", "optional"):
        for name, cfg in (sig.get(category) or {}).items():
            cfg = dict(cfg)
            type_ = cfg.pop("type")
            if type_ == "COMBO":
                type_ = list(cfg.pop("options", []))
            inputs[name] = InputSpec(name, category, type_, cfg)
    return _finish(NodeSpec(class_type, inputs, list(sig.get("output", [])),
                            bool(sig.get("output_node"))))


@dataclass
class PromptValidation:
    """ComfyUI's answer: `ok` with the outputs to run, or `error` and `node_errors`."""

    ok: bool
    error: dict | None
    outputs: list[str]
    node_errors: dict

    def response_body(self) -> dict:
        """The 400 body of `POST /prompt` for an invalid graph."""
        return {"error": self.error, "node_errors": self.node_errors}


FileExists = Callable[[str, str], bool]  # (kind: image|audio|video, name) -> exists


def _error(type_: str, message: str, details: str = "", **extra) -> dict:
    return {"type": type_, "message": message, "details": details, "extra_info": extra}


def _types_match(received: object, expected: object) -> bool:
    """`comfy_execution.validation.validate_node_input`: equal, `*`, or overlapping unions.
    A combo output feeding a combo input matches whatever its options."""
    if received == expected:
        return True
    if isinstance(expected, list) or expected == "COMBO":
        return isinstance(received, list) or received == "COMBO"
    if not isinstance(received, str) or not isinstance(expected, str):
        return False
    got = {t.strip() for t in received.split(",")}
    want = {t.strip() for t in expected.split(",")}
    return "*" in got or "*" in want or bool(got & want)


class _Validator:
    def __init__(self, prompt: dict, catalog: NodeCatalog, strict_v3_combos: bool,
                 file_exists: FileExists | None, any_file_name: bool):
        self.any_file_name = any_file_name
        self.prompt = prompt
        self.catalog = catalog
        self.strict = strict_v3_combos
        self.file_exists = file_exists
        self.validated: dict[str, tuple[bool, list]] = {}

    def node(self, node_id: str) -> tuple[dict, NodeSpec]:
        node = self.prompt[node_id]  # KeyError for a link to a missing node, as in ComfyUI
        spec = self.catalog.get(node["class_type"])
        assert spec is not None  # unknown classes were refused before validation
        return node, spec

    def validate(self, node_id: str) -> tuple[bool, list]:
        if node_id in self.validated:
            return self.validated[node_id]
        node, spec = self.node(node_id)
        inputs = node.get("inputs") or {}
        errors: list[dict] = []
        valid = True
        for inp in spec.inputs.values():
            if inp.name not in inputs:
                if inp.category == "required":
                    errors.append(_error("required_input_missing", "Required input is missing",
                                         inp.name, input_name=inp.name))
                continue
            value = inputs[inp.name]
            if isinstance(value, list):
                outcome = self._link(inp, value, errors)
                if outcome is False:
                    valid = False
                continue
            self._value(spec, inp, value, errors)
        result = (not errors and valid, errors)
        self.validated[node_id] = result
        return result

    def _link(self, inp: InputSpec, value: list, errors: list) -> bool | None:
        if len(value) != 2:
            errors.append(_error("bad_linked_input", "Bad linked input, must be a length-2 list "
                                 "of [node_id, slot_index]", inp.name, input_name=inp.name,
                                 input_config=inp.config, received_value=value))
            return None
        source_id, slot = str(value[0]), value[1]
        _source, source_spec = self.node(source_id)
        received = source_spec.outputs[slot]
        if not _types_match(received, inp.type):
            errors.append(_error(
                "return_type_mismatch", "Return type mismatch between linked nodes",
                f"{inp.name}, received_type({received}) mismatch input_type({inp.type})",
                input_name=inp.name, input_config=inp.config, received_type=received,
                linked_node=value))
            return None
        try:
            ok, _ = self.validate(source_id)
        except Exception as exc:
            self.validated[source_id] = (False, [_error(
                "exception_during_inner_validation", "Exception when validating inner node",
                str(exc), input_name=inp.name, input_config=inp.config,
                exception_message=str(exc), exception_type=type(exc).__name__,
                traceback=[], linked_node=value)])
            return False
        return ok

    def _value(self, spec: NodeSpec, inp: InputSpec, value: object, errors: list) -> None:
        if isinstance(value, dict) and "__value__" in value:
            value = value["__value__"]
        converters = {"INT": int, "FLOAT": float, "STRING": str, "BOOLEAN": bool}
        if isinstance(inp.type, str) and inp.type in converters:
            try:
                value = converters[inp.type](value)
            except (TypeError, ValueError) as exc:
                errors.append(_error(
                    "invalid_input_type",
                    f"Failed to convert an input value to a {inp.type} value",
                    f"{inp.name}, {value}, {exc}", input_name=inp.name,
                    input_config=inp.config, received_value=value,
                    exception_message=str(exc)))
                return
        if inp.name in spec.upload_kinds:
            # ComfyUI's loaders validate their file themselves (and skip the combo check).
            kind = spec.upload_kinds[inp.name]
            if self.file_exists is not None and not self.file_exists(kind, str(value)):
                errors.append(_error("custom_validation_failed",
                                     "Custom validation failed for node",
                                     f"{inp.name} - Invalid {kind} file: {value}",
                                     input_name=inp.name))
            return
        opts = inp.options
        if "min" in opts and value < opts["min"]:
            errors.append(_error("value_smaller_than_min",
                                 f"Value {value} smaller than min of {opts['min']}", inp.name,
                                 input_name=inp.name, input_config=inp.config,
                                 received_value=value))
            return
        if "max" in opts and value > opts["max"]:
            errors.append(_error("value_bigger_than_max",
                                 f"Value {value} bigger than max of {opts['max']}", inp.name,
                                 input_name=inp.name, input_config=inp.config,
                                 received_value=value))
            return
        if inp.name in spec.file_inputs and self.any_file_name:
            return  # any file name: see the module docstring
        choices = inp.type if isinstance(inp.type, list) else (
            opts.get("options") if inp.type == "COMBO" and self.strict else None)
        if choices is not None and value not in choices:
            listed = (f"(list of length {len(choices)})" if len(choices) > 20
                      else str(choices))
            errors.append(_error("value_not_in_list", "Value not in list",
                                 f"{inp.name}: '{value}' not in {listed}",
                                 input_name=inp.name,
                                 input_config=None if len(choices) > 20 else inp.config,
                                 received_value=value))


def validate_prompt(prompt: dict, catalog: NodeCatalog, *, strict_v3_combos: bool = False,
                    file_exists: FileExists | None = None,
                    any_file_name: bool = True) -> PromptValidation:
    """Check `prompt` (node id -> {class_type, inputs}) like ComfyUI's `POST /prompt`.
    `any_file_name=False` checks file-name combos against their recorded lists, exactly
    as the recorded server (which had no models) did."""
    outputs = []
    for node_id, node in prompt.items():
        if not isinstance(node, dict) or "class_type" not in node:
            return PromptValidation(False, _error(
                "invalid_prompt",
                "Cannot execute because a node is missing the class_type property.",
                f"Node ID '#{node_id}'"), [], {})
        spec = catalog.get(node["class_type"])
        if spec is None:
            return PromptValidation(False, _error(
                "invalid_prompt",
                f"Cannot execute because node {node['class_type']} does not exist.",
                f"Node ID '#{node_id}'"), [], {})
        if spec.output_node:
            outputs.append(node_id)
    if not outputs:
        return PromptValidation(False, _error("prompt_no_outputs", "Prompt has no outputs"),
                                [], {})
    validator = _Validator(prompt, catalog, strict_v3_combos, file_exists, any_file_name)
    good, failed, node_errors = [], [], {}
    for out in outputs:
        try:
            ok, reasons = validator.validate(out)
        except Exception as exc:
            ok, reasons = False, [_error(
                "exception_during_validation", "Exception when validating node", str(exc),
                exception_type=type(exc).__name__, traceback=[])]
            validator.validated[out] = (False, reasons)
        if ok:
            good.append(out)
            continue
        failed.append(reasons)
        for node_id, (valid, node_reasons) in validator.validated.items():
            if valid or not node_reasons:
                continue
            entry = node_errors.setdefault(node_id, {
                "errors": node_reasons, "dependent_outputs": [],
                "class_type": prompt[node_id]["class_type"]})
            entry["dependent_outputs"].append(out)
    if not good:
        details = "\n".join(f"{e['message']}: {e['details']}" for reasons in failed
                            for e in reasons)
        return PromptValidation(False, _error("prompt_outputs_failed_validation",
                                              "Prompt outputs failed validation", details),
                                [], node_errors)
    return PromptValidation(True, None, good, node_errors)
