"""The "coverage" check: which case of a run reaches each corner of the space (a param's minimum
or maximum, a dimension of length 1), and whether some case can tie where the reference decides
by ties or exact values (argmax, max, where, a comparison...)."""

from __future__ import annotations

import ast

from ...spec import cases as cases_mod
from ...spec import corners
from .context import MAX_LISTED, Context, parse
from .report import Check

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


def check(context: Context) -> Check:
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
            check.warnings.append(
                at(
                    ("cases",),
                    f"no case of a run reaches {item['corner']}: add a fixed case that does "
                    f"(or more random cases: cases.random is {count})",
                )
            )
    rules = []
    parsed = parse(Check("tie rules"), task.reference_path, "the reference")
    if parsed:
        rules = [f"{what} ({task.reference_path.name}:{line})" for line, what in tie_rules(parsed[1])]
    tie_cases = [
        case.name
        for case in run
        if any(cases_mod.draw_of(task, name, case.draws)["distribution"] == "integers" for name in task.spec["inputs"])
    ]
    if rules and not tie_cases:
        shown = ", ".join(rules[:MAX_LISTED]) + (
            f" and {len(rules) - MAX_LISTED} more" if len(rules) > MAX_LISTED else ""
        )
        check.warnings.append(
            at(
                ("cases", "fixed"),
                f"the reference decides by ties or exact values ({shown}), but no case "
                "draws an input from integers, so no case has ties or exact zeros: "
                "give a fixed case `inputs: {x: {distribution: integers, low: -2, high: 2}}`",
            )
        )
    check.coverage = {"random_cases": count, "corners": listed, "ties": {"rules": rules, "cases": tie_cases}}
    parts = [
        f"{reached[status]} {words}"
        for status, words in (
            ("fixed", "reached by fixed cases"),
            ("random", "by random cases in every run"),
            ("missed", "by no case"),
            ("unreachable", "unreachable"),
        )
        if reached.get(status)
    ]
    drawing = f"{len(tie_cases)} case{' draws' if len(tie_cases) == 1 else 's draw'} integers"
    ties = (
        f"ties: the reference decides by them, {drawing}"
        if rules
        else "ties: the reference has no tie rule" + (f", {drawing}" if tie_cases else "")
    )
    check.summary = f"{len(plan.corners)} corners: {', '.join(parts)}; {ties}"
    return check
