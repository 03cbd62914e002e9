"""One grading, end to end: spec -> cases -> sandbox -> trusted comparison -> verdicts.

Owns the order of the steps and the mapping of what happened in the sandbox to a
verdict per case. The reference runs on the trusted side on private copies, while the
sandboxed interpreter starts and before any student code runs (the runner waits for
its request before it compiles the student's module).
"""

from __future__ import annotations

import dataclasses
import signal as signals
import time
from dataclasses import dataclass, field

import numpy as np

from . import cases as cases_mod
from . import channel, compare, misconceptions, reference, sandbox, shrink
from .config import Settings
from .submission import Submission, prepare
from .taskspec import Task


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
    limits: sandbox.Limits
    tolerance: dict
    gradable: bool = True
    diagnoses: list[misconceptions.Diagnosis] = field(default_factory=list)
    shrunk: shrink.Shrunk | None = None
    import_stdout: str = ""
    sandbox_output: str = ""
    elapsed: float = 0.0
    sandbox_elapsed: float = 0.0


def run(task: Task, data: bytes, settings: Settings, seed: int | None = None) -> Grading:
    started = time.monotonic()
    seed = cases_mod.new_seed() if seed is None else seed
    limits = sandbox.Limits.from_dict(task.limits(settings.values["limits"]))
    tolerance = dict(settings.values["tolerance"])
    submission = prepare(data, task.template_source(), task.entry.get("function") or task.entry["class"])
    backend, fallback_reason = sandbox.choose_backend(settings.sandbox)
    launch = None
    if submission.source is not None:
        launch = sandbox.start(limits, backend, settings.values["sandbox_uids"])
    try:
        cases = cases_mod.generate(task, seed, cases_mod.random_count(task, settings.values["cases"]))
        expected = reference.expected_outputs(task, cases)
    except BaseException:
        if launch:
            sandbox.finish(launch, b"")
        raise
    grading = Grading(task, seed, submission, cases, expected, [], backend, [], fallback_reason, limits, tolerance)
    if launch is None:
        grading.gradable = False
        grading.verdicts = [CaseVerdict(case, submission.problem["code"], detail=submission.problem) for case in cases]
    else:
        order = sorted(cases, key=lambda c: c.size)
        outcome = sandbox.finish(launch, _request(task, submission, order, limits))
        grading.enforced = outcome.enforced
        grading.sandbox_elapsed = outcome.elapsed
        grading.sandbox_output = (outcome.stdout + outcome.stderr)[: limits.output_kb * 1024]
        grading.import_stdout = outcome.results.import_stdout
        _judge(grading, outcome, order)
        grading.diagnoses = _diagnose(grading)
        grading.shrunk = _shrink(grading, settings)
    grading.elapsed = time.monotonic() - started
    return grading


def _diagnose(grading: Grading) -> list[misconceptions.Diagnosis]:
    """Name the known mistakes that explain a failing submission's outputs."""
    task = grading.task
    if not task.spec.get("misconceptions") or all(v.passed for v in grading.verdicts):
        return []
    got = {v.case.index: v.got for v in grading.verdicts if v.got}
    if not got:
        return []
    tolerances = {name: task.tolerance(name, grading.tolerance) for name in task.output_names}
    return misconceptions.recognise(task, grading.cases, grading.expected, got, tolerances)


def _shrink(grading: Grading, settings: Settings) -> shrink.Shrunk | None:
    """The smallest case that still fails the same way, run in fresh sandboxes within the shrink budget."""
    budget = settings.values["shrink"]
    if not grading.gradable or all(v.passed for v in grading.verdicts):
        return None

    def run_cases(cases: list[cases_mod.Case], seconds: float) -> Grading:
        limits = dataclasses.replace(grading.limits, wall_seconds=min(grading.limits.wall_seconds, seconds))
        return execute(grading.task, grading.submission, cases, settings, grading.seed, grading.backend, limits,
                       grading.tolerance)

    return shrink.search(grading, budget["rounds"], budget["wall_seconds"], run_cases)


def execute(task: Task, submission: Submission, cases: list[cases_mod.Case], settings: Settings, seed: int,
            backend: str, limits: sandbox.Limits, tolerance: dict) -> Grading:
    """Run given cases of a prepared submission in a fresh sandbox and judge them (for shrinking and replay)."""
    launch = sandbox.start(limits, backend, settings.values["sandbox_uids"])
    try:
        expected = reference.expected_outputs(task, cases)
    except BaseException:
        sandbox.finish(launch, b"")
        raise
    grading = Grading(task, seed, submission, cases, expected, [], backend, [], None, limits, tolerance)
    order = sorted(cases, key=lambda c: c.size)
    outcome = sandbox.finish(launch, _request(task, submission, order, limits))
    grading.enforced = outcome.enforced
    grading.sandbox_elapsed = outcome.elapsed
    _judge(grading, outcome, order)
    return grading


def _request(task: Task, submission: Submission, order: list[cases_mod.Case], limits: sandbox.Limits) -> bytes:
    files = dict(task.support_files())
    files[f"{task.module_name}.py"] = submission.source
    arrays, names = [], []
    request_cases = []
    for case in order:
        request_cases.append({"index": case.index, "values": case.params, "arrays": list(case.inputs)})
        for name, array in case.inputs.items():
            names.append([case.index, name])
            arrays.append(array)
    header = {"module": task.module_name, "files": files, "entry": task.entry, "outputs": task.output_names,
              "cases": request_cases, "arrays": names, "output_cap": limits.output_kb * 1024}
    return channel.encode_request(header, arrays)


class SandboxFailure(RuntimeError):
    """The sandbox or runner itself failed before the student's code could run."""


def _judge(grading: Grading, outcome: sandbox.Outcome, order: list[cases_mod.Case]) -> None:
    results = outcome.results
    if not results.ready:
        if outcome.timed_out:
            raise SandboxFailure("the sandbox did not start within the wall-clock limit")
        raise SandboxFailure(f"the sandbox did not start (exit {outcome.returncode}): {outcome.stderr.strip()[-500:]}")
    verdicts: dict[int, CaseVerdict] = {}
    if results.compile_error:
        grading.gradable = False
        for case in order:
            verdicts[case.index] = CaseVerdict(case, "COMPILE_ERROR", error=results.compile_error)
    elif not results.imported:
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


def _stop_reason(outcome: sandbox.Outcome, results: channel.Results) -> tuple[str, dict]:
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
