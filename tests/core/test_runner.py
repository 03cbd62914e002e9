"""The runner (inside the sandbox): what it says on the result channel, and when."""

import io

import numpy as np
import pytest

from grader.sandbox.confined import runner


class Recorder:
    def __init__(self):
        self.records = []

    def record(self, record, payloads=()):
        self.records.append(record)


def test_a_sandbox_that_cannot_hold_the_files_never_says_it_is_ready(monkeypatch):
    # A full disk is the sandbox's failure, not the student's: without "ready" the trusted side
    # reports a grader error (retried) instead of judging the student's code as crashed.
    monkeypatch.chdir("/proc")  # nothing can be written here, not even by root
    channel = Recorder()
    header = {"files": {"im2col.py": "x = 1\n"}, "module": "im2col", "output_cap": 100, "entry": {}, "cases": [],
              "outputs": []}
    with pytest.raises(OSError):
        runner.serve(header, {}, channel)
    assert channel.records == []


@pytest.mark.parametrize("array", [
    np.arange(2 * 3 * 5 * 4, dtype=np.float64).reshape(2, 3, 5, 4) - 7.5,  # the trusted side's input frames
    np.array(-2.5), np.zeros((0, 3)), np.arange(12, dtype=np.int64).reshape(3, 4), np.arange(4, dtype=">f4"),
    np.asfortranarray(np.arange(6.0).reshape(2, 3)), np.array([True, False]),
], ids=["4d", "0d", "empty", "int64", "big_endian", "fortran", "bool"])
def test_an_input_frame_reads_as_numpys_own_reader_reads_it(array):
    # The runner parses the header numpy writes itself (numpy's reader evaluates it as a Python
    # literal, slow for a child); it must give exactly numpy's array: values, dtype, shape, order.
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    expected = np.lib.format.read_array(io.BytesIO(buffer.getvalue()), allow_pickle=False)
    read = runner.read_array(buffer.getvalue(), np)
    assert (read.dtype, read.shape, read.flags.f_contiguous) == (expected.dtype, expected.shape,
                                                                 expected.flags.f_contiguous)
    np.testing.assert_array_equal(read, expected)
    read[...] = 0  # the student's code may write into its inputs
    assert read.flags.writeable
