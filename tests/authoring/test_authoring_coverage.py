"""`grader validate`'s coverage check: who reaches each corner of the parameter space, and a
warning when the reference decides by ties or exact values but no case can tie; `grader new
--ties` writes a case that can."""

from __future__ import annotations

import ast
import json

import pytest

from authoring_support import DEMO, REPO, run_grader, write_scaffold
from grader.authoring.validation import coverage
from grader.authoring.validation import run as validation
from grader.spec import config, yamldoc

SPEC = f"tasks/{DEMO}.yaml"
REFERENCE = f"reference/{DEMO}.py"
# A rule that depends on exact values: a ReLU before the scale, whose gradient passes only where x > 0.
RELU_GATE = [("        self.x = np.asarray(x, dtype=np.float64)",
              "        self.x = np.maximum(np.asarray(x, dtype=np.float64), 0)"),
             ("        return dout * self.gamma.reshape(1, -1, 1, 1)",
              "        return dout * self.gamma.reshape(1, -1, 1, 1) * (self.x > 0)")]


def _coverage(root, task=DEMO, **settings_override):
    settings = config.load(None, str(root))
    for key, value in settings_override.items():
        settings.values[key] = value
    report = validation.validate(task, settings, sandbox=False)
    return next(c for c in report.checks if c.name == "coverage"), report


def _edit(root, relative, replacements):
    path = root / relative
    text = path.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize("code, expected", [
    ("i = np.argmax(col, axis=1)", ["np.argmax"]),
    ("out = col.max(axis=1)", ["col.max"]),
    ("mask = x <= 0", ["x <= 0"]),
    ("dx = dout * (x > 0)", ["x > 0"]),
    ("y = np.where(x > 0, x, 0)", ["np.where", "x > 0"]),
    ("y = np.maximum(x, 0)", ["np.maximum"]),
    ("if pad > 0:\n    x = 1", []),
    ("while h < H:\n    h += 1", []),
    ("assert x.ndim == 4", []),
    ("n = a if a > b else b", []),
    ("s = [h for h in range(H) if h % 2 == 0]", []),
    ("half = math.floor(H / 2)", []),
    ("out = max(1, H - 4)", []),
    ("x = np.pad(x, 1) @ w", []),
])
def test_tie_rules_are_calls_and_comparisons_on_data_not_on_sizes(code, expected):
    assert [what for _, what in coverage.tie_rules(ast.parse(code))] == expected


def test_the_scaffold_has_no_tie_rule_and_reaches_every_corner(tmp_path):
    check, report = _coverage(write_scaffold(tmp_path / "root"))
    assert report.passed and check.status == "passed" and not check.warnings
    assert check.coverage["ties"] == {"rules": [], "cases": []}
    statuses = {c["corner"]: c["status"] for c in check.coverage["corners"]}
    assert set(statuses.values()) <= {"fixed", "random"}
    assert statuses["N = 1 (minimum)"] == "fixed" and statuses["H = 1 (minimum)"] == "random"
    assert all(c["cases"] for c in check.coverage["corners"])


def test_a_tie_rule_without_a_case_that_can_tie_is_warned_about(tmp_path):
    root = write_scaffold(tmp_path / "root")
    _edit(root, REFERENCE, RELU_GATE)
    check, report = _coverage(root)
    assert report.passed, "a warning, not a failure"
    assert check.coverage["ties"]["rules"] == [f"np.maximum ({DEMO}.py:{_line_of(root, 'np.maximum')})",
                                               f"self.x > 0 ({DEMO}.py:{_line_of(root, 'self.x > 0')})"]
    assert check.coverage["ties"]["cases"] == []
    warning = next(w for w in check.warnings if "ties" in w)
    assert f"{SPEC}:" in warning and "decides by ties or exact values (np.maximum" in warning
    assert "distribution: integers" in warning


def test_a_case_that_draws_integers_answers_the_warning_and_new_ties_writes_one(tmp_path):
    root = write_scaffold(tmp_path / "root", ties=True)
    _edit(root, REFERENCE, RELU_GATE)
    check, report = _coverage(root)
    assert report.passed and not check.warnings, check.warnings
    assert check.coverage["ties"]["cases"] == ["ties"]
    checks = {c.name: c for c in report.checks}
    assert checks["checks"].status == "passed", "the gradient check skips the kinks at x == 0"


def test_too_few_random_cases_leave_corners_missed(tmp_path):
    root = write_scaffold(tmp_path / "root")
    check, report = _coverage(root, cases={"random": 0})
    missed = [c["corner"] for c in check.coverage["corners"] if c["status"] == "missed"]
    assert missed == ["H = 1 (minimum)", "W = 1 (minimum)"]
    assert report.passed and len(check.warnings) == 2
    assert "no case of a run reaches H = 1 (minimum)" in check.warnings[0] and "cases.random is 0" in check.warnings[0]


def test_new_ties_through_the_cli_validates_and_its_case_ties(tmp_path):
    root = tmp_path / "course"
    created = run_grader("--root", str(root), "new", "gate", "--ties")
    assert created.returncode == 0, created.stderr.decode()
    spec = (root / "tasks" / "gate.yaml").read_text(encoding="utf-8")
    assert "inputs: {x: {distribution: integers, low: -2, high: 2}}" in spec
    validated = run_grader("--root", str(root), "validate", "--no-sandbox", "--format", "json", "gate")
    document = json.loads(validated.stdout)
    yamldoc.validator("validation.schema.json").validate(document)
    assert validated.returncode == 0 and document["passed"]
    coverage = next(c for c in document["tasks"][0]["checks"] if c["name"] == "coverage")
    assert coverage["coverage"]["ties"]["cases"] == ["ties"]
    text = run_grader("--root", str(root), "validate", "--no-sandbox", "gate").stdout.decode()
    assert "coverage" in text and "random cases reach: H = 1 (minimum)" in text


def _line_of(root, fragment):
    lines = (root / REFERENCE).read_text(encoding="utf-8").split("\n")
    return next(i for i, line in enumerate(lines, start=1) if fragment in line)


def test_the_shipped_tasks_that_decide_by_ties_have_cases_that_tie():
    result = run_grader("validate", "--no-sandbox", "--format", "json",
                        "maxpool_backward", "maxpool_forward", "relu_backward", "conv_backward")
    tasks = {t["task"]: next(c for c in t["checks"] if c["name"] == "coverage") for t in json.loads(result.stdout)["tasks"]}
    assert tasks["maxpool_backward"]["coverage"]["ties"] == {
        "rules": ["np.argmax (maxpool_backward.py:68)", "np.max (maxpool_backward.py:69)"],
        "cases": ["overlap_stride1", "overlap_stride2"]}
    assert tasks["maxpool_forward"]["coverage"]["ties"]["cases"] == ["overlap_stride1", "overlap_stride2_pad2"]
    assert tasks["relu_backward"]["coverage"]["ties"] == {"rules": ["x <= 0 (relu_backward.py:18)"], "cases": ["batch_channels"]}
    assert tasks["conv_backward"]["coverage"]["ties"] == {"rules": [], "cases": []}
    assert not any(c["warnings"] for c in tasks.values())
    assert (REPO / "tasks" / "relu_backward.yaml").is_file()
