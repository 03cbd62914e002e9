"""A hostile submission in a warm worker cannot affect the next one.

Each hostile submission (tests/platform/hostile/) is graded in a warm worker, then a probe -
a correct solution that first checks, at import time, that no process, file, IPC object, key,
patched module or changed signal disposition of an earlier submission is left - is graded in
the same worker, which must not have been replaced: the isolation holds inside one worker,
not by throwing workers away.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys

import pytest

from grader.batch import run as batch
from grader.grading.submission import prepare
from grader.sandbox import protocol
from grader.sandbox.limits import rlimit_pairs
from grader.spec import config, taskspec
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


# Soft limits of the process that starts the pool (each within its hard limit), none of which
# may reach a child.
ODD_LIMITS = {resource.RLIMIT_DATA: (40 << 30) + 1, resource.RLIMIT_MEMLOCK: 12345, resource.RLIMIT_RSS: 7654321,
              resource.RLIMIT_MSGQUEUE: 4321, resource.RLIMIT_RTTIME: 5000000}


def test_a_child_has_every_rlimit_the_trusted_side_decided(tmp_path):
    (tmp_path / "grader.yaml").write_text("limits: {wall_seconds: 4, cpu_seconds: 3}\n", encoding="utf-8")
    settings = config.load(str(tmp_path / "grader.yaml"), str(REPO))
    plan = batch.make_plan(taskspec.load("conv_backward", settings.root), settings, seed=5)
    if plan.backend != "bwrap":
        pytest.skip(f"warm workers need bwrap, which cannot run here: {plan.fallback_reason}")
    expected = {which: (soft, hard) for which, soft, hard in rlimit_pairs(plan.limits)}
    probe = (f"import resource\nEXPECTED = {expected!r}\nODD = {ODD_LIMITS!r}\n"
             "wrong = {w: resource.getrlimit(w) for w, pair in EXPECTED.items() if resource.getrlimit(w) != pair}\n"
             "wrong.update({w: resource.getrlimit(w) for w, soft in ODD.items() if resource.getrlimit(w)[0] == soft})\n"
             "if wrong:\n    raise RuntimeError(f'rlimits not as the trusted side decided: {wrong}')\n").encode()
    own = {which: resource.getrlimit(which) for which in ODD_LIMITS}
    try:
        for which, soft in ODD_LIMITS.items():
            resource.setrlimit(which, (soft, own[which][1]))
        sandboxes = batch.Sandboxes(plan, jobs=1, warm=True)
    finally:
        for which, pair in own.items():
            resource.setrlimit(which, pair)
    try:
        verdict = batch.grade(plan, sandboxes, probe + CORRECT_CONV.read_bytes(), "en")
    finally:
        sandboxes.close()
    assert verdict["status"] == "passed", verdict["tests"][0]["message"]


def test_a_child_runs_under_the_smallest_open_files_limit_the_configuration_allows(tmp_path):
    # The child moved its four descriptors above 16 before putting them at 0-3: under
    # open_files 16 (the schema's minimum) that failed, and every submission got status error.
    (tmp_path / "grader.yaml").write_text("limits: {wall_seconds: 4, cpu_seconds: 3, open_files: 16}\n",
                                          encoding="utf-8")
    settings = config.load(str(tmp_path / "grader.yaml"), str(REPO))
    plan = batch.make_plan(taskspec.load("conv_backward", settings.root), settings, seed=5)
    if plan.backend != "bwrap":
        pytest.skip(f"warm workers need bwrap, which cannot run here: {plan.fallback_reason}")
    sandboxes = batch.Sandboxes(plan, jobs=1, warm=True)
    try:
        verdict = batch.grade(plan, sandboxes, CORRECT_CONV.read_bytes(), "en")
    finally:
        sandboxes.close()
    assert verdict["status"] == "passed", verdict.get("error") or verdict["tests"][0]["message"]


# Run as a uid of its own when the tests are root: a child changes its worker only when both
# have the same uid (the grader as an ordinary user, as in the container).
WORKER_CHANGED_BY_ITS_CHILD = '''
import json, sys, tempfile
from pathlib import Path
from grader.batch import run as batch
from grader.sandbox import confined
from grader.spec import config, taskspec
# A filter without the rules that keep a child from changing another process: the second
# line of defence alone.
shipped = confined.source
weakened = shipped("seccomp").replace('_SELF_ONLY = ("prlimit64",', '_SELF_ONLY = (') \\
    .replace('_OWN_PROCESS_OR_GROUP = {"setpriority": _PRIO_USER, ', '_OWN_PROCESS_OR_GROUP = {')
assert weakened != shipped("seccomp")
confined.source = lambda name: weakened if name == "seccomp" else shipped(name)
folder = Path(tempfile.mkdtemp())
(folder / "grader.yaml").write_text("limits: {wall_seconds: 4, cpu_seconds: 3}\\n", encoding="utf-8")
settings = config.load(str(folder / "grader.yaml"), sys.argv[1])
plan = batch.make_plan(taskspec.load("conv_backward", settings.root), settings, seed=5)
if plan.backend != "bwrap":
    print(json.dumps({"skip": plan.fallback_reason}))
    sys.exit()
correct = Path(sys.argv[2]).read_bytes()
lower = b"import os, resource\\nresource.prlimit(os.getppid(), resource.RLIMIT_DATA, (1 << 20, 1 << 20))\\n" \\
    b"os.setpriority(os.PRIO_PROCESS, os.getppid(), 19)\\n"
sandboxes = batch.Sandboxes(plan, jobs=1, warm=True)
try:
    first = batch.grade(plan, sandboxes, lower + correct, "en")["status"]
    replaced = sandboxes.pool.replaced
    after = [batch.grade(plan, sandboxes, correct, "en")["status"] for _ in range(2)]
finally:
    sandboxes.close()
print(json.dumps({"first": first, "replaced": replaced, "after": after}))
'''


def test_a_worker_that_a_child_changed_is_discarded(tmp_path):
    # The seccomp filter keeps a child from changing its worker; were it to let a call through,
    # the worker finds itself changed after the child and is replaced, so that no later
    # submission runs under what the child left.
    prefix = ["setpriv", "--reuid=61998", "--regid=61998", "--clear-groups", "--"] if os.geteuid() == 0 else []
    done = subprocess.run([*prefix, sys.executable, "-c", WORKER_CHANGED_BY_ITS_CHILD, str(REPO), str(CORRECT_CONV)],
                          capture_output=True, text=True, timeout=120, cwd="/")
    assert done.returncode == 0, done.stderr[-2000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    if "skip" in outcome:
        pytest.skip(f"warm workers need bwrap, which cannot run here: {outcome['skip']}")
    assert outcome == {"first": "passed", "replaced": 1, "after": ["passed", "passed"]}


def test_a_worker_whose_run_failed_on_the_trusted_side_is_not_used_again(warm, monkeypatch):
    # A failure while its stream was read (an OverflowError of the channel's parser, before)
    # left the worker in use with its child's report unread: the next, innocent submission got
    # that report and a grader error.
    plan, sandboxes = warm

    class Surprising(protocol.ResultParser):
        def feed(self, chunk):
            raise RuntimeError("a surprise of the trusted side")

    monkeypatch.setattr(protocol, "ResultParser", Surprising)
    replaced = sandboxes.pool.replaced
    with pytest.raises(RuntimeError):
        sandboxes.run(prepare(CORRECT_CONV.read_bytes(), plan.task.template_source(), "Convolution", "solution.py"))
    monkeypatch.undo()
    assert sandboxes.pool.replaced == replaced + 1
    assert batch.grade(plan, sandboxes, PROBE, "en")["status"] == "passed"
