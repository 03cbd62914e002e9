"""A sandbox that fails before the student's code ran is the grader's failure, told the same way
by `grader grade`, `grader batch` and `grader serve`'s engine (status "error", the same reason)."""

from __future__ import annotations

import json

import pytest

from grader import cli
from grader.batch import inputs
from grader.batch import run as batch
from grader.grading import failures
from grader.sandbox import launch
from grader.sandbox.errors import SandboxError, SandboxFailure, SandboxUnavailable, WorkerLost
from grader.service.engine import Job, WarmEngine
from grader.spec import config, taskspec
from grader.spec.taskspec import TaskError
from platform_support import CORRECT_CONV, REPO

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

    engine = WarmEngine(settings, {task.id: task}, capacity=1)
    served = engine._graded(Job(task.id, CORRECT_CONV.read_bytes(), 1, "en"), 0.0).document
    engine.stop()
    for document in (graded, batched, served):
        assert document["status"] == "error" and document["error"] == expected, document
    assert line["status"] == "error" and line["error"] == expected
