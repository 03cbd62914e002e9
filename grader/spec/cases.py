"""Cases: a task's parameter space turned into seeded, reproducible inputs.

Owns the draw. A run's seed fixes everything: case i's params come from
SeedSequence([seed, i, 0]) and its arrays from SeedSequence([seed, i, 1]), so a case can be
replayed on its own and a change to one case never shifts another. Random case k is drawn
to reach the corners the task's plan gives it (``corners``: a param's minimum or maximum, a
dimension of length 1 that no fixed case reaches), so that every run reaches every corner.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field

import numpy as np

from . import corners, expressions
from .taskspec import Task, TaskError

MAX_DRAWS = 2000
AIMED_DRAWS = 4  # draws of a random case that aim at its corners with their bounds alone, before its witness's values
MAX_ELEMENTS = 4_000_000


@dataclass
class Case:
    index: int
    name: str
    kind: str  # "fixed" or "random"
    visible: bool
    points: float
    params: dict[str, int]
    title: dict | None = None
    inputs: dict[str, np.ndarray] = field(default_factory=dict)
    draws: dict[str, dict] = field(
        default_factory=dict
    )  # a fixed case's own draw of some inputs (cases.fixed[].inputs)

    @property
    def size(self) -> int:
        return sum(int(a.size) for a in self.inputs.values())

    def shapes(self) -> dict[str, list[int]]:
        return {name: list(array.shape) for name, array in self.inputs.items()}


def new_seed() -> int:
    return secrets.randbelow(2**31)


def resolve_params(task: Task, params: dict[str, int]) -> dict[str, int] | None:
    """Params plus derived values, or None when a constraint or a shape does not hold."""
    env = dict(params)
    for name, text in task.spec.get("derived", {}).items():
        env[name] = expressions.evaluate(text, env)
    for text in task.spec.get("constraints", []):
        if not expressions.evaluate(text, env):
            return None
    for array in task.spec["inputs"].values():
        shape = [expressions.evaluate(t, env) for t in array["shape"]]
        if any(d < 1 for d in shape) or math.prod(shape) > MAX_ELEMENTS:
            return None
    return env


def failed_constraints(task: Task, params: dict[str, int]) -> list[str]:
    env = dict(params)
    for name, text in task.spec.get("derived", {}).items():
        env[name] = expressions.evaluate(text, env)
    failed = [str(t) for t in task.spec.get("constraints", []) if not expressions.evaluate(t, env)]
    for name, array in task.spec["inputs"].items():
        shape = [expressions.evaluate(t, env) for t in array["shape"]]
        if any(d < 1 for d in shape):
            failed.append(f"inputs/{name} would have shape {shape}")
        elif int(np.prod(shape)) > MAX_ELEMENTS:
            failed.append(f"inputs/{name} would have more than {MAX_ELEMENTS} elements")
    return failed


def plan(task: Task, random_count: int) -> corners.Plan:
    """Which corners the fixed cases reach and which each random case is drawn to reach: the
    spec's alone (no seed), so made once per task and count (a service draws cases all day)."""
    if random_count not in task.plans:
        task.plans[random_count] = corners.make_plan(task, random_count, resolve_params)
    return task.plans[random_count]


def draw_params(task: Task, rng: np.random.Generator, slot: corners.Slot | None = None) -> dict[str, int]:
    """A valid case; with a ``slot``, one where its corners hold. Its bounds are set and the
    other params drawn first (AIMED_DRAWS tries), then every param its corners depend on is
    set as in its witness; the witness itself when nothing else was valid."""
    targets = slot.corners if slot else []
    for attempt in range(MAX_DRAWS):
        raw = corners.draw_raw_params(task, rng)
        if slot is not None:
            raw.update(slot.bounds if attempt < AIMED_DRAWS else slot.anchors)
        env = resolve_params(task, raw)
        if env is not None and all(corners.holds(c, env) for c in targets):
            return env
    if slot is not None:
        return resolve_params(task, slot.witness)
    raise TaskError(
        [
            f"{task.spec_path}: the parameter space yielded no valid case in {MAX_DRAWS} draws; "
            "check params and constraints"
        ]
    )


def draw_of(task: Task, name: str, draws: dict[str, dict] | None = None) -> dict:
    """How input ``name`` is drawn: its spec, with a case's own setting (``draws``) over it."""
    return {**task.spec["inputs"][name], **((draws or {}).get(name) or {})}


def make_inputs(task: Task, env: dict[str, int], rng: np.random.Generator,
                draws: dict[str, dict] | None = None) -> dict[str, np.ndarray]:
    arrays = {}
    for name in task.spec["inputs"]:
        draw = draw_of(task, name, draws)
        shape = tuple(expressions.evaluate(t, env) for t in draw["shape"])
        scale = float(draw["scale"])
        if draw["distribution"] == "integers":
            arrays[name] = rng.integers(draw["low"], draw["high"], size=shape, endpoint=True).astype(np.float64)
        elif draw["distribution"] == "uniform":
            arrays[name] = rng.uniform(-scale, scale, size=shape)
        else:
            arrays[name] = rng.normal(0.0, scale, size=shape)
    return arrays


def _rng(seed: int, index: int, stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, index, stream]))


def generate(task: Task, seed: int, random_count: int, with_inputs: bool = True) -> list[Case]:
    """Every case of a run: the task's fixed edge cases, then ``random_count`` random ones."""
    cases: list[Case] = []
    spec_cases = task.spec["cases"]
    default_points = spec_cases["points"]
    for index, fixed in enumerate(spec_cases["fixed"]):
        env = resolve_params(task, fixed["params"])
        if env is None:
            failed = "; ".join(failed_constraints(task, fixed["params"]))
            raise TaskError([f"{task.spec_path}: fixed case {fixed['name']!r} is invalid: {failed}"])
        cases.append(Case(index, fixed["name"], "fixed", fixed["visible"], fixed.get("points", default_points), env,
                          fixed.get("title"), draws=fixed.get("inputs", {})))
    slots = plan(task, random_count).slots if random_count else []
    for offset in range(random_count):
        index = len(spec_cases["fixed"]) + offset
        env = draw_params(task, _rng(seed, index, 0), slots[offset] if offset < len(slots) else None)
        cases.append(Case(index, f"random_{offset + 1}", "random", spec_cases["random_visible"], default_points, env))
    if with_inputs:
        for case in cases:
            case.inputs = make_inputs(task, case.params, _rng(seed, case.index, 1), case.draws)
    return cases


def random_count(task: Task, settings_cases: dict) -> int:
    explicit = task.spec["cases"].get("random")
    return settings_cases["random"] if explicit is None else explicit
