"""A sandbox that fails before the student's code ran (or is killed from outside while it runs) is
the grader's failure, told the same way by `grader grade`, `grader batch` and `grader serve`'s
engine (status "error", the same reason)."""

from __future__ import annotations

import json
import os
import shutil
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
from grader.service.engine import Job, WarmEngine
from grader.spec import config, taskspec
from grader.spec.taskspec import TaskError
from platform_support import CORRECT_CONV, GRADER, REPO, results_lines, run_grader, valid

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


def _relu_root(root, breakage: str):
    """A tasks root holding relu_backward (and im2col, which stays whole), broken as ``breakage`` says."""
    for task in ("relu_backward", "im2col"):
        for relative in (f"tasks/{task}.yaml", f"reference/{task}.py", f"student_template/{task}.py"):
            (root / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(REPO / relative, root / relative)
    template, reference = root / "student_template" / "relu_backward.py", root / "reference" / "relu_backward.py"
    if breakage == "template_without_markers":
        template.write_text("".join(line for line in template.read_text().splitlines(keepends=True)
                                    if line.strip() not in (taskspec.BEGIN_MARKER, taskspec.END_MARKER)))
    elif breakage == "reference_missing":
        reference.unlink()
    elif breakage == "reference_does_not_compile":
        reference.write_text(reference.read_text() + "\ndef (\n")
    return root


BREAKAGES = ["template_without_markers", "reference_missing", "reference_does_not_compile"]
BLOCK = b"dx = dout * (self.x > 0)\nreturn dx\n"


def _told_not_their_fault(document: dict, root) -> None:
    """status error, a summary that says it is not the student's fault and names no server path;
    the path only in `error`."""
    valid(document, "feedback.schema.json")
    assert document["status"] == "error" and not document["gradable"], document
    assert "not your fault" in document["summary"] and "broken" in document["summary"]
    assert str(root) not in document["summary"] and "/" not in document["summary"]
    assert str(root) in document["error"]


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_a_broken_task_never_blames_the_student_in_grade_batch_or_the_service(breakage, tmp_path):
    from grader.authoring.validation import run as validation
    from grader.service import lifecycle

    root = _relu_root(tmp_path / "root", breakage)
    submission = tmp_path / "block.py"
    submission.write_bytes(BLOCK)
    settings = config.load(None, str(root))
    # The one check: `grader validate` calls the task broken...
    assert not validation.validate("relu_backward", settings, sandbox=False).passed
    # ...and so does every way of grading it.
    graded = run_grader("--root", str(root), "grade", "--task", "relu_backward", "--lang", "en", str(submission))
    assert graded.returncode == cli.EXIT_INTERNAL, graded.stderr
    _told_not_their_fault(json.loads(graded.stdout), root)
    assert str(root) in graded.stderr.decode()

    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "a.py").write_bytes(BLOCK)
    out = tmp_path / "results.jsonl"
    batched = run_grader("--root", str(root), "batch", "--task", "relu_backward", str(folder), "--out", str(out),
                         "--feedback-dir", str(tmp_path / "feedback"), "--lang", "en", "--jobs", "1")
    assert batched.returncode == cli.EXIT_INTERNAL, batched.stderr
    [line] = results_lines(out)
    valid(line, "batch-results.schema.json")
    assert line["status"] == "error" and str(root) in line["error"]
    _told_not_their_fault(json.loads((tmp_path / "feedback" / "a.py.json").read_text()), root)
    assert str(root) in batched.stderr.decode()

    service_settings = type("ServiceSettings", (), {"grader": settings, "values": {"tasks": None}})
    tasks, refused = lifecycle.load_tasks(service_settings)
    assert "im2col" in tasks
    if breakage != "reference_does_not_compile":  # refused when the service starts (503 task-refused)
        assert "relu_backward" in refused
    else:  # found when the reference is imported: its self-test fails, and a grading is an error
        engine = WarmEngine(settings, tasks, capacity=1)
        try:
            served = engine._graded(Job("relu_backward", BLOCK, 1, "en"), 0.0).document
        finally:
            engine.stop()
        _told_not_their_fault(served, root)


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
        # Found again: the first one seen may have been a short probe of bwrap that has ended since.
        sandboxes = _bwrap_children(grading.pid)
        assert sandboxes, "the sandbox ended before the student's sleep did"
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
