"""The "reference" check: the trusted reference runs on many cases: no exception, finite,
non-empty, deterministic outputs."""

from __future__ import annotations

import traceback
from pathlib import Path

import numpy as np

from ...grading import reference
from ...spec import expressions
from .context import MAX_LISTED, Context
from .report import Check


def check(context: Context) -> Check:
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
                check.fail(
                    task.document.problem(
                        ("outputs", name, "shape"),
                        f"on case {case.name} {case.params}, the reference's {name} "
                        f"has shape {list(array.shape)}, not {wanted} ({', '.join(map(str, declared))})",
                    )
                )
        again = reference.expected_outputs(task, [case])[case.index]
        if any(not np.array_equal(outputs[n], again[n]) for n in outputs):
            failures += 1
            check.fail(f"{task.reference_path}: two runs on case {case.name} gave different outputs: "
                       "the reference is not deterministic")
        context.expected[case.index] = outputs
    if failures > MAX_LISTED:
        check.problems.append(f"... and {failures - MAX_LISTED} more failing cases")
    check.summary = (f"runs on {len(context.cases)} cases ({len(context.fixed_cases)} fixed): "
                     "finite, non-empty, deterministic outputs")
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
