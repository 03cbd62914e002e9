"""The trusted side of the two streams between the grader and the sandbox.

Owns the framing (see ``confined/runner.py`` for the format) and the defensive parsing of
everything that comes back: only JSON records of bounded size, in the protocol's order
(ready, import, case*, done), and ``.npy`` frames of plain numbers whose header describes
exactly the bytes that follow, loaded with ``allow_pickle=False``, are accepted; every number
taken from a record is bounded; anything else - any exception at all while reading - makes
the stream "corrupt" from that point on, which is the student's PROTOCOL_ERROR, never the
grader's failure. Nothing received here is ever executed, unpickled, or turned into text with
str()/repr() of a foreign object.
"""

from __future__ import annotations

import io
import json
import re
import struct
import time
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ..spec.cases import Case
from ..spec.taskspec import Task
from .limits import Limits, rlimit_pairs

MAX_RECORD = 256 * 1024
# Two records a case (start, case) and a few others: a run has at most a few hundred cases.
# A flood of tiny records would otherwise grow the trusted side's memory without bound.
MAX_RECORDS = 20000
DEFAULT_OUTPUT_CAP = 4096  # characters of student output kept per case (limits.output_kb)
NUMERIC_KINDS = "iuf"  # signed, unsigned, floating: bool, complex, object and text are refused
# Bounds of the numbers a record or a .npy header may carry. A submission has at most 256 KiB,
# so at most 262145 lines and as many columns; an array at most numpy's 64 axes, each of at
# most 2**31 entries (the product is checked against the bytes that came); an item at most 64
# bytes; a case index, an output count at most 2**31.
MAX_LINE = 1 << 20
MAX_AXES, MAX_AXIS, MAX_ITEM_BYTES = 64, 1 << 31, 64
MAX_COUNT = 1 << 31


def frame(payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + payload


def request_parts(task: Task, order: list[Case], limits: Limits) -> tuple[dict, list[np.ndarray]]:
    """The runner's request header and input arrays, without the student's module: the part
    every submission of a batch shares (a warm worker reads it once)."""
    files = dict(task.support_files())
    arrays, names = [], []
    request_cases = []
    for case in order:
        request_cases.append({"index": case.index, "values": case.params, "arrays": list(case.inputs)})
        for name, array in case.inputs.items():
            names.append([case.index, name])
            arrays.append(array)
    header = {"module": task.module_name, "files": files, "entry": task.entry, "outputs": task.output_names,
              "cases": request_cases, "arrays": names, "output_cap": limits.output_kb * 1024,
              "rlimits": rlimit_pairs(limits)}
    return header, arrays


def request(task: Task, order: list[Case], limits: Limits, module_files: dict[str, str]) -> bytes:
    """The runner's whole request: the cases of ``order``, and the student's ``module_files``."""
    return encode_request(*request_parts(task, order, limits), module_files)


def encode_request(header: dict, arrays: list[np.ndarray], module_files: dict[str, str]) -> bytes:
    """A request as the runner reads it: ``request_parts`` with the student's files added."""
    return encode_header(header, module_files) + encode_arrays(arrays)


def encode_header(header: dict, module_files: dict[str, str]) -> bytes:
    """The request's first frame: ``header`` with the student's files added."""
    return frame(json.dumps(dict(header, files=dict(header["files"], **module_files))).encode("utf-8"))


def encode_arrays(arrays: list[np.ndarray]) -> bytes:
    """The request's array frames (the same for every submission on the same cases): each the
    bytes numpy's write_array gives a C-ordered array, its header made once per dtype and shape."""
    parts = []
    for array in arrays:
        array = np.ascontiguousarray(array)
        if array.dtype.hasobject:
            raise ValueError("an input array of objects cannot be sent")
        header = _npy_header_bytes(np.lib.format.dtype_to_descr(array.dtype), array.shape)
        parts += [struct.pack(">I", len(header) + array.nbytes), header, array]
    return b"".join(parts)  # the arrays' bytes copied once, here


# A service encodes the same few headers for every case set: formatting one (write_array's
# header) cost several times its array's bytes.
@lru_cache(maxsize=1024)
def _npy_header_bytes(descr, shape: tuple) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


@dataclass
class ReceivedOutput:
    """One output as the sandbox described it; ``array`` only when it sent numeric data."""

    kind: str
    array: np.ndarray | None = None
    dtype: str | None = None
    type_name: str | None = None
    convertible: bool = True
    rejected_dtype: str | None = None


@dataclass
class CaseResult:
    index: int
    outputs: dict[str, ReceivedOutput] = field(default_factory=dict)
    error: dict | None = None
    stdout: str = ""
    stdout_dropped: int = 0
    # Seconds from the record before (the import's, or the previous case's) to this one, on the
    # trusted side's clock as the records were read: not a number the sandbox sent.
    seconds: float = 0.0


@dataclass
class Results:
    ready: bool = False
    imported: bool = False  # an "import" record arrived (with or without an error)
    import_error: dict | None = None
    import_stdout: str = ""
    cases: dict[int, CaseResult] = field(default_factory=dict)
    done: bool = False
    corrupt: str | None = None


# C0 and C1 control characters but tab and newline: a student's text must not drive a terminal.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _text(value, limit: int = 4000) -> str:
    """A bounded, printable, valid Unicode string (lone surrogates would break the JSON's UTF-8)."""
    if not isinstance(value, str):
        return ""
    return _CONTROLS.sub("\ufffd", value[:limit].encode("utf-8", "replace").decode("utf-8"))


def _count(value, limit: int = MAX_COUNT) -> int | None:
    """``value`` if it is a plain int in [0, ``limit``], else None."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= limit:
        return value
    return None


def _student_output(text, dropped, cap: int) -> tuple[str, int]:
    """The student's captured output cut to ``cap`` characters here, whatever the runner claims."""
    text = _text(text, 1 << 20)
    dropped = _count(dropped) or 0
    if len(text) > cap:
        dropped += len(text) - cap
        text = text[:cap]
    return text, dropped


def _clean_error(error) -> dict | None:
    """Keep only the fields we know, as plain bounded strings and ints (a line or column out of
    any submission's range is dropped)."""
    if not isinstance(error, dict):
        return None
    clean = {"exception": _text(error.get("exception"), 200) or "Exception", "message": _text(error.get("message"))}
    for key in ("line", "column"):
        if _count(error.get(key), MAX_LINE):
            clean[key] = error[key]
    for key in ("file", "text"):
        if isinstance(error.get(key), str):
            clean[key] = _text(error[key], 500)
    frames = []
    for item in error.get("frames", [])[:8] if isinstance(error.get("frames"), list) else []:
        if isinstance(item, dict) and _count(item.get("line"), MAX_LINE):
            frames.append({"file": _text(item.get("file"), 200), "line": item["line"],
                           "function": _text(item.get("function"), 200), "text": _text(item.get("text"), 500)})
    clean["frames"] = frames
    return clean


def load_npy(payload: bytes) -> np.ndarray:
    """Parse one .npy frame; raise ValueError unless it is plain data whose header (a bounded
    shape, a plain dtype of a bounded size) describes exactly the bytes that follow."""
    end = _npy_header_end(payload)
    shape, fortran, dtype = _npy_header(payload[:end])
    if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
        raise ValueError("non-plain dtype")
    if not 0 < dtype.itemsize <= MAX_ITEM_BYTES:
        raise ValueError("item size out of range")
    if not isinstance(shape, tuple) or len(shape) > MAX_AXES:
        raise ValueError("too many axes")
    count = 1
    for axis in shape:
        if _count(axis, MAX_AXIS) is None:
            raise ValueError("an axis out of range")
        count *= axis  # a Python int: no overflow
    if len(payload) - end != count * dtype.itemsize:
        raise ValueError("size does not match the header")
    array = np.frombuffer(payload, dtype=dtype, count=count, offset=end)
    return array.reshape(shape, order="F" if fortran else "C").copy()


def _npy_header_end(payload: bytes) -> int:
    """Where the magic, version, length and header of a .npy frame end (bytes 8-9 or 8-11
    hold the header's length for versions 1 and 2); ValueError for another version."""
    version = payload[6:8]
    if version == b"\x01\x00":
        return 10 + int.from_bytes(payload[8:10], "little")
    if version == b"\x02\x00":
        return 12 + int.from_bytes(payload[8:12], "little")
    raise ValueError("unsupported .npy version")


# A batch receives the same few headers thousands of times; parsing one (numpy evaluates it
# as a Python literal) cost more than the rest of a frame. Same bytes, same answer.
@lru_cache(maxsize=256)
def _npy_header(header: bytes) -> tuple:
    stream = io.BytesIO(header)
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(stream, max_header_size=10000)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(stream, max_header_size=10000)
    raise ValueError("unsupported .npy version")


class ResultParser:
    """Incremental parser of the result stream, fed chunks as they arrive."""

    def __init__(self, output_cap: int = DEFAULT_OUTPUT_CAP):
        self.results = Results()
        self.output_cap = output_cap
        self._buffer = bytearray()
        self._pending: list[tuple[CaseResult, str]] = []
        self._records = 0
        self._last_record = time.monotonic()

    def close(self) -> Results:
        """The stream has ended: a case whose array frames did not all arrive was not reported."""
        for case, _ in self._pending:
            self.results.cases.pop(case.index, None)
        self._pending.clear()
        return self.results

    def feed(self, chunk: bytes) -> None:
        if self.results.corrupt:
            return
        self._buffer += chunk
        taken = 0  # the frames taken from the buffer's start, dropped from it at once when done
        with memoryview(self._buffer) as buffer:
            while len(buffer) - taken >= 4:
                size = int.from_bytes(buffer[taken:taken + 4], "big")
                if not self._pending and size > MAX_RECORD:
                    self._corrupt("a record is larger than allowed")
                    break
                if len(buffer) - taken < 4 + size:
                    break
                payload = bytes(buffer[taken + 4:taken + 4 + size])
                taken += 4 + size
                try:
                    if self._pending:
                        self._take_array(payload)
                    else:
                        self._take_record(payload)
                except Exception:  # noqa: BLE001 - whatever the bytes did to us, they are the student's
                    self._corrupt("the stream could not be read")
                if self.results.corrupt:
                    break
        if self.results.corrupt:
            self._buffer.clear()  # nothing after it is read
        else:
            del self._buffer[:taken]

    def _corrupt(self, why: str) -> None:
        self.results.corrupt = why  # (``feed`` then drops what is left of the buffer)

    def _take_array(self, payload: bytes) -> None:
        case, name = self._pending.pop(0)
        try:
            array = load_npy(payload)
        except Exception:  # noqa: BLE001 - numpy's header parser raises more than ValueError
            self._corrupt("an array frame could not be read")
            return
        output = case.outputs[name]
        if array.dtype.kind not in NUMERIC_KINDS:
            output.rejected_dtype = array.dtype.str
        else:
            output.array = array
        output.dtype = array.dtype.name if array.dtype.kind in NUMERIC_KINDS + "bc" else array.dtype.str

    def _take_record(self, payload: bytes) -> None:
        self._records += 1
        if self._records > MAX_RECORDS:
            self._corrupt("too many records")
            return
        try:
            record = json.loads(payload.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            self._corrupt("a record is not valid JSON")
            return
        if not isinstance(record, dict):
            self._corrupt("a record is not an object")
            return
        kind = record.get("type")
        results = self.results
        # The protocol's order: ready, then import, then (if the import succeeded) cases, then
        # done; nothing after done or after a failed import. (A compile error is established on
        # the trusted side: no record can make an attempt ungradable.)
        if kind == "ready" and not results.ready:
            results.ready = True
        elif kind == "import" and results.ready and not results.imported:
            results.imported = True
            results.import_error = _clean_error(record.get("error"))
            results.import_stdout, _ = _student_output(record.get("stdout"), 0, self.output_cap)
            self._last_record = time.monotonic()
        elif kind == "case" and self._cases_may_come():
            self._take_case(record)
        elif kind == "done" and self._cases_may_come():
            results.done = True
        else:
            self._corrupt(f"a record out of the protocol's order ({_text(kind, 20) or 'no type'})")

    def _cases_may_come(self) -> bool:
        results = self.results
        return results.imported and results.import_error is None and not results.done

    def _take_case(self, record: dict) -> None:
        results = self.results
        index = _count(record.get("case"))
        if index is None:
            self._corrupt("a case record without a case")
            return
        if index in results.cases:
            self._corrupt("a case was reported twice")
            return
        stdout, dropped = _student_output(record.get("stdout"), record.get("stdout_dropped"), self.output_cap)
        now = time.monotonic()
        case = CaseResult(index=index, error=_clean_error(record.get("error")), stdout=stdout, stdout_dropped=dropped,
                          seconds=now - self._last_record)
        self._last_record = now
        outputs = record.get("outputs") if isinstance(record.get("outputs"), dict) else {}
        for name, meta in outputs.items():
            if not isinstance(name, str) or not isinstance(meta, dict):
                continue
            case.outputs[name] = ReceivedOutput(
                kind=_text(meta.get("kind"), 20) or "other",
                type_name=_text(meta.get("type"), 100) or None,
                convertible=meta.get("convertible") is not False,
                rejected_dtype="object" if meta.get("dtype") == "object" else None,
            )
            if meta.get("frame") is True:
                self._pending.append((case, name))
        results.cases[index] = case
