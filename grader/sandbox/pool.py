"""A pool of warm workers: sandboxes that import numpy once and fork a fresh child per submission.

Owns the trusted side of batch grading's sandboxes. A worker is started exactly like a single
grading's bwrap sandbox (``bwrap.worker_command``: same namespaces, mounts, environment and
rlimits; as root, the submissions run as a uid slot of their own), but its program is
``confined/warm_worker.py`` instead of the runner; see there for what isolates one submission from the
next. A worker serves either one batch - it receives, once, the part of the runner's request every
submission shares (the cases and their input arrays, ``protocol.request_parts``), and per submission
only the student's module (``run``) - or submissions on cases of their own (``shared_request``
None; ``grader serve``), each handed a single grading's whole request (``run_request``). Per
submission, the trusted side makes four fresh pipes, hands their sandbox ends to the worker
over the control socket, writes the request and reads the results itself - the worker never sees
a byte of either - and enforces the wall-clock limit. A worker that dies, hangs, or reports that
it could not clean up is discarded and replaced.

What the child used (CPU time, peak memory) comes in the worker's report, from ``wait4`` of its
parent, which the child cannot reach; the trusted side keeps it only when plausible (``Usage``).

Only the bwrap backend has warm workers: the process backend has no namespace of its own to
keep a worker in (batch grading then starts one sandbox per submission).
"""

from __future__ import annotations

import json
import os
import queue
import resource
import selectors
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field

from . import bwrap, confined, guarantees, layout, streams, uids
from .errors import SandboxError, SandboxUnavailable, WorkerLost
from .guarantees import Setup
from .limits import Limits, rlimit_pairs
from .protocol import frame
from .reaping import reap_strays
from .streams import Outcome, Usage, widen_pipe

STARTUP_SECONDS = 60.0
_CONTROL_MESSAGE = 4096


def _worker_rlimits(pairs: list[tuple[int, int, int]]) -> None:
    """The worker's own limits: a single grading's but CPU time (the worker lives for many
    submissions) and processes (bwrap as an ordinary uid must clone into its namespaces, where
    RLIMIT_NPROC would count every process of the grader's uid; see bwrap.plan). Each child
    gets every limit afresh, from the trusted side's ``pairs``."""
    for which, soft, hard in pairs:
        if which not in (resource.RLIMIT_CPU, resource.RLIMIT_NPROC):
            resource.setrlimit(which, (soft, hard))


def worker_command(limits: Limits, child_uid: int | None, control_fd: int, shared: bool = True) -> list[str]:
    """A warm worker in a single grading's bwrap sandbox (``bwrap.worker_command``), with what it
    runs each child with: the runner's, Landlock's, the seccomp filter's and removal's sources.
    ``shared``: it reads a batch's shared request on its stdin (else each child reads a whole one)."""
    settings = {"child_uid": child_uid, "rlimits": rlimit_pairs(limits), "shared": shared}
    program = confined.argv(layout.layout().python_executable, "warm_worker", layout.SANDBOX_SITE, str(control_fd),
                            json.dumps(settings), *(confined.source(name) for name in WORKER_MODULES))
    return bwrap.worker_command(limits, child_uid, program)


# The confined modules a warm worker loads (in this order, after its own three arguments).
WORKER_MODULES = ("runner", "landlock", "seccomp", "removal")


@dataclass
class Worker:
    limits: Limits
    process: subprocess.Popen
    control: socket.socket
    slot: uids.Slot | None
    enforced: list[str] = field(default_factory=list)
    single_enforced: list[str] = field(default_factory=list)  # what a whole request run here reports
    jobs: int = 0
    usable: bool = True
    _slot_lock: threading.Lock = field(default_factory=threading.Lock)
    # Held by a run; re-entrant, so that a run that fails can close its own worker (``close``).
    _lock: threading.RLock = field(default_factory=threading.RLock)

    @classmethod
    def launch(cls, limits: Limits, uid_range: dict, shared_request: bytes | None) -> Worker:
        """Start a worker's sandbox and send it the batch's shared request (None: every
        submission brings a whole request of its own); ``wait_ready`` next.

        Call from a thread that outlives the worker: bwrap dies with the thread that started it.
        """
        problem = bwrap.problem(os.geteuid() == 0)
        if problem:
            raise SandboxUnavailable(problem)
        slot = uids.take(uid_range)
        rlimits = rlimit_pairs(limits)
        opened: list = []  # what is closed here whatever happens: the child's ends, and ours on failure
        try:
            trusted_end, worker_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            opened += [trusted_end, worker_end]
            shared_read, shared_write = os.pipe()
            opened += [shared_read, shared_write]
            process = subprocess.Popen(
                worker_command(limits, slot.uid if slot else None, worker_end.fileno(), shared_request is not None),
                stdin=shared_read, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                close_fds=True, pass_fds=(worker_end.fileno(),), start_new_session=True,
                preexec_fn=lambda: _worker_rlimits(rlimits),
            )
        except BaseException as exc:
            for end in opened:
                end.close() if isinstance(end, socket.socket) else os.close(end)
            if slot:
                slot.release()
            if isinstance(exc, OSError):
                raise WorkerLost(f"the worker could not be started: {exc}") from exc
            raise
        os.close(shared_read)
        worker_end.close()
        streams.write_request(shared_write, shared_request or b"")
        return cls(limits, process, trusted_end, slot)

    def wait_ready(self) -> Worker:
        """Wait until the worker has numpy and the shared request loaded; WorkerLost if it fails."""
        try:
            hello = self._receive(STARTUP_SECONDS)
        except WorkerLost:
            self.close()
            raise
        abi = hello.get("landlock_abi", 0)
        # Every child: a single grading's seccomp filter (the worker does not start without it)
        # and, where the kernel has Landlock, a domain of its own (warm_worker.become_runner).
        self.enforced = guarantees.enforced(Setup("bwrap", warm=True, own_uid=self.slot is not None, seccomp=True,
                                                  landlock_abi=abi if isinstance(abi, int) and abi > 0 else 0))
        # A single grading's whole request (``run_request``) reports the labels a single grading
        # of it reports, among those this worker's children have (all of them: a child has
        # Landlock also as root, and the warm labels besides, which are left out): a platform
        # sees `grader grade`'s guarantees exactly, never more than were in force.
        single = guarantees.enforced(Setup(**bwrap.single_facts(self.slot is not None, True)))
        self.single_enforced = [label for label in self.enforced if label in single]
        return self

    def run(self, module_files: dict[str, str]) -> Outcome:
        """Run one submission (its module's files, added to the shared request) in a fresh
        child; WorkerLost if the worker failed."""
        with self._lock:
            if not self.usable:
                raise WorkerLost("this worker was discarded")
            self.jobs += 1
            return self._run(self.jobs, frame(json.dumps(module_files).encode("utf-8")), self.enforced,
                             self.limits.wall_seconds)

    def run_request(self, request: bytes, wall_seconds: float | None = None) -> Outcome:
        """Run a single grading's whole request (``protocol.request``) in a fresh child of a
        worker started without a shared request, within ``wall_seconds`` (at most the worker's
        limit; the shrinker asks for less); WorkerLost if the worker failed."""
        wall = self.limits.wall_seconds if wall_seconds is None else min(wall_seconds, self.limits.wall_seconds)
        with self._lock:
            if not self.usable:
                raise WorkerLost("this worker was discarded")
            self.jobs += 1
            return self._run(self.jobs, request, self.single_enforced, wall)

    def _run(self, job: int, request: bytes, enforced: list[str], wall_seconds: float) -> Outcome:
        limits = self.limits
        request_read, request_write = os.pipe()
        result_read, result_write = os.pipe()
        widen_pipe(result_write)
        widen_pipe(request_write)  # a whole case set's request then goes in at once, without a writer thread
        stdout_read, stdout_write = os.pipe()
        stderr_read, stderr_write = os.pipe()
        try:
            # In the order of the child's descriptors 0, 1, 2 and 3 (the runner's result fd).
            socket.send_fds(self.control, [json.dumps({"job": job}).encode()],
                            [request_read, stdout_write, stderr_write, result_write])
        except OSError as exc:
            for fd in (request_write, result_read, stdout_read, stderr_read):
                os.close(fd)
            self._discard()
            raise WorkerLost(f"the worker does not answer: {exc}") from None
        finally:
            for fd in (request_read, result_write, stdout_write, stderr_write):
                os.close(fd)
        started = time.monotonic()
        streams.write_request(request_write, request)
        reports: list[dict] = []
        try:
            # Until the worker reports (its child and everything it started are gone by then)
            # and every stream has ended: nothing the submission wrote is left unread.
            collected = streams.collect(limits, result_read, stdout_read, stderr_read, started + wall_seconds,
                                        lambda: self._kill(job), control=self.control,
                                        take_report=lambda: reports.append(self._take_report(job)))
        except BaseException as exc:
            # Whatever stopped the run (the worker closed under it, a failure of the trusted side),
            # the child may still be running and the worker's report is unread: the worker is not
            # used again, or the next submission would get this one's report.
            was_usable = self.usable
            self._discard()
            if isinstance(exc, (OSError, ValueError)):
                why = "the worker failed during the run" if was_usable else "the worker was closed during the run"
                raise WorkerLost(f"{why}: {exc}") from None
            raise
        finally:
            for fd in (result_read, stdout_read, stderr_read):
                os.close(fd)
        if not reports:
            self._discard()
            raise WorkerLost("the worker did not report after killing its child")
        # Not clean, or reported clean while something still held the child's pipes: not reused.
        if not reports[0].get("clean", False) or not collected.ended:
            self._discard()
        returncode = reports[0].get("returncode")
        elapsed = time.monotonic() - started
        usage = Usage.plausible(reports[0].get("cpu_seconds"), reports[0].get("max_rss_kb"), elapsed, limits)
        return collected.outcome("bwrap", list(enforced), returncode if isinstance(returncode, int) else None,
                                 elapsed, usage)

    def _take_report(self, job: int) -> dict:
        try:
            message = self.control.recv(_CONTROL_MESSAGE)
            report = json.loads(message) if message else None
        except (OSError, ValueError):
            report = None
        if not isinstance(report, dict) or report.get("job") != job:
            self._discard()
            raise WorkerLost("the worker died or answered out of turn")
        return report

    def _kill(self, job: int) -> None:
        try:
            self.control.send(json.dumps({"kill": job}).encode())
        except OSError:
            self._discard()
            raise WorkerLost("the worker died") from None

    def _receive(self, timeout: float) -> dict:
        waiting = selectors.DefaultSelector()
        waiting.register(self.control, selectors.EVENT_READ)
        try:
            if not waiting.select(timeout):
                raise WorkerLost("the worker did not start in time")
        finally:
            waiting.close()
        message = self.control.recv(_CONTROL_MESSAGE)
        if not message:
            self.process.wait()
            why = self.process.stderr.read().decode("utf-8", "replace").strip()[-500:]
            raise WorkerLost(f"the worker did not start (exit {self.process.returncode}): {why}")
        return json.loads(message)

    def _discard(self) -> None:
        self.usable = False
        self.close()

    def close(self) -> None:
        """Kill the worker's sandbox (its pid namespace takes everything in it along). From
        another thread than a run's (Ctrl-C in ``grader batch``), the run ends at once: it reads
        the end of the control socket and the streams, and closes the socket itself (closed under
        its selector here, the socket would never be readable, and the run would wait for the
        wall limit)."""
        self.usable = False
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.process.wait(timeout=5)
            reap_strays()
        except subprocess.TimeoutExpired:
            pass
        if self._lock.acquire(blocking=False):  # no run, or this thread's own
            try:
                self.control.close()
            finally:
                self._lock.release()
        else:
            try:
                self.control.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self.process.stderr:
            self.process.stderr.close()
        with self._slot_lock:
            slot, self.slot = self.slot, None
        if slot:
            slot.release()


class Pool:
    """``size`` warm workers for one batch (``shared_request``), or for submissions that each
    bring their own cases (None); ``run``/``run_request`` take a free one (from any thread) and
    replace a worker that was lost (from that thread, which must outlive the new worker)."""

    def __init__(self, size: int, limits: Limits, uid_range: dict, shared_request: bytes | None):
        self.limits = limits
        self.uid_range = uid_range
        self.shared_request = shared_request
        self._free: queue.Queue[Worker | None] = queue.Queue()
        self._all: list[Worker] = []
        self._lock = threading.Lock()
        self._closed = False
        self.replaced = 0  # workers discarded during the batch (lost, or not clean after a child)
        try:
            # All sandboxes start at once (here, in the caller's long-lived thread); then wait.
            launched = [Worker.launch(limits, uid_range, shared_request) for _ in range(size)]
            self._all.extend(launched)
            for worker in launched:
                self._free.put(worker.wait_ready())
        except BaseException:
            self.close()
            raise

    def run(self, module_files: dict[str, str]) -> Outcome:
        """Run one submission on a free worker. WorkerLost when the worker failed during the run
        (it is replaced) or when no worker can be started any more."""
        worker = self._take()
        try:
            return worker.run(module_files)
        finally:
            self._release(worker)

    def run_request(self, request: bytes, wall_seconds: float | None = None) -> Outcome:
        """Run a whole request (a pool started without a shared request) on a free worker;
        WorkerLost as ``run``."""
        worker = self._take()
        try:
            return worker.run_request(request, wall_seconds)
        finally:
            self._release(worker)

    def _take(self) -> Worker:
        worker = self._free.get()
        if worker is None or self._closed:
            self._free.put(None)  # wake the next waiting thread with the same news
            raise WorkerLost("the pool is closed" if self._closed else "no warm worker can be started any more")
        return worker

    def _release(self, worker: Worker) -> None:
        if worker.usable:
            self._free.put(worker)
        else:
            self._replace(worker)

    def _replace(self, lost: Worker) -> None:
        with self._lock:
            if lost in self._all:
                self._all.remove(lost)
            if self._closed:  # lost because the pool was closed under it (Ctrl-C): nothing to replace
                return
            self.replaced += 1
        try:
            worker = Worker.launch(self.limits, self.uid_range, self.shared_request).wait_ready()
        except SandboxError:
            with self._lock:
                if not self._all:
                    self._free.put(None)
            return
        with self._lock:
            closed = self._closed
            if not closed:
                self._all.append(worker)
        if closed:  # closed while this one started: it must not outlive the pool
            worker.close()
            return
        self._free.put(worker)

    def close(self) -> None:
        """Kill every worker, the busy ones too (their runs end at once with WorkerLost), and wake
        the threads waiting for a free one: nothing is started or replaced any more."""
        with self._lock:
            self._closed = True
            workers, self._all = self._all, []
        self._free.put(None)
        for worker in workers:
            worker.close()

