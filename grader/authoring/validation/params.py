"""The "params" check: every fixed case satisfies the constraints; the space yields valid shapes
(sampled), every param is used, every shape depends on a param, the same seed gives the same cases."""

from __future__ import annotations

import numpy as np

from ...spec import cases as cases_mod
from ...spec import corners, expressions, taskspec
from ...spec.taskspec import Task
from .context import MAX_LISTED, Context
from .report import Check

SAMPLED_PARAMS = 400  # raw draws from the parameter space
SAMPLED_CASES = 24  # random cases (with inputs) the reference and the variants run on


def check(context: Context) -> Check:
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
            check.fail(
                at(
                    ("inputs",),
                    f"seed {context.seed} gave two different versions of case {a.name}: the draw is not deterministic",
                )
            )
            break
    context.cases = first
    for name, bounds in spec["params"].items():
        declared = set(bounds["choices"]) if "choices" in bounds else set(range(bounds["min"], bounds["max"] + 1))
        never = sorted(declared - reached.get(name, set()))
        if never and accepted >= 20 * len(declared):  # dense enough that "never drawn" means "excluded"
            check.warnings.append(
                at(
                    ("params", name),
                    f"the values {_ranges(never)} never occur in a valid random case (the constraints exclude them)",
                )
            )
    check.summary = (
        f"{len(spec['cases']['fixed'])} fixed cases valid; {accepted} of {SAMPLED_PARAMS} raw draws valid; "
        f"the same seed gives the same cases"
    )
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
            problems.append(
                at(
                    ("inputs", name, "shape"),
                    f"the shape of {name!r} depends on no param, so every case has the same shape: "
                    "write it with the params (e.g. [N, C, H, W])",
                )
            )
    entry = spec["entry"]
    for argument in (
        entry.get("args", []) + entry.get("init", []) + [a for s in entry.get("steps", []) for a in s.get("args", [])]
    ):
        used |= set(argument) if isinstance(argument, list) else {argument}
    derived_used = set(used)
    for name in reversed(list(spec.get("derived", {}))):
        if name in derived_used:
            derived_used |= expressions.names(spec["derived"][name])
    for name in spec["params"]:
        if name not in used and name not in derived_used:
            problems.append(
                at(
                    ("params", name),
                    f"the param {name!r} is used by nothing (no shape, derived value, constraint "
                    "or entry argument): remove it or use it",
                )
            )
    return problems


def _sample_space(context: Context, check: Check) -> tuple[int, dict[str, set]]:
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
        check.fail(
            task.document.problem(
                ("derived",), f"{message} for the params {params}: add a constraint or change the ranges"
            )
        )
    if not accepted and not errors:
        check.fail(
            task.document.problem(
                ("constraints",),
                f"none of {SAMPLED_PARAMS} draws from the params satisfies the constraints "
                "(and gives shapes of at least 1): widen the ranges or relax the constraints",
            )
        )
    elif accepted and accepted < SAMPLED_PARAMS // 50:
        check.warnings.append(
            task.document.problem(
                ("constraints",),
                f"only {accepted} of {SAMPLED_PARAMS} draws are valid: drawing a case may take long; narrow the ranges",
            )
        )
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
