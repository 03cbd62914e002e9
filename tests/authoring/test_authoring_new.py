"""`grader new` scaffolds a task that passes `grader validate` as generated, and grades."""

from __future__ import annotations

import json

from authoring_support import run_grader


def test_new_task_validates_and_grades_as_generated(tmp_path):
    root = tmp_path / "course"
    result = run_grader("--root", str(root), "new", "channel_scale")
    assert result.returncode == 0, result.stderr.decode()
    for relative in ("tasks/channel_scale.yaml", "reference/channel_scale.py", "student_template/channel_scale.py"):
        assert (root / relative).is_file()
    assert "class ChannelScale" in (root / "student_template" / "channel_scale.py").read_text(encoding="utf-8")

    validated = run_grader("--root", str(root), "validate", "--format", "json", "channel_scale")
    report = json.loads(validated.stdout)
    assert validated.returncode == 0, json.dumps(report, indent=1)
    checks = {c["name"]: c["status"] for c in report["tasks"][0]["checks"]}
    assert set(checks.values()) == {"passed"}, checks

    template = run_grader("--root", str(root), "grade", "--task", "channel_scale", str(root / "student_template" / "channel_scale.py"))
    assert json.loads(template.stdout)["status"] == "failed"
    block = "self.dgamma = (dout * self.x).sum(axis=(0, 2, 3))\nreturn dout * self.gamma.reshape(1, -1, 1, 1)\n"
    graded = run_grader("--root", str(root), "grade", "--task", "channel_scale", "-", stdin=block.encode())
    feedback = json.loads(graded.stdout)
    assert graded.returncode == 0 and feedback["status"] == "passed", feedback


def test_new_refuses_to_overwrite(tmp_path):
    root = tmp_path / "course"
    assert run_grader("--root", str(root), "new", "channel_scale").returncode == 0
    spec = root / "tasks" / "channel_scale.yaml"
    spec.write_text(spec.read_text(encoding="utf-8") + "# edited by the author\n", encoding="utf-8")
    again = run_grader("--root", str(root), "new", "channel_scale")
    assert again.returncode == 2
    assert "exist already, nothing was written" in again.stderr.decode()
    assert spec.read_text(encoding="utf-8").endswith("# edited by the author\n")


def test_new_rejects_a_bad_id(tmp_path):
    result = run_grader("--root", str(tmp_path), "new", "Bad-Name")
    assert result.returncode == 2
    assert "is not a task id" in result.stderr.decode()
    assert not (tmp_path / "tasks").exists()


def test_new_function_and_named_class_validate_and_grade_as_generated(tmp_path):
    root = tmp_path / "course"
    made = run_grader("--root", str(root), "new", "affine_demo", "--function", "channel_affine", "--ties")
    assert made.returncode == 0, made.stderr.decode()
    assert "def channel_affine(x, gamma, beta):" in (root / "student_template" / "affine_demo.py").read_text()
    named = run_grader("--root", str(root), "new", "scale_demo", "--class", "MyScale")
    assert named.returncode == 0, named.stderr.decode()
    assert "class MyScale:" in (root / "reference" / "scale_demo.py").read_text()
    validated = run_grader("--root", str(root), "validate", "--format", "json")
    report = json.loads(validated.stdout)
    assert validated.returncode == 0, json.dumps(report, indent=1)
    for task in report["tasks"]:
        assert {c["status"] for c in task["checks"]} == {"passed"}, task
    block = b"return x * gamma.reshape(1, -1, 1, 1) + beta.reshape(1, -1, 1, 1)\n"
    graded = run_grader("--root", str(root), "grade", "--task", "affine_demo", "-", stdin=block)
    assert graded.returncode == 0 and json.loads(graded.stdout)["status"] == "passed", graded.stdout
    shifted_first = b"return (x + beta.reshape(1, -1, 1, 1)) * gamma.reshape(1, -1, 1, 1)\n"
    graded = json.loads(run_grader("--root", str(root), "grade", "--task", "affine_demo", "-", stdin=shifted_first).stdout)
    assert [d["id"] for d in graded["diagnoses"]] == ["affine_demo_shift_before_scale"]


def test_new_refuses_names_that_are_not_python_names(tmp_path):
    for args in (["--class", "1Bad"], ["--function", "lambda"], ["--function", "f-g"], ["--class", "A", "--function", "b"]):
        result = run_grader("--root", str(tmp_path), "new", "demo", *args)
        assert result.returncode == 2, args
        assert b"Traceback" not in result.stderr
    assert not (tmp_path / "tasks").exists()
