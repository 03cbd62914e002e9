"""The "misconceptions" check: each variant of the reference fails on a fixed case and is
recognised as itself."""

from __future__ import annotations

import ast

import numpy as np

from ...grading import misconceptions, reference
from ...spec.taskspec import Task
from .context import Context
from .report import Check


def check(context: Context) -> Check:
    task, check = context.task, Check("misconceptions")
    declared = task.spec.get("misconceptions", [])
    if not declared:
        check.summary = "none declared"
        check.warnings.append(
            task.document.problem(("misconceptions",), "no misconception is declared: students get no named diagnosis")
        )
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
            check.fail(
                task.document.problem(
                    where + ("code",), f"{identifier!r} {reason} on every case, so it can never be recognised"
                )
            )
            continue
        diagnoses = misconceptions.recognise(
            task, context.cases, context.expected, produced, context.tolerances, variants
        )
        own = next((d for d in diagnoses if d.id == identifier), None)
        not_finite = [case.name for case in context.cases if case.index in produced
                      and not all(np.all(np.isfinite(produced[case.index][n])) for n in task.output_names)]
        if own is None and not_finite:
            check.fail(
                task.document.problem(
                    where + ("code",),
                    f"{identifier!r} gives non-finite values on {', '.join(not_finite[:3])}, "
                    "and non-finite outputs are never recognised: constrain the params "
                    "so that the mistake stays finite",
                )
            )
            continue
        if own is None:
            check.fail(
                task.document.problem(
                    where + ("code",),
                    f"{identifier!r} gives the reference's outputs on every case where it runs: "
                    f"it is no mistake{_redefinition_hint(task, declared[index]['code'])}",
                )
            )
            continue
        if not fixed_names & set(own.cases):
            check.fail(
                task.document.problem(
                    where,
                    f"{identifier!r} differs from the reference only on random cases ({', '.join(own.cases[:3])}), "
                    "never on a fixed case: add a fixed case that shows the mistake, so every run catches it",
                )
            )
        others = [d.id for d in diagnoses if d.id != identifier]
        if others:
            check.warnings.append(
                task.document.problem(
                    where,
                    f"{identifier!r} cannot be told apart from {', '.join(others)} on these cases: "
                    "a student with this mistake is told every one of them",
                )
            )
    count = len(declared)
    check.summary = (
        f"{count} declared: {'each' if count > 1 else 'it'} fails on a fixed case and is recognised as itself"
    )
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
        return (f"{task.spec_path}:{line}: misconceptions/{index}/code: does not compile: {exc.msg} "
                f"(line {exc.lineno} of the code)")
    except Exception as exc:
        return task.document.problem(
            ("misconceptions", index, "code"), f"running the code raised {type(exc).__name__}: {exc}"
        )
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
