"""Shrinking: the smallest case on which a failing submission still fails the same way.

Owns the search (none when every case failed in the same words: a smaller case would say
nothing new). It starts from the smallest failing visible case; when only hidden cases
fail it starts from the top of the task's parameter space instead, so that nothing of a
hidden case (not even its params) is used. Each round tries every one-parameter
reduction of the current case at once, in one sandboxed run of the same submission, and
keeps the smallest candidate that fails with the same code; the search ends when a round
finds nothing smaller, after ``rounds`` rounds, or when ``wall_seconds`` are spent. Each
round also tries all the reductions that failed on their own in the round before, at once.

A candidate's inputs are drawn like any case's, from SeedSequence([seed, index, 1]) with an
index of its own (SHRINK_INDEX_BASE + k), so that ``grader replay`` can rebuild it from
the feedback while no candidate ever repeats a graded case's inputs. They are drawn the way
the visible case the search started from draws them (a fixed case may draw integers, so
that values tie): a failure that needs ties shrinks to a case that has them.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from ..sandbox.errors import SandboxError
from ..spec import cases as cases_mod
from ..spec.taskspec import Task, TaskError
from . import misconceptions, reference
from .model import CaseVerdict, Grading, Shrunk

SHRINK_INDEX_BASE = 1_000_000
SHRINKABLE = {"WRONG_VALUES", "SHAPE_MISMATCH", "NOT_FINITE", "RUNTIME_ERROR"}
VALUES_PER_PARAM = 4
MIN_LAUNCH_SECONDS = 1.0  # a round with less time left than this is not started


def smaller_values(space: dict, value: int) -> list[int]:
    """A few values of one param below ``value``: the smallest ones, the middle, and the next one down."""
    if "choices" in space:
        below = sorted(c for c in space["choices"] if c < value)
    else:
        below = list(range(space["min"], value))
    if len(below) <= VALUES_PER_PARAM:
        return below
    return sorted({below[0], below[1], below[len(below) // 2], below[-1]})


def top_of_space(task: Task) -> dict[str, int] | None:
    """Every param at its largest value, when that is a valid case."""
    params = {name: (max(space["choices"]) if "choices" in space else space["max"])
              for name, space in task.spec["params"].items()}
    return cases_mod.resolve_params(task, params)


def candidates(task: Task, params: dict[str, int]) -> list[dict[str, int]]:
    """Valid cases with exactly one param of ``params`` made smaller (derived values resolved)."""
    base = {name: params[name] for name in task.spec["params"]}
    found = []
    for name, space in task.spec["params"].items():
        for value in smaller_values(space, base[name]):
            env = cases_mod.resolve_params(task, {**base, name: value})
            if env is not None:
                found.append(env)
    return found


def candidate_case(
    task: Task, seed: int, index: int, env: dict[str, int], draws: dict[str, dict] | None = None
) -> cases_mod.Case:
    case = cases_mod.Case(index, "shrunk", "shrunk", True, 0, env, draws=draws or {})
    case.inputs = cases_mod.make_inputs(
        task, env, np.random.default_rng(np.random.SeedSequence([seed, index, 1])), case.draws
    )
    return case


def _signature(verdict) -> tuple:
    """What a failure says, whatever the case's size: its code, the exception, each output's check."""
    error = verdict.error or {}
    frames = tuple((f.get("file"), f.get("line")) for f in error.get("frames", []))
    checks = tuple((c.output, c.code, repr(sorted(c.detail.items()))) for c in verdict.checks)
    return verdict.code, error.get("exception"), error.get("message"), frames, checks


def identical_everywhere(verdicts: list[CaseVerdict]) -> bool:
    """Every case failed, and each in the same words (e.g. backward returned None, or the same
    exception on the same line): a smaller case would show nothing new."""
    return len(verdicts) > 1 and len({_signature(v) for v in verdicts}) == 1 and not verdicts[0].passed


def _same_failure(verdict, code: str, exception: str | None) -> bool:
    if verdict.code != code:
        return False
    return code != "RUNTIME_ERROR" or (verdict.error or {}).get("exception") == exception


def _source(grading: Grading):
    """The failing case to start from: (verdict, params), params None when starting from the space's top."""
    failing = [v for v in grading.verdicts if v.code in SHRINKABLE]
    visible = [v for v in failing if v.case.visible]
    if visible:
        smallest = min(visible, key=lambda v: v.case.size)
        return smallest, smallest.case.params
    if failing:
        return failing[0], top_of_space(grading.task)
    return None, None


def _combined(task: Task, params: dict[str, int], reductions: dict[str, int]) -> dict[str, int] | None:
    """``params`` with every reduction that failed on its own applied at once, when that is a valid, smaller case."""
    base = {name: params[name] for name in task.spec["params"]}
    merged = {name: min(value, reductions.get(name, value)) for name, value in base.items()}
    return cases_mod.resolve_params(task, merged) if merged != base else None


def search(grading: Grading, rounds: int, wall_seconds: float,
           run_cases: Callable[[list[cases_mod.Case], float], Grading]) -> Shrunk | None:
    """Shrink the grading's failure; ``run_cases(cases, seconds)`` runs cases of the same submission in the sandbox
    and returns a Grading of them. Returns None when nothing smaller fails the same way.

    A round runs every one-parameter reduction of the current case together with the case that applies
    all the reductions that failed in the round before, so a few rounds shrink many params at once."""
    source, params = _source(grading)
    if source is None or params is None or rounds <= 0 or identical_everywhere(grading.verdicts):
        return None
    code = source.code
    exception = (source.error or {}).get("exception")
    deadline = time.monotonic() + wall_seconds
    task, seed = grading.task, grading.seed
    current_size = source.case.size if source.case.visible else None
    draws = source.case.draws if source.case.visible else {}
    best, reductions = None, {}
    tried = 0
    next_index = SHRINK_INDEX_BASE
    for _ in range(rounds):
        remaining = deadline - time.monotonic()
        if remaining < MIN_LAUNCH_SECONDS:
            break
        envs = candidates(task, params)
        combined = _combined(task, params, reductions)
        if combined is not None:
            envs.insert(0, combined)
        if current_size is None:
            envs.insert(0, params)
        trial = []
        for env in envs:
            trial.append(candidate_case(task, seed, next_index, env, draws))
            next_index += 1
        # One param is smaller in every candidate, so a candidate of the same size is progress too
        # (it gets the search off plateaus such as a 3x3 filter on 3 rows versus a 1x3 one).
        trial = [c for c in trial if current_size is None or c.size <= current_size]
        if not trial:
            break
        try:
            run = run_cases(trial, remaining)
        except (reference.ReferenceError_, TaskError, SandboxError):
            # The sandbox or the reference failed on a candidate: the grading stands without a shrunk case.
            break
        tried += len(trial)
        failing = [v for v in run.verdicts if _same_failure(v, code, exception)]
        if not failing:
            break
        for verdict in failing:
            changed = [n for n in task.spec["params"] if verdict.case.params[n] != params[n]]
            if len(changed) == 1:
                name = changed[0]
                reductions[name] = min(reductions.get(name, params[name]), verdict.case.params[name])
        smallest = min(
            failing, key=lambda v: (v.case.size, sum(v.case.params[n] for n in task.spec["params"]), v.case.index)
        )
        best = (smallest, run.expected[smallest.case.index])
        params, current_size = smallest.case.params, smallest.case.size
    if best is None:
        return None
    verdict, expected = best
    return Shrunk(source=source.case.name if source.case.visible else "", case=verdict.case, verdict=verdict,
                  expected=expected, diagnoses=_explaining(grading, verdict, expected), tried=tried)


def _explaining(grading: Grading, verdict: CaseVerdict, expected: dict[str, np.ndarray]) -> list[str]:
    """The run's diagnoses whose variant also explains the shrunk case."""
    if not grading.diagnoses or not verdict.got:
        return []
    task = grading.task
    index = verdict.case.index
    found = misconceptions.recognise(task, [verdict.case], {index: expected}, {index: verdict.got}, grading.tolerances)
    named = {d.id for d in grading.diagnoses}
    return [d.id for d in found if d.id in named]
