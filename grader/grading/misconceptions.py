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

import numpy as np

from ..spec.cases import Case
from ..spec.taskspec import Task
from . import reference
from .diagnostics import close
from .model import Diagnosis

Outputs = dict[str, np.ndarray]


def _run_variant(task: Task, namespace: dict, case: Case) -> Outputs | None:
    try:
        with np.errstate(all="ignore"):
            return reference.invoke(task.entry, namespace, case)
    except Exception:
        return None


def variant_outputs(task: Task, cases: list[Case]) -> dict[str, dict[int, Outputs | None]]:
    """{misconception id: {case index: outputs, or None where the variant raised}}."""
    produced = {}
    for misconception in task.spec.get("misconceptions", []):
        namespace = reference.variant_namespace(task, misconception["code"])
        produced[misconception["id"]] = {case.index: _run_variant(task, namespace, case) for case in cases}
    return produced


def changed_outputs(per_case: dict[int, Outputs | None], expected: dict[int, Outputs], names: list[str],
                    tolerances: dict[str, dict]) -> list[str]:
    """The outputs a variant gets wrong on at least one case."""
    changed = []
    for name in names:
        for index, outputs in per_case.items():
            if (
                outputs is not None
                and name in outputs
                and not close(outputs[name], expected[index][name], tolerances[name])
            ):
                changed.append(name)
                break
    return changed


def _contradicted(per_case: dict[int, Outputs | None], expected: dict[int, Outputs], got: dict[int, Outputs],
                  names: list[str], tolerances: dict[str, dict]) -> bool:
    """On some case, the student and the variant disagree on an output the variant changes."""
    judged = changed_outputs(per_case, expected, names, tolerances)
    for index, variant in per_case.items():
        student = got.get(index)
        if variant is None or student is None or any(n not in student or n not in variant for n in judged):
            continue
        if not all(close(student[n], variant[n], tolerances[n]) for n in judged):
            return True
    return False


def recognise(
    task: Task,
    cases: list[Case],
    expected: dict[int, Outputs],
    got: dict[int, Outputs],
    tolerances: dict[str, dict],
    variants: dict[str, dict[int, Outputs | None]] | None = None,
) -> list[Diagnosis]:
    """The misconceptions that explain the student's outputs ``got`` (case index -> the outputs it produced).

    Without precomputed ``variants``, each variant is run on the cases the student produced outputs for,
    smallest first, and dropped at the first contradiction, so the large cases cost only the variants
    that could still explain the submission."""
    names = task.output_names
    compared = sorted((c for c in cases if got.get(c.index)), key=lambda c: c.size)
    diagnoses = []
    for misconception in task.spec.get("misconceptions", []):
        identifier = misconception["id"]
        if variants is not None and identifier not in variants:
            continue  # its outputs were not computed (e.g. its code does not compile)
        namespace = None if variants is not None else reference.variant_namespace(task, misconception["code"])
        per_case: dict[int, Outputs | None] = {}
        contradicted = False
        for case in compared:
            if variants is not None:
                per_case[case.index] = variants[identifier].get(case.index)
            else:
                per_case[case.index] = _run_variant(task, namespace, case)
            if _contradicted(per_case, expected, got, names, tolerances):
                contradicted = True
                break
        judged = changed_outputs(per_case, expected, names, tolerances)
        if contradicted or not judged:
            continue
        explained = [case.name for case in cases if per_case.get(case.index) is not None
                     and all(n in got[case.index] for n in judged)
                     and not all(close(got[case.index][n], expected[case.index][n], tolerances[n]) for n in judged)]
        if explained:
            diagnoses.append(Diagnosis(identifier, misconception["message"], explained, judged))
    return diagnoses
