"""Exactly the expected shape, for every shape: what the runner sends is what the student returned.

Each array goes through the runner's own serialisation (the code that runs in the sandbox)
and the trusted side's parser of the result stream, and must come back with the same shape,
dtype and values, whatever its number of dimensions and its memory layout. Then the same
through a real grading: a 0-d answer where shape (1,) is expected is a SHAPE_MISMATCH, while
Fortran-ordered and non-contiguous answers with the right values pass.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from core_support import ROOT
from grader.sandbox.confined import runner
from grader.sandbox.protocol import ResultParser, frame

EXAMPLES = ROOT / "examples"

_BLOCK = np.arange(24.0).reshape(2, 3, 4)
ARRAYS = {
    "0-d": np.array(3.5),
    "0-d int": np.array(7, dtype=np.int32),
    "1-d of one": np.array([2.0]),
    "1-d": np.arange(5.0),
    "2-d of one": np.ones((1, 1)),
    "1 x n": np.arange(4.0).reshape(1, 4),
    "3-d": _BLOCK,
    "4-d with a 1": np.arange(6.0).reshape(1, 2, 1, 3),
    "Fortran 2-d": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
    "Fortran 3-d": np.asfortranarray(_BLOCK),
    "transposed": _BLOCK.transpose(2, 0, 1),
    "strided slice": _BLOCK[:, ::2, 1:],
    "reversed": _BLOCK[::-1, :, ::-1],
    "broadcast view": np.broadcast_to(np.arange(3.0), (2, 3)),
    "big-endian": np.arange(4.0).astype(">f8").reshape(2, 2),
    "empty": np.zeros((0, 3)),
}


def _through_the_channel(value: np.ndarray) -> np.ndarray:
    meta, payload = runner.serialise(value, np)
    assert meta == {"kind": "ndarray", "frame": True}
    parser = ResultParser()
    # The protocol's order: ready, import, then the case with its array frame.
    opening = [{"type": "ready"}, {"type": "import", "error": None, "stdout": ""}]
    record = {"type": "case", "case": 0, "outputs": {"out": meta}, "error": None, "stdout": ""}
    parser.feed(b"".join(frame(json.dumps(r).encode()) for r in opening) + frame(json.dumps(record).encode()) + frame(payload))
    results = parser.close()
    assert not results.corrupt
    return results.cases[0].outputs["out"].array


@pytest.mark.parametrize("name", ARRAYS)
def test_the_trusted_side_receives_the_array_the_student_returned(name):
    sent = ARRAYS[name]
    received = _through_the_channel(sent)
    assert received.shape == sent.shape
    assert received.dtype == sent.dtype
    np.testing.assert_array_equal(received, sent)


CORRECT_DB = "self.db = np.sum(dout, axis=0)"


def _conv_block(db_line: str = CORRECT_DB, dx_line: str = "return dx") -> str:
    block = (EXAMPLES / "conv_backward" / "correct_block.py").read_text(encoding="utf-8")
    assert CORRECT_DB in block and "return dx" in block
    return block.replace(CORRECT_DB, db_line).replace("return dx", dx_line)


def test_a_0d_answer_where_shape_1_is_expected_is_a_shape_mismatch(grade):
    """db of shape (FN,) with FN = 1 (the fixed case basic): .squeeze() makes it 0-d."""
    code, document = grade("conv_backward", _conv_block("self.db = np.sum(dout, axis=0).squeeze()"))
    assert code == 0 and document["status"] == "failed"
    basic = next(t for t in document["tests"] if t["name"] == "basic")
    assert basic["status"] == "failed" and basic["code"] == "SHAPE_MISMATCH"
    db = next(c for c in basic["checks"] if c["output"] == "db")
    assert db["expected_shape"] == [1] and db["got_shape"] == []


@pytest.mark.parametrize("dx_line", [
    "return np.asfortranarray(dx)",
    "return np.asfortranarray(dx.transpose(3, 2, 1, 0)).transpose(3, 2, 1, 0)",
    "return np.pad(dx, [(0, 0), (0, 0), (0, 0), (0, 1)])[..., :-1]",
], ids=["fortran", "transposed twice", "non-contiguous view"])
def test_any_memory_layout_with_the_right_values_passes(grade, dx_line):
    code, document = grade("conv_backward", _conv_block(dx_line=dx_line))
    assert code == 0 and document["status"] == "passed", [t.get("code") for t in document["tests"]]
