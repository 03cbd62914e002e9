"""The trusted parser of the result stream refuses anything but plain numeric data."""

import io
import json
import pickle
import struct

import numpy as np
import pytest

from grader.sandbox.protocol import ResultParser, encode_arrays, frame, load_npy


def npy(array, allow_pickle=False) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def record(**fields) -> bytes:
    return frame(json.dumps(fields).encode())


# What comes before any case: the runner is ready and the module imported.
STARTED = record(type="ready") + record(type="import", error=None, stdout="")


def parse(*chunks: bytes) -> ResultParser:
    parser = ResultParser()
    for chunk in chunks:
        for i in range(0, len(chunk), 7):  # arbitrary chunking must not matter
            parser.feed(chunk[i : i + 7])
    return parser


def test_a_case_record_and_its_array_frames_are_read():
    expected = np.arange(12.0).reshape(3, 4)
    parser = parse(record(type="ready"), record(type="import", error=None, stdout="hi"),
                   record(type="case", case=0, outputs={"dx": {"kind": "ndarray", "frame": True}}, error=None, stdout=""),
                   frame(npy(expected)), record(type="done"))
    results = parser.results
    assert results.ready and results.imported and results.done and not results.corrupt
    np.testing.assert_array_equal(results.cases[0].outputs["dx"].array, expected)


def test_an_object_array_with_a_pickle_is_never_loaded():
    class Boom:
        def __reduce__(self):
            return (print, ("executed!",))

    payload = npy(np.array([Boom()], dtype=object), allow_pickle=True)
    parser = parse(STARTED, record(type="case", case=0, outputs={"dx": {"kind": "ndarray", "frame": True}}), frame(payload))
    assert parser.results.corrupt == "an array frame could not be read"
    assert parser.results.cases[0].outputs["dx"].array is None


def test_complex_and_bool_arrays_are_kept_out_with_their_dtype():
    parser = parse(STARTED, record(type="case", case=0, outputs={"a": {"kind": "ndarray", "frame": True},
                                                                 "b": {"kind": "ndarray", "frame": True}}),
                   frame(npy(np.ones(3, dtype=complex))), frame(npy(np.ones(3, dtype=bool))))
    outputs = parser.results.cases[0].outputs
    assert outputs["a"].array is None and outputs["a"].rejected_dtype
    assert outputs["b"].array is None and outputs["b"].rejected_dtype


def test_a_frame_whose_size_lies_is_refused():
    good = npy(np.zeros((2, 2)))
    with pytest.raises(ValueError):
        load_npy(good[:-8])
    with pytest.raises(ValueError):
        load_npy(good + b"\0" * 8)


def test_garbage_oversized_or_repeated_records_make_the_stream_corrupt():
    assert parse(frame(b"\x80not json")).results.corrupt
    assert parse(struct.pack(">I", 10**9) + b"x").results.corrupt
    assert parse(frame(pickle.dumps({"type": "done"}))).results.corrupt
    twice = record(type="case", case=1, outputs={}, error=None)
    assert parse(STARTED, twice, twice).results.corrupt == "a case was reported twice"


def test_error_fields_are_reduced_to_bounded_plain_values():
    parser = parse(STARTED, record(type="case", case=0, outputs={}, error={
        "exception": "X" * 10000, "message": ["not", "text"], "line": "7", "column": 10**4000,
        "frames": [{"line": 3, "file": 5}, {"line": 10**4000}, {"line": -1}, {"line": True}]}))
    error = parser.results.cases[0].error
    assert len(error["exception"]) == 200 and error["message"] == "" and "line" not in error and "column" not in error
    assert error["frames"] == [{"file": "", "line": 3, "function": "", "text": ""}]


def test_numbers_out_of_any_submissions_range_are_dropped_or_bounded():
    parser = parse(STARTED, record(type="case", case=0, outputs={}, error=None, stdout="", stdout_dropped=10**4000))
    assert parser.results.cases[0].stdout_dropped == 0
    assert parse(STARTED, record(type="case", case=10**4000, outputs={})).results.corrupt
    assert parse(STARTED, record(type="case", case=-1, outputs={})).results.corrupt


@pytest.mark.parametrize("shape", [(2**40, 2**40), (2**63, 2**63, 2**63), (10**30,), (-1, 2), (2,) * 65, (2**31 + 1, 0)])
def test_a_npy_header_with_impossible_numbers_makes_the_stream_corrupt(shape):
    # The product of (2**63,)*3 overflowed int64: an OverflowError the parser did not catch was
    # a grader error ("error", not counted) at the student's will.
    header = {"descr": "<f8", "fortran_order": False, "shape": shape}
    forged = np.lib.format.magic(1, 0) + _padded_header(header) + b"\0" * 16
    parser = parse(STARTED, record(type="case", case=0, outputs={"dx": {"kind": "ndarray", "frame": True}}),
                   frame(forged))
    assert parser.results.corrupt == "an array frame could not be read"


def _padded_header(header: dict) -> bytes:
    text = repr(header).encode("latin1")
    text += b" " * (63 - (10 + len(text)) % 64) + b"\n"
    return len(text).to_bytes(2, "little") + text


def test_any_surprise_while_reading_makes_the_stream_corrupt(monkeypatch):
    from grader.sandbox import protocol as channel

    def surprise(payload):
        raise OverflowError("a surprise")

    monkeypatch.setattr(channel, "load_npy", surprise)
    parser = parse(STARTED, record(type="case", case=0, outputs={"dx": {"kind": "ndarray", "frame": True}}),
                   frame(npy(np.zeros(2))))
    assert parser.results.corrupt


@pytest.mark.parametrize("records", [
    [dict(type="import", error=None)],  # before ready
    [dict(type="ready"), dict(type="case", case=0, outputs={})],  # a case before the import
    [dict(type="ready"), dict(type="import", error=None), dict(type="compile", error={"message": "mine"})],
    [dict(type="ready"), dict(type="compile", error={"message": "mine"})],  # the trusted side compiles
    [dict(type="ready"), dict(type="import", error={"exception": "E"}), dict(type="case", case=0, outputs={})],
    [dict(type="ready"), dict(type="import", error=None), dict(type="done"), dict(type="case", case=0, outputs={})],
    [dict(type="ready"), dict(type="ready")],
    [dict(type="ready"), dict(type="import", error=None), dict(type="import", error=None)],
])
def test_records_out_of_the_protocols_order_make_the_stream_corrupt(records):
    # A "compile" record after the import made any attempt ungradable at the student's will.
    parser = parse(*(record(**fields) for fields in records))
    assert parser.results.corrupt and parser.results.corrupt.startswith("a record out of the protocol's order")


class _ShortWrites:
    """A pipe whose every write is cut short, as a signal handler in the student's code can cut one."""

    def __init__(self):
        self.data = bytearray()

    def write(self, data) -> int:
        taken = bytes(data[:5])
        self.data += taken
        return len(taken)


def test_the_runners_writes_reach_the_parser_whole_even_when_cut_short():
    from grader.sandbox.confined import runner

    channel = runner.ResultChannel.__new__(runner.ResultChannel)
    channel.stream = _ShortWrites()
    expected = np.arange(6.0).reshape(2, 3)
    channel.record({"type": "ready"})
    channel.record({"type": "import", "error": None, "stdout": ""})
    channel.record({"type": "case", "case": 0, "outputs": {"dx": {"kind": "ndarray", "frame": True}}, "error": None,
                    "stdout": ""}, [npy(expected)])
    channel.record({"type": "done"})
    results = parse(bytes(channel.stream.data)).results
    assert results.ready and results.done and not results.corrupt
    np.testing.assert_array_equal(results.cases[0].outputs["dx"].array, expected)


def test_input_frames_are_numpys_own_npy_bytes():
    # The request's frames are built from a cached header; they must be what write_array writes.
    arrays = [np.arange(24.0).reshape(2, 3, 4), np.array(1.5), np.zeros((0, 2)), np.asfortranarray(np.eye(3)),
              np.arange(6.0).reshape(2, 3)[:, ::2]]
    expected = []
    for array in arrays:
        buffer = io.BytesIO()
        np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
        expected.append(frame(buffer.getvalue()))
    assert encode_arrays(arrays) == b"".join(expected)
    with pytest.raises(ValueError):
        encode_arrays([np.array([None, 1], dtype=object)])
