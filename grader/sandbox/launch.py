"""Launching one sandbox: which backend, starting it, handing it its request, collecting it.

Owns a single grading's sandbox lifecycle, the same for both backends (what each one builds is
``bwrap.plan`` / ``process.plan``; what they show and limit: ``layout``, ``limits``):

    choose_backend   ``sandbox: auto|bwrap|process`` (auto = bwrap when its probe says it works);
                     it never falls back silently to no isolation
    start            the runner started in the sandbox, waiting for its request; as root, the
                     student's code runs as a uid of its own (``uids``)
    send             the request handed over: the student's code and the wall clock start
    finish           every stream collected within the limits (``streams``); the whole process
                     group killed; nothing left (files, uid, orphans: ``reaping``)
    abort            the same for a grading that cannot go on

What the feedback says was enforced comes from the plan (``Launch.enforced``).
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import threading
import time

from . import bwrap, process, streams, uids
from .errors import SandboxUnavailable
from .limits import Limits
from .reaping import reap_strays
from .streams import PIPE_BYTES, Outcome

BACKENDS = {"bwrap": bwrap, "process": process}


def expected_backend(requested: str) -> str | None:
    """The backend ``choose_backend`` will most likely choose, without waiting for bwrap's probe:
    bwrap wherever it is installed and the probe has not said no yet; None where there is nothing
    to guess (``choose_backend`` answers at once). ``grader grade`` starts its sandbox on this
    guess and replaces it when the guess was wrong."""
    as_root = os.geteuid() == 0
    if requested == "process":
        return "process"
    if bwrap.missing(as_root) or bwrap.known_problem(as_root):
        return None
    return "bwrap"


def choose_backend(requested: str) -> tuple[str, str | None]:
    """(backend, why bwrap was not used). Raises SandboxUnavailable if bwrap was demanded."""
    as_root = os.geteuid() == 0
    if requested == "process":
        if bwrap.probe_started(as_root):
            bwrap.problem(as_root)  # the probe `grade` started on a guess: waited for, not left a zombie
        return "process", None
    problem = bwrap.problem(as_root)
    if problem is None:
        return "bwrap", None
    if requested == "bwrap":
        raise SandboxUnavailable(problem)
    return "process", problem


class Launch:
    """A started sandbox whose runner waits for its request; ``send`` sets the deadline."""

    def __init__(self, process: subprocess.Popen, backend: str, enforced: list[str], limits: Limits,
                 result_read: int, cleanup: list):
        self.process, self.backend, self.enforced, self.limits = process, backend, enforced, limits
        self.result_read, self.cleanup = result_read, cleanup
        self.started = time.monotonic()
        self.deadline: float | None = None


def start(limits: Limits, backend: str, uid_range: dict) -> Launch:
    """Start the runner in the sandbox; it waits for its request on stdin."""
    slot = uids.take(uid_range)
    cleanup: list = [slot.release] if slot else []
    result_read, result_write = os.pipe()
    streams.widen_pipe(result_write)
    plan = None
    try:
        plan = BACKENDS[backend].plan(limits, slot.uid if slot else None, result_write)
        cleanup += plan.cleanup
        process = subprocess.Popen(
            plan.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=plan.env, close_fds=True, pass_fds=plan.pass_fds, start_new_session=True, preexec_fn=plan.prepare,
        )
    except BaseException as exc:
        os.close(result_read)
        os.close(result_write)
        why = plan.failed() if plan is not None else None
        for step in reversed(cleanup):
            step()
        if why is not None:
            raise SandboxUnavailable(f"the {backend} backend could not set up: {why}") from exc
        raise
    os.close(result_write)
    plan.started()
    return Launch(process, backend, plan.enforced, limits, result_read, cleanup)


def send(launch: Launch, request: bytes) -> None:
    """Hand the runner its request: the student's code starts, and so does the wall clock (the
    sandbox may have been started while the trusted side was still importing numpy, which is
    no time of the student's). The caller may work on, then ``finish``."""
    launch.deadline = time.monotonic() + launch.limits.wall_seconds
    threading.Thread(target=_write_request, args=(launch.process.stdin, request), daemon=True).start()


@contextlib.contextmanager
def aborted_on_failure(launch: Launch | None):
    """Abort ``launch`` (if any) when the block raises; the exception goes on."""
    try:
        yield
    except BaseException:
        if launch is not None:
            abort(launch)
        raise


def abort(launch: Launch) -> Outcome:
    """Stop a sandbox whose grading cannot go on (before or after its request), leaving nothing."""
    _kill(launch)
    if launch.deadline is None:
        launch.deadline = time.monotonic() + launch.limits.wall_seconds
        launch.process.stdin.close()
    return finish(launch)


def finish(launch: Launch, request: bytes | None = None) -> Outcome:
    """Send the request (unless ``send`` did), collect every stream within the limits, then make
    sure nothing is left."""
    from .protocol import ResultParser

    if request is not None:
        send(launch, request)
    limits = launch.limits
    process = launch.process
    output_cap = limits.output_kb * 1024
    parser = ResultParser(output_cap=output_cap)
    result_cap = limits.result_mb * 1024 * 1024
    captured = {"stdout": bytearray(), "stderr": bytearray()}
    dropped = 0
    result_bytes = 0
    timed_out = result_limited = leader_gone = False

    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ, "stdout")
    selector.register(process.stderr, selectors.EVENT_READ, "stderr")
    selector.register(launch.result_read, selectors.EVENT_READ, "result")
    deadline = launch.deadline
    try:
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            if not leader_gone and _has_exited(process.pid):
                # What the runner wrote is in the pipes; a process it left behind holding them
                # open would keep the streams from ending until the wall clock runs out.
                leader_gone = True
                _kill(launch)
            for key, _ in selector.select(timeout=min(remaining, 0.5)):
                fd = key.fd if key.data == "result" else key.fileobj.fileno()
                chunk = os.read(fd, PIPE_BYTES)
                if not chunk:
                    selector.unregister(key.fileobj)
                    continue
                if key.data == "result":
                    result_bytes += len(chunk)
                    if result_bytes > result_cap:
                        result_limited = True
                        selector.unregister(key.fileobj)
                        _kill(launch)
                        continue
                    parser.feed(chunk)
                    if parser.results.corrupt:
                        # Nothing after a corrupt frame can be judged: stop the sandbox now.
                        selector.unregister(key.fileobj)
                        _kill(launch)
                else:
                    buffer = captured[key.data]
                    room = output_cap - len(buffer)
                    buffer += chunk[:max(room, 0)]
                    dropped += max(0, len(chunk) - max(room, 0))
    finally:
        selector.close()
        _kill(launch)
        try:
            process.wait(timeout=5)
            reap_strays(process.pid)
        except subprocess.TimeoutExpired:
            pass
        for stream in (process.stdout, process.stderr, process.stdin):
            try:
                stream.close()
            except OSError:
                pass
        os.close(launch.result_read)
        for step in reversed(launch.cleanup):
            step()
    returncode = process.returncode
    return Outcome(
        backend=launch.backend, enforced=launch.enforced, results=parser.close(), returncode=returncode,
        timed_out=timed_out, result_limited=result_limited,
        stdout=captured["stdout"].decode("utf-8", "replace"), stderr=captured["stderr"].decode("utf-8", "replace"),
        dropped=dropped, elapsed=time.monotonic() - launch.started,
    )


def _write_request(stream, request: bytes) -> None:
    try:
        stream.write(request)
        stream.close()
    except (BrokenPipeError, OSError, ValueError):
        pass



def _has_exited(pid: int) -> bool:
    """Whether the sandbox's first process has ended, without reaping it (its pid, and so its
    process group id, stays reserved until ``process.wait``)."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _kill(launch: Launch) -> None:
    """Kill the sandbox's whole process group (bwrap's pid namespace takes the rest with it)."""
    try:
        os.killpg(launch.process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
