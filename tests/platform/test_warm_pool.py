"""A hostile submission in a warm worker cannot affect the next one.

Each hostile submission (tests/platform/hostile/) is graded in a warm worker, then a probe -
a correct solution that first checks, at import time, that no process, file, IPC object, key,
patched module or changed signal disposition of an earlier submission is left - is graded in
the same worker, which must not have been replaced: the isolation holds inside one worker,
not by throwing workers away.
"""

from __future__ import annotations

import pytest

from grader import batch, config, taskspec
from platform_support import CORRECT_CONV, HOSTILE, REPO

HOSTILES = sorted(p.name for p in HOSTILE.glob("*.py") if p.name != "probe_checks.py")
PROBE = (HOSTILE / "probe_checks.py").read_bytes() + b"\n" + CORRECT_CONV.read_bytes()


@pytest.fixture(scope="module")
def warm(tmp_path_factory):
    folder = tmp_path_factory.mktemp("warm-config")
    (folder / "grader.yaml").write_text("limits: {wall_seconds: 4, cpu_seconds: 3}\n", encoding="utf-8")
    settings = config.load(str(folder / "grader.yaml"), str(REPO))
    plan = batch.make_plan(taskspec.load("conv_backward", settings.root), settings, seed=5)
    if plan.backend != "bwrap":
        pytest.skip(f"warm workers need bwrap, which cannot run here: {plan.fallback_reason}")
    sandboxes = batch.Sandboxes(plan, jobs=1, warm=True)
    yield plan, sandboxes
    sandboxes.close()


def test_the_probe_passes_in_a_fresh_worker(warm):
    plan, sandboxes = warm
    verdict = batch.grade(plan, sandboxes, PROBE, "en")
    assert verdict["status"] == "passed", verdict["tests"][0]["message"]
    assert "warm-worker" in verdict["sandbox"]["enforced"]


@pytest.mark.parametrize("hostile", HOSTILES)
def test_a_hostile_submission_does_not_reach_the_next_one(warm, hostile):
    plan, sandboxes = warm
    replaced = sandboxes.pool.replaced
    attack = batch.grade(plan, sandboxes, (HOSTILE / hostile).read_bytes(), "en")
    assert attack["status"] == "failed"
    probe = batch.grade(plan, sandboxes, PROBE, "en")
    assert probe["status"] == "passed", probe["tests"][0]["message"]
    assert sandboxes.pool.replaced == replaced, "the worker was thrown away instead of cleaned"


def test_a_submission_past_its_wall_clock_limit_is_killed_and_the_worker_goes_on(warm):
    plan, sandboxes = warm
    attack = batch.grade(plan, sandboxes, (HOSTILE / "sleeps_forever.py").read_bytes(), "en")
    assert {t["code"] for t in attack["tests"]} <= {"TIMEOUT", "NOT_RUN"}
    assert batch.grade(plan, sandboxes, PROBE, "en")["status"] == "passed"


def test_a_kill_that_arrives_after_its_child_ended_does_not_break_the_worker(warm):
    """The trusted side may ask for a kill (deadline, corrupt stream) just as the child ends."""
    plan, sandboxes = warm
    replaced = sandboxes.pool.replaced
    assert batch.grade(plan, sandboxes, CORRECT_CONV.read_bytes(), "en")["status"] == "passed"
    worker = sandboxes.pool._all[0]
    worker._kill(worker.jobs)  # a stale kill for the job that just finished
    assert batch.grade(plan, sandboxes, PROBE, "en")["status"] == "passed"
    assert sandboxes.pool.replaced == replaced
