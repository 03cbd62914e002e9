"""THE SEAM between the HTTP service and grading: what the service needs of an engine.

The service (routes, queue, database, webhooks) knows an engine only through ``Engine``:

    engine.capacity            gradings it runs at once; the dispatcher never submits more
    engine.start()             blocking, once: bring the workers up, or raise EngineUnavailable
    engine.submit(job) -> Future[Graded]
                               grade one submission; never blocks the caller, never raises
                               (the grader's own failures come back as a document with
                               status "error", as `grader grade` prints them)
    engine.workers()           {"busy": n, "idle": m, ...} for the grader_workers metric
    engine.stop()              blocking: finish what was submitted, then release everything

A ``Graded.document`` is the feedback exactly as ``grader grade --format json`` builds it for
the same task, source, seed and language; the service adds nothing to it. A task's self-test
is an ordinary ``submit`` of its reference as a student's file, so it proves the very path
students take. The service never runs student code itself.

``ColdEngine`` is the engine that exists today: a bounded thread pool whose every grading is
``pipeline.run`` + ``feedback.build`` in a sandbox of its own, the code path of ``grader
grade``. A warm engine (workers that keep numpy imported and take fresh case sets prepared
ahead of demand) replaces it behind this interface without a change to the HTTP layer.
"""

from __future__ import annotations

import concurrent.futures
import sys
import threading
import time
from dataclasses import dataclass
from typing import Protocol

from ..feedback import document as feedback
from ..grading import failures, pipeline
from ..sandbox import launch as sandbox
from ..sandbox.errors import SandboxError
from ..spec import taskspec
from ..spec.config import Settings


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

    def submit(self, job: Job) -> concurrent.futures.Future[Graded]: ...

    def workers(self) -> dict[str, int]: ...

    def stop(self) -> None: ...


class ColdEngine:
    """``grader grade``'s code path in a bounded thread pool: one fresh sandbox per grading."""

    def __init__(self, settings: Settings, tasks: dict[str, taskspec.Task], capacity: int):
        self.settings = settings
        self.tasks = tasks
        self.capacity = capacity
        self.backend: str | None = None
        self.fallback_reason: str | None = None
        self._busy = 0
        self._lock = threading.Lock()
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=capacity, thread_name_prefix="grading")

    def start(self) -> None:
        try:
            self.backend, self.fallback_reason = sandbox.choose_backend(self.settings.sandbox)
        except SandboxError as exc:
            raise EngineUnavailable(failures.reason(exc, "")) from None
        for task in self.tasks.values():
            try:  # imported once, here: gradings of one task then share it from their threads
                task.reference()
            except Exception:  # the task's self-test reports it and the task is refused
                pass

    def submit(self, job: Job) -> concurrent.futures.Future[Graded]:
        return self._pool.submit(self._grade, job)

    def workers(self) -> dict[str, int]:
        with self._lock:
            return {"busy": self._busy, "idle": self.capacity - self._busy}

    def stop(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

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
        task = self.tasks[job.task]
        try:
            grading = pipeline.run(task, job.source, self.settings, seed=job.seed)
            document = feedback.build(grading, job.lang)
            return Graded(document, grading.sandbox_elapsed, time.monotonic() - started)
        except Exception as exc:  # the reasons `grader grade` gives (its exit 3): the platform always gets a document
            reason, broken = failures.reason(exc, job.task), failures.task_broken(exc)
        print(f"grader serve: grading of {job.task} (seed {job.seed}) failed: {reason}", file=sys.stderr)
        document = feedback.error_document(job.lang, reason, task=job.task, seed=job.seed, task_broken=broken)
        return Graded(document, 0.0, time.monotonic() - started)
