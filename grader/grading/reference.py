"""Trusted execution of the reference solution (and of its misconception variants).

Owns calling a task's entry on the trusted side, exactly as the runner calls the
student's code in the sandbox, always on private copies of the inputs so nothing can
leak between the reference, a variant and the arrays sent to the sandbox.
"""

from __future__ import annotations

import types

import numpy as np

from ..spec.cases import Case
from ..spec.taskspec import Task


class ReferenceError_(Exception):
    """The reference (or a variant) raised or returned something unusable: the task is broken."""


def _arguments(names: list, values: dict) -> list:
    return [tuple(values[n] for n in name) if isinstance(name, list) else values[name] for name in names]


def invoke(entry: dict, namespace: dict, case: Case) -> dict[str, np.ndarray]:
    """Run the entry in ``namespace`` on copies of the case's inputs; return float64 outputs."""
    values = dict(case.params)
    values.update({name: array.copy() for name, array in case.inputs.items()})
    results = {}
    if "function" in entry:
        results[entry["returns"]] = namespace[entry["function"]](*_arguments(entry["args"], values))
    else:
        instance = namespace[entry["class"]](*_arguments(entry.get("init", []), values))
        for step in entry["steps"]:
            returned = getattr(instance, step["call"])(*_arguments(step.get("args", []), values))
            if step.get("returns"):
                results[step["returns"]] = np.array(returned, dtype=np.float64, copy=True)
        for attribute in entry.get("attributes", []):
            results[attribute] = getattr(instance, attribute, None)
    return {name: np.array(value, dtype=np.float64, copy=True) for name, value in results.items() if value is not None}


def expected_outputs(task: Task, cases: list[Case]) -> dict[int, dict[str, np.ndarray]]:
    """The reference's outputs for every case, checked to be complete and finite."""
    namespace = vars(task.reference())
    expected = {}
    for case in cases:
        try:
            outputs = invoke(task.entry, namespace, case)
        except Exception as exc:
            raise ReferenceError_(
                f"the reference raised {type(exc).__name__}: {exc} on case {case.name} {case.params}"
            ) from exc
        for name in task.output_names:
            if name not in outputs:
                raise ReferenceError_(f"the reference did not produce output {name!r} on case {case.name}")
            if not np.all(np.isfinite(outputs[name])):
                raise ReferenceError_(f"the reference produced non-finite {name!r} on case {case.name}")
        expected[case.index] = {name: outputs[name] for name in task.output_names}
    return expected


def variant_namespace(task: Task, code: str) -> dict:
    """A copy of the reference module's namespace with a misconception's code applied."""
    module = types.ModuleType(f"_grader_variant_{task.id}")
    module.__dict__.update({k: v for k, v in vars(task.reference()).items() if not k.startswith("__")})
    exec(compile(code, f"<misconception of {task.id}>", "exec"), module.__dict__)
    return vars(module)
