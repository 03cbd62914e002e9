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

What the feedback says was enforced (``Outcome.enforced``) is ``guarantees``' account of the plan's
facts, made once the run is over: nothing that ``grader grade`` does before its request is sent
waits for it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time

from . import bwrap, streams, uids
from .errors import SandboxFailure, SandboxUnavailable
from .limits import Limits
from .streams import Outcome

EXIT_PATIENCE_SECONDS = 0.25  # how long a sandbox whose streams have ended may take to exit by itself
INIT_PATIENCE_SECONDS = 0.5  # how long bwrap's init may take to follow its outer process


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

    def __init__(self, process: subprocess.Popen, backend: str, facts: dict, limits: Limits,
                 request_fd: int, result_fd: int, cleanup: list, info_fd: int | None = None):
        self.process, self.backend, self.facts, self.limits = process, backend, facts, limits
        self.request_fd, self.result_fd, self.cleanup = request_fd, result_fd, cleanup
        self.info_fd = info_fd  # bwrap's: the host pid of its init in the sandbox (``_init_usage``)
        self.started = time.monotonic()
        self.sent: float | None = None  # when the request was handed over: the student's run starts
        self.deadline: float | None = None
        self.aborted = False  # killed by the grader (``abort``): its signal is no news


def start(limits: Limits, backend: str, uid_range: dict) -> Launch:
    """Start the runner in the sandbox; it waits for its request on stdin."""
    slot = uids.take(uid_range)
    cleanup: list = [slot.release] if slot else []
    request_read, request_write = os.pipe()
    result_read, result_write = os.pipe()
    streams.widen_pipe(result_write)
    plan = None
    try:
        plan = _backend(backend).plan(limits, slot.uid if slot else None, result_write)
        cleanup += plan.cleanup
        process = subprocess.Popen(
            plan.command, stdin=request_read, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=plan.env, close_fds=True, pass_fds=plan.pass_fds, start_new_session=True, preexec_fn=plan.prepare,
        )
    except BaseException as exc:
        for fd in (request_read, request_write, result_read, result_write):
            os.close(fd)
        why = plan.failed() if plan is not None else None
        for step in reversed(cleanup):
            step()
        if why is not None:
            raise SandboxUnavailable(f"the {backend} backend could not set up: {why}") from exc
        if isinstance(exc, OSError):
            raise SandboxFailure(f"the {backend} sandbox could not be started: {exc}") from exc
        raise
    os.close(request_read)
    os.close(result_write)
    plan.started()
    return Launch(process, backend, plan.facts, limits, request_write, result_read, cleanup, plan.info_fd)


def _backend(name: str):
    if name == "process":
        from . import process  # only where it runs: `grader grade` starts bwrap without loading it

        return process
    return bwrap


def send(launch: Launch, request: bytes) -> None:
    """Hand the runner its request: the student's code starts, and so does the wall clock (the
    sandbox may have been started while the trusted side was still importing numpy, which is
    no time of the student's). The caller may work on, then ``finish``."""
    launch.sent = time.monotonic()
    launch.deadline = launch.sent + launch.limits.wall_seconds
    streams.write_request(launch.request_fd, request)


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
    launch.aborted = True
    _kill(launch)
    if launch.deadline is None:
        launch.sent = time.monotonic()
        launch.deadline = launch.sent + launch.limits.wall_seconds
        os.close(launch.request_fd)
    return finish(launch)


def finish(launch: Launch, request: bytes | None = None) -> Outcome:
    """Send the request (unless ``send`` did), collect every stream within the limits, then make
    sure nothing is left."""
    if request is not None:
        send(launch, request)
    # Imported here, while the student's code runs: nothing before the request waits for them.
    from . import guarantees
    from .reaping import reap_strays

    process = launch.process
    usage = None
    try:
        collected = streams.collect(launch.limits, launch.result_fd, process.stdout.fileno(), process.stderr.fileno(),
                                    launch.deadline, lambda: _kill(launch), leader=process.pid)
        # Left alone for a moment, the sandbox's processes end in order, each waited for by its
        # parent (the runner by bwrap's init, init by bwrap), so the kernel's count of what the
        # student's process used reaches the grader; killed at once, it would be lost.
        usage = _wait(process, EXIT_PATIENCE_SECONDS)
        if launch.backend == "bwrap":
            # bwrap's outer process ends as soon as its init reports the runner's exit, without
            # waiting for init: its own count holds bwrap alone. Init's holds the student's process
            # (unless bwrap was killed: init's count may then end before the student's process).
            usage = _init_usage(launch) if process.returncode >= 0 else None
    except subprocess.TimeoutExpired:
        pass
    finally:
        _kill(launch)
        try:
            if process.returncode is None:
                usage = _wait(process, 5)
            reap_strays(process.pid)
        except subprocess.TimeoutExpired:
            pass
        for stream in (process.stdout, process.stderr):
            try:
                stream.close()
            except OSError:
                pass
        os.close(launch.result_fd)
        for step in reversed(launch.cleanup):
            step()
    _check_not_killed_from_outside(launch, collected)
    enforced = guarantees.enforced(guarantees.Setup(**launch.facts))
    elapsed = time.monotonic() - launch.sent
    if usage is not None:  # its processes ran from the sandbox's start (the interpreter starts before the request)
        usage = streams.Usage.plausible(usage.ru_utime + usage.ru_stime, usage.ru_maxrss,
                                        time.monotonic() - launch.started, launch.limits)
    return collected.outcome(launch.backend, enforced, process.returncode, elapsed, usage)


def _wait4(pid: int, seconds: float):
    """(status, rusage) of the child ``pid`` once it has ended (``wait4``: the kernel's count of
    what it and every process it waited for used); None if it is not this process's child (any
    more). TimeoutError after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            reaped, status, usage = os.wait4(pid, os.WNOHANG)
        except ChildProcessError:
            return None
        if reaped:
            return status, usage
        if time.monotonic() >= deadline:
            raise TimeoutError
        time.sleep(0.001)


def _wait(process: subprocess.Popen, timeout: float):
    """Wait for the sandbox's first process like ``Popen.wait``, and return what it and every
    process it waited for used (``wait4``'s rusage: the kernel's count, not the sandbox's)."""
    try:
        ended = _wait4(process.pid, timeout)
    except TimeoutError:
        raise subprocess.TimeoutExpired(process.args, timeout) from None
    if ended is None:  # already waited for
        process.wait(timeout=timeout)
        return None
    process.returncode = os.waitstatus_to_exitcode(ended[0])
    return ended[1]


def _init_usage(launch: Launch):
    """What bwrap's init process in the sandbox used with every process it waited for (the
    runner: the student's), by ``wait4`` once it is handed to the grader, as an orphan comes to a
    subreaper or a container's pid 1 (``reaping.become_subreaper``); None elsewhere. Its pid is
    bwrap's word on ``--info-fd`` (bwrap is trusted, and outside the student's reach)."""
    try:
        pid = int(json.loads(os.read(launch.info_fd, 4096))["child-pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        ended = _wait4(pid, INIT_PATIENCE_SECONDS)
    except TimeoutError:
        return None
    return ended and ended[1]  # (None: not handed here, the grader is neither a subreaper nor pid 1)


def interrupt(launch: Launch) -> None:
    """Kill a running sandbox from another thread (``grader batch`` on Ctrl-C): the thread in
    ``finish`` sees its streams end at once and cleans up as after any run."""
    _kill(launch)


def _check_not_killed_from_outside(launch: Launch, collected: streams.Collected) -> None:
    """bwrap itself ended by a signal that the grader did not send: SandboxFailure.

    The student's code cannot signal bwrap (it is outside the sandbox's pid namespace), and bwrap
    reports a child's death by signal N as exit status 128 + N; the grader kills it only on a
    timeout, the result limit or a corrupt stream, or when it aborts a grading that cannot go on
    (a file that does not compile, ...). So a bwrap killed by a signal otherwise was
    killed from outside (an operator, the OOM killer, a dying node): the grader's failure, to be
    retried, never a CRASHED verdict for the student. The process backend cannot tell the two
    apart (the student's process is the one killed either way) and keeps its verdict.
    """
    returncode = launch.process.returncode
    if launch.backend != "bwrap" or returncode is None or returncode >= 0 or launch.aborted:
        return
    if collected.timed_out or collected.result_limited or collected.results.corrupt:
        return
    raise SandboxFailure(f"the sandbox was killed from outside by signal {-returncode} while it graded "
                         "(not by the student's code, which cannot reach it)")


def _kill(launch: Launch) -> None:
    """Kill the sandbox's whole process group (bwrap's pid namespace takes the rest with it)."""
    try:
        os.killpg(launch.process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
