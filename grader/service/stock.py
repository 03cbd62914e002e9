"""Case sets prepared ahead of demand: a grading's cases, the reference's outputs and its request.

Owns taking the trusted side's own work off a grading's critical path. For each task a small
bounded stock of ``CaseSet`` (a fresh seed's cases, the reference's outputs on them and the
encoded input arrays of the sandbox's request) is kept full by a real executor (the engine's,
one thread): a grading then only hands the student's module to a warm child, compares and
writes the feedback. The misconception variants are not prepared: they are needed only when a
submission fails, and ``judge.diagnose`` computes them then.

A seed is drawn when a grading is accepted (``draw_seed``: the head of the task's stock, or a
fresh one when the stock is empty), so that it is recorded with the grading before anything
runs; the drawn case set is held until the grading asks for it (``take``). A grading with a seed
of its own (given by the client, recovered after a restart, evicted from the bounded hold) gets
its case set computed on demand, the same for the same seed: a case set depends on the task and
the seed alone.
"""

from __future__ import annotations

import concurrent.futures
import queue
import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass

from ..grading import pipeline, reference
from ..sandbox import protocol
from ..sandbox.limits import Limits
from ..spec import cases as cases_mod
from ..spec.config import Settings
from ..spec.taskspec import Task

STOCK_PER_TASK = 4  # case sets kept ready per task: a burst of that many needs no preparation
HELD_LIMIT = 64  # drawn case sets waiting for their grading; the oldest are dropped beyond it


@dataclass(frozen=True)
class CaseSet:
    """One seed's cases of one task, everything of them the trusted side computes before a run."""

    seed: int
    cases: list[cases_mod.Case]
    order: list[cases_mod.Case]  # the sandbox's run order (``pipeline.run_order``)
    expected: dict  # the reference's outputs, by case index
    header: dict  # the runner's request header without the student's module
    array_frames: bytes  # the request's input arrays, encoded once

    def request(self, module_files: dict[str, str]) -> bytes:
        """The runner's whole request, with the student's ``module_files``."""
        return protocol.encode_header(self.header, module_files) + self.array_frames


def prepare(task: Task, settings: Settings, limits: Limits, seed: int) -> CaseSet:
    """The case set of ``seed`` (what ``pipeline.run`` computes for the same task and seed)."""
    cases = cases_mod.generate(task, seed, cases_mod.random_count(task, settings.values["cases"]))
    order = pipeline.run_order(cases)
    header, arrays = protocol.request_parts(task, order, limits)
    return CaseSet(seed, cases, order, reference.expected_outputs(task, cases), header,
                   protocol.encode_arrays(arrays))


class Stock:
    """A bounded stock of case sets per task, refilled on ``executor``; thread-safe."""

    def __init__(self, tasks: dict[str, Task], settings: Settings, limits: dict[str, Limits],
                 executor: concurrent.futures.Executor, size: int = STOCK_PER_TASK):
        self.tasks, self.settings, self.limits = tasks, settings, limits
        self._executor = executor
        self._ready: dict[str, queue.Queue[CaseSet]] = {task_id: queue.Queue(maxsize=size) for task_id in tasks}
        self._held: OrderedDict[tuple[str, int], CaseSet] = OrderedDict()
        self._lock = threading.Lock()
        self.size = size

    def fill(self, task_ids) -> None:
        """Start filling the stock of each task (a task whose reference fails stays empty)."""
        for task_id in task_ids:
            for _ in range(self.size):
                self._refill(task_id)

    def draw_seed(self, task_id: str) -> int:
        """The seed of a new grading of ``task_id``: a prepared case set's when one is ready."""
        try:
            case_set = self._ready[task_id].get_nowait()
        except (KeyError, queue.Empty):
            return cases_mod.new_seed()
        with self._lock:
            self._held[(task_id, case_set.seed)] = case_set
            while len(self._held) > HELD_LIMIT:
                self._held.popitem(last=False)
        self._refill(task_id)
        return case_set.seed

    def take(self, task_id: str, seed: int) -> CaseSet:
        """The case set of a grading: the one drawn for it, else computed now."""
        with self._lock:
            case_set = self._held.pop((task_id, seed), None)
        if case_set is not None:
            return case_set
        return prepare(self.tasks[task_id], self.settings, self.limits[task_id], seed)

    def _refill(self, task_id: str) -> None:
        try:
            self._executor.submit(self._prepare_one, task_id)
        except RuntimeError:  # the executor was shut down: the service stops
            pass

    def _prepare_one(self, task_id: str) -> None:
        try:
            case_set = prepare(self.tasks[task_id], self.settings, self.limits[task_id], cases_mod.new_seed())
        except Exception as exc:  # a broken task: its gradings compute on demand and report it there
            print(f"grader serve: cases of {task_id} could not be prepared: {type(exc).__name__}: {exc}",
                  file=sys.stderr)
            return
        try:
            self._ready[task_id].put_nowait(case_set)
        except queue.Full:
            pass
