"""Named misconceptions: known mistakes, run as variants of the reference on the trusted side.

Owns recognising a failing submission as a known mistake. A variant's code is applied to
a copy of the reference namespace (``reference.variant_namespace``) and run on the same
private copies of the inputs as the reference.

A variant is judged only on the outputs it changes (those where, on some case, its value
differs from the reference's, in value or in shape), so that a mistake in ``db`` is still
named when the same submission also gets ``dW`` wrong in another way. A submission is
recognised as a variant when, on every case where both produced those outputs, the two
agree within the tolerance (same shape, same values), and on at least one of those cases
the submission is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import reference
from .cases import Case
from .taskspec import Task

Outputs = dict[str, np.ndarray]


@dataclass
class Diagnosis:
    id: str
    message: dict  # {"zh": ..., "en": ...}
    cases: list[str]  # names of the failing cases the variant explains
    outputs: list[str]  # the outputs the variant changes


def variant_outputs(task: Task, cases: list[Case]) -> dict[str, dict[int, Outputs | None]]:
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


def close(got: np.ndarray, wanted: np.ndarray, tolerance: dict) -> bool:
    """Same shape and every element within atol + rtol*|wanted| (NaN never agrees)."""
    if got.shape != wanted.shape:
        return False
    with np.errstate(all="ignore"):
        error = np.abs(got.astype(np.float64) - wanted)
    return bool(np.all(error <= tolerance["atol"] + tolerance["rtol"] * np.abs(wanted)))


def changed_outputs(per_case: dict[int, Outputs | None], expected: dict[int, Outputs], names: list[str],
                    tolerances: dict[str, dict]) -> list[str]:
    """The outputs a variant gets wrong on at least one case."""
    changed = []
    for name in names:
        for index, outputs in per_case.items():
            if outputs is not None and name in outputs and not close(outputs[name], expected[index][name], tolerances[name]):
                changed.append(name)
                break
    return changed


def recognise(task: Task, cases: list[Case], expected: dict[int, Outputs], got: dict[int, Outputs],
              tolerances: dict[str, dict], variants: dict[str, dict[int, Outputs | None]] | None = None) -> list[Diagnosis]:
    """The misconceptions that explain the student's outputs ``got`` (case index -> the outputs it produced)."""
    if variants is None:
        variants = variant_outputs(task, cases)
    by_id = {m["id"]: m for m in task.spec.get("misconceptions", [])}
    diagnoses = []
    for identifier, per_case in variants.items():
        judged = changed_outputs(per_case, expected, task.output_names, tolerances)
        if not judged:
            continue
        explained, contradicted = [], False
        for case in cases:
            student, variant = got.get(case.index), per_case.get(case.index)
            if student is None or variant is None or any(n not in student or n not in variant for n in judged):
                continue
            if not all(close(student[n], variant[n], tolerances[n]) for n in judged):
                contradicted = True
                break
            if not all(close(student[n], expected[case.index][n], tolerances[n]) for n in judged):
                explained.append(case.name)
        if explained and not contradicted:
            diagnoses.append(Diagnosis(identifier, by_id[identifier]["message"], explained, judged))
    return diagnoses
