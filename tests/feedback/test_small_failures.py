"""A tiny failing case shows its numbers (JSON, text, HTML tables), hidden-only failures get hints
that reveal nothing of a hidden test, and the small things: a seed line one can run, n/a for a
relative error that does not exist, 1-D error maps by position, no shrinking of a failure that is
the same on every case, one line for an error that stopped every test."""

from __future__ import annotations

import html as html_lib
import re

import numpy as np
import pytest

from feedback_support import EXAMPLES, REPO
from grader.feedback import document
from grader.feedback import html as render_html
from grader.feedback import text as render_text
from grader.grading import diagnostics
from grader.spec import cases as cases_mod
from grader.spec import taskspec

NOT_NHWC = EXAMPLES / "conv_backward" / "wrong_conv_dout_not_nhwc.py"


def flat(values):
    return [v for item in values for v in flat(item)] if isinstance(values, list) else [values]


@pytest.fixture(scope="module")
def shrunk_document(grade):
    document = grade("conv_backward", NOT_NHWC, shrink=True).document
    assert document.get("shrunk"), "the search found no smaller case"
    return document


def test_a_tiny_shrunk_case_shows_its_inputs_expected_and_output(shrunk_document):
    shrunk = shrunk_document["shrunk"]
    arrays = shrunk["arrays"]
    task = taskspec.load("conv_backward", REPO)
    case = cases_mod.Case(shrunk["index"], "shrunk", "shrunk", True, 0, shrunk["params"])
    case.inputs = cases_mod.make_inputs(task, shrunk["params"], np.random.default_rng(
        np.random.SeedSequence([shrunk_document["seed"], shrunk["index"], 1])))
    assert set(arrays["inputs"]) == set(task.spec["inputs"]) and set(arrays["expected"]) == {"dx", "dW", "db"}
    for name, array in case.inputs.items():  # the very inputs the case was run on
        assert arrays["inputs"][name]["shape"] == list(array.shape)
        assert np.allclose(flat(arrays["inputs"][name]["values"]), array.ravel(), rtol=1e-5)
    for section in ("inputs", "expected", "got"):
        for array in arrays[section].values():
            assert len(flat(array["values"])) <= 12
    assert any(flat(arrays["got"][n]["values"]) != flat(arrays["expected"][n]["values"]) for n in arrays["expected"])


def test_no_numbers_for_a_hidden_test_nor_for_a_large_one(grade):
    graded = grade("conv_backward", NOT_NHWC, shrink=True).document
    for test in graded["tests"]:
        if test["visibility"] == "hidden" or test["status"] == "passed":
            assert "arrays" not in test, test["name"]
        elif any(np.prod(s) > 12 for s in test["shapes"].values()):
            assert "arrays" not in test, test["name"]


def test_the_numbers_in_text_and_as_html_tables(grade, shrunk_document):
    text = grade("conv_backward", NOT_NHWC, shrink=True, fmt="text").stdout
    assert "Its numbers (every array of this case is tiny):" in text
    assert re.search(r"^    expected db: \(\d,\) \[", text, re.MULTILINE)
    page = render_html.render(shrunk_document)
    tables = re.findall(r'<table class="array">.*?</table>', page)
    assert tables and all("<script" not in t for t in tables)
    expected_db = shrunk_document["shrunk"]["arrays"]["expected"]["db"]
    shown = re.search(r'data-name="db"><table class="array"><caption class="mono">expected db \(\d,\)</caption>'
                      r"<tr>(.*?)</tr>", page)
    assert shown, "the expected db is drawn as a table"
    cells = [float(html_lib.unescape(c)) for c in re.findall(r'<td class="num">(.*?)</td>', shown.group(1))]
    assert cells == pytest.approx(flat(expected_db["values"]), rel=1e-5)


F32 = open(REPO / "reference" / "conv_backward.py", encoding="utf-8").read().replace(
    "        self.dW = (self.col.T @ dout).T.reshape(FN, C, FH, FW)",
    "        self.dW = (self.col.T.astype(np.float32) @ dout.astype(np.float32)).T.reshape(FN, C, FH, FW)")


def test_a_failure_on_hidden_tests_only_gets_hints_that_name_no_hidden_test(grade, tmp_path):
    path = tmp_path / "float32_dw.py"
    path.write_text(F32, encoding="utf-8")
    graded = grade("conv_backward", path).document
    failing = [t for t in graded["tests"] if t["status"] == "failed"]
    assert failing and all(t["visibility"] == "hidden" for t in failing)
    hints = {h["code"]: h for h in graded["hidden_hints"]}
    assert hints["LOW_PRECISION_DTYPE"]["dtype"] == "float32"
    assert hints["ONLY_LARGEST_FAIL"]["about"] == "precision"
    for hint in hints.values():
        assert not re.search(r"\d", hint["message"].replace("float32", "").replace("float64", "")
                             .replace("float16", "")), "a hint carries no number of a hidden test"
    text = grade("conv_backward", path, fmt="text").stdout
    assert hints["ONLY_LARGEST_FAIL"]["message"] in text


def test_no_hidden_hints_when_a_visible_test_fails(grade):
    assert "hidden_hints" not in grade("conv_backward", NOT_NHWC).document


def test_the_seed_line_is_a_command_that_runs_as_written(grade):
    text = grade("conv_backward", NOT_NHWC, fmt="text").stdout
    assert "`grader grade --task conv_backward --seed " in text and " FILE`" in text


def test_a_relative_error_that_does_not_exist_reads_n_a():
    expected, got = np.zeros((2, 3)), np.ones((2, 3))
    found = diagnostics.value_report(expected, got, {"atol": 1e-5, "rtol": 0})
    assert found["max_rel_error"] is None
    assert "max rel error n/a" in render_text.stats_text("en", "dx", found)


def test_a_one_dimensional_error_map_is_labelled_by_position():
    expected, got = np.arange(1.0, 6.0), np.arange(1.0, 6.0)
    got[3] += 1
    check = {"output": "db", "status": "failed", "message": "db is wrong", "expected_shape": [5],
             "diagnostics": document.diagnostics_entry("en", diagnostics.analyse(expected, got, {"atol": 1e-5, "rtol": 0}))}
    lines = render_text._check_lines("en", check, render_text._Painter(False))
    assert any("positions 0-4 of 5" in line for line in lines) and not any("rows" in line for line in lines)
    assert "positions 0-4 of 5" in render_html._check_block("en", check)


SAME_EVERYWHERE = """class Convolution:
    def __init__(self, W, b, stride=1, pad=0):
        pass

    def forward(self, x):
        return x

    def backward(self, dout):
        raise ValueError("not yet")
"""


def test_a_failure_identical_on_every_case_is_not_shrunk(grade, tmp_path):
    path = tmp_path / "same_everywhere.py"
    path.write_text(SAME_EVERYWHERE, encoding="utf-8")
    graded = grade("conv_backward", path, shrink=True).document
    assert {t["code"] for t in graded["tests"]} == {"RUNTIME_ERROR"}
    assert "shrunk" not in graded


def test_an_error_that_stopped_every_test_is_said_once(grade, tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("def oops(:\n", encoding="utf-8")
    graded = grade("conv_backward", path).document
    assert len(graded["tests"]) > 1 and {t["code"] for t in graded["tests"]} == {"COMPILE_ERROR"}
    text = grade("conv_backward", path, fmt="text").stdout
    assert text.count("COMPILE_ERROR") == 1 and f"all {len(graded['tests'])} tests" in text
    assert render_html.render(graded).count("COMPILE_ERROR") == 1
