"""Hidden tests show their status, error code and named misconceptions only: nothing of their inputs
or expected values reaches the feedback, whatever the student's code does with them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from feedback_support import EXAMPLES, REPO, SEED
from grader.feedback.messages import text
from grader.grading import reference
from grader.spec import cases, taskspec

HIDDEN_KEYS = {"name", "kind", "visibility", "status", "score", "max_score", "code", "message", "checks", "diagnoses", "title"}
HIDDEN_CHECK = {"output", "status", "code", "shape_ok", "max_abs_error"}

# Fails only on the hidden large case (N = 8), and tries to smuggle its inputs out three ways.
LEAKY = '''
import numpy as np


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_data.shape
    if N == 8:
        print("LEAK", repr(input_data.ravel()[:4].tolist()))
        raise ValueError("LEAK " + repr(input_data.ravel()[:4].tolist()))
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    img = np.pad(input_data, [(0, 0), (0, 0), (pad, pad), (pad, pad)], "constant")
    col = np.zeros((N, C, filter_h, filter_w, out_h, out_w))
    for y in range(filter_h):
        for x in range(filter_w):
            col[:, :, y, x, :, :] = img[:, :, y:y + stride * out_h:stride, x:x + stride * out_w:stride]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(N * out_h * out_w, -1)
'''


def _assert_hidden_entry(test, lang):
    assert set(test) <= HIDDEN_KEYS
    assert all(set(check) == HIDDEN_CHECK and check["max_abs_error"] is None for check in test["checks"])
    if test["status"] == "failed":
        assert test["message"] == text(lang, "test.hidden_failed", code=test["code"])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_hidden_tests_show_status_code_and_diagnosis_only(grade, lang):
    document = grade("col2im", EXAMPLES / "col2im" / "wrong_col2im_average_overlaps.py", lang=lang, shrink=True).document
    hidden = [t for t in document["tests"] if t["visibility"] == "hidden"]
    assert any(t["status"] == "failed" and t["diagnoses"] == ["col2im_average_overlaps"] for t in hidden)
    for test in hidden:
        _assert_hidden_entry(test, lang)
    assert document["shrunk"]["from"] in {t["name"] for t in document["tests"] if t["visibility"] == "visible"}


def test_nothing_of_a_hidden_case_leaks(grade, tmp_path):
    path = tmp_path / "leaky.py"
    path.write_text(LEAKY, encoding="utf-8")
    graded = grade("im2col", path, shrink=True)
    document = graded.document
    large = graded.test("large")
    assert large["visibility"] == "hidden" and large["code"] == "RUNTIME_ERROR"
    _assert_hidden_entry(large, "en")
    assert all(t["status"] == "passed" for t in document["tests"] if t["visibility"] == "visible")
    assert "shrunk" not in document, "only a hidden test fails and the top of the space passes: nothing to show"
    task = taskspec.load("im2col", REPO)
    run = cases.generate(task, SEED, sum(1 for t in document["tests"] if t["kind"] == "random"))
    secret = next(c for c in run if c.name == "large")
    serialised = json.dumps(document)
    assert "LEAK" not in serialised
    for value in secret.inputs["x"].ravel()[:4]:
        assert repr(float(value))[:8] not in serialised
    expected = reference.expected_outputs(task, [secret])[secret.index]["col"]
    assert str(np.round(expected.ravel()[5], 4)) not in serialised


def test_shrinking_from_hidden_failures_uses_nothing_of_them(grade, tmp_path):
    """When only hidden tests fail, the search starts from the top of the parameter space."""
    path = tmp_path / "fails_on_h9.py"
    path.write_text(LEAKY.replace("if N == 8:", "if H >= 9:"), encoding="utf-8")
    document = grade("im2col", path, shrink=True).document
    assert all(t["status"] == "passed" for t in document["tests"] if t["visibility"] == "visible")
    shrunk = document["shrunk"]
    assert shrunk["from"] is None and shrunk["code"] == "RUNTIME_ERROR"
    assert shrunk["params"]["H"] == 9
    assert shrunk["error"]["message"].startswith("LEAK"), "the shrunk case is the student's own, visible"
