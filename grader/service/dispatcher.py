"""The queue in front of the engine: bounded, interactive before regrade, visible.

Owns which accepted grading runs next and what a client may learn about it:

* two FIFO queues, ``interactive`` then ``regrade``: a regrade starts only when no
  interactive grading waits; the engine never gets more than its ``capacity`` at once, so the
  order is decided here, not in the engine's own pool;
* ``queue_position`` (1: the next to start) and the queue's depth per priority (a metric);
* a bound (``service.queue_limit``): ``room()`` says whether a new grading may be accepted,
  and ``retry_after()`` estimates when there will be room, from the recent gradings' time;
* waiting: a request that waits for its grading (``wait``) is woken when it finishes;
* draining: after SIGTERM only gradings somebody waits for (a synchronous request) are
  started; the others stay queued in the database for the next start.

A grading the engine answers with status "error" (the grader's failure, never the student's) is
graded once more before it is answered. A grading's life in the store (started, finished) and
its webhook are recorded from here.
"""

from __future__ import annotations

import asyncio
import math
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from . import api
from . import engine as engine_mod
from .metrics import PRIORITIES, Metrics
from .store import Record, Store

_FIRST_ESTIMATE_SECONDS = 2.0  # what a grading is assumed to take before one has been timed


@dataclass
class _Entry:
    record: Record
    waiters: int = 0


class Dispatcher:
    def __init__(self, engine: engine_mod.Engine, store: Store, metrics: Metrics, limit: int,
                 refusal: Callable[[str], str | None], finished: Callable[[], None]):
        """``refusal(task)``: why a task is not graded (its self-test failed), or None.
        ``finished()``: called after each grading was recorded as finished (wakes the webhooks)."""
        self.engine = engine
        self.store = store
        self.metrics = metrics
        self.limit = limit
        self._refusal = refusal
        self._finished = finished
        self._queues: dict[str, deque[str]] = {priority: deque() for priority in PRIORITIES}
        self._entries: dict[str, _Entry] = {}
        self._running: dict[str, _Entry] = {}
        self._events: dict[str, asyncio.Event] = {}
        self._wakeup = asyncio.Event()
        self._tasks: set[asyncio.Task] = set()
        self._average_seconds = _FIRST_ESTIMATE_SECONDS
        self.draining = False

    # --- what clients see ----------------------------------------------------------------------

    def position(self, grading_id: str) -> int | None:
        entry = self._entries.get(grading_id)
        if entry is None:
            return None
        ahead = 0
        for priority in PRIORITIES:
            queue = self._queues[priority]
            if priority == entry.record.priority:
                return ahead + queue.index(grading_id) + 1
            ahead += len(queue)
        return None

    def running(self, grading_id: str) -> bool:
        return grading_id in self._running

    def queued(self) -> int:
        return len(self._entries)

    def room(self) -> bool:
        return len(self._entries) < self.limit

    def retry_after(self) -> float:
        """Seconds until a new grading is likely to find room (at least 1)."""
        backlog = len(self._entries) - self.limit + 1
        return max(1.0, math.ceil(max(backlog, 1) * self._average_seconds / max(self.engine.capacity, 1)))

    # --- accepting and waiting -----------------------------------------------------------------

    def admit(self, record: Record) -> None:
        """Queue a recorded grading (the caller checked ``room``; recovery does not)."""
        if record.id in self._entries or record.id in self._running:
            return
        self._entries[record.id] = _Entry(record)
        self._queues[record.priority].append(record.id)
        self._events.setdefault(record.id, asyncio.Event())
        self._depth_changed()
        self._wakeup.set()

    async def wait(self, grading_id: str, seconds: float) -> None:
        """Return when the grading has finished, or after ``seconds``."""
        event = self._events.get(grading_id)
        if event is None or seconds <= 0:
            return
        entry = self._entries.get(grading_id) or self._running.get(grading_id)
        if entry is not None:
            entry.waiters += 1
        try:
            await asyncio.wait_for(event.wait(), seconds)
        except TimeoutError:
            pass
        finally:
            if entry is not None:
                entry.waiters -= 1

    # --- running -----------------------------------------------------------------------------

    async def run(self) -> None:
        """Start gradings while the engine has room, until cancelled."""
        while True:
            while len(self._running) < self.engine.capacity:
                entry = self._next()
                if entry is None:
                    break
                self._running[entry.record.id] = entry
                task = asyncio.create_task(self._grade(entry))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            self._wakeup.clear()
            await self._wakeup.wait()

    def _next(self) -> _Entry | None:
        for priority in PRIORITIES:
            queue = self._queues[priority]
            for grading_id in queue:
                entry = self._entries[grading_id]
                if not self.draining or entry.waiters:
                    queue.remove(grading_id)
                    del self._entries[grading_id]
                    self._depth_changed()
                    return entry
        return None

    def _depth_changed(self) -> None:
        for priority in PRIORITIES:
            self.metrics.queue_depth.labels(priority).set(len(self._queues[priority]))

    async def _grade(self, entry: _Entry) -> None:
        record = entry.record
        try:
            started = time.time()
            await asyncio.to_thread(self.store.started, record.id, started)
            graded = await self._graded(record)
            finished = time.time()
            timings = {
                "queued_seconds": round(max(0.0, started - record.accepted_at), 6),
                "sandbox_seconds": round(graded.sandbox_seconds, 6),
                "judge_seconds": round(max(0.0, graded.seconds - graded.sandbox_seconds), 6),
                "total_seconds": round(max(0.0, finished - record.accepted_at), 6),
            }
            record.state = "error" if graded.document["status"] == "error" else "done"
            record.started_at, record.finished_at = started, finished
            record.feedback, record.timings = graded.document, timings
            payload = None
            if record.callback_url:
                record.callback_state = "pending"
                payload = api.webhook_payload(record, finished)
            await asyncio.to_thread(self.store.finished, record.id, record.state, graded.document, timings, finished,
                                    payload)
            self._finished()
            self.metrics.finished(graded.document, timings)
            self._average_seconds = 0.8 * self._average_seconds + 0.2 * graded.seconds
        except Exception:  # the store failed: the grading stays unfinished in it and is graded after a restart
            traceback.print_exc(file=sys.stderr)
        finally:
            del self._running[record.id]
            event = self._events.pop(record.id, None)
            if event is not None:
                event.set()
            self._wakeup.set()

    async def _graded(self, record: Record) -> engine_mod.Graded:
        refusal = self._refusal(record.task)
        if refusal is not None:  # accepted before a restart whose self-test refused the task
            from ..feedback import document as feedback

            reason = f"the task {record.task!r} failed this service's self-test: {refusal}"
            document = feedback.error_document(record.lang, reason, record.task, record.seed, task_broken=True)
            return engine_mod.Graded(document, 0.0, 0.0)
        source = await asyncio.to_thread(self.store.source, record.id)
        job = engine_mod.Job(record.task, source or b"", record.seed, record.lang)
        graded = await asyncio.wrap_future(self.engine.submit(job))
        if graded.document["status"] == "error":
            # The grader failed, not the student (a sandbox or worker killed from outside, ...): graded
            # once more, on whatever sandbox the engine gives it; a second failure is the answer
            # (state error: the platform submits again).
            print(f"grader serve: grading {record.id} of {record.task} failed ({graded.document.get('error')}); "
                  "grading it once more", file=sys.stderr)
            graded = await asyncio.wrap_future(self.engine.submit(job))
        return graded

    # --- draining ----------------------------------------------------------------------------

    def drain(self) -> None:
        """From now on start only gradings a request waits for."""
        self.draining = True
        self._wakeup.set()

    def busy(self) -> bool:
        """Something runs, or waits to run with a request waiting for it."""
        return bool(self._running) or any(entry.waiters for entry in self._entries.values())

    async def cancel(self) -> None:
        """Stop waiting for the gradings still running (they stay unfinished in the store)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def until_idle(self, seconds: float) -> bool:
        """Wait (at most ``seconds``) until nothing is ``busy``; True when that happened."""
        deadline = time.monotonic() + seconds
        while self.busy():
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.05)
        return True
