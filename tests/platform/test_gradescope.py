"""--format gradescope and run_autograder: Gradescope's results.json, valid against its spec."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from grader import yamldoc
from platform_support import EXAMPLES, REPO, run_grader, valid

SCHEMA = "gradescope-results.schema.json"
RUN_AUTOGRADER = REPO / "deploy" / "gradescope" / "run_autograder"


def grade_both(submission: Path | bytes, *extra: str) -> tuple[dict, dict]:
    """(feedback JSON, Gradescope results) of the same grading (same seed)."""
    outputs = []
    for output_format in ("json", "gradescope"):
        args = ["grade", "--task", "conv_backward", "--seed", "11", "--lang", "en", "--format", output_format, *extra]
        if isinstance(submission, Path):
            done = run_grader(*args, str(submission))
        else:
            done = run_grader(*args, "-", stdin=submission)
        assert done.returncode == 0, done.stderr
        outputs.append(json.loads(done.stdout))
    return outputs[0], valid(outputs[1], SCHEMA)


@pytest.mark.parametrize("name", ["correct.py", "correct_block.py", "wrong_conv_dw_without_transpose.py", "wrong_conv_db_keepdims.py"])
def test_results_carry_the_same_verdict_as_the_feedback(name):
    feedback, results = grade_both(EXAMPLES / "conv_backward" / name)
    assert results["score"] == feedback["score"]
    assert results["output_format"] == "md"
    shrunk = [feedback["shrunk"]] if feedback.get("shrunk") else []
    assert [t["name"].split(" - ")[0] for t in results["tests"]] == [t["name"] for t in feedback["tests"] + shrunk]
    for test, case in zip(results["tests"], feedback["tests"] + shrunk):
        assert (test["score"], test["max_score"]) == (case["score"], case["max_score"])
        assert test["status"] == ("passed" if case["status"] == "passed" else "failed")
        assert test["visibility"] == "visible" and test["output_format"] == "md" and test["output"]
    assert results["extra_data"]["status"] == feedback["status"]
    assert results["extra_data"]["seed"] == 11


def test_a_hidden_case_shows_no_inputs():
    feedback, results = grade_both(EXAMPLES / "conv_backward" / "wrong_conv_dw_without_transpose.py")
    hidden = [t for t in results["tests"] if "hidden" in t["tags"]]
    assert hidden
    for test in hidden:
        assert "N=" not in test["output"] and "`(" not in test["output"]


def test_a_failing_case_shows_its_diagnostics_and_the_shrunk_case_is_a_zero_point_test():
    done = run_grader("grade", "--task", "col2im", "--seed", "3", "--lang", "en", "--format", "gradescope",
                      str(EXAMPLES / "col2im" / "wrong_col2im_assign_overlaps.py"))
    results = valid(json.loads(done.stdout), SCHEMA)
    failing = next(t for t in results["tests"] if t["status"] == "failed" and "visible" in t["tags"] and "fixed" in t["tags"])
    assert "```\n" in failing["output"] and "≠" in failing["output"]  # the error map, the worst element
    shrunk = results["tests"][-1]
    assert "shrunk" in shrunk["tags"] and (shrunk["score"], shrunk["max_score"]) == (0, 0)
    assert results["score"] == sum(t["score"] for t in results["tests"])
    assert "col2im_assign_overlaps" in results["extra_data"]["diagnoses"]


def test_a_submission_that_does_not_compile_is_a_valid_zero():
    feedback, results = grade_both(b"def broken(:\n")
    assert results["score"] == 0 and results["extra_data"]["gradable"] is False
    assert all(t["status"] == "failed" for t in results["tests"])


def test_student_output_cannot_break_out_of_its_code_block():
    hostile = (EXAMPLES / "conv_backward" / "correct.py").read_bytes() + (
        b"\nprint('````\\n<script>alert(1)</script>\\n[x](javascript:alert(1)) **bold**')\n")
    _, results = grade_both(hostile)
    output = results["output"]
    fence = "`````"
    assert output.count(fence) == 2, output
    inside = output.split(fence)[1]
    assert "<script>" in inside and "<script>" not in output.replace(inside, "")


def test_a_grader_error_is_still_a_valid_results_file(tmp_path):
    root = tmp_path / "root"
    for folder in ("tasks", "student_template", "reference"):
        shutil.copytree(REPO / folder, root / folder)
    (root / "reference" / "conv_backward.py").write_text("raise RuntimeError('a broken reference')\n")
    done = run_grader("--root", str(root), "grade", "--task", "conv_backward", "--format", "gradescope",
                      str(EXAMPLES / "conv_backward" / "correct.py"))
    assert done.returncode == 3
    results = valid(json.loads(done.stdout), SCHEMA)
    assert results["score"] == 0 and results["extra_data"]["status"] == "error"
    assert "broken reference" in results["extra_data"]["error"]


@pytest.mark.parametrize("document", [
    {"tests": [{"name": "no score anywhere", "status": "passed"}]},
    {"score": 1, "tests": [{"score": 1, "status": "error"}]},
    {"score": 1, "visibility": "students"},
    {"score": 1, "output_format": "markdown"},
    {"score": 1, "tests": [{"score": 1, "number": 1}]},
    {"score": 1, "unknown_key": True},
])
def test_the_schema_refuses_what_the_specification_does_not_allow(document):
    assert list(yamldoc.validator(SCHEMA).iter_errors(document))


def test_the_schema_accepts_the_specifications_own_examples():
    example = {
        "score": 44.0, "execution_time": 136, "output": "Text relevant to the entire submission",
        "output_format": "simple_format", "test_output_format": "text", "test_name_format": "text",
        "visibility": "after_due_date", "stdout_visibility": "visible", "extra_data": {},
        "tests": [{"score": 2.0, "max_score": 2.0, "status": "passed", "name": "Your name here", "name_format": "text",
                   "number": "1.1", "output": "Giant multiline string", "output_format": "text",
                   "tags": ["tag1", "tag2"], "visibility": "visible", "extra_data": {}}],
        "leaderboard": [{"name": "Accuracy", "value": .926}, {"name": "Time", "value": 15.1, "order": "asc"},
                        {"name": "Stars", "value": "*****"}],
    }
    valid(example, SCHEMA)
    valid({"tests": [{"name": "Compilation check", "status": "passed", "score": 0}]}, SCHEMA)


def autograder_layout(tmp_path: Path, submissions: dict[str, bytes]) -> Path:
    root = tmp_path / "autograder"
    shutil.copytree(REPO, root / "source", ignore=shutil.ignore_patterns(".venv", ".git", "__pycache__", "tests"))
    (root / "source" / "task").write_text("conv_backward\n")
    (root / "submission").mkdir()
    for name, data in submissions.items():
        (root / "submission" / name).write_bytes(data)
    return root


def run_autograder(root: Path) -> dict:
    grader = Path(os.environ.get("VIRTUAL_ENV", REPO / ".venv")) / "bin" / "grader"
    done = subprocess.run(["bash", str(RUN_AUTOGRADER)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "AUTOGRADER_ROOT": str(root), "GRADER": str(grader)})
    assert done.returncode == 0, done.stderr
    return valid(json.loads((root / "results" / "results.json").read_text()), SCHEMA)


def test_run_autograder_grades_the_file_named_after_the_task(tmp_path):
    correct = (EXAMPLES / "conv_backward" / "correct.py").read_bytes()
    wrong = (EXAMPLES / "conv_backward" / "wrong_conv_db_wrong_axis.py").read_bytes()
    root = autograder_layout(tmp_path, {"a_notes.py": wrong, "conv_backward.py": correct})
    results = run_autograder(root)
    assert results["extra_data"]["status"] == "passed"
    assert results["score"] == sum(test["max_score"] for test in results["tests"])


def test_run_autograder_without_any_python_file_still_writes_results(tmp_path):
    root = autograder_layout(tmp_path, {"readme.txt": b"I forgot the code"})
    results = run_autograder(root)
    assert results["score"] == 0 and results["extra_data"]["status"] == "failed"
