"""Corners of a task's parameter space, and the plan that puts each of them in every run.

Owns which corners a run must reach beyond what its fixed cases reach. A corner is a param
at the minimum or the maximum of its random range, or a dimension of length 1: a derived
value used in a shape, or an axis of an input or a declared output whose length is an
expression (N*OH*OW is one row of im2col's output per image, and only when N = 1 too).
Mistakes hide there: a ``.squeeze()`` is wrong only where an axis has length 1, an
off-by-one only at the end of a range, and uniform draws reach the rarer corners in few runs.

The fixed cases reach some corners. The plan gives every other reachable corner to one of
the random cases, several to a case where they go together, and keeps with each case a
witness: the params of a valid case where all its corners hold. The plan depends on the spec
and on how many random cases a run has, never on the seed: ``cases`` draws random case i from
SeedSequence([seed, i, 0]) around its corners, so a seed still replays a run exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import expressions

PLAN_SEED = 20240611  # the witnesses' search is the same in every run: it belongs to the spec, not to a seed
WITNESS_DRAWS = 60  # random candidates tried for a witness after the hint, the smallest and the largest case
BOUNDARY_SHARE = 0.25  # share of a param's random draws that take its minimum or maximum (half each)


@dataclass(frozen=True)
class Corner:
    label: str  # "H = 1 (minimum)", "OH = 1", "N*OH*OW = 1 (col axis 0)"
    test: str  # an expression that is true on a case that reaches the corner
    support: tuple[str, ...]  # the params the test depends on
    bound: tuple[str, int] | None = None  # (param, value) of a param's minimum or maximum


@dataclass
class Slot:
    """The corners one random case is drawn to reach, and a valid case where they all hold."""

    corners: list[Corner]
    witness: dict[str, int]

    @property
    def bounds(self) -> dict[str, int]:
        return dict(c.bound for c in self.corners if c.bound)

    @property
    def anchors(self) -> dict[str, int]:
        """The witness's values of every param the corners depend on: with these, they hold."""
        return {name: self.witness[name] for corner in self.corners for name in corner.support}


@dataclass
class Plan:
    corners: list[Corner]
    fixed: dict[str, list[str]]  # corner label -> names of the fixed cases that reach it
    slots: list[Slot]  # slot i is random case i's
    unreachable: list[Corner] = field(default_factory=list)  # no valid case reaches them
    left_over: list[Corner] = field(
        default_factory=list
    )  # reachable, but neither a fixed case nor a free random case does


def bounds_of(space: dict) -> tuple[int, int]:
    if "choices" in space:
        return min(space["choices"]), max(space["choices"])
    return space["min"], space["max"]


def draw_raw_params(task, rng: np.random.Generator) -> dict[str, int]:
    """One value per param from its range or choices, at the minimum or the maximum one time in
    eight each (as property-based testing tools draw), else uniformly; constraints not applied."""
    spaces = task.spec["params"]
    # Two numbers in [0, 1) per param, in one call: whether it takes a bound, and where in its
    # range (or choices) it falls otherwise.
    numbers = rng.random(2 * len(spaces)).tolist()
    params = {}
    for (name, space), pick, where in zip(spaces.items(), numbers[0::2], numbers[1::2]):
        if pick < BOUNDARY_SHARE:
            params[name] = bounds_of(space)[pick >= BOUNDARY_SHARE / 2]
        elif "choices" in space:
            params[name] = int(space["choices"][min(int(where * len(space["choices"])), len(space["choices"]) - 1)])
        else:
            params[name] = min(space["min"] + int(where * (space["max"] - space["min"] + 1)), space["max"])
    return params


def _support(text, derived: dict) -> tuple[str, ...]:
    """The params an expression depends on, through the derived values it uses."""
    found: set[str] = set()
    pending = list(expressions.names(text))
    while pending:
        name = pending.pop()
        if name in derived:
            pending += list(expressions.names(derived[name]))
        else:
            found.add(name)
    return tuple(sorted(found))


def find(task) -> list[Corner]:
    """Every corner of the task: each param's bounds, then each dimension that can be 1."""
    spec = task.spec
    derived = spec.get("derived", {})
    corners = []
    for name, space in spec["params"].items():
        low, high = bounds_of(space)
        corners.append(Corner(f"{name} = {low} (minimum)", f"{name} <= {low}", (name,), (name, low)))
        if high != low:
            corners.append(Corner(f"{name} = {high} (maximum)", f"{name} >= {high}", (name,), (name, high)))
    axes: dict[str, list[str]] = {}
    for section in ("inputs", "outputs"):
        for array, declared in spec[section].items():
            for axis, text in enumerate((declared or {}).get("shape") or []):
                axes.setdefault(str(text), []).append(f"{array} axis {axis}")
    dimensions = [name for name in derived if any(name in expressions.names(text) for text in axes)]
    dimensions += [text for text in axes if text not in derived]
    for text in dimensions:
        if text in spec["params"] or not expressions.names(text):
            continue  # a param's own minimum is its corner already; a constant is no corner
        where = f" ({', '.join(axes[text])})" if text in axes else ""
        corners.append(Corner(f"{text} = 1{where}", f"({text}) == 1", _support(text, derived)))
    return corners


def holds(corner: Corner, env: dict[str, int]) -> bool:
    return bool(expressions.evaluate(corner.test, env))


def make_plan(task, random_count: int, resolve) -> Plan:
    """The corners, who reaches each, and the random cases' share. ``resolve`` is
    cases.resolve_params (params -> the case's values, or None when it is invalid)."""
    corners = find(task)
    fixed_envs = []
    for case in task.spec["cases"]["fixed"]:
        env = resolve(task, case["params"])
        if env is not None:
            fixed_envs.append((case["name"], env))
    fixed = {c.label: [name for name, env in fixed_envs if holds(c, env)] for c in corners}
    plan = Plan(corners, fixed, [])
    for corner in (c for c in corners if not fixed[c.label]):
        if len(plan.slots) < random_count:
            witness = _witness(task, [corner], None, resolve)
            if witness is None:
                plan.unreachable.append(corner)
            else:
                plan.slots.append(Slot([corner], witness))
            continue
        for slot in sorted(plan.slots, key=lambda s: len(s.corners)):
            witness = _witness(task, slot.corners + [corner], slot.witness, resolve)
            if witness is not None:
                slot.corners.append(corner)
                slot.witness = witness
                break
        else:
            reachable = _witness(task, [corner], None, resolve) is not None
            (plan.left_over if reachable else plan.unreachable).append(corner)
    return plan


def _witness(task, corners: list[Corner], hint: dict[str, int] | None, resolve) -> dict[str, int] | None:
    """The params of a valid case where every corner holds, or None when none was found."""
    bounds: dict[str, int] = {}
    for corner in corners:
        if corner.bound:
            name, value = corner.bound
            if bounds.setdefault(name, value) != value:
                return None
    spaces = task.spec["params"]
    smallest = {name: bounds_of(space)[0] for name, space in spaces.items()}
    largest = {name: bounds_of(space)[1] for name, space in spaces.items()}
    rng = np.random.default_rng(np.random.SeedSequence([PLAN_SEED, len(corners)]))
    candidates = ([hint] if hint else []) + [smallest, largest]
    for attempt in range(len(candidates) + WITNESS_DRAWS):
        raw = dict(candidates[attempt] if attempt < len(candidates) else draw_raw_params(task, rng))
        raw.update(bounds)
        env = resolve(task, raw)
        if env is not None and all(holds(c, env) for c in corners):
            return raw
    return None
