"""Shrinking: a failing submission is re-run on smaller cases and the smallest that fails the same way
is shown; the candidates are valid, strictly smaller, and rebuilt from the seed."""

from __future__ import annotations

import math

import numpy as np
import pytest

from feedback_support import EXAMPLES, REPO, SUBMISSIONS
from grader.grading import shrink
from grader.spec import cases, taskspec


def _size(shapes):
    return sum(math.prod(shape) for shape in shapes.values())


@pytest.mark.parametrize("task,example,identifier", [
    ("col2im", "wrong_col2im_average_overlaps", "col2im_average_overlaps"),
    ("maxpool_backward", "wrong_maxpool_average_rule", "maxpool_average_rule"),
    ("conv_backward", "wrong_conv_dw_without_transpose", "conv_dw_without_transpose"),
])
def test_failing_submission_is_shrunk(grade, task, example, identifier):
    document = grade(task, EXAMPLES / task / f"{example}.py", shrink=True).document
    shrunk = document["shrunk"]
    source = next(t for t in document["tests"] if t["name"] == shrunk["from"])
    failing_visible = [t for t in document["tests"] if t["visibility"] == "visible" and t["status"] == "failed"]
    assert source is min(failing_visible, key=lambda t: _size(t["shapes"]))
    assert shrunk["kind"] == "shrunk" and shrunk["visibility"] == "visible" and shrunk["status"] == "failed"
    assert shrunk["code"] == source["code"]
    assert _size(shrunk["shapes"]) < _size(source["shapes"])
    assert shrunk["index"] >= shrink.SHRINK_INDEX_BASE and shrunk["tried"] > 0
    assert shrunk["diagnoses"] == [identifier]
    assert any("diagnostics" in c for c in shrunk["checks"])
    spec_task = taskspec.load(task, REPO)
    assert cases.resolve_params(spec_task, {k: shrunk["params"][k] for k in spec_task.spec["params"]}) == shrunk["params"]


def test_shrunk_case_of_a_runtime_error_keeps_the_exception(grade):
    document = grade("conv_backward", EXAMPLES / "conv_backward" / "wrong_col2im_no_stride_pad.py", shrink=True).document
    shrunk = document["shrunk"]
    assert shrunk["code"] == "RUNTIME_ERROR" and shrunk["error"]["exception"] == "ValueError"
    assert shrunk["shapes"]["x"] == [1, 1, 1, 1], "down to one pixel (with padding, the failing part)"


@pytest.mark.parametrize("task,path", [
    ("maxpool_backward", EXAMPLES / "maxpool_backward" / "correct.py"),
    ("col2im", SUBMISSIONS / "col2im" / "unclosed_bracket_block.py"),
])
def test_nothing_to_shrink(grade, task, path):
    assert "shrunk" not in grade(task, path, shrink=True).document


def test_candidates_are_valid_and_one_param_smaller():
    task = taskspec.load("conv_backward", REPO)
    params = next(c for c in cases.generate(task, 1, 0, with_inputs=False) if c.name == "stride2_pad1").params
    found = shrink.candidates(task, params)
    assert found
    for env in found:
        assert cases.resolve_params(task, {k: env[k] for k in task.spec["params"]}) == env
        changed = [k for k in task.spec["params"] if env[k] != params[k]]
        assert len(changed) == 1 and env[changed[0]] < params[changed[0]]


def test_smaller_values_are_few_and_below():
    assert shrink.smaller_values({"min": 1, "max": 9}, 9) == [1, 2, 5, 8]
    assert shrink.smaller_values({"min": 1, "max": 9}, 3) == [1, 2]
    assert shrink.smaller_values({"choices": [1, 2, 3]}, 3) == [1, 2]
    assert shrink.smaller_values({"min": 0, "max": 2}, 0) == []


def test_candidate_inputs_come_from_the_seed_and_index():
    task = taskspec.load("im2col", REPO)
    env = cases.resolve_params(task, {"N": 1, "C": 1, "H": 3, "W": 3, "FH": 2, "FW": 2, "stride": 1, "pad": 0})
    first = shrink.candidate_case(task, 5, shrink.SHRINK_INDEX_BASE + 3, env)
    again = shrink.candidate_case(task, 5, shrink.SHRINK_INDEX_BASE + 3, env)
    other = shrink.candidate_case(task, 5, shrink.SHRINK_INDEX_BASE + 4, env)
    assert (first.inputs["x"] == again.inputs["x"]).all() and not (first.inputs["x"] == other.inputs["x"]).all()


@pytest.mark.parametrize("example,identifier", [("wrong_maxpool_grad_to_every_tied_max", "maxpool_grad_to_every_tied_max"),
                                                ("wrong_maxpool_grad_to_last_max", "maxpool_grad_to_last_max")])
def test_a_failure_that_needs_ties_shrinks_to_a_case_with_ties(grade, run_grader, tmp_path, example, identifier):
    """The candidates are drawn as the tie case they start from draws (integers), so the failure
    is still there in a smaller case, and `grader replay` rebuilds that case with the same inputs."""
    path = EXAMPLES / "maxpool_backward" / f"{example}.py"
    graded = grade("maxpool_backward", path, shrink=True)
    document = graded.document
    shrunk = document["shrunk"]
    assert shrunk["from"] in ("overlap_stride1", "overlap_stride2") and shrunk["code"] == "WRONG_VALUES"
    assert shrunk["diagnoses"] == [identifier]
    feedback = tmp_path / "feedback.json"
    feedback.write_text(graded.stdout, encoding="utf-8")
    replayed = run_grader("replay", str(feedback), "shrunk", "--submission", str(path), "--out", str(tmp_path))
    assert replayed.returncode == 0, replayed.stderr
    arrays = np.load(next(tmp_path.glob("maxpool_backward_shrunk_*.npz")), allow_pickle=False)
    assert np.array_equal(arrays["input_x"], np.round(arrays["input_x"])), "the shrunk case's x is drawn from integers"
    error = np.abs(arrays["got_dx"] - arrays["expected_dx"]).max()
    assert error == pytest.approx(shrunk["checks"][0]["max_abs_error"], abs=1e-6) and error > 0
