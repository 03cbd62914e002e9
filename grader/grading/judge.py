"""Judging a finished sandbox run: a verdict per case, decided on the trusted side, then the diagnoses.

Owns the mapping of what happened in the sandbox (``streams.Outcome``: the parsed result stream,
how the run ended) to each case's code: a case the runner reported is compared output by output
(``compare``); the first case it did not report gets the reason the run stopped (a corrupt stream,
the result limit, the wall clock or CPU time, a signal or an exit), and every later one NOT_RUN.
A sandbox that never said it was ready failed before the student's code ran: SandboxFailure, the
grader's failure. ``compare`` and ``misconceptions`` are imported when first needed: a grading
loads them once its request is sent (docs/platform.md, "Performance").
"""

from __future__ import annotations

import signal

from ..sandbox.errors import SandboxFailure
from ..sandbox.protocol import CaseResult, Results
from ..sandbox.streams import Outcome
from ..spec.cases import Case
from .model import CaseVerdict, Diagnosis, Grading


def conclude(grading: Grading, outcome: Outcome, order: list[Case], variants: dict | None = None) -> None:
    """Judge a finished sandbox run into ``grading``: a verdict per case, then the diagnoses.

    ``variants``: the misconception variants' outputs (``misconceptions.variant_outputs``) when
    the caller computed them once for many gradings of the same cases (batch grading does).
    """
    grading.sandbox_output = (outcome.stdout + outcome.stderr)[: grading.limits.output_kb * 1024]
    grading.import_stdout = outcome.results.import_stdout
    judge(grading, outcome, order)
    grading.diagnoses = diagnose(grading, variants)


def judge(grading: Grading, outcome: Outcome, order: list[Case]) -> None:
    """Every case's verdict, from ``outcome`` of a run of the cases in ``order``."""
    grading.enforced = outcome.enforced
    grading.sandbox_elapsed = outcome.elapsed
    grading.usage = outcome.usage
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


def mark_not_gradable(grading: Grading) -> None:
    """The submission could not be turned into a module (or the module does not compile): every
    case fails with its problem."""
    problem = grading.submission.problem
    grading.gradable = False
    detail = {key: value for key, value in problem.items() if key != "error"}
    grading.verdicts = [CaseVerdict(case, problem["code"], error=problem.get("error"), detail=detail)
                        for case in grading.cases]


def diagnose(grading: Grading, variants: dict | None = None) -> list[Diagnosis]:
    """Name the known mistakes that explain a failing submission's outputs."""
    from . import misconceptions  # (lazily: see the module's docstring)

    task = grading.task
    if not task.spec.get("misconceptions") or all(v.passed for v in grading.verdicts):
        return []
    got = {v.case.index: v.got for v in grading.verdicts if v.got}
    if not got:
        return []
    return misconceptions.recognise(task, grading.cases, grading.expected, got, grading.tolerances, variants)


def _stop_reason(outcome: Outcome, results: Results) -> tuple[str, dict]:
    if results.corrupt:
        return "PROTOCOL_ERROR", {"why": results.corrupt}
    if outcome.result_limited:
        return "OUTPUT_LIMIT", {}
    if outcome.timed_out or outcome.signal == signal.SIGXCPU:
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


def _judge_case(grading: Grading, case: Case, received: CaseResult) -> CaseVerdict:
    from . import compare  # (lazily: see the module's docstring)

    verdict = CaseVerdict(case, stdout=received.stdout, stdout_dropped=received.stdout_dropped,
                          seconds=received.seconds)
    if received.error:
        verdict.code = _exception_code(received.error, "RUNTIME_ERROR")
        verdict.error = received.error
        return verdict
    for name in grading.task.output_names:
        expected = grading.expected[case.index][name]
        check, got = compare.compare(name, grading.task.output_source(name), received.outputs.get(name), expected,
                                     grading.tolerances[name])
        verdict.checks.append(check)
        if got is not None:
            verdict.got[name] = got
        if verdict.code is None and check.code is not None:
            verdict.code = check.code
    return verdict
