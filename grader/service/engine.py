"""THE SEAM between the HTTP service and grading: what the service needs of an engine.

The service (routes, queue, database, webhooks) knows an engine only through ``Engine``:

    engine.capacity            gradings it runs at once; the dispatcher never submits more
    engine.start()             blocking, once: bring the workers up, or raise EngineUnavailable
    engine.draw_seed(task)     the seed of a new grading (one whose cases are ready, when one is)
    engine.submit(job) -> Future[Graded]
                               grade one submission; never blocks the caller, never raises
                               (the grader's own failures come back as a document with
                               status "error", as `grader grade` prints them)
    engine.workers()           {"busy": n, "idle": m, ...} for the grader_workers metric
    engine.stop()              blocking: finish what was submitted, then release everything

A ``Graded.document`` is the feedback exactly as ``grader grade --format json`` builds it for
the same task, source, seed and language (the same verdict, score, codes, diagnoses, shrunk case
and ``sandbox.enforced`` labels; only what is measured differs); the service adds nothing to it.
A task's self-test is an ordinary ``submit`` of its reference as a student's file, so it proves
the very path students take. The service never runs student code itself.

``WarmEngine`` is the one engine. Where the bwrap backend runs, its gradings run in warm workers
(``sandbox/pool.py``, started without a shared request: each child reads a single grading's
whole request), one pool per distinct set of limits, ``capacity`` workers each; a worker whose
child misbehaved is replaced by the pool (a grading whose worker was lost under it is the
grader's error, which the dispatcher grades once more). Elsewhere (the process backend) each
grading gets a fresh sandbox of its own, as in ``grader grade``. The cases come from the stock
(``stock.py``): prepared ahead of demand on a thread of their own, so a grading is: hand the
module to a warm child, compare, write the feedback. A failing submission's misconceptions and
shrunk case are computed as ``grader grade`` computes them, the shrinker's candidates run in
warm children too.
"""

from __future__ import annotations

import concurrent.futures
import sys
import threading
import time
from dataclasses import dataclass
from typing import Protocol

from ..feedback import document as feedback
from ..grading import failures, judge, pipeline
from ..grading.model import Grading
from ..grading.submission import prepare
from ..sandbox import launch as sandbox
from ..sandbox.errors import SandboxError
from ..sandbox.limits import Limits
from ..sandbox.pool import Pool
from ..sandbox.streams import Outcome
from ..spec import taskspec
from ..spec.config import Settings
from .stock import Stock


@dataclass(frozen=True)
class Job:
    task: str  # the id of one of the tasks the engine was made with
    source: bytes  # the student's file as submitted
    seed: int
    lang: str


@dataclass(frozen=True)
class Graded:
    document: dict  # the feedback (feedback.schema.json); status "error" when the grader failed
    sandbox_seconds: float  # the sandbox's own time
    seconds: float  # the whole grading in the engine, the sandbox included


class EngineUnavailable(Exception):
    """The engine cannot grade on this machine (no sandbox can run); the message says why."""


class Engine(Protocol):
    capacity: int

    def start(self) -> None: ...

    def draw_seed(self, task: str) -> int: ...

    def submit(self, job: Job) -> concurrent.futures.Future[Graded]: ...

    def workers(self) -> dict[str, int]: ...

    def stop(self) -> None: ...


class WarmEngine:
    """Gradings in warm workers (bwrap) or one fresh sandbox each (process backend), on case sets
    prepared ahead of demand; at most ``capacity`` at once."""

    def __init__(self, settings: Settings, tasks: dict[str, taskspec.Task], capacity: int):
        self.settings = settings
        self.tasks = tasks
        self.capacity = capacity
        self.backend: str | None = None
        self.fallback_reason: str | None = None
        self.warm_problem: str | None = None  # why the gradings run in fresh sandboxes (None: warm)
        self.limits = {task_id: Limits.from_dict(task.limits(settings.values["limits"]))
                       for task_id, task in tasks.items()}
        self._pools: dict[Limits, Pool] = {}
        self._busy = 0
        self._lock = threading.Lock()
        # A warm worker's bwrap dies with the thread that started it: workers are started (and
        # replaced) on these threads, which live until ``stop``.
        self._grading = concurrent.futures.ThreadPoolExecutor(max_workers=capacity, thread_name_prefix="grading")
        self._preparing = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="cases")
        self.stock = Stock(tasks, settings, self.limits, self._preparing)

    def start(self) -> None:
        try:
            self.backend, self.fallback_reason = sandbox.choose_backend(self.settings.sandbox)
        except SandboxError as exc:
            raise EngineUnavailable(failures.reason(exc, "")) from None
        working = []
        for task_id, task in self.tasks.items():
            try:  # imported once, here: gradings of one task then share it from their threads
                task.reference()
                working.append(task_id)
            except Exception:  # the task's self-test reports it and the task is refused
                pass
        self.stock.fill(working)
        if self.backend != "bwrap":
            self.warm_problem = f"warm workers need bwrap, and the {self.backend} backend runs here"
        else:
            self._grading.submit(self._start_pools).result()
        if self.warm_problem:
            print(f"grader serve: every grading starts a sandbox of its own: {self.warm_problem}", file=sys.stderr)

    def _start_pools(self) -> None:
        uid_range = self.settings.values["sandbox_uids"]
        pooled: dict[Limits, Limits] = {}  # per pool, the longest wall clock of its tasks (each run sets its own)
        for limits in self.limits.values():
            key = _pool_key(limits)
            if key not in pooled or limits.wall_seconds > pooled[key].wall_seconds:
                pooled[key] = limits
        try:
            for key, limits in pooled.items():
                self._pools[key] = Pool(self.capacity, limits, uid_range, None)
        except SandboxError as exc:
            self.warm_problem = f"the warm workers could not start: {exc}"
            self._close_pools()

    def draw_seed(self, task: str) -> int:
        return self.stock.draw_seed(task)

    def submit(self, job: Job) -> concurrent.futures.Future[Graded]:
        return self._grading.submit(self._grade, job)

    def workers(self) -> dict[str, int]:
        with self._lock:
            return {"busy": self._busy, "idle": self.capacity - self._busy}

    def stop(self) -> None:
        self._preparing.shutdown(wait=False, cancel_futures=True)
        self._grading.shutdown(wait=True, cancel_futures=True)
        self._close_pools()

    def _close_pools(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()

    def _grade(self, job: Job) -> Graded:
        with self._lock:
            self._busy += 1
        started = time.monotonic()
        try:
            return self._graded(job, started)
        finally:
            with self._lock:
                self._busy -= 1

    def _graded(self, job: Job, started: float) -> Graded:
        try:
            grading = self._grading_of(job, started)
            document = feedback.build(grading, job.lang)
            return Graded(document, grading.sandbox_elapsed, time.monotonic() - started)
        except Exception as exc:  # the reasons `grader grade` gives (its exit 3): the platform always gets a document
            reason, broken = failures.reason(exc, job.task), failures.task_broken(exc)
        print(f"grader serve: grading of {job.task} (seed {job.seed}) failed: {reason}", file=sys.stderr)
        document = feedback.error_document(job.lang, reason, task=job.task, seed=job.seed, task_broken=broken)
        return Graded(document, 0.0, time.monotonic() - started)

    def _grading_of(self, job: Job, started: float) -> Grading:
        """``pipeline.run``'s steps, on a prepared case set and in a warm child."""
        task = self.tasks[job.task]
        limits = self.limits[job.task]
        case_set = self.stock.take(job.task, job.seed)
        submission = prepare(job.source, task.template_source(), task.entry_name, task.module_file)
        grading = Grading(task=task, seed=job.seed, submission=submission, cases=case_set.cases,
                          expected=case_set.expected, backend=self.backend, fallback_reason=self.fallback_reason,
                          limits=limits, tolerance=dict(self.settings.values["tolerance"]))
        if submission.problem is not None:
            judge.mark_not_gradable(grading)
        else:
            outcome = self._run(limits, case_set.request({task.module_file: submission.source}))
            judge.conclude(grading, outcome, case_set.order)
            grading.shrunk = pipeline.shrink_failing(grading, self.settings, self._run)
        grading.elapsed = time.monotonic() - started
        return grading

    def _run(self, limits: Limits, request: bytes) -> Outcome:
        """One whole request in a warm child, or in a fresh sandbox where there are no warm workers."""
        pool = self._pools.get(_pool_key(limits))
        if pool is None:
            launch = sandbox.start(limits, self.backend, self.settings.values["sandbox_uids"])
            return sandbox.finish(launch, request)
        return pool.run_request(request, limits.wall_seconds)


def _pool_key(limits: Limits) -> Limits:
    """Which pool runs under ``limits``: the one of the same limits but the wall clock, which each
    run sets for itself (the shrinker's candidates get less than a grading)."""
    return limits._replace(wall_seconds=0)
