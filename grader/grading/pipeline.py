"""One grading, end to end: spec -> cases -> sandbox -> trusted comparison -> verdicts.

Owns the order of the steps and the mapping of what happened in the sandbox to a
verdict per case. The trusted side overlaps its work with the sandbox's: numpy loads here while
the sandboxed interpreter starts, and the reference runs (on private copies of the inputs)
once the request is sent, while the student's code runs on the other core. The modules only
judging needs (compare, misconceptions, shrink) are imported then, not before the request.
"""

from __future__ import annotations

import signal as signals
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..spec import cases as cases_mod
from ..sandbox import protocol as channel
from ..sandbox import launch as sandbox
from ..sandbox.errors import SandboxFailure
from ..sandbox.limits import Limits, rlimit_pairs
from ..sandbox.streams import Outcome
from . import reference
from ..spec.config import Settings
from .submission import Submission, prepare
from ..spec.taskspec import Task


@dataclass
class CaseVerdict:
    case: cases_mod.Case
    code: str | None = None  # None: passed
    checks: list[compare.Check] = field(default_factory=list)
    error: dict | None = None  # the student's exception, cleaned by channel
    detail: dict = field(default_factory=dict)
    stdout: str = ""
    stdout_dropped: int = 0
    got: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.code is None


@dataclass
class Grading:
    task: Task
    seed: int
    submission: Submission
    cases: list[cases_mod.Case]
    expected: dict[int, dict[str, np.ndarray]]
    verdicts: list[CaseVerdict]
    backend: str
    enforced: list[str]
    fallback_reason: str | None
    limits: Limits
    tolerance: dict
    gradable: bool = True
    diagnoses: list[misconceptions.Diagnosis] = field(default_factory=list)
    shrunk: shrink.Shrunk | None = None
    import_stdout: str = ""
    sandbox_output: str = ""
    elapsed: float = 0.0
    sandbox_elapsed: float = 0.0


def run(task: Task, data: bytes, settings: Settings, seed: int | None = None,
        launch: sandbox.Launch | None = None, meanwhile: Callable[[], None] | None = None) -> Grading:
    """Grade ``data``. ``launch``: a sandbox the caller already started with this task's limits
    and backend (``grade`` does, so that the sandboxed interpreter starts while numpy loads here).
    ``meanwhile``: the caller's own work for the time the student's code runs (after the
    reference), e.g. loading what its feedback needs."""
    started = time.monotonic()
    # From here to the end, whatever fails (this code, the student's bytes, the caller's
    # ``meanwhile``), a sandbox started is stopped and leaves nothing behind.
    with sandbox.aborted_on_failure(launch):
        seed = cases_mod.new_seed() if seed is None else seed
        limits = Limits.from_dict(task.limits(settings.values["limits"]))
        tolerance = dict(settings.values["tolerance"])
        submission = prepare(data, task.template_source(), task.entry.get("function") or task.entry["class"],
                             f"{task.module_name}.py")
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
            sandbox.send(launch, _request(task, submission, order, limits))
        expected = reference.expected_outputs(task, cases)
        grading = Grading(task, seed, submission, cases, expected, [], backend, [], fallback_reason, limits, tolerance)
        if launch is not None and meanwhile is not None:
            meanwhile()
    if launch is None:
        mark_not_gradable(grading)
    else:
        conclude(grading, sandbox.finish(launch), order)
        grading.shrunk = _shrink(grading, settings)
    grading.elapsed = time.monotonic() - started
    return grading


def run_order(cases: list[cases_mod.Case]) -> list[cases_mod.Case]:
    """The order the sandbox runs the cases in: smallest first, so a slow submission fails
    the large case rather than every case."""
    return sorted(cases, key=lambda c: c.size)


def mark_not_gradable(grading: Grading) -> None:
    """The submission could not be turned into a module (or the module does not compile): every
    case fails with its problem."""
    problem = grading.submission.problem
    grading.gradable = False
    detail = {key: value for key, value in problem.items() if key != "error"}
    grading.verdicts = [CaseVerdict(case, problem["code"], error=problem.get("error"), detail=detail)
                        for case in grading.cases]


def conclude(grading: Grading, outcome: Outcome, order: list[cases_mod.Case], variants: dict | None = None) -> None:
    """Judge a finished sandbox run into ``grading``: a verdict per case, then the diagnoses.

    ``variants``: the misconception variants' outputs (``misconceptions.variant_outputs``) when
    the caller computed them once for many gradings of the same cases (batch grading does).
    """
    limits = grading.limits
    grading.enforced = outcome.enforced
    grading.sandbox_elapsed = outcome.elapsed
    grading.sandbox_output = (outcome.stdout + outcome.stderr)[: limits.output_kb * 1024]
    grading.import_stdout = outcome.results.import_stdout
    _judge(grading, outcome, order)
    grading.diagnoses = _diagnose(grading, variants)


def _diagnose(grading: Grading, variants: dict | None = None) -> list[misconceptions.Diagnosis]:
    """Name the known mistakes that explain a failing submission's outputs."""
    from . import misconceptions

    task = grading.task
    if not task.spec.get("misconceptions") or all(v.passed for v in grading.verdicts):
        return []
    got = {v.case.index: v.got for v in grading.verdicts if v.got}
    if not got:
        return []
    tolerances = {name: task.tolerance(name, grading.tolerance) for name in task.output_names}
    return misconceptions.recognise(task, grading.cases, grading.expected, got, tolerances, variants)


def _shrink(grading: Grading, settings: Settings) -> shrink.Shrunk | None:
    """The smallest case that still fails the same way, run in fresh sandboxes within the shrink budget."""
    from . import shrink

    budget = settings.values["shrink"]
    if not grading.gradable or all(v.passed for v in grading.verdicts):
        return None

    def run_cases(cases: list[cases_mod.Case], seconds: float) -> Grading:
        limits = grading.limits._replace(wall_seconds=min(grading.limits.wall_seconds, seconds))
        return execute(grading.task, grading.submission, cases, settings, grading.seed, grading.backend, limits,
                       grading.tolerance)

    return shrink.search(grading, budget["rounds"], budget["wall_seconds"], run_cases)


def execute(task: Task, submission: Submission, cases: list[cases_mod.Case], settings: Settings, seed: int,
            backend: str, limits: Limits, tolerance: dict) -> Grading:
    """Run given cases of a prepared submission in a fresh sandbox and judge them (for shrinking and replay)."""
    launch = sandbox.start(limits, backend, settings.values["sandbox_uids"])
    with sandbox.aborted_on_failure(launch):
        order = run_order(cases)
        sandbox.send(launch, _request(task, submission, order, limits))
        expected = reference.expected_outputs(task, cases)
        grading = Grading(task, seed, submission, cases, expected, [], backend, [], None, limits, tolerance)
    outcome = sandbox.finish(launch)
    grading.enforced = outcome.enforced
    grading.sandbox_elapsed = outcome.elapsed
    _judge(grading, outcome, order)
    return grading


def _request(task: Task, submission: Submission, order: list[cases_mod.Case], limits: Limits) -> bytes:
    header, arrays = request_parts(task, order, limits)
    header["files"][f"{task.module_name}.py"] = submission.source
    return channel.encode_request(header, arrays)


def request_parts(task: Task, order: list[cases_mod.Case], limits: Limits) -> tuple[dict, list[np.ndarray]]:
    """The runner's request header and input arrays, without the student's module (whose
    source goes in ``header["files"]``): the part every submission of a batch shares."""
    files = dict(task.support_files())
    arrays, names = [], []
    request_cases = []
    for case in order:
        request_cases.append({"index": case.index, "values": case.params, "arrays": list(case.inputs)})
        for name, array in case.inputs.items():
            names.append([case.index, name])
            arrays.append(array)
    header = {"module": task.module_name, "files": files, "entry": task.entry, "outputs": task.output_names,
              "cases": request_cases, "arrays": names, "output_cap": limits.output_kb * 1024,
              "rlimits": rlimit_pairs(limits)}
    return header, arrays


def _judge(grading: Grading, outcome: Outcome, order: list[cases_mod.Case]) -> None:
    results = outcome.results
    if not results.ready:
        if outcome.timed_out:
            raise SandboxFailure("the sandbox did not start within the wall-clock limit")
        raise SandboxFailure(f"the sandbox did not start (exit {outcome.returncode}): {outcome.stderr.strip()[-500:]}")
    verdicts: dict[int, CaseVerdict] = {}
    if not results.imported:
        code, detail = _stop_reason(outcome, results)
        for case in order:
            verdicts[case.index] = CaseVerdict(case, code, detail=detail)
    elif results.import_error:
        code = _exception_code(results.import_error, "IMPORT_ERROR")
        for case in order:
            verdicts[case.index] = CaseVerdict(case, code, error=results.import_error)
    else:
        stopped = False
        for case in order:
            received = results.cases.get(case.index)
            if stopped:
                verdicts[case.index] = CaseVerdict(case, "NOT_RUN")
            elif received is not None:
                verdicts[case.index] = _judge_case(grading, case, received)
            else:
                stopped = True
                code, detail = _stop_reason(outcome, results)
                verdicts[case.index] = CaseVerdict(case, code, detail=detail)
    grading.verdicts = [verdicts[case.index] for case in grading.cases]


def _stop_reason(outcome: Outcome, results: channel.Results) -> tuple[str, dict]:
    if results.corrupt:
        return "PROTOCOL_ERROR", {"why": results.corrupt}
    if outcome.result_limited:
        return "OUTPUT_LIMIT", {}
    if outcome.timed_out or outcome.signal == signals.SIGXCPU:
        return "TIMEOUT", {}
    if outcome.signal is not None:
        return "CRASHED", {"signal": outcome.signal}
    return "CRASHED", {"exit_code": outcome.returncode}


def _exception_code(error: dict, default: str) -> str:
    if error.get("exception") == "MemoryError":
        return "MEMORY_LIMIT"
    if error.get("exception") == "MissingEntry":
        return "MISSING_ENTRY"
    return default


def _judge_case(grading: Grading, case: cases_mod.Case, received: channel.CaseResult) -> CaseVerdict:
    from . import compare

    verdict = CaseVerdict(case, stdout=received.stdout, stdout_dropped=received.stdout_dropped)
    if received.error:
        verdict.code = _exception_code(received.error, "RUNTIME_ERROR")
        verdict.error = received.error
        return verdict
    for name in grading.task.output_names:
        expected = grading.expected[case.index][name]
        check, got = compare.compare(name, grading.task.output_source(name), received.outputs.get(name), expected,
                                     grading.task.tolerance(name, grading.tolerance))
        verdict.checks.append(check)
        if got is not None:
            verdict.got[name] = got
        if verdict.code is None and check.code is not None:
            verdict.code = check.code
    return verdict
