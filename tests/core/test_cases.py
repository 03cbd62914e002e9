"""The draw: reproducible from the seed, always valid, and covering the required edge cases."""

import numpy as np
import pytest

from core_support import SEED_TASKS
from grader.spec import cases, config, expressions, taskspec


@pytest.fixture(scope="module")
def settings():
    return config.load()


def load(task_id, settings):
    return taskspec.load(task_id, settings.root)


@pytest.mark.parametrize("task_id", SEED_TASKS)
def test_same_seed_same_cases_and_inputs(task_id, settings):
    task = load(task_id, settings)
    first, second = cases.generate(task, 1234, 6), cases.generate(task, 1234, 6)
    other = cases.generate(task, 1235, 6)
    assert [c.params for c in first] == [c.params for c in second]
    for a, b in zip(first, second):
        for name in a.inputs:
            np.testing.assert_array_equal(a.inputs[name], b.inputs[name])
    assert any(not np.array_equal(a.inputs[n], b.inputs[n]) for a, b in zip(first, other) for n in a.inputs)


@pytest.mark.parametrize("task_id", SEED_TASKS)
def test_random_cases_always_satisfy_the_constraints(task_id, settings):
    task = load(task_id, settings)
    for seed in range(40):
        for case in cases.generate(task, seed, 6, with_inputs=False):
            for constraint in task.spec["constraints"]:
                assert expressions.evaluate(constraint, case.params), (seed, case.params, constraint)


@pytest.mark.parametrize("task_id", SEED_TASKS)
def test_a_run_has_ten_or_more_cases_and_the_required_edge_cases(task_id, settings):
    task = load(task_id, settings)
    run = cases.generate(task, 7, cases.random_count(task, settings.values["cases"]))
    assert len(run) >= 10
    kernel = ("FH", "FW") if "FH" in task.spec["params"] else ("PH", "PW")
    fixed = [c.params for c in run if c.kind == "fixed"]
    required = {
        "stride > 1": lambda p: p["stride"] > 1,
        "pad > 0": lambda p: p["pad"] > 0,
        "C > 1 and N > 1": lambda p: p["C"] > 1 and p["N"] > 1,
        "non-square image and kernel": lambda p: p["H"] != p["W"] and p[kernel[0]] != p[kernel[1]],
        "1x1 kernel": lambda p: p[kernel[0]] == p[kernel[1]] == 1,
        "kernel as large as the padded input": lambda p: p[kernel[0]] == p["H"] + 2 * p["pad"] and p[kernel[1]] == p["W"] + 2 * p["pad"],
        "size that does not divide by the stride": lambda p: (p["H"] + 2 * p["pad"] - p[kernel[0]]) % p["stride"] != 0,
        "overlapping windows": lambda p: p["stride"] < p[kernel[0]],
        "larger case": lambda p: p["N"] >= 8 and p["C"] >= 8 and p["H"] >= 28,
    }
    missing = [name for name, holds in required.items() if not any(holds(p) for p in fixed)]
    assert not missing


def test_a_fixed_case_that_breaks_a_constraint_is_a_task_error(settings, tmp_path):
    task = load("im2col", settings)
    task.spec["cases"]["fixed"][0]["params"] = dict(task.spec["cases"]["fixed"][0]["params"], FH=9, H=4, pad=0)
    with pytest.raises(taskspec.TaskError, match="fixed case 'basic' is invalid"):
        cases.generate(task, 1, 0)


def _windows(x, size, stride=1):
    windows = np.lib.stride_tricks.sliding_window_view(x, size, axis=(2, 3))
    return windows[:, :, ::stride, ::stride].reshape(*windows.shape[:2], -1, size[0] * size[1])


def test_a_fixed_case_draws_integers_where_its_spec_says_so_and_its_windows_tie(settings):
    """maxpool_backward's tie cases: x from a few integers (ties, zeros against the padding,
    all-negative windows); the other inputs and the other cases keep their own distribution."""
    task = load("maxpool_backward", settings)
    run = {case.name: case for case in cases.generate(task, 5, 0)}
    x = run["overlap_stride1"].inputs["x"]
    assert set(np.unique(x)) == {-2.0, -1.0, 0.0, 1.0, 2.0} and x.dtype == np.float64
    windows = _windows(x, (3, 3))
    assert ((windows == windows.max(axis=-1, keepdims=True)).sum(axis=-1) > 1).mean() > 0.5, "most windows tie"
    padded = np.pad(run["overlap_stride2"].inputs["x"], [(0, 0), (0, 0), (1, 1), (1, 1)])
    assert set(np.unique(padded)) <= {-2.0, -1.0, 0.0}
    border = _windows(padded, (3, 3), stride=2)[:, :, 0]  # the top-left window: padding comes first in it
    assert (border.max(axis=-1) == 0).all()
    dout = run["overlap_stride1"].inputs["dout"]
    assert np.unique(dout).size == dout.size, "dout keeps its continuous draw"
    assert not np.array_equal(np.round(run["basic"].inputs["x"]), run["basic"].inputs["x"])


def test_relu_has_a_case_with_exact_zeros(settings):
    task = load("relu_backward", settings)
    case = next(c for c in cases.generate(task, 3, 0) if c.inputs["x"].size and (c.inputs["x"] == 0).any())
    assert case.kind == "fixed" and case.draws == {"x": {"distribution": "integers", "low": -2, "high": 2}}


def test_an_integer_draw_is_reproducible_and_bounded(settings):
    task = load("maxpool_forward", settings)
    first, second = cases.generate(task, 11, 2), cases.generate(task, 11, 2)
    tied = [c for c in first if c.draws]
    assert [c.name for c in tied] == ["overlap_stride1", "overlap_stride2_pad2"]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a.inputs["x"], b.inputs["x"])
    assert tied[1].inputs["x"].min() >= -2 and tied[1].inputs["x"].max() <= 0
