"""The runner: the only grader code that runs inside the sandbox, next to the student's code.

It is started as ``python -I -B -S -c RUNNER NUMPY_DIR INHERITED_FD [LANDLOCK_SOURCE]`` with the
request on stdin and the result channel on the inherited descriptor INHERITED_FD, which it moves
to ``RESULT_FD`` before anything else (with LANDLOCK_SOURCE, it then confines itself:
``confine``). It must stay self-contained (the grader package is not in the sandbox) and must
never be trusted: the student's code runs in this process and can change anything here. The
trusted side therefore takes from it only raw arrays and short texts, and decides every verdict
itself.

Frames on both streams: a 4-byte big-endian length, then the payload.
Request (stdin): a JSON header, then one .npy frame per entry of header["arrays"].
Results (descriptor ``RESULT_FD``): JSON records {"type": "ready"|"import"|"case"|"done", ...}, in
that order (cases only after an import without error); a "case" record is followed by one .npy
frame per output whose "frame" is true.
"""

import fcntl
import io
import json
import os
import re
import resource
import struct
import sys
import traceback

MAX_TEXT = 2000
# The result channel's descriptor in every sandbox (a single grading's runner, a warm worker's
# child): the student's code sees 0, 1, 2 and this one, whatever the trusted side held when it
# made the pipe (a batch's concurrent sandboxes put it above 255, and its number would tell how
# busy the grader is).
RESULT_FD = 3


class MissingEntry(Exception):
    """The module does not define the function or class the task calls."""


def settle_descriptors(fds):
    """Make ``fds`` this process's descriptors 0, 1, 2, ... in that order and close the numbers
    they had; each is first copied above those targets, so that none is overwritten before it
    moved (the lowest free numbers: the open-files limit may be as low as 16)."""
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD, len(fds)) for fd in fds]
    for target, fd in enumerate(high):
        os.dup2(fd, target)
        os.close(fd)
    for fd in set(fds) - set(range(len(fds))):
        os.close(fd)


def read_exact(stream, size):
    chunks = []
    while size:
        chunk = stream.read(size)
        if not chunk:
            raise EOFError("request ended early")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def read_frame(stream):
    (size,) = struct.unpack(">I", read_exact(stream, 4))
    return read_exact(stream, size)


class ResultChannel:
    def __init__(self, fd):
        self.stream = os.fdopen(fd, "wb", buffering=0)

    def record(self, record, payloads=()):
        """A record and the array frames that belong to it, in one write: the trusted side
        wakes up once per case, not once per frame."""
        frames = [json.dumps(record).encode("utf-8"), *payloads]
        data = memoryview(b"".join(struct.pack(">I", len(frame)) + frame for frame in frames))
        while data:  # a signal the student's code set up may cut a write to a pipe short
            data = data[self.stream.write(data):]


class CappedText(io.TextIOBase):
    """A stdout/stderr replacement that keeps the first `limit` characters."""

    def __init__(self, limit):
        self.limit = limit
        self.parts = []
        self.kept = 0
        self.dropped = 0

    def writable(self):
        return True

    def write(self, text):
        text = str(text)
        room = self.limit - self.kept
        if room > 0:
            self.parts.append(text[:room])
            self.kept += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def value(self):
        return "".join(self.parts), self.dropped


def clip(text):
    text = str(text)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "..."


def describe_error(exc, student_files):
    frames = []
    for frame in traceback.extract_tb(exc.__traceback__):
        if os.path.basename(frame.filename) in student_files:
            frames.append({"file": os.path.basename(frame.filename), "line": frame.lineno,
                           "function": clip(frame.name), "text": clip(frame.line or "")})
    try:
        message = clip(str(exc))
    except BaseException:
        message = "(the exception's message could not be shown)"
    return {"exception": clip(type(exc).__name__), "message": message, "frames": frames[-8:]}


def serialise(value, numpy):
    """Describe a student value and, where it is numeric data, encode it as .npy bytes."""
    if value is None:
        return {"kind": "none"}, None
    kind = "ndarray"
    if isinstance(value, (list, tuple)):
        kind = "list" if isinstance(value, list) else "tuple"
        try:
            value = numpy.array(value, dtype=float)
        except BaseException:
            return {"kind": kind, "convertible": False}, None
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"kind": "scalar"}, None
    elif type(value) is not numpy.ndarray:
        if not isinstance(value, numpy.ndarray):
            return {"kind": "other", "type": clip(type(value).__name__)}, None
        return {"kind": "subclass", "type": clip(type(value).__name__)}, None
    if value.dtype.hasobject:
        return {"kind": kind, "dtype": "object"}, None
    buffer = io.BytesIO()
    # The array as it is: write_array keeps a 0-d array 0-d (ascontiguousarray would make it
    # 1-d, and a 0-d answer would pass where shape (1,) is expected), writes a Fortran-ordered
    # one with its flag and a non-contiguous one element by element in C order.
    numpy.lib.format.write_array(buffer, value, allow_pickle=False)
    return {"kind": kind, "frame": True}, buffer.getvalue()


def arguments(names, values):
    return [tuple(values[n] for n in name) if isinstance(name, list) else values[name] for name in names]


def confine(landlock_source):
    """Put this process, and all it starts, in a Landlock domain of its own: everything it sees
    read-only but its own folder, no trace of, signal to or /proc/PID/mem of a process outside
    (bwrap's init, which as an ordinary uid has the student's uid and no seccomp filter)."""
    import types

    landlock = types.ModuleType("landlock")
    exec(compile(landlock_source, "<landlock>", "exec"), landlock.__dict__)
    everything = os.open("/", os.O_PATH | os.O_CLOEXEC)
    own = os.open(".", os.O_PATH | os.O_CLOEXEC)
    landlock.restrict(landlock.abi_version(), [(everything, True)], [own])
    os.close(everything)
    os.close(own)


def main():
    numpy_dir = sys.argv[1]
    settle_descriptors([0, 1, 2, int(sys.argv[2])])
    sys.argv[2] = str(RESULT_FD)  # what a warm worker's child has too: nothing of the trusted side's numbers
    if len(sys.argv) > 3:
        confine(sys.argv[3])
    # numpy is imported while the trusted side is still computing the reference.
    sys.path[:0] = [os.getcwd(), numpy_dir]
    import numpy

    request_stream = sys.stdin.buffer
    header = json.loads(read_frame(request_stream))
    # Every rlimit again, before any of the student's code: bwrap as an ordinary uid could not
    # set RLIMIT_NPROC before its namespaces existed (see the grader's sandbox/bwrap.py).
    for which, soft, hard in header["rlimits"]:
        resource.setrlimit(which, (soft, hard))
    raw_arrays = [read_frame(request_stream) for _ in header["arrays"]]
    sys.stdin.close()
    serve(header, read_arrays(header, raw_arrays, numpy), ResultChannel(RESULT_FD))


# The header numpy's write_array gives a C-ordered array (the trusted side's input frames), read
# here directly: numpy's reader evaluates a header as a Python literal, which cost a child more
# than all its input bytes (about 75 us a frame, 60 frames a request). Any other header is numpy's.
PLAIN_NPY_HEADER = re.compile(rb"\{'descr': '([<>|][a-z][0-9]{1,2})', 'fortran_order': False, "
                              rb"'shape': \(((?:[0-9]+, )*(?:[0-9]+,?)?)\), \} *\n")


def read_array(raw, numpy):
    """One .npy frame of the request as a writable array of its own."""
    if raw[:8] == b"\x93NUMPY\x01\x00":
        end = 10 + int.from_bytes(raw[8:10], "little")
        plain = PLAIN_NPY_HEADER.fullmatch(raw, 10, end)
        if plain:
            shape = tuple(int(size) for size in plain.group(2).split(b",") if size.strip())
            dtype = numpy.dtype(plain.group(1).decode("ascii"))
            count = 1
            for size in shape:
                count *= size
            return numpy.frombuffer(raw, dtype, count, end).reshape(shape).copy()
    return numpy.lib.format.read_array(io.BytesIO(raw), allow_pickle=False)


def read_arrays(header, raw_arrays, numpy):
    arrays = {}
    for (case_index, name), raw in zip(header["arrays"], raw_arrays):
        arrays[(case_index, name)] = read_array(raw, numpy)
    return arrays


def serve(header, arrays, channel):
    """Run one request whose input arrays are already read. A warm worker's children come here
    directly, with the arrays their worker read once for every submission of a batch."""
    import numpy

    # The files first: a sandbox that cannot even hold them (a full disk) never says it is ready,
    # and the trusted side reports its own failure, not the student's.
    for file_name, source in header["files"].items():
        with open(file_name, "w", encoding="utf-8") as handle:
            handle.write(source)
    channel.record({"type": "ready"})
    module_name = header["module"]
    module_file = module_name + ".py"
    student_files = set(header["files"])
    output_cap = header["output_cap"]
    real_stdout, real_stderr = sys.stdout, sys.stderr

    import types

    module = types.ModuleType(module_name)
    module.__file__ = os.path.join(os.getcwd(), module_file)
    sys.modules[module_name] = module
    captured = CappedText(output_cap)
    sys.stdout = sys.stderr = captured
    try:
        # The trusted side compiled the module already (a compile error never gets here); this
        # compile can still fail under the sandbox's limits, which is the import's failure.
        code = compile(header["files"][module_file], module_file, "exec", dont_inherit=True)
        exec(code, module.__dict__)
        import_error = None
    except BaseException as exc:
        import_error = describe_error(exc, student_files)
    finally:
        sys.stdout, sys.stderr = real_stdout, real_stderr
    text, dropped = captured.value()
    channel.record({"type": "import", "error": import_error, "stdout": text, "stdout_dropped": dropped})
    if import_error:
        return

    entry = header["entry"]
    for case in header["cases"]:
        index = case["index"]
        values = dict(case["values"])
        # The arrays themselves, not copies: each is this case's alone, and in a warm worker's
        # child whatever the student writes into them is the child's own copy of the page.
        for name in case["arrays"]:
            values[name] = arrays[(index, name)]
        outputs, frames, error = {}, [], None
        captured = CappedText(output_cap)
        sys.stdout = sys.stderr = captured
        try:
            results = {}
            if "function" in entry:
                function = getattr(module, entry["function"], None)
                if function is None:
                    raise MissingEntry(entry["function"])
                results[entry["returns"]] = function(*arguments(entry["args"], values))
            else:
                cls = getattr(module, entry["class"], None)
                if cls is None:
                    raise MissingEntry(entry["class"])
                instance = cls(*arguments(entry.get("init", []), values))
                for step in entry["steps"]:
                    method = getattr(instance, step["call"])
                    returned = method(*arguments(step.get("args", []), values))
                    if step.get("returns"):
                        results[step["returns"]] = serialise(returned, numpy)
                for attribute in entry.get("attributes", []):
                    if hasattr(instance, attribute):
                        results[attribute] = serialise(getattr(instance, attribute), numpy)
                    else:
                        results[attribute] = ({"kind": "missing"}, None)
            for name in header["outputs"]:
                if name not in results:
                    continue
                described = results[name] if isinstance(results[name], tuple) else serialise(results[name], numpy)
                meta, payload = described
                outputs[name] = meta
                if payload is not None:
                    frames.append(payload)
        except MissingEntry as exc:
            error = {"exception": "MissingEntry", "message": exc.args[0], "frames": []}
        except BaseException as exc:
            error = describe_error(exc, student_files)
        finally:
            sys.stdout, sys.stderr = real_stdout, real_stderr
        text, dropped = captured.value()
        if error:
            outputs, frames = {}, []
        channel.record({"type": "case", "case": index, "outputs": outputs, "error": error,
                        "stdout": text, "stdout_dropped": dropped}, frames)
    channel.record({"type": "done"})


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    # Deliberately no interpreter teardown: every result is written, and what the student's code
    # registered (atexit handlers, __del__ methods) must not run after it, nor cost time.
    os._exit(0)
