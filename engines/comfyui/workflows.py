"""The repository's API-format workflows and their bindings to our parameters.

Each workflow is two files in `workflows/`: `<name>.json`, a graph exactly as ComfyUI's
"Export (API)" writes it (so it can be loaded into ComfyUI as is), and `<name>.meta.json`,
which declares how our request maps onto it:

- `params`: our parameter -> list of `[node_id, input_name]` it is written to;
- `inputs`: input file role (image, last_image, audio, video) -> `[node_id, input_name]`
  that receives the uploaded file's name;
- `optional_inputs`: for a role that may be absent, the node inputs to set instead
  (`null` removes the input, a `[node, slot]` link rewires it);
- `maps`: a parameter whose value is translated (e.g. `camera_move` -> a LoRA file);
- `output`: the node whose files are the result, and their kind (video, image, audio, model);
- `comfyui`, `custom_nodes`, `model_files`, `notes`: what a server needs to run it.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path

from engines.base import EngineError

WORKFLOW_DIR = Path(__file__).with_name("workflows")

# Catalogue model ids and tool names whose workflow file is named differently.
WORKFLOW_ALIASES = {"audio": "ace-step", "ace_step": "ace-step", "ace-step-audio": "ace-step"}


class BindingError(EngineError):
    code = "invalid_params"


@dataclass(frozen=True)
class Workflow:
    name: str
    graph: dict
    meta: dict

    @property
    def output_node(self) -> str:
        return self.meta["output"]["node"]

    @property
    def output_kind(self) -> str:
        return self.meta["output"]["kind"]

    @property
    def input_roles(self) -> list[str]:
        return list(self.meta.get("inputs", {}))

    @property
    def required_inputs(self) -> list[str]:
        optional = self.meta.get("optional_inputs", {})
        return [role for role in self.input_roles if role not in optional]


def workflow_names(dirs: tuple[Path, ...] = (WORKFLOW_DIR,)) -> list[str]:
    """Every workflow found in `dirs` (later directories override earlier ones)."""
    names = set()
    for folder in dirs:
        names.update(p.name[:-len(".meta.json")] for p in Path(folder).glob("*.meta.json"))
    return sorted(names)


def load_workflow(name: str, dirs: tuple[Path, ...] = (WORKFLOW_DIR,)) -> Workflow:
    """The workflow `name` (a model id, a tool name or an alias) from the last of `dirs`
    that has it. Raises EngineError(code="workflow_missing") if none does."""
    name = WORKFLOW_ALIASES.get(name, name)
    for folder in reversed(dirs):
        graph_path, meta_path = Path(folder) / f"{name}.json", Path(folder) / f"{name}.meta.json"
        if graph_path.is_file() and meta_path.is_file():
            return Workflow(name, json.loads(graph_path.read_text()),
                            json.loads(meta_path.read_text()))
    raise EngineError(f"No ComfyUI workflow is installed for {name!r}.",
                      code="workflow_missing", detail={"workflow": name})


def derived_params(params: dict) -> dict:
    """Our request parameters plus the values some workflows need computed from them."""
    values = dict(params)
    steps = params.get("steps")
    if steps:
        # Two-stage samplers (Wan 2.2 high/low noise) hand over at half the steps.
        values["half_steps"] = max(1, int(steps) // 2)
    values["tags"] = params.get("tags") or params.get("prompt")
    values["lyrics"] = params.get("lyrics") or "[instrumental]"
    duration = params.get("duration_seconds") or params.get("duration")
    if duration:
        values["duration"] = duration
    return values


def _coerce(current: object, value: object) -> object:
    """Keep the JSON type the template uses for that input (ComfyUI converts strings, but a
    float where the template has an integer count is a mistake we can fix here)."""
    if isinstance(current, bool):
        return bool(value)
    if isinstance(current, int) and isinstance(value, int | float):
        return int(value) if float(value).is_integer() else value
    if isinstance(current, float) and isinstance(value, int | float):
        return float(value)
    if isinstance(current, str):
        return str(value)
    return value


def bind(workflow: Workflow, params: dict, uploaded: dict[str, str]) -> dict:
    """A deep copy of the workflow's graph with `params` and the uploaded input names
    (role -> name on the server) written in. The template is never changed."""
    graph = copy.deepcopy(workflow.graph)
    values = derived_params(params)
    maps = workflow.meta.get("maps", {})
    for name, targets in workflow.meta.get("params", {}).items():
        value = values.get(name)
        if value is None or value == "":
            continue
        if name in maps:
            if value not in maps[name]:
                raise BindingError(f"{workflow.name} does not support {name}={value!r}.",
                                   detail={"field": name, "choices": sorted(maps[name])})
            value = maps[name][value]
        for node_id, input_name in targets:
            node_inputs = graph[node_id]["inputs"]
            node_inputs[input_name] = _coerce(node_inputs.get(input_name), value)
    optional = workflow.meta.get("optional_inputs", {})
    for role, targets in workflow.meta.get("inputs", {}).items():
        if role in uploaded:
            for node_id, input_name in targets:
                graph[node_id]["inputs"][input_name] = uploaded[role]
        elif role in optional:
            for node_id, changes in optional[role].items():
                for input_name, replacement in changes.items():
                    if replacement is None:
                        graph[node_id]["inputs"].pop(input_name, None)
                    else:
                        graph[node_id]["inputs"][input_name] = replacement
        else:
            raise BindingError(f"{workflow.name} needs an input file: {role}.",
                               detail={"field": role})
    return graph
