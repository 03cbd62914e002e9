"""A sandbox that fails before the student's code ran (or is killed from outside while it runs) is
the grader's failure, told the same way by `grader grade`, `grader batch` and `grader serve`'s
engine (status "error", the same reason)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from grader import cli
from grader.batch import inputs
from grader.batch import run as batch
from grader.grading import failures
from grader.sandbox import launch
from grader.sandbox.errors import SandboxError, SandboxFailure, SandboxUnavailable, WorkerLost
from grader.service.engine import ColdEngine, Job
from grader.spec import config, taskspec
from grader.spec.taskspec import TaskError
from platform_support import CORRECT_CONV, GRADER, REPO, valid

FAILURES = [SandboxUnavailable("no uid is free"), SandboxFailure("the runner never said it was ready"),
            WorkerLost("the worker died")]


@pytest.mark.parametrize("error", FAILURES, ids=lambda error: type(error).__name__)
def test_every_way_a_sandbox_fails_is_a_sandbox_error_with_one_reason(error):
    assert isinstance(error, SandboxError)
    expected = "no sandbox can run here" if isinstance(error, SandboxUnavailable) else "the sandbox failed"
    assert failures.reason(error, "im2col") == f"{expected}: {error}"
    assert failures.reason(TaskError(["a broken spec"]), "im2col") == "the task 'im2col' is broken: a broken spec"


@pytest.mark.parametrize("error", FAILURES[:2], ids=lambda error: type(error).__name__)
def test_grade_batch_and_the_service_engine_answer_a_failed_sandbox_alike(error, monkeypatch, capsys, tmp_path):
    def failing_start(*args, **kwargs):
        raise error

    monkeypatch.setattr(launch, "start", failing_start)
    (tmp_path / "grader.yaml").write_text("sandbox: process\n", encoding="utf-8")
    settings = config.load(str(tmp_path / "grader.yaml"), str(REPO))
    task = taskspec.load("conv_backward", settings.root)
    expected = failures.reason(error, task.id)

    assert cli.main(["--config", str(tmp_path / "grader.yaml"), "--root", str(REPO), "grade", "--task", task.id, "--lang", "en",
                     str(CORRECT_CONV)]) == cli.EXIT_INTERNAL
    graded = json.loads(capsys.readouterr().out)

    plan = batch.make_plan(task, settings, seed=1)
    sandboxes = batch.Sandboxes(plan, jobs=1, warm=False)
    entry = inputs.Entry(CORRECT_CONV.name, CORRECT_CONV.stat().st_size, CORRECT_CONV.read_bytes)
    line, batched = batch.grade_entry(plan, sandboxes, entry, "en")

    engine = ColdEngine(settings, {task.id: task}, capacity=1)
    served = engine._graded(Job(task.id, CORRECT_CONV.read_bytes(), 1, "en"), 0.0).document
    engine.stop()
    for document in (graded, batched, served):
        assert document["status"] == "error" and document["error"] == expected, document
    assert line["status"] == "error" and line["error"] == expected


def test_a_bwrap_killed_from_outside_while_it_grades_is_the_graders_failure(tmp_path):
    """bwrap is outside the student's reach (its own pid namespace): killed by a signal the grader
    did not send, the grading is "error" (exit 3, the platform retries), never CRASHED. (An aborted
    sandbox, the grader's own kill, keeps its verdict: the compile-error tests of tests/feedback.)"""
    from grader.sandbox import bwrap

    problem = bwrap.problem(os.geteuid() == 0)
    if problem:
        pytest.skip(f"bwrap cannot run here: {problem}")
    submission = tmp_path / "slow.py"
    submission.write_text("import time\ntime.sleep(4)\n" + CORRECT_CONV.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "grader.yaml").write_text("sandbox: bwrap\nlanguage: en\nshrink:\n  rounds: 0\n", encoding="utf-8")
    grading = subprocess.Popen([*GRADER, "--config", str(tmp_path / "grader.yaml"), "--root", str(REPO), "grade",
                                "--task", "conv_backward", str(submission)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, cwd=REPO)
    try:
        deadline = time.monotonic() + 60  # a hang detector
        while not (sandboxes := _bwrap_children(grading.pid)):
            assert time.monotonic() < deadline and grading.poll() is None, "no sandbox was started"
            time.sleep(0.05)
        time.sleep(1)  # the student's sleep has most likely begun (either way it is not the student's doing)
        for pid in sandboxes:
            os.kill(pid, signal.SIGKILL)
        stdout, _ = grading.communicate(timeout=120)
    finally:
        if grading.poll() is None:
            grading.kill()
            grading.wait()
    document = valid(json.loads(stdout), "feedback.schema.json")
    assert grading.returncode == cli.EXIT_INTERNAL and document["status"] == "error", document.get("summary")
    assert "killed from outside by signal 9" in document["error"]


def _bwrap_children(pid: int) -> list[int]:
    found = []
    for entry in (path for path in Path("/proc").iterdir() if path.name.isdigit()):
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes().split(b"\0")[0]
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid and command.endswith(b"bwrap"):
            found.append(int(entry.name))
    return found
