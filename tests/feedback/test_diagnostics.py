"""grader/grading/diagnostics.py on arrays built to show each mistake: every shape hint and pattern hint is
given when the mistake is there and not when it is not; the numbers it reports are JSON-safe."""

from __future__ import annotations

import json

import numpy as np
import pytest

from grader.grading import diagnostics

TOLERANCE = {"atol": 1e-5, "rtol": 0}
RNG = np.random.default_rng(7)


def images(*shape):
    return RNG.normal(size=shape)


def hint_codes(report):
    return [h["code"] for h in report.get("hints", [])] + [h["code"] for h in report.get("shape_hints", [])]


def test_padding_not_cropped():
    expected = images(2, 3, 5, 4)
    padded = np.pad(expected, [(0, 0), (0, 0), (2, 2), (2, 2)])
    [hint] = diagnostics.analyse(expected, padded, TOLERANCE)["shape_hints"]
    assert hint == {"code": "PADDED_SHAPE", "pad": 2, "values_ok": True}
    scrambled = padded.copy()
    scrambled[:, :, 3, 3] += 1
    assert diagnostics.analyse(expected, scrambled, TOLERANCE)["shape_hints"][0]["values_ok"] is False


def test_transposed_matrix():
    expected = images(12, 18)
    assert diagnostics.analyse(expected, expected.T, TOLERANCE)["shape_hints"] == [{"code": "TRANSPOSED", "values_ok": True}]


def test_kept_and_dropped_dimensions():
    expected = images(4)
    assert diagnostics.analyse(expected, expected.reshape(1, 4, 1, 1), TOLERANCE)["shape_hints"] == [
        {"code": "KEPT_DIMS", "values_ok": True}]
    expected = images(1, 4, 1, 1)
    assert hint_codes(diagnostics.analyse(expected, expected.reshape(4), TOLERANCE)) == ["DROPPED_DIMS"]


def test_channels_last_and_first():
    expected = images(2, 3, 5, 4)
    report = diagnostics.analyse(expected, expected.transpose(0, 2, 3, 1), TOLERANCE)
    assert report["shape_hints"] == [{"code": "CHANNELS_LAST", "values_ok": True}]
    nhwc = images(2, 5, 4, 3)
    assert hint_codes(diagnostics.analyse(nhwc, nhwc.transpose(0, 3, 1, 2), TOLERANCE)) == ["CHANNELS_FIRST"]
    other = images(2, 3, 5)
    assert hint_codes(diagnostics.analyse(other, other.transpose(2, 0, 1), TOLERANCE)) == ["AXES_PERMUTED"]


def test_same_size_other_shape_and_unrelated_shape():
    expected = images(6, 4)
    assert diagnostics.analyse(expected, expected.reshape(3, 8), TOLERANCE)["shape_hints"] == [
        {"code": "SAME_SIZE", "values_ok": True}]
    assert diagnostics.analyse(expected, images(5, 4), TOLERANCE)["shape_hints"] == []


def test_gradient_where_it_must_be_zero_and_missing():
    expected = np.zeros((1, 1, 4, 4))
    expected[0, 0, 1, 1] = expected[0, 0, 2, 3] = 2.0
    spread = np.full_like(expected, 0.25)
    report = diagnostics.analyse(expected, spread, TOLERANCE)
    assert {"code": "NONZERO_WHERE_ZERO", "count": 14} in report["hints"]
    report = diagnostics.analyse(expected, np.zeros_like(expected), TOLERANCE)
    assert {"code": "ZERO_WHERE_NONZERO", "count": 2} in report["hints"]


def test_constant_factor_and_overlap_counts():
    expected = images(1, 2, 5, 5)
    assert {"code": "CONSTANT_FACTOR", "factor": "1/9"} in diagnostics.analyse(expected, expected / 9, TOLERANCE)["hints"]
    assert {"code": "CONSTANT_FACTOR", "factor": "-1"} in diagnostics.analyse(expected, -expected, TOLERANCE)["hints"]
    counts = np.array([1, 2, 3, 2, 1])
    overlap = np.outer(counts, counts)[None, None]
    report = diagnostics.analyse(expected, expected / overlap, TOLERANCE)
    assert {"code": "OVERLAP_FACTORS", "factors": "1/9, 1/6, 1/4, 1/3, 1/2"} in report["hints"]
    noise = expected + RNG.normal(size=expected.shape)
    assert not {"CONSTANT_FACTOR", "OVERLAP_FACTORS"} & set(hint_codes(diagnostics.analyse(expected, noise, TOLERANCE)))


def test_permuted_values():
    expected = images(6, 8)
    assert hint_codes(diagnostics.analyse(expected, expected[:, ::-1], TOLERANCE)) == ["PERMUTED_VALUES"]
    assert hint_codes(diagnostics.analyse(expected, expected.reshape(8, 6).T.reshape(6, 8), TOLERANCE)) == ["PERMUTED_VALUES"]
    almost = expected[:, ::-1].copy()
    almost[0, 0] += 1
    assert "PERMUTED_VALUES" not in hint_codes(diagnostics.analyse(expected, almost, TOLERANCE))


def test_border_only():
    expected = images(2, 2, 6, 7)
    got = expected.copy()
    got[:, :, 0, :] += 1
    got[:, :, :, -1] -= 1
    assert {"code": "BORDER_ONLY", "band": 1} in diagnostics.analyse(expected, got, TOLERANCE)["hints"]
    got[:, :, 3, 3] += 1
    assert "BORDER_ONLY" not in hint_codes(diagnostics.analyse(expected, got, TOLERANCE))


def test_stride_pattern():
    expected = images(1, 1, 8, 8)
    got = expected.copy()
    got[:, :, 1::2, 2:5] += 1
    assert {"code": "STRIDE_PATTERN", "axis": "rows", "step": 2} in diagnostics.analyse(expected, got, TOLERANCE)["hints"]
    got = expected.copy()
    got[:, :, :, 0::3] *= 3
    assert {"code": "STRIDE_PATTERN", "axis": "columns", "step": 3} in diagnostics.analyse(expected, got, TOLERANCE)["hints"]
    got = expected.copy()
    got[:, :, 2, 5] += 1
    got[:, :, 3, 1] += 1
    assert "STRIDE_PATTERN" not in hint_codes(diagnostics.analyse(expected, got, TOLERANCE))


def test_worst_element_counts_and_map():
    expected = images(2, 3, 4, 5)
    got = expected.copy()
    got[1, 2, 3, 0] += 7.0
    got[1, 2, 0, 4] += 0.5
    got[0, 0, 0, 0] += 0.1
    report = diagnostics.analyse(expected, got, TOLERANCE)
    assert report["wrong_count"] == 3 and report["total"] == expected.size
    assert report["wrong_percent"] == round(300 / expected.size, 2)
    assert report["worst"]["index"] == [1, 2, 3, 0]
    assert report["worst"]["got"] - report["worst"]["expected"] == pytest.approx(7.0, abs=1e-4)
    assert report["max_abs_error"] == pytest.approx(7.0, rel=1e-5)
    error_map = report["error_map"]
    assert {k: error_map[k] for k in ("slice", "origin", "size", "rows")} == {
        "slice": [1, 2], "origin": [0, 0], "size": [4, 5], "rows": ["....x", ".....", ".....", "x...."]}
    assert error_map["worst"] == [3, 0]
    assert error_map["errors"][3][0] == pytest.approx(7.0, rel=1e-3)
    assert error_map["errors"][0][4] == pytest.approx(0.5, rel=1e-3)
    assert error_map["errors"][1][1] == pytest.approx(0.0, abs=1e-12)


def test_map_errors_are_the_cells_errors_cut_like_the_rows():
    expected = images(1, 2, 30, 30)
    got = expected.copy()
    got[0, 1] += np.linspace(0, 1, 900).reshape(30, 30)  # an error that grows along the slice
    got[0, 1, 29, 2] = np.inf
    error_map = diagnostics.analyse(expected, got, TOLERANCE)["error_map"]
    top, left = error_map["origin"]
    errors = error_map["errors"]
    assert len(errors) == len(error_map["rows"]) == diagnostics.MAP_SIZE
    assert all(len(row) == diagnostics.MAP_SIZE for row in errors)
    assert error_map["worst"] == [29, 2], "a non-finite value is the worst"
    assert errors[29 - top][2 - left] is None and error_map["rows"][29 - top][2 - left] == "!"
    true_error = np.abs(got[0, 1] - expected[0, 1])
    for r in range(len(errors)):
        for c in range(len(errors[r])):
            if errors[r][c] is not None:
                assert errors[r][c] == pytest.approx(true_error[top + r, left + c], rel=5e-3, abs=1e-12)
    json.dumps(error_map, allow_nan=False)


def test_map_of_a_large_slice_is_cut_around_the_worst_element():
    expected = images(1, 1, 60, 50)
    got = expected.copy()
    got[0, 0, 40, 45] += 3
    error_map = diagnostics.analyse(expected, got, TOLERANCE)["error_map"]
    assert len(error_map["rows"]) == diagnostics.MAP_SIZE and all(len(r) == diagnostics.MAP_SIZE for r in error_map["rows"])
    top, left = error_map["origin"]
    assert error_map["rows"][40 - top][45 - left] == "x"
    assert sum(row.count("x") for row in error_map["rows"]) == 1


def test_non_finite_values_are_reported_json_safe():
    expected = images(3, 4)
    got = expected.copy()
    got[0, 1] = np.nan
    got[2, 3] = -np.inf
    report = diagnostics.analyse(expected, got, TOLERANCE)
    assert report["non_finite"] == {"nan": 1, "inf": 1, "positions": [[0, 1], [2, 3]]}
    assert report["worst"]["got"] in ("nan", "-inf")
    assert report["error_map"]["rows"][0][1] == "!" and report["error_map"]["rows"][2][3] == "!"
    json.dumps(report, allow_nan=False)


def test_one_dimensional_output_gets_a_one_row_map():
    expected = images(5)
    got = expected.copy()
    got[3] += 1
    assert diagnostics.analyse(expected, got, TOLERANCE)["error_map"]["rows"] == ["...x."]


def test_overflowing_errors_stay_json_numbers():
    expected = np.array([1e-300, 1.0, -2.0])
    got = np.array([1e300, 1.0, np.finfo(float).max])
    report = diagnostics.analyse(expected, got, TOLERANCE)
    assert report["max_rel_error"] is None, "1e300 / 1e-300 overflows: no number rather than inf"
    assert report["max_abs_error"] == pytest.approx(np.finfo(float).max, rel=1e-5)
    json.dumps(report, allow_nan=False)
