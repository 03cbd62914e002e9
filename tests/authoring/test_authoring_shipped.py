"""Every shipped task passes `grader validate`, through the real CLI and the real sandbox."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from authoring_support import REPO, run_grader
from grader.spec import yamldoc

SEED_TASKS = ["im2col", "col2im", "conv_backward", "maxpool_backward"]
COURSE_TASKS = ["conv_forward", "maxpool_forward", "avgpool_backward", "conv_transpose", "relu_backward", "affine_backward"]
BACKWARD_TASKS = ["conv_backward", "maxpool_backward", "avgpool_backward", "conv_transpose", "relu_backward", "affine_backward"]
SCHEMA_LINE = "# yaml-language-server: $schema=../grader/schemas/task.schema.json"


@pytest.fixture(scope="module")
def report() -> dict:
    result = run_grader("validate", "--format", "json")
    document = json.loads(result.stdout)
    yamldoc.validator("validation.schema.json").validate(document)
    assert result.returncode == (0 if document["passed"] else 1), result.stderr.decode()[-2000:]
    return document


def test_the_course_has_ten_tasks():
    ids = sorted(p.stem for p in (REPO / "tasks").glob("*.yaml"))
    assert ids == sorted(SEED_TASKS + COURSE_TASKS)


def test_every_shipped_task_is_valid(report):
    assert [t["task"] for t in report["tasks"]] == sorted(SEED_TASKS + COURSE_TASKS)
    broken = {t["task"]: [p for c in t["checks"] for p in c["problems"]] for t in report["tasks"] if not t["passed"]}
    assert not broken, json.dumps(broken, indent=1, ensure_ascii=False)


@pytest.mark.parametrize("task", SEED_TASKS + COURSE_TASKS)
def test_every_check_ran(report, task):
    """No check was skipped: the reference ran in the sandbox and every declared check ran."""
    checks = {c["name"]: c for c in next(t for t in report["tasks"] if t["task"] == task)["checks"]}
    assert list(checks) == ["spec", "code", "params", "coverage", "reference", "misconceptions", "checks", "sandbox"]
    assert all(c["status"] == "passed" for c in checks.values()), checks
    assert "the reference passes" in checks["sandbox"]["summary"]


@pytest.mark.parametrize("task", BACKWARD_TASKS)
def test_backward_tasks_declare_a_gradient_check_that_ran(report, task):
    spec = yaml.safe_load((REPO / "tasks" / f"{task}.yaml").read_text(encoding="utf-8"))
    assert any("gradient" in check for check in spec.get("checks", []))
    summary = next(c for c in next(t for t in report["tasks"] if t["task"] == task)["checks"] if c["name"] == "checks")["summary"]
    assert "coordinates agree" in summary


@pytest.mark.parametrize("task", ["maxpool_backward", "relu_backward"])
def test_the_gradient_check_skips_the_kinks_the_tie_cases_create(report, task):
    summary = next(c for c in next(t for t in report["tasks"] if t["task"] == task)["checks"] if c["name"] == "checks")["summary"]
    assert re.search(r"gradient of x: [1-9][0-9]* coordinates agree \(max error [^)]*\), [1-9][0-9]* on a kink skipped$", summary), summary


@pytest.mark.parametrize("task", SEED_TASKS + COURSE_TASKS)
def test_every_corner_is_reached_and_every_tie_rule_has_a_case_that_ties(report, task):
    coverage = next(c for c in next(t for t in report["tasks"] if t["task"] == task)["checks"] if c["name"] == "coverage")
    assert not coverage["warnings"]
    assert {c["status"] for c in coverage["coverage"]["corners"]} <= {"fixed", "random", "unreachable"}
    assert all(c["cases"] for c in coverage["coverage"]["corners"] if c["status"] != "unreachable")
    ties = coverage["coverage"]["ties"]
    assert bool(ties["rules"]) == (task in ("maxpool_backward", "maxpool_forward", "relu_backward"))
    assert not ties["rules"] or ties["cases"]


@pytest.mark.parametrize("task", ["im2col", "col2im"])
def test_the_pair_checks_its_adjoint_identity(report, task):
    summary = next(c for c in next(t for t in report["tasks"] if t["task"] == task)["checks"] if c["name"] == "checks")["summary"]
    assert "adjoint of" in summary and "holds on" in summary


@pytest.mark.parametrize("task", COURSE_TASKS)
def test_course_tasks_have_misconceptions_in_both_languages(task):
    spec = yaml.safe_load((REPO / "tasks" / f"{task}.yaml").read_text(encoding="utf-8"))
    assert len(spec["misconceptions"]) >= 3
    for misconception in spec["misconceptions"]:
        assert misconception["message"]["zh"].strip() and misconception["message"]["en"].strip()


@pytest.mark.parametrize("task", SEED_TASKS + COURSE_TASKS)
def test_specs_name_their_schema_for_editors(task):
    first_line = (REPO / "tasks" / f"{task}.yaml").read_text(encoding="utf-8").split("\n")[0]
    assert first_line == SCHEMA_LINE


@pytest.mark.parametrize("task", COURSE_TASKS)
def test_course_tasks_have_the_edge_cases(task):
    """Several images and channels, a non-square case and one larger case (about 8x8x28x28)."""
    spec = yaml.safe_load((REPO / "tasks" / f"{task}.yaml").read_text(encoding="utf-8"))
    fixed = [case["params"] for case in spec["cases"]["fixed"]]
    channels = [name for name in ("C", "C_in") if name in spec["params"]][0]
    assert any(p["N"] > 1 and p[channels] > 1 for p in fixed)
    assert any(p["H"] != p["W"] for p in fixed)
    assert any(p["N"] == 8 and p[channels] == 8 and p["H"] >= 14 for p in fixed)
    assert len(fixed) >= 6


def test_text_report_of_one_task():
    result = run_grader("validate", "--no-sandbox", "relu_backward")
    out = result.stdout.decode()
    assert result.returncode == 0, out
    assert out.startswith("relu_backward: valid\n")
    assert "skip sandbox" in out and "all 1 tasks are valid" in out


def test_unknown_task_is_a_usage_error():
    result = run_grader("validate", "no_such_task")
    assert result.returncode == 2
    assert "unknown task(s) no_such_task" in result.stderr.decode()
