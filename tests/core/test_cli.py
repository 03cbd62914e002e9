"""The grader end to end through its command line, as the platform calls it."""

import json
import shutil

import pytest

from core_support import ROOT, SEED_TASKS, feedback_of, run_cli


@pytest.mark.parametrize("task", SEED_TASKS)
def test_the_reference_as_a_student_file_passes_and_the_template_fails(task, grade):
    code, passed = grade(task, ROOT / "reference" / f"{task}.py")
    assert code == 0 and passed["status"] == "passed" and passed["score"] == passed["max_score"] > 0
    assert len(passed["tests"]) >= 10
    code, failed = grade(task, ROOT / "student_template" / f"{task}.py")
    assert code == 0 and failed["status"] == "failed" and failed["score"] == 0
    assert {t["code"] for t in failed["tests"]} == {"MISSING_OUTPUT"}


def test_the_seed_replays_a_run_exactly(grade):
    path = ROOT / "examples" / "maxpool_backward" / "wrong_maxpool_overwrite_overlaps.py"
    _, first = grade("maxpool_backward", path, "--seed", "99")
    _, again = grade("maxpool_backward", path, "--seed", "99")
    _, other = grade("maxpool_backward", path, "--seed", "100")
    for document in (first, again, other):  # what was measured differs; the limits applied do not
        document.pop("timing")
        document["resources"] = document["resources"]["limits"]
    assert first == again and first["seed"] == 99
    assert first["tests"] != other["tests"]


def test_a_block_only_submission_passes_and_says_so_in_both_languages(grade):
    block = (ROOT / "examples" / "conv_backward" / "correct_block.py").read_bytes()
    _, english = grade("conv_backward", block, "--lang", "en")
    _, chinese = grade("conv_backward", block, "--lang", "zh")
    assert english["status"] == chinese["status"] == "passed"
    assert english["submission"]["mode"] == "block" and "markers" in english["submission"]["mode_message"]
    assert "标记" in chinese["submission"]["mode_message"]


def test_each_check_reports_its_shape_check_and_max_abs_error(grade):
    _, document = grade("conv_backward", ROOT / "examples" / "conv_backward" / "wrong_conv_dw_without_transpose.py", "--seed", "3")
    failed = [t for t in document["tests"] if t["status"] == "failed"]
    assert failed
    checks = {c["output"]: c for c in failed[0]["checks"]}
    assert set(checks) == {"dx", "dW", "db"}
    assert checks["dx"]["status"] == "passed" and checks["dx"]["max_abs_error"] <= 1e-5
    assert checks["dW"]["code"] == "WRONG_VALUES" and checks["dW"]["shape_ok"] and checks["dW"]["max_abs_error"] > 1e-5


@pytest.mark.parametrize("source, code", [
    ("def im2col(:\n", "COMPILE_ERROR"),
    ("import no_such_module\ndef im2col(*a):\n    pass\n", "IMPORT_ERROR"),
    ("def im2col(x, fh, fw, stride=1, pad=0):\n    return [[1.0]]\n", "SHAPE_MISMATCH"),
    ("def im2col(x, fh, fw, stride=1, pad=0):\n    return 1 / 0\n", "RUNTIME_ERROR"),
    ("def im2col(x, fh, fw, stride=1, pad=0):\n    return x.astype(complex)\n", "BAD_DTYPE"),
    ("import numpy as np\ndef im2col(x, fh, fw, stride=1, pad=0):\n    return np.full((x.shape[0],), np.nan)\n", "SHAPE_MISMATCH"),
    ("def im2col(x, fh, fw, stride=1, pad=0):\n    return 'text'\n", "WRONG_TYPE"),
    ("########## Begin ##########\n########## End ##########\ndef unrelated():\n    pass\n", "MISSING_ENTRY"),
])
def test_broken_submissions_get_a_failed_verdict_with_a_stable_code(source, code, grade):
    exit_code, document = grade("im2col", source, "--lang", "en")
    assert exit_code == 0 and document["status"] == "failed"
    assert code in {t["code"] for t in document["tests"]}
    assert document["gradable"] is (code != "COMPILE_ERROR")


def test_nan_outputs_of_the_right_shape_are_not_finite(grade):
    source = "import numpy as np\ndef col2im(col, shape, fh, fw, stride=1, pad=0):\n    return np.full(shape, np.nan)\n"
    _, document = grade("col2im", source)
    assert {t["code"] for t in document["tests"]} == {"NOT_FINITE"}


def test_an_infinite_loop_is_stopped_by_the_limits(grade, tmp_path):
    config = tmp_path / "grader.yaml"
    config.write_text(f"tasks_root: {ROOT}\nlimits:\n  wall_seconds: 3\n  cpu_seconds: 2\n")
    _, document = grade("im2col", "def im2col(*args):\n    while True:\n        pass\n", "--config", str(config))
    codes = [t["code"] for t in document["tests"]]
    assert codes.count("TIMEOUT") == 1 and set(codes) == {"TIMEOUT", "NOT_RUN"}


def test_usage_errors_exit_2_with_a_json_error():
    for args in (["grade", "--task", "no_such_task", "x.py"], ["grade", "--task", "im2col", "/no/such/file.py"], ["grade", "--task"],
                 ["grade", "--task", "im2col", "--lang", "fr", "x.py"]):
        completed = run_cli(*args)
        assert completed.returncode == 2, args
        document = feedback_of(completed)
        assert document["status"] == "error" and document["gradable"] is False
        assert completed.stderr and b"Traceback" not in completed.stderr


def test_a_broken_task_spec_exits_3_with_a_located_json_error(tmp_path):
    root = tmp_path / "course"
    for folder in ("tasks", "reference", "student_template"):
        shutil.copytree(ROOT / folder, root / folder)
    spec = root / "tasks" / "im2col.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("  FH: {min: 1, max: 4}", "  FH: {min: 1, maxi: 4}"), encoding="utf-8")
    completed = run_cli("--root", str(root), "grade", "--task", "im2col", str(ROOT / "reference" / "im2col.py"))
    assert completed.returncode == 3
    document = feedback_of(completed)
    assert document["status"] == "error"
    assert "im2col.yaml:" in document["error"] and "params/FH" in document["error"]
    assert b"Traceback" not in completed.stderr


def test_list_and_template():
    listing = run_cli("list", "--lang", "en")
    assert listing.returncode == 0
    assert {line.split("\t")[0] for line in listing.stdout.decode().splitlines()} >= set(SEED_TASKS)
    template = run_cli("template", "maxpool_backward")
    assert template.returncode == 0
    assert template.stdout.decode() == (ROOT / "student_template" / "maxpool_backward.py").read_text(encoding="utf-8")
    assert run_cli("template", "nope").returncode == 2


@pytest.mark.parametrize("backend", ["bwrap", "process"])
def test_both_sandbox_backends_grade_and_say_which_ran(backend, grade, tmp_path):
    config = tmp_path / "grader.yaml"
    config.write_text(f"tasks_root: {ROOT}\nsandbox: {backend}\n")
    _, right = grade("conv_backward", ROOT / "examples" / "conv_backward" / "correct.py", "--config", str(config))
    _, wrong = grade("conv_backward", ROOT / "examples" / "conv_backward" / "wrong_conv_db_keepdims.py", "--config", str(config))
    assert right["status"] == "passed" and wrong["status"] == "failed"
    assert right["sandbox"]["backend"] == backend
    assert "own-uid" in right["sandbox"]["enforced"]


@pytest.mark.parametrize("backend", ["bwrap", "process"])
def test_the_resource_report_says_what_was_measured_and_under_which_limits(backend, grade, tmp_path):
    from grader.spec import taskspec

    config = tmp_path / "grader.yaml"
    config.write_text(f"tasks_root: {ROOT}\nsandbox: {backend}\nlimits:\n  memory_mb: 1000\n  wall_seconds: 9\n")
    _, document = grade("conv_backward", ROOT / "examples" / "conv_backward" / "correct.py", "--config", str(config))
    resources, timing = document["resources"], document["timing"]
    assert resources["limits"]["memory_mb"] == 1000 and resources["limits"]["wall_seconds"] == 9
    assert set(resources["case_seconds"]) == {test["name"] for test in document["tests"]}
    assert 0 < timing["sandbox_seconds"] <= timing["total_seconds"]
    assert sum(resources["case_seconds"].values()) <= timing["sandbox_seconds"]
    # The student's interpreter counted from its start (numpy's import included): under bwrap from
    # bwrap's init in the sandbox, which the grader reaps as a subreaper.
    assert 0 < resources["cpu_seconds"] and 10 < resources["peak_memory_mb"] < 1000
    assert document["task_hash"] == taskspec.load("conv_backward", ROOT).content_hash


def test_the_task_hash_changes_with_any_file_of_the_task(tmp_path):
    from grader.spec import taskspec

    for folder in ("tasks", "reference", "student_template", "support"):
        if (ROOT / folder).exists():
            shutil.copytree(ROOT / folder, tmp_path / folder)
    task = taskspec.load("conv_backward", tmp_path)
    hashes = {task.content_hash}
    for path in (task.spec_path, task.reference_path, task.template_path, *task.support_paths):
        path.write_bytes(path.read_bytes() + b"\n")
        hashes.add(taskspec.load("conv_backward", tmp_path).content_hash)
    assert len(hashes) == 4 + len(task.support_paths)


def test_stdin_submission_and_json_on_stdout_only():
    completed = run_cli("grade", "--task", "im2col", "-", stdin=(ROOT / "examples" / "im2col" / "correct.py").read_bytes())
    document = json.loads(completed.stdout)
    assert completed.returncode == 0 and document["status"] == "passed"


def test_a_missing_or_empty_root_is_a_usage_error_and_a_broken_spec_is_listed_as_broken(tmp_path):
    (tmp_path / "empty").mkdir()
    for root, said in ((tmp_path / "nope", b"does not exist"), (tmp_path / "empty", b"holds no task")):
        for args in (["list"], ["validate"], ["template", "im2col"], ["grade", "--task", "im2col", str(ROOT / "reference" / "im2col.py")]):
            completed = run_cli("--root", str(root), *args)
            assert completed.returncode == 2, (root, args)
            assert said in completed.stderr and str(root).encode() in completed.stderr
            assert b"Traceback" not in completed.stderr
    root = tmp_path / "course"
    for folder in ("tasks", "reference", "student_template"):
        shutil.copytree(ROOT / folder, root / folder)
    spec = root / "tasks" / "im2col.yaml"
    spec.write_text(spec.read_text(encoding="utf-8") + "\nnot: [valid\n", encoding="utf-8")
    listing = run_cli("--root", str(root), "list", "--lang", "en")
    assert listing.returncode == 0, listing.stderr
    listed = dict(line.split("\t", 1) for line in listing.stdout.decode().splitlines())
    assert listed["im2col"].startswith("(broken: ") and "im2col.yaml" in listed["im2col"]
    assert not listed["col2im"].startswith("(broken")
    assert b"grader validate im2col" in listing.stderr
    assert run_cli("--root", str(root), "validate", "--no-sandbox", "im2col").returncode == 1


@pytest.mark.parametrize("args, said", [
    (["new", "x_task"], b"cannot write"),  # the root is a file
    (["docs", "--out", "FILE"], b"is not a folder"),
    (["batch", "--task", "im2col", "CLASS", "--feedback-dir", "FILE"], b"cannot use"),
])
def test_wrong_arguments_of_other_commands_get_a_message_not_a_traceback(tmp_path, args, said):
    file = tmp_path / "file"
    file.write_text("x")
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "a.py").write_text("x = 1\n")
    args = [str(file) if a == "FILE" else str(tmp_path / "class") if a == "CLASS" else a for a in args]
    root = ["--root", str(file)] if args[0] == "new" else []
    completed = run_cli(*root, *args)
    assert completed.returncode == 2 and said in completed.stderr, completed.stderr
    assert b"Traceback" not in completed.stderr


def test_docs_check_works_from_any_folder(tmp_path):
    import subprocess

    from core_support import GRADER

    completed = subprocess.run([*GRADER, "docs", "--check"], capture_output=True, cwd=tmp_path, timeout=120)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert not (tmp_path / "docs").exists()


@pytest.mark.parametrize("args", [("list",), ("template", "conv_backward"), ("grade", "--task", "im2col", "-")])
def test_a_reader_that_goes_away_gets_no_traceback(args):
    import subprocess

    from core_support import GRADER

    process = subprocess.Popen([*GRADER, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, cwd=ROOT)
    process.stdout.close()  # before the grader writes a byte: its first write meets a closed pipe
    _, stderr = process.communicate((ROOT / "examples" / "im2col" / "correct.py").read_bytes(), timeout=120)
    assert b"Traceback" not in stderr and process.returncode == 0, stderr.decode(errors="replace")
