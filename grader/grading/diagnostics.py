"""Array diagnostics of one failing check: what is wrong, where, and what the mistake looks like.

Owns turning the reference's array and the student's (both already parsed on the trusted
side) into plain data: a hint when the student's shape is a recognisable mistake, error
statistics, the worst element, the non-finite positions, pattern hints read from the
error itself, and a compact map of the worst (n, c) slice: which positions are wrong, and
|got - expected| at each (for the HTML heat map), cut to at most MAP_SIZE x MAP_SIZE.
Hints are stable codes with values; feedback.py words them from the catalogs. Only
visible cases are analysed: nothing here may be computed for a hidden case.

It imports numpy and nothing else (tests/kit checks it): the student kit ships this module as
source next to its check.py (grader/kit), so that a student sees the hints the grader gives.
"""

from __future__ import annotations

import itertools

import numpy as np

MAP_SIZE = 24  # the error map shows at most this many rows and columns around the worst element
MAX_POSITIONS = 5  # non-finite positions listed
BORDER_BANDS = (1, 2, 3)
STRIDE_STEPS = (2, 3)
MAX_FACTORS = 6
FACTOR_TOLERANCE = 1e-4  # relative: ratios this close are one factor
LARGEST_COUNT = 64  # a factor k or 1/k with k up to this is shown as a count


def close(got: np.ndarray, expected: np.ndarray, tolerance: dict) -> bool:
    """Same shape and every element within atol + rtol*|expected| (NaN never agrees): the values
    rule of ``compare``, for arrays that are not a student's answer to judge (a misconception's
    outputs, a shape hint's undone mistake)."""
    if got.shape != expected.shape:
        return False
    with np.errstate(all="ignore"):
        error = np.abs(got.astype(np.float64) - expected)
    return bool(np.all(error <= tolerance["atol"] + tolerance["rtol"] * np.abs(expected)))


def number(value: float) -> float | str:
    """A JSON-safe number with 6 significant digits; non-finite values as 'nan', 'inf', '-inf'."""
    value = float(value)
    if np.isnan(value):
        return "nan"
    if np.isinf(value):
        return "inf" if value > 0 else "-inf"
    return float(f"{value:.6g}")


def _finite_or_none(value: float) -> float | None:
    return float(f"{value:.6g}") if np.isfinite(value) else None


def shape_hints(expected: np.ndarray, got: np.ndarray, tolerance: dict) -> list[dict]:
    """Recognisable shape mistakes; ``values_ok`` says whether undoing the mistake gives the expected values."""
    e, g = expected.shape, got.shape
    hints: list[dict] = []
    if len(g) == len(e) >= 3 and g[:-2] == e[:-2]:
        grown_h, grown_w = g[-2] - e[-2], g[-1] - e[-1]
        if grown_h == grown_w > 0 and grown_h % 2 == 0:
            band = grown_h // 2
            hints.append({"code": "PADDED_SHAPE", "pad": band,
                          "values_ok": close(got[..., band:-band, band:-band], expected, tolerance)})
    if len(e) == 2 and g == e[::-1]:
        hints.append({"code": "TRANSPOSED", "values_ok": close(got.T, expected, tolerance)})
    elif len(g) == len(e) and sorted(g) == sorted(e):
        orders = [p for p in itertools.permutations(range(len(e))) if tuple(g[i] for i in p) == e]
        values_ok = any(close(got.transpose(p), expected, tolerance) for p in orders)
        if len(e) == 4 and g == (e[0], e[2], e[3], e[1]):
            code = "CHANNELS_LAST"
        elif len(e) == 4 and g == (e[0], e[3], e[1], e[2]):
            code = "CHANNELS_FIRST"
        else:
            code = "AXES_PERMUTED"
        hints.append({"code": code, "values_ok": values_ok})
    elif (
        got.size == expected.size
        and len(g) != len(e)
        and tuple(d for d in g if d != 1) == tuple(d for d in e if d != 1)
    ):
        code = "KEPT_DIMS" if len(g) > len(e) else "DROPPED_DIMS"
        hints.append({"code": code, "values_ok": close(got.reshape(e), expected, tolerance)})
    if not hints and got.size == expected.size:
        hints.append({"code": "SAME_SIZE", "values_ok": close(got.reshape(e), expected, tolerance)})
    return hints


def _factor_text(value: float) -> str:
    """1/4 or 4 when the factor is (the inverse of) a small count, else 3 significant digits."""
    for count in range(2, LARGEST_COUNT + 1):
        if abs(value - count) <= FACTOR_TOLERANCE * count:
            return str(count)
        if abs(value - 1 / count) <= FACTOR_TOLERANCE / count:
            return f"1/{count}"
    return f"{value:.3g}"


def _is_count(text: str) -> bool:
    return text.isdigit() or (text.startswith("1/") and text[2:].isdigit())


def _factors(ratios: np.ndarray) -> list[float] | None:
    """The distinct ratios (clustered), or None when there are too many to be a pattern."""
    found: list[float] = []
    for ratio in np.sort(ratios):
        if found and abs(ratio - found[-1]) <= FACTOR_TOLERANCE * max(1.0, abs(found[-1])):
            continue
        found.append(float(ratio))
        if len(found) > MAX_FACTORS:
            return None
    return found


def _stride_pattern(wrong: np.ndarray) -> dict | None:
    """Wrong rows (or columns) that repeat every 2nd or 3rd index of the image plane."""
    for axis, name in ((-2, "rows"), (-1, "columns")):
        others = tuple(a for a in range(wrong.ndim) if a != wrong.ndim + axis)
        hit = wrong.any(axis=others)
        length = hit.size
        if not 2 <= int(hit.sum()) < length:
            continue
        for step in STRIDE_STEPS:
            if length < 2 * step:
                continue
            for offset in range(step):
                pattern = np.arange(length) % step == offset
                if np.array_equal(hit, pattern) or np.array_equal(hit, ~pattern):
                    return {"code": "STRIDE_PATTERN", "axis": name, "step": step}
    return None


def value_hints(
    expected: np.ndarray, got: np.ndarray, wrong: np.ndarray, finite: np.ndarray, tolerance: dict
) -> list[dict]:
    """Patterns read from the error: how the wrong values relate to the right ones, and where they are."""
    hints: list[dict] = []
    wrong_finite = wrong & finite
    if finite.all() and close(np.sort(got, axis=None), np.sort(expected, axis=None), tolerance):
        # Zeros moved around are part of the permutation; saying so separately would only confuse.
        hints.append({"code": "PERMUTED_VALUES"})
    else:
        should_be_zero = wrong_finite & (expected == 0)
        if should_be_zero.any():
            hints.append({"code": "NONZERO_WHERE_ZERO", "count": int(should_be_zero.sum())})
        missing = wrong_finite & (got == 0) & (expected != 0)
        if missing.any():
            hints.append({"code": "ZERO_WHERE_NONZERO", "count": int(missing.sum())})
        measurable = wrong_finite & (np.abs(expected) > max(100 * tolerance["atol"], 1e-12)) & (got != 0)
        if measurable.any() and measurable.sum() >= 0.9 * wrong_finite.sum():
            factors = _factors(got[measurable] / expected[measurable])
            texts = [_factor_text(f) for f in factors] if factors is not None else []
            if len(texts) == 1:
                hints.append({"code": "CONSTANT_FACTOR", "factor": texts[0]})
            elif texts and all(_is_count(t) for t in texts):
                hints.append({"code": "OVERLAP_FACTORS", "factors": ", ".join(texts)})
    if expected.ndim >= 3 and int(wrong.sum()) >= 2:
        height, width = expected.shape[-2:]
        for band in BORDER_BANDS:
            if height > 2 * band and width > 2 * band:
                if not wrong[..., band:height - band, band:width - band].any():
                    hints.append({"code": "BORDER_ONLY", "band": band})
                break
        stride = _stride_pattern(wrong)
        if stride:
            hints.append(stride)
    return hints


def _map_error(value: float) -> float | None:
    """One cell's |got - expected| with 3 significant digits (a colour needs no more), None when not finite."""
    if not np.isfinite(value):
        return None
    rounded = float(f"{value:.3g}")
    return rounded if np.isfinite(rounded) else float(value)  # near the largest float, rounding up overflows


def error_map(wrong: np.ndarray, finite: np.ndarray, error: np.ndarray) -> dict | None:
    """Which positions are wrong in the slice (the leading indices, e.g. (n, c)) that has the most wrong ones.

    x wrong, ! not finite, . right, and each cell's error; at most MAP_SIZE rows and columns around
    that slice's worst element, whose position in the slice is given too.
    """
    if wrong.ndim == 0:
        return None
    if wrong.ndim == 1:
        wrong, finite, error = wrong[None, :], finite[None, :], error[None, :]
    lead_shape = wrong.shape[:-2]
    per_slice = wrong.reshape(-1, *wrong.shape[-2:]).sum(axis=(1, 2))
    lead = np.unravel_index(int(np.argmax(per_slice)), lead_shape) if lead_shape else ()
    grid, grid_finite = wrong[lead], finite[lead]
    badness = np.where(grid_finite, error[lead], np.inf)
    worst_row, worst_col = np.unravel_index(int(np.argmax(badness)), grid.shape)
    height, width = grid.shape
    top = int(min(max(worst_row - MAP_SIZE // 2, 0), max(height - MAP_SIZE, 0)))
    left = int(min(max(worst_col - MAP_SIZE // 2, 0), max(width - MAP_SIZE, 0)))
    shown_rows, shown_cols = range(top, min(top + MAP_SIZE, height)), range(left, min(left + MAP_SIZE, width))
    rows = [
        "".join("!" if not grid_finite[r, c] else "x" if grid[r, c] else "." for c in shown_cols) for r in shown_rows
    ]
    errors = [[_map_error(badness[r, c]) for c in shown_cols] for r in shown_rows]
    return {"slice": [int(i) for i in lead], "origin": [top, left], "size": [int(height), int(width)], "rows": rows,
            "errors": errors, "worst": [int(worst_row), int(worst_col)]}


def value_report(expected: np.ndarray, got: np.ndarray, tolerance: dict) -> dict:
    """Error statistics, worst element, non-finite positions, hints and error map of two arrays of one shape."""
    got = got.astype(np.float64)
    finite = np.isfinite(got)
    with np.errstate(all="ignore"):
        error = np.where(finite, np.abs(got - expected), 0.0)
        wrong = ~finite | (error > tolerance["atol"] + tolerance["rtol"] * np.abs(expected))
    count = int(wrong.sum())
    report: dict = {"wrong_count": count, "total": int(expected.size),
                    "wrong_percent": round(100.0 * count / expected.size, 2) if expected.size else 0.0}
    if expected.size == 0:
        return report
    badness = np.where(finite, error, np.inf)
    worst = np.unravel_index(int(np.argmax(badness)), expected.shape)
    report["max_abs_error"] = _finite_or_none(error.max()) if finite.any() else None
    # Over the wrong values only: None (n/a) when each of them should be 0 (no relative error exists).
    relative = finite & wrong & (expected != 0)
    with np.errstate(all="ignore"):
        report["max_rel_error"] = (
            _finite_or_none((error[relative] / np.abs(expected[relative])).max()) if relative.any() else None
        )
    report["worst"] = {"index": [int(i) for i in worst], "expected": number(expected[worst]), "got": number(got[worst])}
    if not finite.all():
        positions = np.argwhere(~finite)[:MAX_POSITIONS]
        report["non_finite"] = {"nan": int(np.isnan(got).sum()), "inf": int(np.isinf(got).sum()),
                                "positions": [[int(i) for i in p] for p in positions]}
    report["hints"] = value_hints(expected, got, wrong, finite, tolerance)
    report["error_map"] = error_map(wrong, finite, error)
    return report


def analyse(expected: np.ndarray, got: np.ndarray, tolerance: dict) -> dict:
    """Everything the feedback can say about one failing check of a visible case."""
    if got.shape != expected.shape:
        return {"shape_hints": shape_hints(expected, got, tolerance)}
    return value_report(expected, got, tolerance)
