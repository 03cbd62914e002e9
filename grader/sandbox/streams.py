"""The pipes between the trusted side and a running submission: the request in, three streams out.

Owns the one request writer (``write_request``) and the one collection loop (``collect``), used
by every way a submission runs: a single grading's sandbox (``launch``: ``grader grade``, the
shrinker, replay, ``grader validate``, a batch without warm workers) and a warm worker's child
(``pool``). The loop reads the result stream, stdout and stderr at once, within the limits:
stdout and stderr are cut at ``output_kb`` each, the result stream at ``result_mb`` (beyond it the
submission is killed: ``result_limited``), and a result stream the parser finds corrupt gets the
submission killed at once (nothing after it can be judged). At the wall-clock deadline the
submission is killed (``timed_out``) and its streams get ``GRACE_SECONDS`` to end.
"""

from __future__ import annotations

import fcntl
import math
import os
import selectors
import threading
import time
from collections import namedtuple
from collections.abc import Callable

from .limits import Limits

PIPE_BYTES = 1 << 20
# How long a killed submission's streams, and a warm worker's report once it is asked to kill its
# child (or has reported it gone), may take to end.
GRACE_SECONDS = 5.0


def widen_pipe(fd: int) -> None:
    """Let a pipe hold a whole case's outputs (the runner goes on with the next case while the
    trusted side is busy, and both sides wake up less), or a whole request (written at once)."""
    try:
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except OSError:
        pass  # over the system's pipe-max-size: the default size works too


def write_request(fd: int, data: bytes) -> None:
    """Write ``data`` into the pipe ``fd`` and close it: what the pipe takes at once here, the rest
    from a thread (the reader may not be reading yet), so the caller never waits. A write cut short
    is resumed where it stopped; a reader gone (a submission that died) ends the writing quietly."""
    os.set_blocking(fd, False)
    try:
        sent = os.write(fd, data)
    except BlockingIOError:
        sent = 0
    except OSError:
        os.close(fd)
        return
    if sent == len(data):
        os.close(fd)
        return
    os.set_blocking(fd, True)
    threading.Thread(target=_write_rest, args=(fd, memoryview(data)[sent:]), daemon=True).start()


def _write_rest(fd: int, data: memoryview) -> None:
    try:
        while data:
            data = data[os.write(fd, data):]
    except OSError:
        pass
    finally:
        os.close(fd)


class Usage(namedtuple("Usage", "cpu_seconds peak_memory_kb")):
    """What the student's processes used, as the kernel counted it for their parent (``wait4``):
    a single grading's sandbox for the grader, a warm worker's child for its worker. Never a
    number the student's process sent; and kept only when ``plausible``."""

    __slots__ = ()

    @classmethod
    def plausible(cls, cpu_seconds, peak_memory_kb, elapsed: float, limits: Limits) -> Usage | None:
        """The usage, or None when a figure is not a number within what ``elapsed`` (the processes'
        whole life), the machine's CPUs and the memory limit allow (a keeper that was tampered with)."""
        numbers = [value for value in (cpu_seconds, peak_memory_kb)
                   if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)]
        if len(numbers) != 2 or min(numbers) < 0:
            return None
        # Slack for the clocks' granularity: the kernel counts CPU time in ticks.
        if cpu_seconds > elapsed * (os.cpu_count() or 1) + 0.05 or peak_memory_kb > limits.memory_mb * 1024:
            return None
        return cls(round(float(cpu_seconds), 6), int(peak_memory_kb))


class Outcome(namedtuple("Outcome", "backend enforced results returncode timed_out result_limited stdout stderr "
                                    "dropped elapsed usage", defaults=(None, False, False, "", "", 0, 0.0, None))):
    """What happened in the sandbox (``results``: the parsed result stream, a
    ``protocol.Results``; ``elapsed``: from the request handed over until every stream was
    collected; ``usage``: a ``Usage`` or None); verdicts are decided elsewhere."""

    __slots__ = ()

    @property
    def signal(self) -> int | None:
        """The signal that ended the student's process, if one did."""
        if self.returncode is None:
            return None
        if self.returncode < 0:
            return -self.returncode
        # bwrap reports a child killed by signal N as exit status 128 + N.
        if self.backend == "bwrap" and self.returncode > 128:
            return self.returncode - 128
        return None


class Collected:
    """What ``collect`` read. ``ended``: every stream ended (and a report awaited came) in time."""

    __slots__ = ("results", "stdout", "stderr", "dropped", "timed_out", "result_limited", "ended")

    def __init__(self, results, stdout: str, stderr: str, dropped: int, timed_out: bool, result_limited: bool,
                 ended: bool):
        self.results, self.stdout, self.stderr, self.dropped = results, stdout, stderr, dropped
        self.timed_out, self.result_limited, self.ended = timed_out, result_limited, ended

    def outcome(self, backend: str, enforced: list[str], returncode: int | None, elapsed: float,
                usage: Usage | None) -> Outcome:
        return Outcome(backend=backend, enforced=enforced, results=self.results, returncode=returncode,
                       timed_out=self.timed_out, result_limited=self.result_limited, stdout=self.stdout,
                       stderr=self.stderr, dropped=self.dropped, elapsed=elapsed, usage=usage)


def collect(limits: Limits, result_fd: int, stdout_fd: int, stderr_fd: int, deadline: float,
            kill: Callable[[], None], *, leader: int | None = None, control=None,
            take_report: Callable[[], None] | None = None) -> Collected:
    """Read a running submission's three streams until each has ended, within ``limits``.

    ``kill`` stops every process of the submission. ``leader``: the pid of a sandbox's first
    process, a child of this one: once it has exited, the rest is killed too (a process it left
    holding the pipes would keep the streams open until the wall clock runs out). ``control``: a
    socket on which the submission's keeper reports that it is over (a warm worker, once its
    child and everything it started are gone); ``take_report`` reads that report, and the loop
    also waits for it, then gives the streams ``GRACE_SECONDS`` more."""
    # Imported here: the parser brings numpy, which `grader grade` loads only once its sandbox
    # started (launch imports this module before that).
    from .protocol import ResultParser

    output_cap, result_cap = limits.output_kb * 1024, limits.result_mb * 1024 * 1024
    parser = ResultParser(output_cap=output_cap)
    captured = {"stdout": bytearray(), "stderr": bytearray()}
    dropped = result_bytes = 0
    timed_out = result_limited = killed = reported = False
    selector = selectors.DefaultSelector()
    for fd, name in ((result_fd, "result"), (stdout_fd, "stdout"), (stderr_fd, "stderr")):
        selector.register(fd, selectors.EVENT_READ, name)
    if control is not None:
        selector.register(control, selectors.EVENT_READ, "control")

    def stop() -> None:
        nonlocal killed, deadline
        if not killed:
            killed = True
            kill()
            deadline = min(deadline, time.monotonic() + GRACE_SECONDS)

    try:
        while selector.get_map():
            now = time.monotonic()
            if now >= deadline:
                if killed or reported:
                    break  # the grace is over: what is still open stays unread
                timed_out = True
                stop()
                deadline = now + GRACE_SECONDS
            if leader is not None and _has_exited(leader):
                leader = None
                kill()
            for key, _ in selector.select(timeout=max(min(deadline - now, 0.5), 0.01)):
                if key.data == "control":
                    selector.unregister(key.fileobj)
                    take_report()
                    reported = True
                    deadline = min(deadline, time.monotonic() + GRACE_SECONDS)
                    continue
                chunk = os.read(key.fd, PIPE_BYTES)
                if not chunk:
                    selector.unregister(key.fd)
                elif key.data != "result":
                    buffer = captured[key.data]
                    kept = chunk[:max(output_cap - len(buffer), 0)]
                    buffer += kept
                    dropped += len(chunk) - len(kept)
                elif result_bytes + len(chunk) > result_cap:
                    result_limited = True
                    selector.unregister(key.fd)
                    stop()
                else:
                    result_bytes += len(chunk)
                    parser.feed(chunk)
                    if parser.results.corrupt:  # nothing after a corrupt frame can be judged
                        selector.unregister(key.fd)
                        stop()
        ended = not selector.get_map()
    finally:
        selector.close()
    return Collected(parser.close(), captured["stdout"].decode("utf-8", "replace"),
                     captured["stderr"].decode("utf-8", "replace"), dropped, timed_out, result_limited, ended)


def _has_exited(pid: int) -> bool:
    """Whether the sandbox's first process has ended, without reaping it (its pid, and so its
    process group id, stays reserved until it is waited for)."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True
