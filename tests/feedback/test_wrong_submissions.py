"""Wrong submissions graded through the CLI, each checked for the exact code, hint and diagnosis it
must get, in zh and in en. At least five per seed task (examples/<task>/wrong_*.py and
tests/feedback/submissions/<task>/*.py)."""

from __future__ import annotations

import re

import pytest

from feedback_support import EXAMPLES, SUBMISSIONS
from grader.feedback.messages import text

CJK = re.compile(r"[\u4e00-\u9fff]")
pytestmark = pytest.mark.usefixtures("prefetched")


def ex(task, name):
    return EXAMPLES / task / f"{name}.py"


def sub(task, name):
    return SUBMISSIONS / task / f"{name}.py"


# (task, submission, test, expectations). test is the name of the test the expectations are about.
# expectations: code; output (the failing check); shape_hint / hint: (code, values) with the values the
# hint must carry; diagnosis; says: {lang: text the test's message must contain}.
CASES = [
    ("im2col", ex("im2col", "wrong_im2col_column_order_khkwc"), "stride2_pad1",
     {"code": "WRONG_VALUES", "output": "col", "hint": ("PERMUTED_VALUES", {}), "diagnosis": "im2col_column_order_khkwc"}),
    ("im2col", ex("im2col", "wrong_im2col_transposed"), "non_square",
     {"code": "SHAPE_MISMATCH", "output": "col", "shape_hint": ("TRANSPOSED", {"values_ok": True}),
      "diagnosis": "im2col_transposed"}),
    ("im2col", ex("im2col", "wrong_im2col_padding_ignored"), "stride2_pad1",
     {"code": "SHAPE_MISMATCH", "output": "col", "diagnosis": "im2col_padding_ignored"}),
    ("im2col", ex("im2col", "wrong_im2col_stride_ignored"), "stride2_pad1",
     {"code": "WRONG_VALUES", "output": "col", "diagnosis": "im2col_stride_ignored"}),
    ("im2col", sub("im2col", "returns_none_block"), "basic",
     {"code": "MISSING_OUTPUT", "output": "col", "says": {"en": "im2col() returned None", "zh": "im2col() 返回了 None"}}),
    ("col2im", ex("col2im", "wrong_col2im_assign_overlaps"), "overlap_stride1",
     {"code": "WRONG_VALUES", "output": "x", "diagnosis": "col2im_assign_overlaps"}),
    ("col2im", ex("col2im", "wrong_col2im_average_overlaps"), "overlap_stride1",
     {"code": "WRONG_VALUES", "output": "x", "hint": ("OVERLAP_FACTORS", {"factors": "1/9, 1/6, 1/4, 1/3, 1/2"}),
      "diagnosis": "col2im_average_overlaps"}),
    ("col2im", ex("col2im", "wrong_col2im_padding_not_cropped"), "stride2_pad1",
     {"code": "SHAPE_MISMATCH", "output": "x", "shape_hint": ("PADDED_SHAPE", {"pad": 1, "values_ok": True}),
      "diagnosis": "col2im_padding_not_cropped"}),
    ("col2im", ex("col2im", "wrong_col2im_reshape_without_transpose"), "basic",
     {"code": "WRONG_VALUES", "output": "x", "hint": ("PERMUTED_VALUES", {}),
      "diagnosis": "col2im_reshape_without_transpose"}),
    ("col2im", sub("col2im", "divides_by_count_block"), "not_divisible",
     {"code": "NOT_FINITE", "output": "x"}),
    ("conv_backward", ex("conv_backward", "wrong_conv_dw_without_transpose"), "batch_channels",
     {"code": "WRONG_VALUES", "output": "dW", "hint": ("PERMUTED_VALUES", {}), "diagnosis": "conv_dw_without_transpose"}),
    ("conv_backward", ex("conv_backward", "wrong_conv_db_keepdims"), "stride2_pad1",
     {"code": "SHAPE_MISMATCH", "output": "db", "shape_hint": ("KEPT_DIMS", {"values_ok": True}),
      "diagnosis": "conv_db_keepdims"}),
    ("conv_backward", ex("conv_backward", "wrong_conv_db_wrong_axis"), "batch_channels",
     {"code": "SHAPE_MISMATCH", "output": "db", "diagnosis": "conv_db_wrong_axis"}),
    ("conv_backward", ex("conv_backward", "wrong_conv_dout_not_nhwc"), "batch_channels",
     {"code": "WRONG_VALUES", "output": "dx", "diagnosis": "conv_dout_not_nhwc"}),
    ("conv_backward", ex("conv_backward", "wrong_conv_dx_not_folded"), "basic",
     {"code": "SHAPE_MISMATCH", "output": "dx", "diagnosis": "conv_dx_not_folded"}),
    ("conv_backward", sub("conv_backward", "db_never_set_block"), "basic",
     {"code": "MISSING_OUTPUT", "output": "db", "says": {"en": "self.db was never set", "zh": "self.db 从未被赋值"}}),
    ("conv_backward", sub("conv_backward", "dx_channels_last_block"), "non_square",
     {"code": "SHAPE_MISMATCH", "output": "dx", "shape_hint": ("CHANNELS_LAST", {"values_ok": True})}),
    ("maxpool_backward", ex("maxpool_backward", "wrong_maxpool_average_rule"), "basic",
     {"code": "WRONG_VALUES", "output": "dx", "hint": ("NONZERO_WHERE_ZERO", {"count": 12}),
      "diagnosis": "maxpool_average_rule"}),
    ("maxpool_backward", ex("maxpool_backward", "wrong_maxpool_overwrite_overlaps"), "overlap_stride1",
     {"code": "WRONG_VALUES", "output": "dx", "diagnosis": "maxpool_overwrite_overlaps"}),
    ("maxpool_backward", ex("maxpool_backward", "wrong_maxpool_padding_not_cropped"), "pad1",
     {"code": "SHAPE_MISMATCH", "output": "dx", "shape_hint": ("PADDED_SHAPE", {"pad": 1, "values_ok": True}),
      "diagnosis": "maxpool_padding_not_cropped"}),
    ("maxpool_backward", ex("maxpool_backward", "wrong_maxpool_dout_not_nhwc"), "batch_channels",
     {"code": "WRONG_VALUES", "output": "dx", "hint": ("PERMUTED_VALUES", {}), "diagnosis": "maxpool_dout_not_nhwc"}),
    ("maxpool_backward", ex("maxpool_backward", "wrong_maxpool_max_ignores_padding"), "pad1",
     {"code": "WRONG_VALUES", "output": "dx", "hint": ("BORDER_ONLY", {"band": 1}),
      "diagnosis": "maxpool_max_ignores_padding"}),
    ("maxpool_backward", sub("maxpool_backward", "returns_none_block"), "basic",
     {"code": "MISSING_OUTPUT", "output": "dx", "says": {"en": "backward() returned None", "zh": "backward() 返回了 None"}}),
]


def _ids():
    return [f"{task}/{path.stem}" for task, path, _, _ in CASES]


@pytest.mark.parametrize("task", ["im2col", "col2im", "conv_backward", "maxpool_backward"])
def test_at_least_five_wrong_submissions_per_seed_task(task):
    assert len([c for c in CASES if c[0] == task]) >= 5


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("task,path,name,expect", CASES, ids=_ids())
def test_wrong_submission_gets_its_feedback(grade, task, path, name, expect, lang):
    document = grade(task, path, lang=lang).document
    assert document["status"] == "failed" and document["lang"] == lang
    test = next(t for t in document["tests"] if t["name"] == name)
    assert test["visibility"] == "visible" and test["status"] == "failed"
    assert test["code"] == expect["code"]
    check = next(c for c in test["checks"] if c["output"] == expect["output"])
    assert check["code"] == expect["code"]
    assert check["message"] in test["message"]
    assert bool(CJK.search(test["message"])) == (lang == "zh")
    for lang_, phrase in expect.get("says", {}).items():
        if lang_ == lang:
            assert phrase in test["message"]
    if "shape_hint" in expect:
        code, values = expect["shape_hint"]
        hint = next(h for h in check["diagnostics"]["shape_hints"] if h["code"] == code)
        assert {k: hint[k] for k in values} == values
        expected_text = text(lang, f"shape_hints.{code}", **hint)
        if hint["values_ok"]:
            expected_text += text(lang, "join.sentences") + text(lang, "shape_hints.values_ok")
        assert hint["message"] == expected_text
    if "hint" in expect:
        code, values = expect["hint"]
        hint = next((h for h in check["diagnostics"]["hints"] if h["code"] == code), None)
        assert hint is not None, f"no {code} among {[h['code'] for h in check['diagnostics']['hints']]}"
        assert {k: hint[k] for k in values} == values
        assert hint["message"] == text(lang, f"value_hints.{code}", **hint)
        assert bool(CJK.search(hint["message"])) == (lang == "zh")
    if "diagnosis" in expect:
        assert [d["id"] for d in document["diagnoses"]] == [expect["diagnosis"]]
        assert expect["diagnosis"] in test["diagnoses"]
    else:
        assert "diagnoses" not in document


def test_not_finite_values_are_located(grade):
    check = grade("col2im", sub("col2im", "divides_by_count_block")).test("not_divisible")["checks"][0]
    found = check["diagnostics"]
    assert found["non_finite"]["nan"] > 0 and found["non_finite"]["inf"] == 0
    assert len(found["non_finite"]["positions"]) == 5
    assert all(len(p) == 4 for p in found["non_finite"]["positions"])
    assert any("!" in row for row in found["error_map"]["rows"])
    assert isinstance(found["worst"]["got"], str) and found["worst"]["got"] == "nan"


def test_diagnostics_of_a_wrong_value(grade):
    """The worst element, the counts and the error map agree with each other and with the check."""
    test = grade("col2im", ex("col2im", "wrong_col2im_average_overlaps")).test("overlap_stride1")
    check = test["checks"][0]
    found = check["diagnostics"]
    assert found["total"] == 1 * 2 * 5 * 5
    assert 0 < found["wrong_count"] < found["total"]
    assert found["wrong_percent"] == round(100 * found["wrong_count"] / found["total"], 2)
    assert found["max_abs_error"] == pytest.approx(check["max_abs_error"], rel=1e-5)
    worst = found["worst"]
    assert abs(worst["got"] - worst["expected"]) == pytest.approx(found["max_abs_error"], rel=1e-4)
    error_map = found["error_map"]
    assert error_map["size"] == [5, 5] and len(error_map["slice"]) == 2
    assert error_map["rows"][0][0] == "." and error_map["rows"][2][2] == "x"  # a corner has one window, the centre nine


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_converted_sequences_are_accepted_with_a_note(grade, lang):
    for task, path, output, kind in (("im2col", sub("im2col", "returns_list_block"), "col", "list"),
                                     ("conv_backward", sub("conv_backward", "db_tuple_block"), "db", "tuple")):
        document = grade(task, path, lang=lang).document
        assert document["status"] == "passed"
        check = next(c for c in document["tests"][0]["checks"] if c["output"] == output)
        assert check["notes"] == [text(lang, "notes.LIST_CONVERTED", output=output, kind=text(lang, f"kinds.{kind}"))]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_import_of_a_module_the_task_does_not_give(grade, lang):
    document = grade("im2col", sub("im2col", "imports_utils"), lang=lang).document
    assert document["gradable"] is True and document["score"] == 0
    assert {t["code"] for t in document["tests"]} == {"IMPORT_ERROR"}
    problem = document["program_error"]
    assert problem["code"] == "IMPORT_ERROR"
    assert problem["error"]["exception"] == "ModuleNotFoundError"
    assert problem["error"]["line"] == 3
    assert problem["error"]["hint"] == text(lang, "exception_hints.ModuleNotFoundError", allowed="numpy")
