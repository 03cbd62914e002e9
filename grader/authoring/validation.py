"""Validation of a task before any student sees it (``grader validate``).

Owns every check an author needs, each giving problems an author can act on (file:line
and the path in the spec where one is known):

    spec            the schema, names between sections, files (taskspec.load)
    code            the template has one Begin and one End marker per blank, in order, not
                    nested; template, support modules and reference compile, define the
                    entry and import only what the sandbox has
    params          every fixed case satisfies the constraints; the space yields valid
                    shapes (sampled), every param is used, every shape depends on a param,
                    the same seed gives the same cases
    coverage        which case of a run reaches each corner of the space (a param's
                    minimum or maximum, a dimension of length 1), and whether some case can
                    tie where the reference decides by ties or exact values (argmax, max,
                    where, a comparison...)
    reference       the trusted reference runs on many cases: no exception, finite,
                    non-empty, deterministic outputs
    misconceptions  each variant fails on a fixed case and is recognised as itself
    checks          the spec's reference-free checks: finite differences of
                    sum(forward * upstream) against the analytic gradients; the adjoint
                    identity <f(x), y> = <x, g(y)> with another task's entry
    sandbox         the reference graded as a student file through the real pipeline
                    passes every case; the template as shipped fails

Nothing here knows a particular task: a task is data.
"""

from __future__ import annotations

import ast
import re
import signal
import sys
import threading
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..spec import cases as cases_mod
from ..spec import corners, expressions, taskspec
from ..grading import misconceptions, pipeline, reference
from ..sandbox.errors import SandboxError, SandboxUnavailable
from ..spec.config import Settings
from ..spec.taskspec import BEGIN_MARKER, END_MARKER, Task

DEFAULT_SEED = 20240611
SAMPLED_PARAMS = 400  # raw draws from the parameter space
SAMPLED_CASES = 24  # random cases (with inputs) the reference and the variants run on
GRADIENT_CASES = 4  # random cases the gradient check adds to the fixed ones
GRADIENT_COORDINATES = 10  # sampled coordinates per input and case
STEP = 1e-4  # the losses are piecewise (bi)linear: no truncation error, rounding is what matters
GRADIENT_ATOL, GRADIENT_RTOL = 1e-6, 1e-5
KINK = 1e-4  # relative gap between the one-sided differences above which a coordinate sits on a kink
FORWARD = "forward result"  # the output name the gradient check gives the forward step's result
ADJOINT_RTOL = 1e-9
MAX_LISTED = 5
CHECK_SECONDS = 120  # budget of the checks that run author code on the trusted side
MARKER_LIKE = re.compile(r"#{3,}\s*(begin|end)\b", re.IGNORECASE)


@dataclass
class Check:
    name: str
    status: str = "passed"  # "passed", "failed" or "skipped"
    summary: str = ""
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    coverage: dict | None = None  # the coverage check's findings, in the JSON report

    def fail(self, problem: str) -> None:
        self.status = "failed"
        self.problems.append(problem)

    def as_dict(self) -> dict:
        found = {"name": self.name, "status": self.status, "summary": self.summary,
                 "problems": self.problems, "warnings": self.warnings}
        if self.coverage is not None:
            found["coverage"] = self.coverage
        return found


@dataclass
class TaskReport:
    task: str
    checks: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(check.status != "failed" for check in self.checks)

    def as_dict(self) -> dict:
        return {"task": self.task, "passed": self.passed, "checks": [c.as_dict() for c in self.checks]}


@dataclass
class _Context:
    task: Task
    settings: Settings
    seed: int
    cases: list[cases_mod.Case] = field(default_factory=list)
    expected: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)

    @property
    def tolerances(self) -> dict[str, dict]:
        return self.task.tolerances(self.settings.values["tolerance"])

    @property
    def fixed_cases(self) -> list[cases_mod.Case]:
        return [case for case in self.cases if case.kind == "fixed"]


def validate(task_id: str, settings: Settings, seed: int = DEFAULT_SEED, sandbox: bool = True) -> TaskReport:
    """Every check of one task, in order; a check that needs a broken step is skipped."""
    report = TaskReport(task_id)
    spec = Check("spec")
    report.checks.append(spec)
    try:
        task = taskspec.load(task_id, settings.root)
    except taskspec.TaskError as exc:
        for problem in exc.problems:
            spec.fail(problem)
        spec.summary = "the spec cannot be used"
        for name in ("code", "params", "coverage", "reference", "misconceptions", "checks", "sandbox"):
            report.checks.append(Check(name, "skipped", "skipped: the spec does not load"))
        return report
    spec.summary = "schema, names and files"
    context = _Context(task, settings, seed)
    code = _check_code(task)
    report.checks.append(code)
    params = _check_params(context)
    report.checks.append(params)
    if params.status == "failed":
        for name in ("coverage", "reference", "misconceptions", "checks", "sandbox"):
            report.checks.append(Check(name, "skipped", "skipped: the params check failed"))
        return report
    report.checks.append(_check_coverage(context))
    reference_check = _bounded("reference", _check_reference, context)
    report.checks.append(reference_check)
    if reference_check.status == "failed":
        report.checks.append(Check("misconceptions", "skipped", "skipped: the reference fails"))
        report.checks.append(Check("checks", "skipped", "skipped: the reference fails"))
    else:
        report.checks.append(_bounded("misconceptions", _check_misconceptions, context))
        report.checks.append(_bounded("checks", _check_reference_free, context))
    if not sandbox:
        report.checks.append(Check("sandbox", "skipped", "skipped (--no-sandbox)"))
    elif code.status == "failed":
        report.checks.append(Check("sandbox", "skipped", "skipped: the code check failed"))
    else:
        report.checks.append(_check_sandbox(context))
    return report


class RunTooLong(BaseException):
    """Author code ran past its budget; a BaseException so that no `except Exception` in it stops it."""


@contextmanager
def _time_limit(seconds: float):
    """The reference and the variants run unsandboxed on the trusted side: an endless loop in
    them must end the check, not hang `grader validate` (no limit outside the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise RunTooLong()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _bounded(name: str, run, context: _Context) -> Check:
    try:
        with _time_limit(CHECK_SECONDS):
            return run(context)
    except RunTooLong:
        return Check(name, "failed", f"stopped after {CHECK_SECONDS} s",
                     [f"{context.task.spec_path}: the {name} check ran longer than {CHECK_SECONDS} s: look for an endless loop "
                      "in the reference or in a misconception's code (they run without the sandbox's limits)"])


# ---------------------------------------------------------------- template

def blanks_of(text: str) -> tuple[list[tuple[int, int]], list[tuple[int, str]]]:
    """The blanks of a template as (Begin line, End line), 1-based, and (line, problem) pairs."""
    found: list[tuple[int, int]] = []
    problems: list[tuple[int, str]] = []
    opened: tuple[int, str] | None = None
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        indent = line[: len(line) - len(line.lstrip())]
        if stripped == BEGIN_MARKER:
            if opened:
                problems.append((number, f"a second Begin marker before the End of the blank opened at line {opened[0]} (blanks cannot be nested)"))
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
            problems.append((number, f"this looks like a marker but is not exactly {BEGIN_MARKER!r} or {END_MARKER!r} alone on its line"))
    if opened:
        problems.append((opened[0], "this Begin marker has no End marker"))
    if not found and not problems:
        problems.append((1, f"the template has no blank: mark the code to write between a line {BEGIN_MARKER!r} and a line {END_MARKER!r}"))
    return found, problems


def _check_code(task: Task) -> Check:
    check = Check("code")
    template = _parse(check, task.template_path, "the template")
    found: list = []
    if template:
        text, tree = template
        found, problems = blanks_of(text)
        for line, problem in problems:
            check.fail(f"{task.template_path}:{line}: {problem}")
        for problem in _definition_problems(tree, task, str(task.template_path)):
            check.fail(problem)
    for path, what in [(task.template_path, "the template"), (task.reference_path, "the reference")] + [
            (support, "the support module") for support in task.support_paths]:
        parsed = template if path == task.template_path else _parse(check, path, what)
        if parsed:
            for problem in _import_problems(parsed[1], task, str(path)):
                check.fail(problem)
            if path == task.reference_path:
                for problem in _definition_problems(parsed[1], task, str(path)):
                    check.fail(problem)
    count = len(found)
    check.summary = (f"template with {count} blank{'s' if count != 1 else ''}; template, support and reference compile, "
                     f"define {task.entry_name} and import only numpy, the standard library and support modules")
    if check.status == "failed":
        check.summary = "the template, a support module or the reference cannot be used as it is"
    return check


def _parse(check: Check, path: Path, what: str) -> tuple[str, ast.Module] | None:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        check.fail(f"{path}: {what} is not UTF-8 (byte {exc.start}); save it as UTF-8")
        return None
    try:
        return text, ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        check.fail(f"{path}:{exc.lineno}: {what} does not compile: {exc.msg}")
        return None


def _definition_problems(tree: ast.Module, task: Task, display: str) -> list[str]:
    entry, name = task.entry, task.entry_name
    definitions = {node.name: node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    node = definitions.get(name)
    kind = "function" if "function" in entry else "class"
    if node is None or (kind == "class") != isinstance(node, ast.ClassDef):
        return [f"{display}: defines no top-level {kind} {name!r}, which the spec's entry calls"]
    if kind == "class" and not node.bases:
        methods = {item.name for item in node.body if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))}
        return [f"{display}:{node.lineno}: class {name} has no method {step['call']!r}, which the spec's entry calls"
                for step in entry["steps"] if step["call"] not in methods]
    return []


def _import_problems(tree: ast.Module, task: Task, display: str) -> list[str]:
    available = {"numpy"} | {p.stem for p in task.support_paths} | set(sys.stdlib_module_names)
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        else:
            continue
        for module in modules:
            top = module.split(".")[0]
            if top not in available:
                supports = ", ".join(sorted(p.stem for p in task.support_paths)) or "none"
                problems.append(f"{display}:{node.lineno}: imports {module!r}, which the sandbox does not provide "
                                f"(numpy, the standard library and this task's support modules: {supports})")
    return problems


# ---------------------------------------------------------------- params

def _check_params(context: _Context) -> Check:
    task, check = context.task, Check("params")
    spec, at = task.spec, task.document.problem
    for problem in _usage_problems(task):
        check.fail(problem)
    for index, fixed in enumerate(spec["cases"]["fixed"]):
        where = ("cases", "fixed", index, "params")
        try:
            failed = cases_mod.failed_constraints(task, fixed["params"])
        except expressions.ExpressionError as exc:
            check.fail(at(where, f"case {fixed['name']!r}: {exc}"))
            continue
        if failed:
            check.fail(at(where, f"case {fixed['name']!r} breaks {'; '.join(failed)}"))
    accepted, reached = _sample_space(context, check)
    if check.status == "failed":
        check.summary = "the parameter space is broken"
        return check
    try:
        first = cases_mod.generate(task, context.seed, SAMPLED_CASES)
        second = cases_mod.generate(task, context.seed, SAMPLED_CASES)
    except (taskspec.TaskError, expressions.ExpressionError) as exc:
        check.fail(at(("params",), f"drawing cases failed: {exc}"))
        return check
    for a, b in zip(first, second):
        same = a.params == b.params and a.inputs.keys() == b.inputs.keys() and all(
            np.array_equal(a.inputs[n], b.inputs[n]) for n in a.inputs)
        if not same:
            check.fail(at(("inputs",), f"seed {context.seed} gave two different versions of case {a.name}: the draw is not deterministic"))
            break
    context.cases = first
    for name, bounds in spec["params"].items():
        declared = set(bounds["choices"]) if "choices" in bounds else set(range(bounds["min"], bounds["max"] + 1))
        never = sorted(declared - reached.get(name, set()))
        if never and accepted >= 20 * len(declared):  # dense enough that "never drawn" means "excluded"
            check.warnings.append(at(("params", name), f"the values {_ranges(never)} never occur in a valid random case (the constraints exclude them)"))
    check.summary = (f"{len(spec['cases']['fixed'])} fixed cases valid; {accepted} of {SAMPLED_PARAMS} raw draws valid; "
                     f"the same seed gives the same cases")
    return check


def _usage_problems(task: Task) -> list[str]:
    spec, at = task.spec, task.document.problem
    used: set[str] = set()
    for text in list(spec.get("derived", {}).values()) + list(spec.get("constraints", [])):
        used |= expressions.names(text)
    problems = []
    for name, array in spec["inputs"].items():
        names = set().union(*[expressions.names(t) for t in array["shape"]]) if array["shape"] else set()
        used |= names
        if not names:
            problems.append(at(("inputs", name, "shape"), f"the shape of {name!r} depends on no param, so every case has the same shape: "
                                                          "write it with the params (e.g. [N, C, H, W])"))
    entry = spec["entry"]
    for argument in entry.get("args", []) + entry.get("init", []) + [a for s in entry.get("steps", []) for a in s.get("args", [])]:
        used |= set(argument) if isinstance(argument, list) else {argument}
    derived_used = set(used)
    for name in reversed(list(spec.get("derived", {}))):
        if name in derived_used:
            derived_used |= expressions.names(spec["derived"][name])
    for name in spec["params"]:
        if name not in used and name not in derived_used:
            problems.append(at(("params", name), f"the param {name!r} is used by nothing (no shape, derived value, constraint "
                                                 "or entry argument): remove it or use it"))
    return problems


def _sample_space(context: _Context, check: Check) -> tuple[int, dict[str, set]]:
    """Raw draws from the space, as cases.draw_params draws them but without redrawing, so that
    the share of valid draws and the params that break an expression are seen."""
    task = context.task
    rng = np.random.default_rng(np.random.SeedSequence([context.seed, 7]))
    accepted, reached = 0, {name: set() for name in task.spec["params"]}
    errors: dict[str, dict] = {}
    for _ in range(SAMPLED_PARAMS):
        params = corners.draw_raw_params(task, rng)
        try:
            env = cases_mod.resolve_params(task, params)
        except expressions.ExpressionError as exc:
            errors.setdefault(str(exc), params)
            continue
        if env is not None:
            accepted += 1
            for name, value in params.items():
                reached[name].add(value)
    for message, params in list(errors.items())[:MAX_LISTED]:
        check.fail(task.document.problem(("derived",), f"{message} for the params {params}: add a constraint or change the ranges"))
    if not accepted and not errors:
        check.fail(task.document.problem(("constraints",), f"none of {SAMPLED_PARAMS} draws from the params satisfies the constraints "
                                                           "(and gives shapes of at least 1): widen the ranges or relax the constraints"))
    elif accepted and accepted < SAMPLED_PARAMS // 50:
        check.warnings.append(task.document.problem(("constraints",), f"only {accepted} of {SAMPLED_PARAMS} draws are valid: "
                                                                       "drawing a case may take long; narrow the ranges"))
    return accepted, reached


def _ranges(values: list[int]) -> str:
    """[1, 2, 3, 7] -> '1..3, 7'."""
    runs: list[list[int]] = []
    for value in values:
        if runs and value == runs[-1][1] + 1:
            runs[-1][1] = value
        else:
            runs.append([value, value])
    return ", ".join(str(a) if a == b else f"{a}..{b}" for a, b in runs)


# ---------------------------------------------------------------- coverage

# Calls whose result depends on which of two equal values wins, or on a value being exactly
# a bound (np.argmax, np.maximum, x.max(), np.where, np.sign...): a rule that continuous
# draws never put to the test.
TIE_CALLS = frozenset({
    "argmax", "argmin", "nanargmax", "nanargmin", "max", "min", "amax", "amin", "nanmax", "nanmin",
    "maximum", "minimum", "fmax", "fmin", "where", "select", "sort", "argsort", "partition", "argpartition",
    "unique", "sign", "heaviside", "abs", "absolute", "clip", "greater", "greater_equal", "less", "less_equal",
    "equal", "not_equal", "isclose", "nonzero", "argwhere", "flatnonzero", "count_nonzero", "searchsorted", "digitize"})
ORDER_OPERATORS = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)
SCALAR_MODULES = {"math", "operator", "builtins"}  # math.floor(H / 2) sizes something, it decides no tie


def tie_rules(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, what) for each place the code decides by ties or exact values: a call of a
    TIE_CALLS function or method, or a comparison used as a value (a mask, np.where's
    condition). Comparisons that steer control flow (if, while, assert, a conditional
    expression's test, a comprehension's filter) compare sizes, not data, and are left out."""
    steering: set[int] = set()
    for node in ast.walk(tree):
        tests = [node.test] if isinstance(node, (ast.If, ast.While, ast.IfExp, ast.Assert)) else []
        tests += node.ifs if isinstance(node, ast.comprehension) else []
        steering |= {id(part) for test in tests for part in ast.walk(test)}
    found = []
    for node in ast.walk(tree):
        if id(node) in steering:
            continue
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in TIE_CALLS:
            owner = node.func.value
            if not (isinstance(owner, ast.Name) and owner.id in SCALAR_MODULES):
                found.append((node.lineno, ast.unparse(node.func)))
        elif isinstance(node, ast.Compare) and any(isinstance(op, ORDER_OPERATORS) for op in node.ops):
            found.append((node.lineno, ast.unparse(node)))
    return sorted(set(found))


def _check_coverage(context: _Context) -> Check:
    """Who reaches each corner in a run of the task's own size, and whether ties can occur where
    the reference decides by them; warnings only (a task is usable without either)."""
    task, check = context.task, Check("coverage")
    count = cases_mod.random_count(task, context.settings.values["cases"])
    plan = cases_mod.plan(task, count)
    run = cases_mod.generate(task, context.seed, count, with_inputs=False)
    reached, listed = {}, []
    for corner in plan.corners:
        by = [case.name for case in run if corners.holds(corner, case.params)]
        status = ("unreachable" if corner in plan.unreachable else "fixed" if plan.fixed[corner.label]
                  else "random" if by else "missed")
        reached[status] = reached.get(status, 0) + 1
        listed.append({"corner": corner.label, "status": status, "cases": by})
    at = task.document.problem
    for item in listed:
        if item["status"] == "missed":
            check.warnings.append(at(("cases",), f"no case of a run reaches {item['corner']}: add a fixed case that does "
                                                 f"(or more random cases: cases.random is {count})"))
    rules = []
    parsed = _parse(Check("tie rules"), task.reference_path, "the reference")
    if parsed:
        rules = [f"{what} ({task.reference_path.name}:{line})" for line, what in tie_rules(parsed[1])]
    tie_cases = [case.name for case in run if any(cases_mod.draw_of(task, name, case.draws)["distribution"] == "integers"
                                                  for name in task.spec["inputs"])]
    if rules and not tie_cases:
        shown = ", ".join(rules[:MAX_LISTED]) + (f" and {len(rules) - MAX_LISTED} more" if len(rules) > MAX_LISTED else "")
        check.warnings.append(at(("cases", "fixed"), f"the reference decides by ties or exact values ({shown}), but no case "
                                                     "draws an input from integers, so no case has ties or exact zeros: "
                                                     "give a fixed case `inputs: {x: {distribution: integers, low: -2, high: 2}}`"))
    check.coverage = {"random_cases": count, "corners": listed, "ties": {"rules": rules, "cases": tie_cases}}
    parts = [f"{reached[status]} {words}" for status, words in (("fixed", "reached by fixed cases"), ("random", "by random cases in every run"),
                                                               ("missed", "by no case"), ("unreachable", "unreachable")) if reached.get(status)]
    drawing = f"{len(tie_cases)} case{' draws' if len(tie_cases) == 1 else 's draw'} integers"
    ties = f"ties: the reference decides by them, {drawing}" if rules else "ties: the reference has no tie rule" + (f", {drawing}" if tie_cases else "")
    check.summary = f"{len(plan.corners)} corners: {', '.join(parts)}; {ties}"
    return check


# ---------------------------------------------------------------- reference

def _check_reference(context: _Context) -> Check:
    task, check = context.task, Check("reference")
    try:
        task.reference()
    except Exception as exc:
        check.fail(f"{task.reference_path}{_line_in(exc, task.reference_path)}: importing the reference raised "
                   f"{type(exc).__name__}: {exc}")
        check.summary = "the reference cannot be imported"
        return check
    failures = 0
    misshapen: set[str] = set()
    for case in context.cases:
        try:
            outputs = reference.expected_outputs(task, [case])[case.index]
        except reference.ReferenceError_ as exc:
            failures += 1
            if failures <= MAX_LISTED:
                line = _line_in(exc.__cause__, task.reference_path) if exc.__cause__ else ""
                check.fail(f"{task.reference_path}{line}: {exc}")
            continue
        for name, array in outputs.items():
            if array.size == 0:
                failures += 1
                check.fail(f"{task.reference_path}: output {name!r} is empty on case {case.name} {case.params}: "
                           "nothing would be compared")
            declared = (task.spec["outputs"][name] or {}).get("shape")
            wanted = declared and [expressions.evaluate(t, case.params) for t in declared]
            if declared is not None and list(array.shape) != wanted and name not in misshapen:
                misshapen.add(name)  # once per output: the same mistake would fill the report
                failures += 1
                check.fail(task.document.problem(("outputs", name, "shape"), f"on case {case.name} {case.params}, the reference's {name} "
                                                 f"has shape {list(array.shape)}, not {wanted} ({', '.join(map(str, declared))})"))
        again = reference.expected_outputs(task, [case])[case.index]
        if any(not np.array_equal(outputs[n], again[n]) for n in outputs):
            failures += 1
            check.fail(f"{task.reference_path}: two runs on case {case.name} gave different outputs: "
                       "the reference is not deterministic")
        context.expected[case.index] = outputs
    if failures > MAX_LISTED:
        check.problems.append(f"... and {failures - MAX_LISTED} more failing cases")
    check.summary = f"runs on {len(context.cases)} cases ({len(context.fixed_cases)} fixed): finite, non-empty, deterministic outputs"
    if check.status == "failed":
        check.summary = f"fails on {failures} of {len(context.cases)} cases"
    return check


def _line_in(exc: BaseException | None, path: Path) -> str:
    """':LINE in FUNCTION' of the deepest frame of ``exc`` in ``path``, or ''."""
    if exc is None:
        return ""
    found = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename).resolve() == path.resolve():
            found = f":{frame.lineno} (in {frame.name})"
    return found


# ---------------------------------------------------------------- misconceptions

def _check_misconceptions(context: _Context) -> Check:
    task, check = context.task, Check("misconceptions")
    declared = task.spec.get("misconceptions", [])
    if not declared:
        check.summary = "none declared"
        check.warnings.append(task.document.problem(("misconceptions",), "no misconception is declared: students get no named diagnosis"))
        return check
    usable = []
    for index, misconception in enumerate(declared):
        problem = _variant_compile_problem(task, index, misconception)
        if problem:
            check.fail(problem)
        else:
            usable.append(index)
    variants, raised = {}, {}
    for index in usable:
        identifier = declared[index]["id"]
        namespace = reference.variant_namespace(task, declared[index]["code"])
        per_case = {}
        for case in context.cases:
            try:
                with np.errstate(all="ignore"):
                    per_case[case.index] = reference.invoke(task.entry, namespace, case)
            except Exception as exc:
                per_case[case.index] = None
                raised.setdefault(identifier, exc)
        variants[identifier] = per_case
    fixed_names = {case.name for case in context.fixed_cases}
    for index in usable:
        identifier = declared[index]["id"]
        where = ("misconceptions", index)
        produced = {i: out for i, out in variants[identifier].items()
                    if out is not None and all(n in out for n in task.output_names)}
        if not produced:
            exc = raised.get(identifier)
            reason = f"raised {type(exc).__name__}: {exc}" if exc else "never produced all the outputs"
            check.fail(task.document.problem(where + ("code",), f"{identifier!r} {reason} on every case, so it can never be recognised"))
            continue
        diagnoses = misconceptions.recognise(task, context.cases, context.expected, produced, context.tolerances, variants)
        own = next((d for d in diagnoses if d.id == identifier), None)
        not_finite = [case.name for case in context.cases if case.index in produced
                      and not all(np.all(np.isfinite(produced[case.index][n])) for n in task.output_names)]
        if own is None and not_finite:
            check.fail(task.document.problem(where + ("code",), f"{identifier!r} gives non-finite values on {', '.join(not_finite[:3])}, "
                                                                "and non-finite outputs are never recognised: constrain the params "
                                                                "so that the mistake stays finite"))
            continue
        if own is None:
            check.fail(task.document.problem(where + ("code",), f"{identifier!r} gives the reference's outputs on every case where it runs: "
                                                                f"it is no mistake{_redefinition_hint(task, declared[index]['code'])}"))
            continue
        if not fixed_names & set(own.cases):
            check.fail(task.document.problem(where, f"{identifier!r} differs from the reference only on random cases ({', '.join(own.cases[:3])}), "
                                                    "never on a fixed case: add a fixed case that shows the mistake, so every run catches it"))
        others = [d.id for d in diagnoses if d.id != identifier]
        if others:
            check.warnings.append(task.document.problem(where, f"{identifier!r} cannot be told apart from {', '.join(others)} on these cases: "
                                                                "a student with this mistake is told every one of them"))
    count = len(declared)
    check.summary = f"{count} declared: {'each' if count > 1 else 'it'} fails on a fixed case and is recognised as itself"
    if check.status == "failed":
        check.summary = f"{len(check.problems)} of {count} misconceptions are broken"
    return check


def _variant_compile_problem(task: Task, index: int, misconception: dict) -> str | None:
    code_line = task.document.line(("misconceptions", index, "code"))
    try:
        compile(misconception["code"], f"<misconception {misconception['id']}>", "exec")
        reference.variant_namespace(task, misconception["code"])
    except SyntaxError as exc:
        line = code_line + (exc.lineno or 0) if code_line else None
        return f"{task.spec_path}:{line}: misconceptions/{index}/code: does not compile: {exc.msg} (line {exc.lineno} of the code)"
    except Exception as exc:
        return task.document.problem(("misconceptions", index, "code"), f"running the code raised {type(exc).__name__}: {exc}")
    return None


def _redefinition_hint(task: Task, code: str) -> str:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return ""
    defined = [node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))]
    known = set(vars(task.reference()))
    unknown = [name for name in defined if name not in known]
    if unknown:
        return f" ({', '.join(unknown)} is not a name of the reference, so nothing is redefined: check the spelling)"
    return " (the code must redefine something the entry uses, e.g. `class Name(Name):` overriding a method)"


# ---------------------------------------------------------------- reference-free checks

def _check_reference_free(context: _Context) -> Check:
    task, check = context.task, Check("checks")
    declared = task.spec.get("checks", [])
    if not declared:
        check.summary = "none declared"
        return check
    done = []
    for index, item in enumerate(declared):
        if "gradient" in item:
            done.append(_gradient_check(context, check, index, item["gradient"]))
        else:
            done.append(_adjoint_check(context, check, index, item["adjoint"]))
    check.summary = "; ".join(d for d in done if d)
    if check.status == "failed":
        check.summary = "a reference-free check fails: the reference (or the spec) is wrong"
    return check


def _gradient_check(context: _Context, check: Check, index: int, spec: dict) -> str:
    task = context.task
    where = ("checks", index, "gradient")
    at = task.document.problem
    entry = task.entry
    if "class" not in entry:
        check.fail(at(where, "a gradient check needs a class entry (a forward step and the gradient outputs)"))
        return ""
    steps = entry["steps"]
    forward = next((i for i, s in enumerate(steps) if spec["forward"] in (s["call"], s.get("returns"))), None)
    if forward is None:
        check.fail(at(where + ("forward",), f"{spec['forward']!r} is neither a step's call nor its returns (steps: {', '.join(s['call'] for s in steps)})"))
        return ""
    inputs = task.spec["inputs"]
    if spec["upstream"] not in inputs:
        check.fail(at(where + ("upstream",), f"{spec['upstream']!r} is not an input (inputs: {', '.join(inputs)})"))
    for name, gradient in spec["pairs"].items():
        if name not in inputs:
            check.fail(at(where + ("pairs", name), f"{name!r} is not an input (inputs: {', '.join(inputs)})"))
        if gradient not in task.output_names:
            check.fail(at(where + ("pairs", name), f"{gradient!r} is not an output (outputs: {', '.join(task.output_names)})"))
    if check.status == "failed":
        return ""
    namespace = vars(task.reference())
    # The entry up to the forward step, on a fresh object each time, its result named FORWARD.
    until_forward = {"class": entry["class"], "init": entry.get("init", []), "attributes": [],
                     "steps": [{**s, "returns": None} for s in steps[:forward]] + [{**steps[forward], "returns": FORWARD}]}
    random_cases = [c for c in context.cases if c.kind == "random"][:GRADIENT_CASES]
    rng = np.random.default_rng(np.random.SeedSequence([context.seed, 11, index]))
    compared = skipped = 0
    worst = 0.0
    for case in context.fixed_cases + random_cases:
        values = {**case.params, **case.inputs}

        def loss(changed: dict) -> float:
            probe = cases_mod.Case(case.index, case.name, case.kind, case.visible, case.points, case.params,
                                   inputs={**case.inputs, **changed})
            result = reference.invoke(until_forward, namespace, probe)[FORWARD]
            return float(np.sum(result * case.inputs[spec["upstream"]]))

        try:
            base = loss({})
        except Exception as exc:
            check.fail(at(where, f"on case {case.name}, the loss sum({spec['forward']} result * {spec['upstream']}) cannot be computed "
                                 f"({type(exc).__name__}: {exc}); {spec['upstream']} must have the shape of the forward result"))
            return ""
        for name, gradient in spec["pairs"].items():
            analytic = context.expected[case.index][gradient]
            original = values[name]
            if analytic.shape != original.shape:
                check.fail(at(where + ("pairs", name), f"on case {case.name}, {gradient} has shape {list(analytic.shape)} "
                                                       f"but {name} has shape {list(original.shape)}"))
                return ""
            picks = rng.choice(original.size, size=min(original.size, GRADIENT_COORDINATES), replace=False)
            for flat in picks:
                plus, minus = original.copy(), original.copy()
                plus.flat[flat] += STEP
                minus.flat[flat] -= STEP
                above, below = loss({name: plus}), loss({name: minus})
                left, right = (base - below) / STEP, (above - base) / STEP
                if abs(left - right) > KINK * (1 + abs(left) + abs(right)):
                    skipped += 1
                    continue
                numeric = (above - below) / (2 * STEP)
                error = abs(numeric - float(analytic.flat[flat]))
                compared += 1
                worst = max(worst, error)
                if error > GRADIENT_ATOL + GRADIENT_RTOL * abs(numeric):
                    index_ = tuple(int(i) for i in np.unravel_index(flat, original.shape))
                    check.fail(at(where + ("pairs", name), f"on case {case.name} {case.params}, d loss / d {name}{list(index_)} is "
                                                           f"{numeric:.6g} by finite differences but the reference's {gradient} says "
                                                           f"{float(analytic.flat[flat]):.6g}"))
                    return ""
    if skipped > compared:
        check.warnings.append(at(where, f"{skipped} of {skipped + compared} sampled coordinates sat on a kink and were skipped"))
    kinks = f", {skipped} on a kink skipped" if skipped else ""
    return f"gradient of {', '.join(spec['pairs'])}: {compared} coordinates agree (max error {worst:.1e}){kinks}"


def _adjoint_check(context: _Context, check: Check, index: int, spec: dict) -> str:
    task = context.task
    where = ("checks", index, "adjoint")
    at = task.document.problem
    if spec["input"] not in task.spec["inputs"]:
        check.fail(at(where + ("input",), f"{spec['input']!r} is not an input of {task.id}"))
    if spec["output"] not in task.output_names:
        check.fail(at(where + ("output",), f"{spec['output']!r} is not an output of {task.id}"))
    try:
        other = taskspec.load(spec["task"], task.root)
    except taskspec.TaskError as exc:
        check.fail(at(where + ("task",), f"the other task cannot be loaded: {exc.problems[0]}"))
        return ""
    if check.status == "failed":
        return ""
    missing = sorted(set(other.spec["params"]) - set(task.spec["params"]) - set(task.spec.get("derived", {})))
    if missing:
        check.fail(at(where + ("task",), f"{other.id} needs the params {missing}, which {task.id} does not have"))
        return ""
    other_namespace = vars(other.reference())
    rng = np.random.default_rng(np.random.SeedSequence([context.seed, 13, index]))
    worst = 0.0
    for case in context.cases:
        x = case.inputs[spec["input"]]
        fx = context.expected[case.index][spec["output"]]
        env = cases_mod.resolve_params(other, {p: case.params[p] for p in other.spec["params"]})
        if env is None:
            check.fail(at(where + ("task",), f"case {case.name} {case.params} is not a valid case of {other.id}"))
            return ""
        shapes = {n: tuple(expressions.evaluate(t, env) for t in a["shape"]) for n, a in other.spec["inputs"].items()}
        matching = [n for n, shape in shapes.items() if shape == fx.shape]
        if len(matching) != 1:
            check.fail(at(where + ("task",), f"on case {case.name}, {other.id} has {len(matching)} inputs of the shape of "
                                             f"{spec['output']} {list(fx.shape)}; it needs exactly one"))
            return ""
        y = rng.normal(size=fx.shape)
        other_inputs = cases_mod.make_inputs(other, env, rng)
        other_inputs[matching[0]] = y
        other_case = cases_mod.Case(case.index, case.name, case.kind, case.visible, case.points, env, inputs=other_inputs)
        try:
            outputs = reference.invoke(other.entry, other_namespace, other_case)
        except Exception as exc:
            check.fail(at(where + ("task",), f"the reference of {other.id} raised {type(exc).__name__}: {exc} on case {case.name}"))
            return ""
        candidates = [o for o in outputs.values() if o.shape == x.shape]
        if len(candidates) != 1:
            check.fail(at(where + ("task",), f"on case {case.name}, {other.id} has {len(candidates)} outputs of the shape of "
                                             f"{spec['input']} {list(x.shape)}; it needs exactly one"))
            return ""
        left, right = float(np.sum(fx * y)), float(np.sum(x * candidates[0]))
        error = abs(left - right)
        worst = max(worst, error / (abs(left) + abs(right) + 1e-300))
        if error > ADJOINT_RTOL * (abs(left) + abs(right)) + 1e-12:
            check.fail(at(where, f"on case {case.name} {case.params}, <{task.id}(x), y> = {left:.12g} but "
                                 f"<x, {other.id}(y)> = {right:.12g}: the two references are not adjoint"))
            return ""
    return f"adjoint of {other.id}: holds on {len(context.cases)} cases (max relative error {worst:.1e})"


# ---------------------------------------------------------------- the real pipeline

def _check_sandbox(context: _Context) -> Check:
    task, check = context.task, Check("sandbox")
    try:
        graded_reference = pipeline.run(task, task.reference_path.read_bytes(), context.settings, seed=context.seed)
        graded_template = pipeline.run(task, task.template_path.read_bytes(), context.settings, seed=context.seed)
    except SandboxUnavailable as exc:
        check.fail(f"no sandbox can run here ({exc}); run with --no-sandbox to skip this check")
        return check
    except (SandboxError, taskspec.TaskError, reference.ReferenceError_) as exc:
        check.fail(f"grading failed: {exc}")
        return check
    failing = [v for v in graded_reference.verdicts if not v.passed]
    for verdict in failing[:MAX_LISTED]:
        check.fail(f"{task.reference_path}: graded as a student's file, case {verdict.case.name} "
                   f"fails: {_verdict_text(verdict, graded_reference)}")
    template_passing = [v.case.name for v in graded_template.verdicts if v.passed]
    total = len(graded_template.verdicts)
    if len(template_passing) == total:
        check.fail(f"{task.template_path}: the template as shipped passes every case: the blanks give the answer away")
    elif template_passing:
        check.warnings.append(f"{task.template_path}: the template as shipped already passes {', '.join(template_passing)}")
    check.summary = (f"graded through the {graded_reference.backend} sandbox, seed {context.seed}: the reference passes "
                     f"{total - len(failing)}/{total} cases; the template as shipped fails {total - len(template_passing)}/{total}")
    return check


def _verdict_text(verdict, grading) -> str:
    parts = [verdict.code or ""]
    if verdict.error:
        parts.append(f"{verdict.error.get('exception', '')}: {verdict.error.get('message', '')}".strip(": "))
    if verdict.detail:
        parts.append(str(verdict.detail))
    for check in verdict.checks:
        if check.code:
            parts.append(f"{check.output}: {check.code} {check.detail}")
    if grading.sandbox_output.strip():
        parts.append(grading.sandbox_output.strip()[-300:])
    return "; ".join(p for p in parts if p)
