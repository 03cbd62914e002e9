"""Corners of the parameter space come up in every run, whatever the seed, and a seed still
replays a run exactly: the plan belongs to the spec, the draw around it to the seed."""

from __future__ import annotations

import copy
from collections import Counter

import numpy as np
import pytest

from grader.spec import cases, config, corners, taskspec

SEEDS = range(60)


@pytest.fixture(scope="module")
def settings():
    return config.load()


def _task(task_id, settings):
    return taskspec.load(task_id, settings.root)


@pytest.mark.parametrize("task_id", sorted(p.stem for p in (config.load().root / "tasks").glob("*.yaml")))
def test_every_corner_of_every_task_comes_up_in_every_run(task_id, settings):
    task = _task(task_id, settings)
    count = cases.random_count(task, settings.values["cases"])
    plan = cases.plan(task, count)
    assert not plan.unreachable and not plan.left_over, [c.label for c in plan.unreachable + plan.left_over]
    for seed in SEEDS:
        run = cases.generate(task, seed, count, with_inputs=False)
        missed = [c.label for c in plan.corners if not any(corners.holds(c, case.params) for case in run)]
        assert not missed, (seed, missed)


def test_an_output_axis_of_length_1_comes_up_in_every_run(settings):
    """im2col's output has one row per image only with N = 1 and one window (N*OH*OW = 1), one
    column only with C = 1 and a 1x1 filter: no fixed case has either, and uniform draws rarely
    do; a .squeeze() is wrong only there."""
    task = _task("im2col", settings)
    for seed in SEEDS:
        run = cases.generate(task, seed, 6, with_inputs=False)
        assert any(c.params["N"] * c.params["OH"] * c.params["OW"] == 1 for c in run), seed
        assert any(c.params["C"] * c.params["FH"] * c.params["FW"] == 1 for c in run), seed


def test_corners_are_each_params_bounds_and_the_dimensions_that_can_be_1(settings):
    labels = [c.label for c in corners.find(_task("im2col", settings))]
    assert "N*OH*OW = 1 (col axis 0)" in labels and "C*FH*FW = 1 (col axis 1)" in labels
    task = _task("conv_transpose", settings)
    labels = [c.label for c in corners.find(task)]
    assert labels[:4] == ["N = 1 (minimum)", "N = 3 (maximum)", "C_in = 1 (minimum)", "C_in = 3 (maximum)"]
    assert "stride = 1 (minimum)" in labels and "stride = 3 (maximum)" in labels and "pad = 0 (minimum)" in labels
    assert "OH = 1 (dout axis 2, out axis 2)" in labels and "OW = 1 (dout axis 3, out axis 3)" in labels
    assert not any(label.startswith(("H = 1 (", "C_out = 1 (")) and "axis" in label for label in labels), \
        "an axis that is a param is that param's minimum, not a corner of its own"


def test_the_fixed_cases_reach_what_they_reach_and_the_random_cases_the_rest(settings):
    task = _task("im2col", settings)
    plan = cases.plan(task, 6)
    assert plan.fixed["FH = 1 (minimum)"] == ["kernel_1x1"]
    assert plan.fixed["FH = 4 (maximum)"] == ["kernel_full"], "a value beyond the range (5) reaches the bound"
    assert plan.fixed["H = 9 (maximum)"] == ["large"]
    given = [c.label for slot in plan.slots for c in slot.corners]
    assert sorted(given) == sorted(c.label for c in plan.corners if not plan.fixed[c.label])
    assert all(not plan.fixed[label] for label in given)


def test_with_fewer_random_cases_corners_share_one_and_without_any_they_are_left_over(settings):
    task = _task("col2im", settings)
    uncovered = [c.label for c in cases.plan(task, 6).corners if not cases.plan(task, 6).fixed[c.label]]
    assert len(uncovered) >= 3
    shared = cases.plan(task, 2)
    assert len(shared.slots) == 2 and sorted(c.label for s in shared.slots for c in s.corners) == sorted(uncovered)
    for seed in SEEDS:
        run = cases.generate(task, seed, 2, with_inputs=False)
        assert all(any(corners.holds(c, case.params) for case in run) for s in shared.slots for c in s.corners)
    none = cases.plan(task, 0)
    assert not none.slots and sorted(c.label for c in none.left_over) == sorted(uncovered)


def test_a_corner_no_valid_case_reaches_is_unreachable(settings):
    task = _task("maxpool_forward", settings)
    spec = copy.deepcopy(task.spec)
    spec["constraints"] = spec["constraints"] + ["H >= 2"]
    spec["params"]["H"] = {"min": 1, "max": 9}
    narrowed = taskspec.Task(task.id, spec, task.root, task.spec_path)
    plan = cases.plan(narrowed, 6)
    assert "H = 1 (minimum)" in [c.label for c in plan.unreachable]
    assert "H = 1 (minimum)" not in [c.label for s in plan.slots for c in s.corners]


def test_a_random_case_keeps_the_draw_of_its_own_seed_around_its_corners(settings):
    """The same seed gives the same params; other seeds give other values of the params that
    no corner of the case fixes."""
    task = _task("conv_backward", settings)
    first = [c.params for c in cases.generate(task, 5, 6, with_inputs=False)]
    assert first == [c.params for c in cases.generate(task, 5, 6, with_inputs=False)]
    slot = cases.plan(task, 6).slots[0]
    seen = Counter()
    index = len(task.spec["cases"]["fixed"])
    for seed in SEEDS:
        params = cases.generate(task, seed, 6, with_inputs=False)[index].params
        assert all(corners.holds(c, params) for c in slot.corners)
        seen[tuple(params[n] for n in ("N", "C", "W", "FN"))] += 1
    assert len(seen) > 20


def test_draws_take_each_bound_one_time_in_eight_besides_the_uniform_draw(settings):
    task = _task("im2col", settings)
    rng = np.random.default_rng(1)
    draws = 8000
    drawn = Counter(corners.draw_raw_params(task, rng)["H"] for _ in range(draws))
    assert set(drawn) == set(range(1, 10))
    bound, inner = 1 / 8 + 3 / 4 / 9, 3 / 4 / 9  # H is 1..9
    assert abs(drawn[1] / draws - bound) < 0.02 and abs(drawn[9] / draws - bound) < 0.02
    assert all(abs(drawn[h] / draws - inner) < 0.02 for h in range(2, 9))
    strides = Counter(corners.draw_raw_params(task, rng)["stride"] for _ in range(draws))
    assert abs(strides[2] / draws - 3 / 4 / 3) < 0.02, "choices: the middle one only by the uniform draw"
