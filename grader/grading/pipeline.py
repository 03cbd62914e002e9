"""One grading, end to end: spec -> cases -> sandbox -> trusted comparison -> verdicts.

Owns the order of the steps (what each decides: ``judge``, ``compare``, ``misconceptions``,
``shrink``; the records they fill in: ``model``). The trusted side overlaps its work with the
sandbox's: numpy loads here while the sandboxed interpreter starts, and the reference runs (on
private copies of the inputs) once the request is sent, while the student's code runs on the
other core. The modules only judging needs (compare, misconceptions, shrink) are imported then,
not before the request (docs/platform.md, "Performance"); so are the records they fill in
(``model``) and ``judge``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..sandbox import launch as sandbox
from ..sandbox import protocol
from ..sandbox.limits import Limits
from ..sandbox.streams import Outcome
from ..spec import cases as cases_mod
from ..spec.cases import Case
from ..spec.config import Settings
from ..spec.taskspec import Task
from . import reference
from .submission import Submission, prepare

if TYPE_CHECKING:  # imported by run once the request is sent (the module's docstring)
    from .model import Grading, Shrunk


def run(task: Task, data: bytes, settings: Settings, seed: int | None = None,
        launch: sandbox.Launch | None = None, meanwhile: Callable[[], None] | None = None) -> Grading:
    """Grade ``data``. ``launch``: a sandbox the caller already started with this task's limits
    and backend (``grade`` does, so that the sandboxed interpreter starts while numpy loads here).
    ``meanwhile``: the caller's own work for the time the student's code runs (after the
    reference), e.g. loading what its feedback needs."""
    # The grading's time counts from its sandbox's start when the caller started that first.
    started = min(time.monotonic(), launch.started) if launch is not None else time.monotonic()
    # From here to the end, whatever fails (this code, the student's bytes, the caller's
    # ``meanwhile``), a sandbox started is stopped and leaves nothing behind.
    with sandbox.aborted_on_failure(launch):
        seed = cases_mod.new_seed() if seed is None else seed
        limits = Limits.from_dict(task.limits(settings.values["limits"]))
        submission = prepare(data, task.template_source(), task.entry_name, task.module_file,
                             task.outside_blanks(settings.values["outside_blanks"]))
        backend, fallback_reason = sandbox.choose_backend(settings.sandbox)
    if submission.problem is not None and launch is not None:
        sandbox.abort(launch)
        launch = None
    elif submission.problem is None and launch is None:
        launch = sandbox.start(limits, backend, settings.values["sandbox_uids"])
    with sandbox.aborted_on_failure(launch):
        cases = cases_mod.generate(task, seed, cases_mod.random_count(task, settings.values["cases"]))
        order = run_order(cases)
        if launch is not None:
            sandbox.send(launch, protocol.request(task, order, limits, {task.module_file: submission.source}))
        from . import judge
        from .model import Grading

        expected = reference.expected_outputs(task, cases)
        grading = Grading(task=task, seed=seed, submission=submission, cases=cases, expected=expected, backend=backend,
                          fallback_reason=fallback_reason, limits=limits, tolerance=dict(settings.values["tolerance"]))
        if launch is not None and meanwhile is not None:
            meanwhile()
    if launch is None:
        judge.mark_not_gradable(grading)
    else:
        judge.conclude(grading, sandbox.finish(launch), order)
        grading.shrunk = shrink_failing(grading, settings)
    grading.elapsed = time.monotonic() - started
    return grading


def run_order(cases: list[Case]) -> list[Case]:
    """The order the sandbox runs the cases in: smallest first, so a slow submission fails
    the large case rather than every case."""
    return sorted(cases, key=lambda c: c.size)


# Runs one whole request (``protocol.request``) in a sandbox under these limits: a warm worker's
# child (``grader serve``); without one, ``execute`` starts a fresh sandbox.
Run = Callable[[Limits, bytes], Outcome]


def shrink_failing(grading: Grading, settings: Settings, run: Run | None = None) -> Shrunk | None:
    """The smallest case that still fails the same way, within the shrink budget; each candidate
    in a fresh sandbox, or by ``run``."""
    from . import shrink  # only a failing submission is shrunk

    budget = settings.values["shrink"]
    if not grading.gradable or all(v.passed for v in grading.verdicts):
        return None

    def run_cases(cases: list[Case], seconds: float) -> Grading:
        limits = grading.limits._replace(wall_seconds=min(grading.limits.wall_seconds, seconds))
        return execute(grading.task, grading.submission, cases, settings, grading.seed, grading.backend, limits,
                       grading.tolerance, run)

    return shrink.search(grading, budget["rounds"], budget["wall_seconds"], run_cases)


def execute(task: Task, submission: Submission, cases: list[Case], settings: Settings, seed: int,
            backend: str, limits: Limits, tolerance: dict, run: Run | None = None) -> Grading:
    """Run given cases of a prepared submission and judge them (for shrinking and replay): in a
    fresh sandbox, or by ``run``."""
    from . import judge
    from .model import Grading

    if run is not None:
        order = run_order(cases)
        request = protocol.request(task, order, limits, {task.module_file: submission.source})
        grading = Grading(task=task, seed=seed, submission=submission, cases=cases,
                          expected=reference.expected_outputs(task, cases), backend=backend, limits=limits,
                          tolerance=tolerance)
        judge.judge(grading, run(limits, request), order)
        return grading
    launch = sandbox.start(limits, backend, settings.values["sandbox_uids"])
    with sandbox.aborted_on_failure(launch):
        order = run_order(cases)
        sandbox.send(launch, protocol.request(task, order, limits, {task.module_file: submission.source}))
        expected = reference.expected_outputs(task, cases)
        grading = Grading(task=task, seed=seed, submission=submission, cases=cases, expected=expected, backend=backend,
                          limits=limits, tolerance=tolerance)
    judge.judge(grading, sandbox.finish(launch), order)
    return grading
