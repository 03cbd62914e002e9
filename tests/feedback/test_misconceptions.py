"""Named misconceptions: every variant in the specs really fails and is recognised as itself and
nothing else; correct code and unrelated mistakes are never given a name. (That each task's
example of a misconception, examples/<task>/wrong_<id>.py, is named by it through the CLI in zh
and en, on several seeds, is tests/feedback/test_examples.py.)"""

from __future__ import annotations

import pytest

from feedback_support import EXAMPLES, REPO, SEED, SEED_TASKS, SUBMISSIONS
from grader.grading import misconceptions, reference
from grader.spec import cases, taskspec

TASKS = sorted(path.stem for path in (REPO / "tasks").glob("*.yaml"))
pytestmark = pytest.mark.usefixtures("prefetched")


def _task(task_id):
    return taskspec.load(task_id, REPO)


def _declared(task_id):
    return [m["id"] for m in _task(task_id).spec["misconceptions"]]


@pytest.mark.parametrize("task_id", TASKS)
def test_each_task_declares_at_least_three_with_messages_in_zh_and_en(task_id):
    assert len(_declared(task_id)) >= 3
    for misconception in _task(task_id).spec["misconceptions"]:
        assert misconception["message"]["zh"].strip() and misconception["message"]["en"].strip()
        assert any("\u4e00" <= ch <= "\u9fff" for ch in misconception["message"]["zh"])


@pytest.mark.parametrize("task_id", TASKS)
def test_variants_fail_and_are_recognised_as_themselves_only(task_id):
    """On the trusted side: each variant differs from the reference on some case, and its own outputs
    are recognised as exactly that variant (no other variant claims them)."""
    task = _task(task_id)
    run = cases.generate(task, SEED, 4)
    expected = reference.expected_outputs(task, run)
    variants = misconceptions.variant_outputs(task, run)
    tolerances = task.tolerances({"atol": 1e-5, "rtol": 0})
    for identifier, per_case in variants.items():
        changed = misconceptions.changed_outputs(per_case, expected, task.output_names, tolerances)
        assert changed, f"{identifier} never differs from the reference: it cannot fail"
        got = {index: outputs for index, outputs in per_case.items() if outputs is not None}
        found = misconceptions.recognise(task, run, expected, got, tolerances, variants)
        assert [d.id for d in found] == [identifier]


def test_a_diagnosis_is_shown_on_the_hidden_tests_it_explains(grade):
    """The larger hidden case of maxpool_backward (3x3 windows, stride 2) shows the average rule."""
    document = grade("maxpool_backward", EXAMPLES / "maxpool_backward" / "wrong_maxpool_average_rule.py").document
    large = next(t for t in document["tests"] if t["name"] == "large")
    assert large["visibility"] == "hidden" and large["status"] == "failed" and large["diagnoses"] == ["maxpool_average_rule"]


@pytest.mark.parametrize("task_id", SEED_TASKS)
def test_correct_submission_is_not_diagnosed(grade, task_id):
    document = grade(task_id, EXAMPLES / task_id / "correct.py").document
    assert document["status"] == "passed"
    assert "diagnoses" not in document and "shrunk" not in document


@pytest.mark.parametrize("task_id,path", [
    ("conv_backward", EXAMPLES / "conv_backward" / "wrong_col2im_no_stride_pad.py"),
    ("col2im", SUBMISSIONS / "col2im" / "divides_by_count_block.py"),
    ("conv_backward", SUBMISSIONS / "conv_backward" / "dx_channels_last_block.py"),
    ("maxpool_backward", SUBMISSIONS / "maxpool_backward" / "returns_none_block.py"),
])
def test_unrelated_mistake_is_not_diagnosed(grade, task_id, path):
    document = grade(task_id, path).document
    assert document["status"] == "failed"
    assert "diagnoses" not in document
    assert all("diagnoses" not in t for t in document["tests"])


def test_two_mistakes_in_different_outputs_are_both_named(grade):
    """A variant is judged on the outputs it changes, so a second mistake elsewhere does not hide it."""
    document = grade("conv_backward", SUBMISSIONS / "conv_backward" / "two_mistakes_block.py").document
    named = {d["id"]: d["outputs"] for d in document["diagnoses"]}
    assert named == {"conv_db_keepdims": ["db"], "conv_dw_without_transpose": ["dW"]}
