"""Named misconceptions: known mistakes, run as variants of the reference on the trusted side.

Owns recognising a failing submission as a known mistake. A variant's code is applied to
a copy of the reference namespace (``reference.variant_namespace``) and run on the same
private copies of the inputs as the reference. A submission is recognised as a variant
when, on every case where both produced all their outputs, the two agree within the
tolerance, and on at least one of those cases the submission is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import reference
from .cases import Case
from .taskspec import Task


@dataclass
class Diagnosis:
    id: str
    message: dict  # {"zh": ..., "en": ...}
    cases: list[str]  # names of the failing cases the variant explains


def variant_outputs(task: Task, cases: list[Case]) -> dict[str, dict[int, dict[str, np.ndarray] | None]]:
    """{misconception id: {case index: outputs, or None where the variant raised}}."""
    produced = {}
    for misconception in task.spec.get("misconceptions", []):
        namespace = reference.variant_namespace(task, misconception["code"])
        per_case = {}
        for case in cases:
            try:
                with np.errstate(all="ignore"):
                    per_case[case.index] = reference.invoke(task.entry, namespace, case)
            except Exception:
                per_case[case.index] = None
        produced[misconception["id"]] = per_case
    return produced


def _agree(a: dict[str, np.ndarray], b: dict[str, np.ndarray], names: list[str], tolerances: dict[str, dict]) -> bool:
    for name in names:
        if name not in a or name not in b or a[name].shape != b[name].shape:
            return False
        tolerance = tolerances[name]
        with np.errstate(all="ignore"):
            error = np.abs(a[name].astype(np.float64) - b[name])
        if not np.all(error <= tolerance["atol"] + tolerance["rtol"] * np.abs(b[name])):
            return False
    return True


def recognise(task: Task, cases: list[Case], expected: dict[int, dict[str, np.ndarray]],
              got: dict[int, dict[str, np.ndarray]], tolerances: dict[str, dict],
              variants: dict[str, dict[int, dict[str, np.ndarray] | None]] | None = None) -> list[Diagnosis]:
    """The misconceptions that explain the student's outputs ``got`` (case index -> outputs)."""
    if variants is None:
        variants = variant_outputs(task, cases)
    names = task.output_names
    by_id = {m["id"]: m for m in task.spec.get("misconceptions", [])}
    diagnoses = []
    for identifier, per_case in variants.items():
        explained, contradicted = [], False
        for case in cases:
            student, variant = got.get(case.index), per_case.get(case.index)
            if student is None or variant is None or any(n not in student for n in names):
                continue
            if not _agree(student, variant, names, tolerances):
                contradicted = True
                break
            if not _agree(student, expected[case.index], names, tolerances):
                explained.append(case.name)
        if explained and not contradicted:
            diagnoses.append(Diagnosis(identifier, by_id[identifier]["message"], explained))
    return diagnoses
