"""Trusted comparison of one output with the reference's: layered, cheapest first.

type -> dtype -> shape -> finite -> values; the first layer that fails gives the
check its stable error code. Only arrays parsed by ``sandbox/protocol.py`` reach this module,
so nothing here touches a student object.
"""

from __future__ import annotations

import numpy as np

from ..sandbox.protocol import ReceivedOutput
from .model import Check


def compare(
    name: str, source: str, received: ReceivedOutput | None, expected: np.ndarray, tolerance: dict
) -> tuple[Check, np.ndarray | None]:
    """Return the check and the student's array (None when no array could be compared).

    ``source`` says where the output comes from: "function", "method" (a return value)
    or "attribute", so that a missing value is named the way the student wrote it.
    """
    check = Check(output=name, expected_shape=list(expected.shape))
    if received is None or received.kind in ("none", "missing"):
        check.code = "MISSING_OUTPUT"
        if received is None:
            how = "not_produced"
        elif source == "attribute":
            how = "never_set"
        else:
            how = f"{source}_returned_none"
        check.detail = {"how": how}
        return check, None
    if received.kind in ("list", "tuple"):
        if not received.convertible:
            check.code = "WRONG_TYPE"
            check.detail = {"got": received.kind}
            return check, None
        check.converted_from = received.kind
    elif received.kind != "ndarray":
        check.code = "WRONG_TYPE"
        check.detail = {"got": received.kind}
        return check, None
    if received.array is None:
        check.code = "BAD_DTYPE"
        check.got_dtype = received.dtype or received.rejected_dtype
        check.detail = {"dtype": check.got_dtype or "object"}
        return check, None
    got = received.array
    check.got_dtype = received.dtype
    check.got_shape = list(got.shape)
    if got.shape != expected.shape:
        check.code = "SHAPE_MISMATCH"
        check.detail = {"expected": list(expected.shape), "got": list(got.shape)}
        return check, got
    got64 = got.astype(np.float64, copy=False)  # (read only here: the student's array is returned as it came)
    finite = np.isfinite(got64)
    if not finite.all():
        check.code = "NOT_FINITE"
        check.detail = {
            "count": int((~finite).sum()),
            "nan": int(np.isnan(got64).sum()),
            "inf": int(np.isinf(got64).sum()),
        }
        return check, got
    error = np.abs(got64 - expected)
    check.max_abs_error = float(error.max()) if error.size else 0.0
    # With rtol 0 (grader.yaml's default) the bound is atol alone, without an array of it.
    allowed = tolerance["atol"] + tolerance["rtol"] * np.abs(expected) if tolerance["rtol"] else tolerance["atol"]
    if error.size and bool((error > allowed).any()):
        check.code = "WRONG_VALUES"
        check.detail = {"max_abs_error": check.max_abs_error, "atol": tolerance["atol"], "rtol": tolerance["rtol"]}
    return check, got
