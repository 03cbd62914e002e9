"""The "checks" check: the spec's reference-free checks, the finite differences of
sum(forward * upstream) against the analytic gradients and the adjoint identity
<f(x), y> = <x, g(y)> with another task's entry."""

from __future__ import annotations

import numpy as np

from ...grading import reference
from ...spec import cases as cases_mod
from ...spec import expressions, taskspec
from ...spec.yamldoc import did_you_mean
from .context import Context
from .report import Check

GRADIENT_CASES = 4  # random cases the gradient check adds to the fixed ones
GRADIENT_COORDINATES = 10  # sampled coordinates per input and case
STEP = 1e-4  # the losses are piecewise (bi)linear: no truncation error, rounding is what matters
GRADIENT_ATOL, GRADIENT_RTOL = 1e-6, 1e-5
KINK = 1e-4  # relative gap between the one-sided differences above which a coordinate sits on a kink
FORWARD = "forward result"  # the output name the gradient check gives the forward step's result
ADJOINT_RTOL = 1e-9


def check(context: Context) -> Check:
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


def _gradient_check(context: Context, check: Check, index: int, spec: dict) -> str:
    task = context.task
    where = ("checks", index, "gradient")
    at = task.document.problem
    entry = task.entry
    if "class" not in entry:
        check.fail(at(where, "a gradient check needs a class entry (a forward step and the gradient outputs)"))
        return ""
    steps = entry["steps"]
    forward = next((i for i, s in enumerate(steps) if spec["forward"] in (s["call"], s.get("returns"))), None)
    step_names = [s["call"] for s in steps] + [s["returns"] for s in steps if "returns" in s]
    if forward is None:
        check.fail(
            at(
                where + ("forward",),
                f"{spec['forward']!r} is neither a step's call nor its returns"
                f"{did_you_mean(spec['forward'], step_names)}"
                f" (steps: {', '.join(s['call'] for s in steps)})",
            )
        )
        return ""
    inputs = task.spec["inputs"]
    if spec["upstream"] not in inputs:
        check.fail(at(where + ("upstream",), f"{spec['upstream']!r} is not an input"
                                             f"{did_you_mean(spec['upstream'], inputs)} (inputs: {', '.join(inputs)})"))
    for name, gradient in spec["pairs"].items():
        if name not in inputs:
            check.fail(at(where + ("pairs", name), f"{name!r} is not an input{did_you_mean(name, inputs)} "
                                                   f"(inputs: {', '.join(inputs)})"))
        if gradient not in task.output_names:
            check.fail(at(where + ("pairs", name), f"{gradient!r} is not an output"
                                                   f"{did_you_mean(gradient, task.output_names)} "
                                                   f"(outputs: {', '.join(task.output_names)})"))
    if check.status == "failed":
        return ""
    namespace = vars(task.reference())
    # The entry up to the forward step, on a fresh object each time, its result named FORWARD.
    until_forward = {
        "class": entry["class"],
        "init": entry.get("init", []),
        "attributes": [],
        "steps": [{**s, "returns": None} for s in steps[:forward]] + [{**steps[forward], "returns": FORWARD}],
    }
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
            check.fail(
                at(
                    where,
                    f"on case {case.name}, the loss sum({spec['forward']} result * {spec['upstream']}) "
                    f"cannot be computed ({type(exc).__name__}: {exc}); "
                    f"{spec['upstream']} must have the shape of the forward result",
                )
            )
            return ""
        for name, gradient in spec["pairs"].items():
            analytic = context.expected[case.index][gradient]
            original = values[name]
            if analytic.shape != original.shape:
                check.fail(
                    at(
                        where + ("pairs", name),
                        f"on case {case.name}, {gradient} has shape {list(analytic.shape)} "
                        f"but {name} has shape {list(original.shape)}",
                    )
                )
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
                    check.fail(
                        at(
                            where + ("pairs", name),
                            f"on case {case.name} {case.params}, d loss / d {name}{list(index_)} is "
                            f"{numeric:.6g} by finite differences but the reference's {gradient} says "
                            f"{float(analytic.flat[flat]):.6g}",
                        )
                    )
                    return ""
    if skipped > compared:
        check.warnings.append(
            at(where, f"{skipped} of {skipped + compared} sampled coordinates sat on a kink and were skipped")
        )
    kinks = f", {skipped} on a kink skipped" if skipped else ""
    return f"gradient of {', '.join(spec['pairs'])}: {compared} coordinates agree (max error {worst:.1e}){kinks}"


def _adjoint_check(context: Context, check: Check, index: int, spec: dict) -> str:
    task = context.task
    where = ("checks", index, "adjoint")
    at = task.document.problem
    if spec["input"] not in task.spec["inputs"]:
        check.fail(at(where + ("input",), f"{spec['input']!r} is not an input of {task.id}"
                                          f"{did_you_mean(spec['input'], task.spec['inputs'])}"))
    if spec["output"] not in task.output_names:
        check.fail(at(where + ("output",), f"{spec['output']!r} is not an output of {task.id}"
                                           f"{did_you_mean(spec['output'], task.output_names)}"))
    try:
        other = taskspec.load(spec["task"], task.root)
    except taskspec.TaskError as exc:
        hint = did_you_mean(spec["task"], taskspec.task_ids(task.root)) if exc.unknown else ""
        check.fail(at(where + ("task",), f"the other task cannot be loaded: {exc.problems[0]}{hint}"))
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
        try:
            y, gy = adjoint_side(other, other_namespace, spec, case, fx.shape, x.shape, rng)
        except AdjointProblem as exc:
            check.fail(at(where + ("task",), str(exc)))
            return ""
        left, right = float(np.sum(fx * y)), float(np.sum(x * gy))
        error = abs(left - right)
        worst = max(worst, error / (abs(left) + abs(right) + 1e-300))
        if error > ADJOINT_RTOL * (abs(left) + abs(right)) + 1e-12:
            check.fail(at(where, f"on case {case.name} {case.params}, <{task.id}(x), y> = {left:.12g} but "
                                 f"<x, {other.id}(y)> = {right:.12g}: the two references are not adjoint"))
            return ""
    return f"adjoint of {other.id}: holds on {len(context.cases)} cases (max relative error {worst:.1e})"


class AdjointProblem(Exception):
    """The other task of an adjoint check cannot give its side on a case (the author's problem)."""


def adjoint_side(other, other_namespace: dict, spec: dict, case, fx_shape: tuple, x_shape: tuple,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(y, g(y)) for the adjoint identity <f(x), y> = <x, g(y)> on ``case``: y random, of the shape of
    f(x), as the one input of ``other`` (g) of that shape, its other inputs drawn; g(y) its one output
    of the shape of x (``grader kit`` ships these, so that check.py tests the student's f)."""
    env = cases_mod.resolve_params(other, {p: case.params[p] for p in other.spec["params"]})
    if env is None:
        raise AdjointProblem(f"case {case.name} {case.params} is not a valid case of {other.id}")
    shapes = {n: tuple(expressions.evaluate(t, env) for t in a["shape"]) for n, a in other.spec["inputs"].items()}
    matching = [n for n, shape in shapes.items() if shape == fx_shape]
    if len(matching) != 1:
        raise AdjointProblem(f"on case {case.name}, {other.id} has {len(matching)} inputs of the shape of "
                             f"{spec['output']} {list(fx_shape)}; it needs exactly one")
    y = rng.normal(size=fx_shape)
    other_inputs = cases_mod.make_inputs(other, env, rng)
    other_inputs[matching[0]] = y
    other_case = cases_mod.Case(case.index, case.name, case.kind, case.visible, case.points, env, inputs=other_inputs)
    try:
        outputs = reference.invoke(other.entry, other_namespace, other_case)
    except Exception as exc:
        raise AdjointProblem(f"the reference of {other.id} raised {type(exc).__name__}: {exc} on case {case.name}") \
            from exc
    candidates = [o for o in outputs.values() if o.shape == x_shape]
    if len(candidates) != 1:
        raise AdjointProblem(f"on case {case.name}, {other.id} has {len(candidates)} outputs of the shape of "
                             f"{spec['input']} {list(x_shape)}; it needs exactly one")
    return y, candidates[0]
