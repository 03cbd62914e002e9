"""Task specs: ``tasks/<id>.yaml`` loaded, validated and resolved against the tasks root.

Owns the meaning of a spec beyond its JSON Schema: names that must not clash,
outputs the entry must produce, fixed cases that must name every param, files
that must exist. A task is data; nothing here knows any particular task.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import types
from pathlib import Path

from . import yamldoc

BEGIN_MARKER = "########## Begin ##########"
END_MARKER = "########## End ##########"
MARKER_LIKE = re.compile(r"#{3,}\s*(begin|end)\b", re.IGNORECASE)


OUTSIDE_BLANKS_POLICIES = ("warn", "restore", "reject")  # from the loosest to the strictest


class TaskError(Exception):
    """A task that cannot be used: unknown id or a broken spec. ``problems`` are one line each."""

    def __init__(self, problems: list[str], unknown: bool = False):
        super().__init__("\n".join(problems))
        self.problems = problems
        self.unknown = unknown


class Task:
    """A task's spec (defaults filled in) with its files resolved against the tasks root."""

    def __init__(self, id: str, spec: dict, root: Path, spec_path: Path, document: yamldoc.Document | None = None):
        self.id = id
        self.spec = spec
        self.root = root
        self.spec_path = spec_path
        # Built from a dict (tests, tools), without a document: problems are located by path only.
        self.document = document or yamldoc.Document(spec_path, spec, {})
        self._reference: types.ModuleType | None = None
        self._content_hash: str | None = None
        self.plans: dict = {}  # cases.plan's, by random case count

    def __repr__(self) -> str:
        return f"Task({self.id!r})"

    @property
    def content_hash(self) -> str:
        """``sha256:<hex>`` of what decides a grading of this task: its spec (the file's bytes; the
        spec itself, as canonical JSON, for a task built from a dict), its reference, its template
        and its support files. The one task hash of the feedback and the service, computed once."""
        if self._content_hash is None:
            # Here, not at the top: `grader grade` starts its sandbox before hashlib is loaded
            # (docs/platform.md, "Performance"); the feedback asks for the hash afterwards.
            import hashlib
            import json

            digest = hashlib.sha256()
            spec = (self.spec_path.read_bytes() if self.spec_path.is_file()
                    else json.dumps(self.spec, sort_keys=True, default=str).encode("utf-8"))
            parts = [("spec", spec), ("reference", self.reference_path.read_bytes()),
                     ("template", self.template_path.read_bytes())]
            parts += [(f"support/{path.name}", path.read_bytes()) for path in self.support_paths]
            for name, data in parts:  # each part named and its length fixed: no two tasks hash alike by a shift
                digest.update(b"%s\0%d\0" % (name.encode("utf-8"), len(data)))
                digest.update(data)
            self._content_hash = "sha256:" + digest.hexdigest()
        return self._content_hash

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
    def module_file(self) -> str:
        """The file name the student's module has in the sandbox (and in tracebacks)."""
        return f"{self.module_name}.py"

    @property
    def entry(self) -> dict:
        return self.spec["entry"]

    @property
    def entry_name(self) -> str:
        """The function or class the student's module must define (the entry's ``function`` or ``class``)."""
        return self.entry.get("function") or self.entry["class"]

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
        """The reference module, imported by path on the trusted side only. One that cannot be
        imported makes the task broken (TaskError), never the student's fault."""
        if self._reference is None:
            try:
                self._reference = load_module(self.reference_path, f"_grader_reference_{self.id}")
            except Exception as exc:
                raise TaskError([_import_problem(self.reference_path, "the reference", exc)]) from exc
        return self._reference

    def tolerance(self, output: str, settings_tolerance: dict) -> dict:
        """``output``'s tolerance: grader.yaml's, then the task's, then the output's own."""
        merged = dict(settings_tolerance)
        merged.update(self.spec.get("tolerance") or {})
        merged.update((self.spec["outputs"][output] or {}).get("tolerance") or {})
        return merged

    def tolerances(self, settings_tolerance: dict) -> dict[str, dict]:
        """Every output's tolerance (``tolerance``), by output name."""
        return {name: self.tolerance(name, settings_tolerance) for name in self.output_names}

    def outside_blanks(self, settings_policy: str) -> str:
        """The policy for a whole file that changes the template outside its blanks: the stricter of
        the task's and grader.yaml's (warn < restore < reject), so that neither can loosen the other."""
        order = OUTSIDE_BLANKS_POLICIES
        own = self.spec.get("outside_blanks") or settings_policy
        return max(own, settings_policy, key=order.index)

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


def load(task_id: str, root: Path, check: bool = True) -> Task:
    """The task ``task_id``; with ``check`` false the checks beyond its schema are left to the
    caller's ``check_semantics`` (``grader grade`` makes them while its sandbox starts)."""
    path = root / "tasks" / f"{task_id}.yaml"
    if not path.is_file() or "/" in task_id or task_id.startswith("."):
        known = ", ".join(task_ids(root)) or "none"
        raise TaskError([f"unknown task {task_id!r} (known tasks: {known})"], unknown=True)
    try:
        document = yamldoc.load_document(path, "task.schema.json")
    except yamldoc.DocumentError as exc:
        raise TaskError(exc.problems) from None
    task = Task(id=task_id, spec=document.data, root=root, spec_path=path, document=document)
    if check:
        check_semantics(task)
    return task


def check_semantics(task: Task) -> None:
    """THE check of "is this task broken" before a grading (grade, batch, the service, `grader
    list`): raise TaskError with every problem ``semantic_problems`` and ``template_problems``
    find. `grader validate` reports the same two in its "spec" and "code" checks, and more."""
    problems = semantic_problems(task)
    if not problems:
        problems = [f"{task.template_path}:{line}: {problem}" for line, problem in template_problems(task)]
    if problems:
        raise TaskError(problems)


def _import_problem(path: Path, what: str, exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        return f"{exc.filename or path}:{exc.lineno}: {what} does not compile: {exc.msg}"
    return f"{path}: importing {what} raised {type(exc).__name__}: {exc}"


def template_problems(task: Task) -> list[tuple[int, str]]:
    """(line, problem) of the template's blanks (``blanks_of``) and its encoding."""
    try:
        text = task.template_path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        return [(1, f"the template is not UTF-8 (byte {exc.start}); save it as UTF-8")]
    return blanks_of(text)[1]


def blanks_of(text: str) -> tuple[list[tuple[int, int]], list[tuple[int, str]]]:
    """The blanks of a template as (Begin line, End line), 1-based, and (line, problem) pairs:
    one Begin and one End marker per blank, alone on their lines, in order, not nested."""
    found: list[tuple[int, int]] = []
    problems: list[tuple[int, str]] = []
    opened: tuple[int, str] | None = None
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        indent = line[: len(line) - len(line.lstrip())]
        if stripped == BEGIN_MARKER:
            if opened:
                problems.append((number, f"a second Begin marker before the End of the blank opened at line "
                                         f"{opened[0]} (blanks cannot be nested)"))
            opened = (number, indent)
        elif stripped == END_MARKER:
            if not opened:
                problems.append((number, "an End marker without a Begin marker before it"))
                continue
            if indent != opened[1]:
                problems.append((number, f"the End marker is not indented like its Begin marker (line {opened[0]})"))
            found.append((opened[0], number))
            opened = None
        elif MARKER_LIKE.search(stripped):
            problems.append((number, f"this looks like a marker but is not exactly {BEGIN_MARKER!r} or "
                                     f"{END_MARKER!r} alone on its line"))
    if opened:
        problems.append((opened[0], "this Begin marker has no End marker"))
    if not found and not problems:
        problems.append((1, f"the template has no blank: mark the code to write between a line {BEGIN_MARKER!r} "
                            f"and a line {END_MARKER!r}"))
    return found, problems


def semantic_problems(task: Task) -> list[str]:
    """What the schema cannot say: names, references between sections, files; each located."""
    spec, at = task.spec, task.document.problem
    problems: list[str] = []
    if spec["id"] != task.id:
        problems.append(at(("id",), f"{spec['id']!r} differs from the file name {task.id!r}; make them equal"))
    params, derived, inputs = set(spec["params"]), list(spec.get("derived", {})), set(spec["inputs"])
    for section, names, others in (("derived", derived, params), ("inputs", inputs, params | set(derived))):
        for name in names:
            if name in others:
                problems.append(
                    at((section, name), f"the name {name!r} is already a param or derived value; rename one of them")
                )
    for name, bounds in spec["params"].items():
        if "min" in bounds and bounds["min"] > bounds["max"]:
            problems.append(at(("params", name), f"min {bounds['min']} is greater than max {bounds['max']}"))
    for name, array in spec["inputs"].items():
        if array["low"] > array["high"]:
            problems.append(at(("inputs", name), f"low {array['low']} is greater than high {array['high']}"))
    known = set(params)
    for name, text in spec.get("derived", {}).items():
        problems += _expression_problems(task, ("derived", name), text, known)
        known.add(name)
    for i, text in enumerate(spec.get("constraints", [])):
        problems += _expression_problems(task, ("constraints", i), text, known)
    for section in ("inputs", "outputs"):
        for name, array in spec[section].items():
            for i, text in enumerate((array or {}).get("shape") or []):
                problems += _expression_problems(task, (section, name, "shape", i), text, known)
    problems += _entry_problems(task, known | inputs)
    seen_names: dict[str, int] = {}
    for i, case in enumerate(spec["cases"]["fixed"]):
        where = ("cases", "fixed", i)
        if case["name"] in seen_names:
            problems.append(
                at(
                    where + ("name",),
                    f"the case name {case['name']!r} is already used by cases/fixed/{seen_names[case['name']]}",
                )
            )
        seen_names.setdefault(case["name"], i)
        missing, extra = params - set(case["params"]), set(case["params"]) - params
        if missing:
            problems.append(
                at(where + ("params",), f"case {case['name']!r} gives no value for the params {sorted(missing)}")
            )
        for name in sorted(extra):
            problems.append(
                at(
                    where + ("params", name),
                    f"case {case['name']!r} sets {name!r}, which is not a param (params: {', '.join(spec['params'])})",
                )
            )
        for name, draw in case.get("inputs", {}).items():
            if name not in inputs:
                problems.append(
                    at(
                        where + ("inputs", name),
                        f"case {case['name']!r} draws {name!r}, which is not an input "
                        f"(inputs: {', '.join(spec['inputs'])})",
                    )
                )
                continue
            low, high = draw.get("low", spec["inputs"][name]["low"]), draw.get("high", spec["inputs"][name]["high"])
            if low > high:
                problems.append(
                    at(
                        where + ("inputs", name),
                        f"case {case['name']!r} draws {name!r} from integers with low {low} greater than high {high}",
                    )
                )
    first_index: dict[str, int] = {}
    for i, misconception in enumerate(spec.get("misconceptions", [])):
        if misconception["id"] in first_index:
            problems.append(
                at(
                    ("misconceptions", i, "id"),
                    f"the id {misconception['id']!r} is already used by "
                    f"misconceptions/{first_index[misconception['id']]}",
                )
            )
        first_index.setdefault(misconception["id"], i)
    for key, relative in _file_keys(spec):
        path = (task.root / relative).resolve()
        if not path.is_relative_to(task.root.resolve()):
            problems.append(at(("files",) + key, f"{relative} points outside the tasks root {task.root}"))
        elif not path.is_file():
            problems.append(at(("files",) + key, f"{relative} does not exist (looked for {path})"))
    return problems


def _file_keys(spec: dict) -> list[tuple[tuple, str]]:
    files = spec["files"]
    return [(("template",), files["template"]), (("reference",), files["reference"])] + [
        (("support", i), relative) for i, relative in enumerate(files["support"])]


def _entry_problems(task: Task, names: set[str]) -> list[str]:
    spec, at = task.spec, task.document.problem
    entry = spec["entry"]
    problems = []
    arguments = [(("entry", "args"), entry.get("args", [])), (("entry", "init"), entry.get("init", []))]
    arguments += [
        (("entry", "steps", i, "args"), step.get("args", [])) for i, step in enumerate(entry.get("steps", []))
    ]
    for where, values in arguments:
        for i, argument in enumerate(values):
            for name in argument if isinstance(argument, list) else [argument]:
                if name not in names:
                    problems.append(
                        at(
                            where + (i,),
                            f"argument {name!r} is not an input, param or derived value"
                            f"{yamldoc.did_you_mean(name, names)} (known: {', '.join(sorted(names))})",
                        )
                    )
    produced = [entry["returns"]] if "function" in entry else [s["returns"] for s in entry["steps"] if "returns" in s]
    produced += entry.get("attributes", [])
    for name in spec["outputs"]:
        if name not in produced:
            problems.append(
                at(
                    ("outputs", name),
                    f"the entry never produces {name!r}{yamldoc.did_you_mean(name, produced)}: add it as a "
                    "step's returns or as an attribute",
                )
            )
    for name in produced:
        if produced.count(name) > 1:
            problems.append(at(("entry",), f"the output {name!r} is produced twice"))
            break
    return problems


def _expression_problems(task: Task, where: tuple, text, known: set[str]) -> list[str]:
    from . import expressions  # with ast: imported by the checks, not by a grading before its sandbox

    try:
        unknown = expressions.names(text) - known
    except expressions.ExpressionError as exc:
        return [task.document.problem(where, str(exc))]
    if not unknown:
        return []
    hints = "".join(yamldoc.did_you_mean(name, known) for name in sorted(unknown))
    return [task.document.problem(where, f"unknown name(s) {', '.join(sorted(unknown))} in {text!r}{hints} "
                                         f"(known here: {', '.join(sorted(known)) or 'none'})")]
