"""Fuzzing the whole grading: arbitrary bytes and arbitrary Python-looking text as submissions.

Whatever arrives, the answer is one schema-valid JSON document in strict UTF-8, exit 0, and
never status "error" (that status means the grader failed, which no submission may cause).

The CLI runs in this process (``grader.cli.main``, the console script's own function, with
stdout a strict UTF-8 stream as in the real process) so that each example costs one
sandbox, not one more interpreter start; the sandbox itself is as real as ever. The
example counts are small for CI and deterministic; set CNN_GRADER_FUZZ_EXAMPLES to run more
(with a fresh random seed each run).
"""

import contextlib
import io
import json
import os
import sys
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader import cli

harness = sys.modules["cnn_security_harness"]

EXAMPLES = int(os.environ.get("CNN_GRADER_FUZZ_EXAMPLES", "0"))
SETTINGS = settings(max_examples=EXAMPLES or 25, deadline=None, derandomize=not EXAMPLES, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
# Statements a student's file is made of, right and wrong, hostile and merely odd, so that
# random programs reach the splicing, compiling, importing, calling and comparing steps and
# not only the decoder.
TOP = ["import numpy as np", "import os", "import sys", "from utils import im2col", "import grader",
       "print('\\udcff' * 100)", "print('\\x00\\x1b[2J' * 3000)", "os.write(1, b'\\xff\\xfe' * 5000)",
       "sys.stdout.write('\\ud800')", "x = 1 / 0", "raise SystemExit", "raise KeyboardInterrupt", "if True:",
       "import ctypes; ctypes.string_at(0)", "np.zeros = None", "sys.modules['numpy'] = None", "del np"]
HEADERS = ["def im2col(input_data, filter_h, filter_w, stride=1, pad=0):", "def im2col(*args):", "def im2col():",
           "class im2col:", "def helper(input_data, filter_h, filter_w, stride=1, pad=0):"]
BODY = ["N, C, H, W = input_data.shape", "out_h = (H + 2 * pad - filter_h) // stride + 1",
        "out_w = (W + 2 * pad - filter_w) // stride + 1",
        "return np.zeros((N * out_h * out_w, C * filter_h * filter_w))", "return np.zeros((1, 1))",
        "return input_data", "return None", "return [[1.0, 2.0]]", "return [['a']]", "return np.full((4, 4), np.nan)",
        "return np.zeros((2,), dtype=object)", "return np.zeros((2, 2), dtype=complex)", "return 1j", "yield 1",
        "raise ValueError('\\ud800' + '\\x00' * 5000)", "print('\\udcff\\x07' * 3000)", "os._exit(7)", "sys.exit(0)",
        "1 / 0", "return np.empty((0,))", "return np.ones((3, 3)).view(np.matrix)", "pass", "\tpass", "return"]
NOISE = ["########## Begin ##########", "########## End ##########", "# -*- coding: latin-1 -*-",
         "# -*- coding: no-such-codec -*-", "'" * 3, "lambda: (", "else:", "\\", "@", ""]


@st.composite
def python_like(draw):
    """A program of the shapes students write (whole file or block) with a little noise."""
    lines = draw(st.lists(st.sampled_from(TOP), max_size=3))
    body = draw(st.lists(st.sampled_from(BODY), min_size=1, max_size=5))
    if draw(st.booleans()):
        lines += [draw(st.sampled_from(HEADERS))] + ["    " + line for line in body]
    else:
        lines += body  # no definition, no markers: a block for the template's blank
    for _ in range(draw(st.integers(0, 2))):
        noise = draw(st.one_of(st.sampled_from(NOISE), st.text(max_size=20)))
        lines.insert(draw(st.integers(0, len(lines))), noise)
    return "\n".join(lines)


def _grade_in_process(data: bytes, config: Path) -> tuple[int, bytes]:
    with tempfile.NamedTemporaryFile(suffix=".py", delete=False) as handle:
        handle.write(data)
    out = io.BytesIO()
    stdout = io.TextIOWrapper(out, encoding="utf-8", errors="strict", write_through=True)
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(io.StringIO()):
            code = cli.main(["--config", str(config), "--root", str(harness.CHECKOUT), "grade", "--task", "im2col",
                             "--lang", "en", handle.name])
        return code, out.getvalue()
    finally:
        os.unlink(handle.name)


def _check(data: bytes) -> None:
    mode = "bwrap" if harness.mode_problem("bwrap") is None else "process"
    code, stdout = _grade_in_process(data, harness.config_file(mode))
    graded = harness.Graded(code, stdout, b"", None)
    problems = harness.contract_problems(graded)
    assert not problems, (problems, data[:300])
    assert graded.feedback["status"] in ("passed", "failed")
    json.loads(stdout.decode("utf-8"))


@SETTINGS
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_get_a_verdict(data):
    _check(data)


@SETTINGS
@given(python_like(), st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_arbitrary_python_looking_text_gets_a_verdict(text, newline, bom):
    data = text.replace("\n", newline).encode("utf-8", "surrogatepass")
    _check((b"\xef\xbb\xbf" if bom else b"") + data)
