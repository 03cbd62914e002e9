"""Whatever the student prints, the feedback stays small, valid UTF-8 JSON and printable.

The runner caps what it captures, but the runner shares its process with the student: the
cap that counts is the trusted side's, so it is also tested with records forged on the
result channel.
"""

import json
import sys

import pytest

harness = sys.modules["cnn_security_harness"]

CAP = harness.LIMITS["output_kb"] * 1024
CORRECT_IM2COL = '''
def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    noise()
    N, C, H, W = input_data.shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    img = np.pad(input_data, [(0, 0), (0, 0), (pad, pad), (pad, pad)])
    col = np.zeros((N, C, filter_h, filter_w, out_h, out_w))
    for y in range(filter_h):
        for x in range(filter_w):
            col[:, :, y, x] = img[:, :, y:y + stride * out_h:stride, x:x + stride * out_w:stride]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(N * out_h * out_w, -1)
'''
NOISY = '''import os
import sys

import numpy as np

print("import noise \\ud800 " + "i" * (1 << 20))


def noise():
    print("\\ud800\\udfff lone surrogates \\x00 NUL \\x1b[2J\\x1b]0;title\\x07 escapes \\u202e bidi")
    print("\\u00e9" * (1 << 20))
    sys.stderr.write("w" * (1 << 20))
    os.write(1, b"\\xff\\xfe\\xc3( invalid UTF-8 \\x00" * 10000)
    os.write(2, b"\\x1b[31m" * 10000)
''' + CORRECT_IM2COL
# Records written straight onto the result channel: the runner's cap does not apply to them.
FORGED = '''import json
import os
import struct
import sys

import numpy as np


def noise():
    runner = sys._getframe(2).f_locals
    for case in runner["header"]["cases"]:
        record = json.dumps({"type": "case", "case": case["index"], "outputs": {}, "error": None,
                             "stdout": "A" * 200000 + "\\ud800", "stdout_dropped": -7}).encode()
        data = struct.pack(">I", len(record)) + record
        while data:
            data = data[os.write(int(sys.argv[2]), data):]
    os._exit(0)
''' + CORRECT_IM2COL


def _modes():
    return [pytest.param(mode, id=mode) for mode in ("bwrap", "process")]


def _grade(mode: str, source: str) -> dict:
    problem = harness.mode_problem(mode)
    if problem:
        pytest.skip(f"mode {mode} cannot run here: {problem}")
    graded = harness.grade(mode, "im2col", source.encode("utf-8", "surrogatepass"))
    assert not graded.problems, graded.problems
    # One grading's whole answer stays small: a few KiB of output per case at most.
    assert len(graded.stdout) < (len(graded.feedback["tests"]) + 1) * (3 * CAP + 4096)
    return graded.feedback


def _printable(text: str) -> bool:
    return not any(ord(c) < 32 and c not in "\t\n" or 0x7F <= ord(c) <= 0x9F or 0xD800 <= ord(c) <= 0xDFFF for c in text)


@pytest.mark.parametrize("mode", _modes())
def test_printed_noise_is_capped_flagged_and_printable(mode):
    feedback = _grade(mode, NOISY)
    assert feedback["status"] == "passed"
    assert len(feedback["import_stdout"]) <= CAP and _printable(feedback["import_stdout"])
    shown = [test for test in feedback["tests"] if test["visibility"] == "visible"]
    assert shown and all(test["stdout_truncated"] and 0 < len(test["stdout"]) <= CAP for test in shown)
    assert all(_printable(test["stdout"]) for test in shown)
    assert all("stdout" not in test for test in feedback["tests"] if test["visibility"] == "hidden")


@pytest.mark.parametrize("mode", _modes())
def test_forged_records_cannot_exceed_the_trusted_cap(mode):
    feedback = _grade(mode, FORGED)
    assert feedback["status"] == "failed"
    shown = [test for test in feedback["tests"] if test["visibility"] == "visible"]
    assert shown and all(test["code"] == "MISSING_OUTPUT" for test in feedback["tests"]), json.dumps(feedback)[:2000]
    assert all(test["stdout"] == "A" * CAP and test["stdout_truncated"] for test in shown)
