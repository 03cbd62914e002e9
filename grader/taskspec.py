"""Task specs: ``tasks/<id>.yaml`` loaded, validated and resolved against the tasks root.

Owns the meaning of a spec beyond its JSON Schema: names that must not clash,
outputs the entry must produce, fixed cases that must name every param, files
that must exist. A task is data; nothing here knows any particular task.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path

from . import expressions, yamldoc

OVERRIDES = ("limits", "tolerance")
BEGIN_MARKER = "########## Begin ##########"
END_MARKER = "########## End ##########"


class TaskError(Exception):
    """A task that cannot be used: unknown id or a broken spec. ``problems`` are one line each."""

    def __init__(self, problems: list[str], unknown: bool = False):
        super().__init__("\n".join(problems))
        self.problems = problems
        self.unknown = unknown


@dataclass
class Task:
    id: str
    spec: dict
    root: Path
    spec_path: Path
    _reference: types.ModuleType | None = field(default=None, repr=False)

    @property
    def template_path(self) -> Path:
        return self.root / self.spec["files"]["template"]

    @property
    def reference_path(self) -> Path:
        return self.root / self.spec["files"]["reference"]

    @property
    def support_paths(self) -> list[Path]:
        return [self.root / p for p in self.spec["files"]["support"]]

    @property
    def module_name(self) -> str:
        return self.spec["files"]["module"]

    @property
    def entry(self) -> dict:
        return self.spec["entry"]

    @property
    def output_names(self) -> list[str]:
        return list(self.spec["outputs"])

    def output_source(self, output: str) -> str:
        """"function" or "method" when the output is a return value, else "attribute"."""
        if "function" in self.entry:
            return "function"
        return "attribute" if output in self.entry.get("attributes", []) else "method"

    def template_source(self) -> str:
        return self.template_path.read_text(encoding="utf-8")

    def support_files(self) -> dict[str, str]:
        """Support modules as {file name: source}, as the student's code sees them."""
        return {p.name: p.read_text(encoding="utf-8") for p in self.support_paths}

    def reference(self) -> types.ModuleType:
        """The reference module, imported by path on the trusted side only."""
        if self._reference is None:
            self._reference = load_module(self.reference_path, f"_grader_reference_{self.id}")
        return self._reference

    def tolerance(self, output: str, settings_tolerance: dict) -> dict:
        merged = dict(settings_tolerance)
        merged.update(self.spec.get("tolerance") or {})
        merged.update((self.spec["outputs"][output] or {}).get("tolerance") or {})
        return merged

    def limits(self, settings_limits: dict) -> dict:
        merged = dict(settings_limits)
        merged.update(self.spec.get("limits") or {})
        return merged


def load_module(path: Path, name: str) -> types.ModuleType:
    """Import a trusted Python file by path, without touching sys.path."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    return module


def task_ids(root: Path) -> list[str]:
    return sorted(p.stem for p in (root / "tasks").glob("*.yaml"))


def load(task_id: str, root: Path) -> Task:
    path = root / "tasks" / f"{task_id}.yaml"
    if not path.is_file() or "/" in task_id or task_id.startswith("."):
        known = ", ".join(task_ids(root)) or "none"
        raise TaskError([f"unknown task {task_id!r} (known tasks: {known})"], unknown=True)
    try:
        written = yamldoc.load(path, "task.schema.json", fill=False)
    except yamldoc.DocumentError as exc:
        raise TaskError(exc.problems) from None
    spec = yamldoc.fill_defaults(written, "task.schema.json")
    # A task's limits and tolerances override grader.yaml key by key: only what the author
    # wrote counts, never the schema's defaults.
    for key in OVERRIDES:
        spec.pop(key, None)
        if key in written:
            spec[key] = written[key]
    for name, output in spec["outputs"].items():
        output.pop("tolerance", None)
        if (written["outputs"][name] or {}).get("tolerance"):
            output["tolerance"] = written["outputs"][name]["tolerance"]
    task = Task(id=task_id, spec=spec, root=root, spec_path=path)
    problems = semantic_problems(task)
    if problems:
        raise TaskError([f"{path}: {p}" for p in problems])
    return task


def semantic_problems(task: Task) -> list[str]:
    """What the schema cannot say: names, references between sections, files."""
    spec = task.spec
    problems: list[str] = []
    if spec["id"] != task.id:
        problems.append(f"id: {spec['id']!r} differs from the file name {task.id!r}")
    params, derived, inputs = set(spec["params"]), list(spec.get("derived", {})), set(spec["inputs"])
    clashes = (params & inputs) | (params & set(derived)) | (inputs & set(derived))
    if clashes:
        problems.append(f"names used twice among params, derived and inputs: {sorted(clashes)}")
    for name, bounds in spec["params"].items():
        if "min" in bounds and bounds["min"] > bounds["max"]:
            problems.append(f"params/{name}: min {bounds['min']} > max {bounds['max']}")
    known = set(params)
    for name, text in spec.get("derived", {}).items():
        problems += _expression_problems(f"derived/{name}", text, known)
        known.add(name)
    for i, text in enumerate(spec.get("constraints", [])):
        problems += _expression_problems(f"constraints/{i}", text, known)
    for name, array in spec["inputs"].items():
        for i, text in enumerate(array["shape"]):
            problems += _expression_problems(f"inputs/{name}/shape/{i}", text, known)
    entry = spec["entry"]
    argument_names = list(entry.get("args", [])) + list(entry.get("init", []))
    argument_names += [a for step in entry.get("steps", []) for a in step.get("args", [])]
    flat = [n for a in argument_names for n in (a if isinstance(a, list) else [a])]
    for name in flat:
        if name not in known | inputs:
            problems.append(f"entry: argument {name!r} is not an input, param or derived value")
    produced = [entry["returns"]] if "function" in entry else [s["returns"] for s in entry["steps"] if "returns" in s]
    produced += entry.get("attributes", [])
    for name in spec["outputs"]:
        if name not in produced:
            problems.append(f"outputs/{name}: the entry never produces it (add it as a returns or an attribute)")
    seen_names = set()
    for i, case in enumerate(spec["cases"]["fixed"]):
        if case["name"] in seen_names:
            problems.append(f"cases/fixed/{i}: name {case['name']!r} is used twice")
        seen_names.add(case["name"])
        missing, extra = params - set(case["params"]), set(case["params"]) - params
        if missing:
            problems.append(f"cases/fixed/{i} ({case['name']}): no value for params {sorted(missing)}")
        if extra:
            problems.append(f"cases/fixed/{i} ({case['name']}): unknown params {sorted(extra)}")
    ids = [m["id"] for m in spec.get("misconceptions", [])]
    if len(ids) != len(set(ids)):
        problems.append("misconceptions: ids must be unique")
    files = [spec["files"]["template"], spec["files"]["reference"], *spec["files"]["support"]]
    for relative in files:
        path = (task.root / relative).resolve()
        if not path.is_relative_to(task.root.resolve()):
            problems.append(f"files: {relative} points outside the tasks root")
        elif not path.is_file():
            problems.append(f"files: {relative} does not exist")
    return problems


def _expression_problems(where: str, text, known: set[str]) -> list[str]:
    try:
        unknown = expressions.names(text) - known
    except expressions.ExpressionError as exc:
        return [f"{where}: {exc}"]
    return [f"{where}: unknown names {sorted(unknown)} in {text!r}"] if unknown else []
