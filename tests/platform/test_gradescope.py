"""--format gradescope and run_autograder: Gradescope's results.json, valid against its spec."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.feedback import gradescope
from grader.spec import yamldoc
from platform_support import EXAMPLES, REPO, run_grader, valid

SCHEMA = "gradescope-results.schema.json"
RUN_AUTOGRADER = REPO / "deploy" / "gradescope" / "run_autograder"
BUILD = REPO / "deploy" / "gradescope" / "build.sh"


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


def test_the_error_that_stopped_every_test_shows_the_students_line_once():
    _, results = grade_both(b"def broken(:\n    return 1\n")
    block = re.search(r"```\n(.*?)\n```", results["output"], re.S)
    assert block, results["output"]
    assert "def broken(:" in block.group(1) and "^" in block.group(1)
    assert not any("def broken(:" in test["output"] for test in results["tests"])


def test_the_summary_says_what_the_grader_noticed_about_the_file():
    changed = (EXAMPLES / "conv_backward" / "correct.py").read_bytes() + b"\nEXTRA_OUTSIDE_THE_BLANKS = 1\n"
    feedback, results = grade_both(changed)
    outside = feedback["submission"]["outside_blanks"]
    assert outside["action"] == "graded" and outside["message"] in results["output"].replace("\\", "")
    feedback["hidden_hints"] = [{"code": "ONLY_LARGEST_FAIL", "message": "a hint from the hidden tests"}]
    assert "- a hint from the hidden tests" in gradescope.results(feedback)["output"]


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


def build(tmp_path: Path, task: str = "conv_backward", lang: str = "en") -> Path:
    """The autograder zip of ``task`` that deploy/gradescope/build.sh makes."""
    out = tmp_path / f"autograder-{task}.zip"
    done = subprocess.run(["bash", str(BUILD), task, lang, str(out)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHON": sys.executable})
    assert done.returncode == 0, done.stderr
    return out


def autograder_layout(tmp_path: Path, submissions: dict[str, bytes]) -> Path:
    """/autograder as Gradescope lays it out: the zip unpacked in source/, the submission beside it."""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(build(tmp_path)) as archive:
        archive.extractall(root / "source")
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


def _packed(archive: Path) -> set[str]:
    with zipfile.ZipFile(archive) as opened:
        return {name.rstrip("/") for name in opened.namelist()}


@pytest.mark.parametrize("task,support", [("conv_backward", ["student_template/utils.py"]), ("im2col", [])])
def test_the_zip_holds_what_the_autograder_needs_and_nothing_else(tmp_path, task, support):
    packed = _packed(build(tmp_path, task, "zh"))
    package = set(subprocess.run(["git", "-C", str(REPO), "ls-files", "--", "grader"], capture_output=True, text=True,
                                 check=True).stdout.split())
    files = {name for name in packed if not any(other.startswith(name + "/") for other in packed)}
    assert files == {"setup.sh", "run_autograder", "task", "lang", "pyproject.toml", "README.md", "grader.yaml",
                     "deploy/requirements.txt", f"tasks/{task}.yaml", f"student_template/{task}.py",
                     f"reference/{task}.py", *support} | package
    assert not {name.split("/")[0] for name in packed} & {"tests", "bench", "examples", "docs", "scripts", ".git",
                                                          ".venv", ".interpreters", "dist", "Dockerfile", ".ci"}
    assert not [name for name in packed if "__pycache__" in name or name.endswith(".pyc")]
    with zipfile.ZipFile(tmp_path / f"autograder-{task}.zip") as opened:
        assert opened.read("task").decode().strip() == task and opened.read("lang").decode().strip() == "zh"
        assert opened.getinfo("run_autograder").external_attr >> 16 & 0o111, "run_autograder is executable"
        # no correct answer but the task's own (hidden) reference
        correct = (EXAMPLES / "conv_backward" / "correct_block.py").read_bytes()
        assert not any(correct in opened.read(name) for name in opened.namelist() if not name.endswith("/"))


def test_setup_and_run_autograder_use_only_what_the_zip_holds(tmp_path):
    """Every path of /autograder/source the two scripts read is packed; Gradescope copies run_autograder
    from the zip's root to /autograder/run_autograder."""
    packed = _packed(build(tmp_path))
    assert {"setup.sh", "run_autograder"} <= packed
    for script in ("setup.sh", "run_autograder"):
        text = (REPO / "deploy" / "gradescope" / script).read_text(encoding="utf-8")
        used = re.findall(r"(?:/autograder/source|\$root/source)/([\w./-]+)", text)
        assert used or script == "setup.sh" and "/autograder/source" in text
        missing = [path for path in used if path.rstrip("/") not in packed]
        assert not missing, f"{script} reads {missing}, which the zip does not hold"
        assert not re.findall(r"/autograder/source/(?:tests|examples|bench|scripts|docs)\b", text)
    assert "deploy/requirements.txt" in re.findall(r"/autograder/source/([\w./-]+)",
                                                   (REPO / "deploy" / "gradescope" / "setup.sh").read_text())


def test_the_zip_goes_to_a_folder_git_ignores_by_default(tmp_path):
    default = REPO / "dist" / "gradescope" / "autograder-relu_backward.zip"
    made = [folder for folder in (default.parent.parent, default.parent, default) if not folder.exists()]
    done = subprocess.run(["bash", str(BUILD), "relu_backward"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHON": sys.executable})
    try:
        assert done.returncode == 0 and str(default) in done.stdout, done.stderr
        assert subprocess.run(["git", "-C", str(REPO), "check-ignore", "-q", str(default)]).returncode == 0
    finally:  # leave the checkout as it was
        for path in reversed(made):
            if path == default:
                path.unlink(missing_ok=True)
            else:
                path.rmdir()


@pytest.mark.parametrize("args,says", [(["no_such_task"], "unknown task"), (["im2col", "fr"], "zh or en")])
def test_build_refuses_a_wrong_argument(tmp_path, args, says):
    done = subprocess.run(["bash", str(BUILD), *args, str(tmp_path / "out.zip")], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHON": sys.executable})
    assert done.returncode == 2 and says in done.stderr and not (tmp_path / "out.zip").exists()
