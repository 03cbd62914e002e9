"""`grader batch`: a class in, one line per submission out, resumable, with a class summary."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import zipfile
from pathlib import Path

import pytest

from platform_support import CORRECT_CONV, EXAMPLES, GRADER, REPO, by_file, run_grader, valid

CONV = EXAMPLES / "conv_backward"


def batch(source: Path, out: Path, *extra: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return run_grader("batch", "--task", "conv_backward", str(source), "--out", str(out), "--lang", "en", *extra,
                      timeout=timeout, text=True)


@pytest.fixture
def classroom(tmp_path) -> Path:
    folder = tmp_path / "class"
    (folder / "group-b").mkdir(parents=True)
    for example in ("correct.py", "correct_block.py", "wrong_conv_db_wrong_axis.py", "wrong_conv_dw_without_transpose.py"):
        shutil.copy(CONV / example, folder / example)
    shutil.copy(CONV / "wrong_conv_db_keepdims.py", folder / "group-b" / "dora.py")
    (folder / "syntax_error.py").write_text("class Convolution(:\n")
    (folder / "notes.txt").write_text("not a submission")
    (folder / ".hidden.py").write_text("raise SystemExit")
    return folder


def test_a_class_is_graded_one_line_per_submission_with_a_summary(classroom, tmp_path):
    out = tmp_path / "results.jsonl"
    done = batch(classroom, out, "--feedback-dir", str(tmp_path / "feedback"))
    assert done.returncode == 0, done.stderr
    lines = by_file(out)
    for line in lines.values():
        valid(line, "batch-results.schema.json")
    assert set(lines) == {"correct.py", "correct_block.py", "wrong_conv_db_wrong_axis.py", "wrong_conv_dw_without_transpose.py",
                          "group-b/dora.py", "syntax_error.py"}
    assert {name for name, line in lines.items() if line["status"] == "passed"} == {"correct.py", "correct_block.py"}
    assert lines["syntax_error.py"]["gradable"] is False and lines["syntax_error.py"]["codes"] == ["COMPILE_ERROR"]
    assert len({line["seed"] for line in lines.values()}) == 1
    feedback = valid(json.loads((tmp_path / "feedback" / "group-b" / "dora.py.json").read_text()), "feedback.schema.json")
    assert feedback["status"] == "failed" and feedback["seed"] == lines["group-b/dora.py"]["seed"]
    # Each submission's own time and use, in a warm child (wait4 by its worker) where bwrap runs.
    assert 0 < feedback["timing"]["sandbox_seconds"] <= feedback["timing"]["total_seconds"]
    if feedback["sandbox"]["backend"] == "bwrap":
        assert feedback["resources"]["cpu_seconds"] > 0 and feedback["resources"]["peak_memory_mb"] > 1
    summary = (tmp_path / "results.md").read_text()
    assert summary in done.stdout
    assert "| passed (every test) | 2 | 33.3 % |" in summary
    assert "## Score histogram" in summary and "`COMPILE_ERROR`" in summary
    # The line says which grader and which version of the task graded it, and what the run used.
    dora = lines["group-b/dora.py"]
    assert dora["grader_version"] == feedback["grader_version"] and dora["task_hash"] == feedback["task_hash"]
    assert dora["resources"] == {"cpu_seconds": feedback["resources"]["cpu_seconds"],
                                 "peak_memory_mb": feedback["resources"]["peak_memory_mb"],
                                 "sandbox_seconds": feedback["timing"]["sandbox_seconds"]}
    for line in lines.values():
        assert list(line["test_statuses"]) == [t["name"] for t in feedback["tests"]]
        assert sum(status == "passed" for status in line["test_statuses"].values()) == line["passed_tests"]
    assert "## Pass rate per test" in summary and "| `basic` | " in summary
    page = (tmp_path / "results.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and 'class="histogram"' in page and "Content-Security-Policy" in page
    assert "notes.txt (not .py)" in done.stderr and ".hidden.py" in done.stderr


def test_a_batch_graded_by_another_version_of_the_task_is_not_continued(classroom, tmp_path):
    out = tmp_path / "results.jsonl"
    assert batch(classroom, out).returncode == 0
    lines = out.read_text().splitlines()
    first = json.loads(lines[0])
    first["task_hash"] = "sha256:" + "0" * 64  # graded before the task's files changed
    out.write_text("\n".join([json.dumps(first)] + lines[1:]) + "\n")
    again = batch(classroom, out)
    assert again.returncode == 2 and "another version of task 'conv_backward'" in again.stderr
    assert "Traceback" not in again.stderr


def test_the_same_seed_replays_one_submission_alone(classroom, tmp_path):
    out = tmp_path / "results.jsonl"
    assert batch(classroom, out).returncode == 0
    line = by_file(out)["wrong_conv_dw_without_transpose.py"]
    alone = run_grader("grade", "--task", "conv_backward", "--seed", str(line["seed"]), str(classroom / "wrong_conv_dw_without_transpose.py"))
    document = json.loads(alone.stdout)
    assert (document["score"], document["status"]) == (line["score"], line["status"])


def test_an_interrupted_batch_resumes_where_it_stopped(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    sources = [CORRECT_CONV, CONV / "wrong_conv_db_wrong_axis.py", CONV / "wrong_conv_dw_without_transpose.py"]
    for number in range(40):
        shutil.copy(sources[number % 3], folder / f"student{number:02}.py")
    out = tmp_path / "results.jsonl"
    command = [*GRADER, "batch", "--task", "conv_backward", str(folder), "--out", str(out), "--jobs", "1"]
    first = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    while (not out.exists() or len(out.read_bytes().splitlines()) < 8) and time.monotonic() < deadline:
        assert first.poll() is None, "the batch ended before it could be interrupted"
        time.sleep(0.02)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    written = out.read_bytes()
    complete = written[: written.rfind(b"\n") + 1]
    graded_before = {json.loads(line)["file"] for line in complete.splitlines()}
    assert 8 <= len(graded_before) < 40

    second = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr
    lines = by_file(out)  # fails if any submission has two lines
    assert set(lines) == {f"student{number:02}.py" for number in range(40)}
    assert out.read_bytes().startswith(complete), "lines of the first run were changed"
    assert f"grading {40 - len(graded_before)} of 40" in second.stderr
    assert len({line["seed"] for line in lines.values()}) == 1

    third = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert third.returncode == 0 and "already graded" in third.stderr
    assert by_file(out) == lines


def test_a_zip_is_graded_by_the_names_inside_it(tmp_path):
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(CORRECT_CONV, "alice/solution.py")
        zipped.write(CONV / "wrong_conv_db_wrong_axis.py", "bob/solution.py")
        zipped.writestr("__MACOSX/alice/._solution.py", b"\x00\x05\x16\x07")
        zipped.writestr("bob/readme.md", "hello")
    out = tmp_path / "results.jsonl"
    done = batch(archive, out)
    assert done.returncode == 0, done.stderr
    assert {name: line["status"] for name, line in by_file(out).items()} == {"alice/solution.py": "passed", "bob/solution.py": "failed"}


def test_a_huge_file_is_graded_as_too_large_and_said_so(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(CORRECT_CONV, folder / "fine.py")
    (folder / "huge.py").write_bytes(b"# padding\n" * 40_000)
    out = tmp_path / "results.jsonl"
    done = batch(folder, out)
    assert done.returncode == 0, done.stderr
    assert by_file(out)["huge.py"]["codes"] == ["SUBMISSION_TOO_LARGE"]
    assert "larger than 256 KiB" in done.stderr and "huge.py" in done.stderr


def zip_with(names: list[str]):
    def make(tmp_path: Path) -> Path:
        archive = tmp_path / "class.zip"
        with zipfile.ZipFile(archive, "w") as zipped:
            for name in names:
                zipped.writestr(zipfile.ZipInfo(name), CORRECT_CONV.read_bytes())
        return archive
    return make


def empty_folder(tmp_path: Path) -> Path:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no code here")
    return tmp_path / "empty"


def not_really_a_zip(tmp_path: Path) -> Path:
    (tmp_path / "fake.zip").write_bytes(b"PK\x03\x04 not really")
    return tmp_path / "fake.zip"


@pytest.mark.filterwarnings("ignore:Duplicate name")
@pytest.mark.parametrize("make_source, expected", [
    (lambda tmp: tmp / "missing", "no such folder or file"),
    (lambda tmp: CORRECT_CONV, "neither a folder nor a .zip"),
    (empty_folder, "no .py submission"),
    (zip_with(["ok.py", "../../etc/evil.py"]), "climb out of the archive"),
    (zip_with(["ok.py", "/etc/evil.py"]), "absolute"),
    (zip_with(["same.py", "same.py"]), "same name"),
    (not_really_a_zip, "neither a folder nor a .zip"),
])
def test_bad_input_gets_a_clear_message_and_nothing_is_written(tmp_path, make_source, expected):
    out = tmp_path / "results.jsonl"
    done = batch(make_source(tmp_path), out)
    assert done.returncode == 2
    assert expected in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


def test_a_results_file_of_another_batch_is_not_mixed_in(classroom, tmp_path):
    out = tmp_path / "results.jsonl"
    out.write_text(json.dumps({"file": "x.py", "task": "im2col", "seed": 1, "status": "passed"}) + "\n")
    done = batch(classroom, out)
    assert done.returncode == 2 and "im2col" in done.stderr
    out.write_text(json.dumps({"file": "x.py", "task": "conv_backward", "seed": 1, "status": "passed"}) + "\n")
    done = batch(classroom, out, "--seed", "2")
    assert done.returncode == 2 and "seed 1" in done.stderr
    out.write_text("garbage\n")
    assert batch(classroom, out).returncode == 2


def test_a_fresh_sandbox_per_submission_gives_the_same_verdicts(classroom, tmp_path):
    warm, fresh = tmp_path / "warm.jsonl", tmp_path / "fresh.jsonl"
    assert batch(classroom, warm, "--seed", "7").returncode == 0
    done = batch(classroom, fresh, "--seed", "7", "--sandbox-per-submission")
    assert done.returncode == 0, done.stderr
    def unmeasured(out: Path) -> dict:
        """The lines without what each run measured for itself (its CPU, memory and time)."""
        return {name: {k: v for k, v in line.items() if k != "resources"} for name, line in by_file(out).items()}

    assert unmeasured(warm) == unmeasured(fresh)
    assert all("resources" in line for line in by_file(fresh).values() if line["gradable"])
    assert "sandbox per submission" in done.stderr


def _descendants(pid: int) -> set[int]:
    """The processes below ``pid`` (the grader's sandboxes and what runs in them), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
        except (OSError, ValueError):
            continue
        if entry.name.isdigit():
            children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _limits_config(tmp_path: Path, wall: int) -> Path:
    config = tmp_path / f"grader-{wall}.yaml"
    config.write_text(f"tasks_root: {REPO}\nlimits:\n  cpu_seconds: {wall}\n  wall_seconds: {wall}\n", encoding="utf-8")
    return config


@pytest.mark.parametrize("mode", [[], ["--sandbox-per-submission"]], ids=["warm", "per_submission"])
def test_ctrl_c_stops_a_batch_at_once_leaves_no_sandbox_and_the_rerun_continues(tmp_path, mode):
    folder = tmp_path / "class"
    folder.mkdir()
    for number in range(2):  # first in the order: what runs when Ctrl-C comes
        (folder / f"a_endless{number}.py").write_text("while True:\n    pass\n")
    for number in range(6):
        shutil.copy(CORRECT_CONV, folder / f"b_student{number}.py")
    out, log = tmp_path / "results.jsonl", tmp_path / "stderr.txt"
    # The endless loops would run for 120 s: a batch that waited for them would not end within the bound below.
    def command(wall: int) -> list[str]:
        return [*GRADER, "--config", str(_limits_config(tmp_path, wall)), "batch", "--task", "conv_backward",
                str(folder), "--out", str(out), "--jobs", "2", *mode]

    with log.open("wb") as stderr:
        # SIGINT as a terminal leaves it, whatever the suite inherited (a shell's background job ignores it).
        first = subprocess.Popen(command(120), cwd=REPO, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True,
                                 preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while "grading 8 of 8" not in log.read_text() and time.monotonic() < deadline:
        assert first.poll() is None, log.read_text()
        time.sleep(0.05)
    time.sleep(1.5)  # the two endless loops are running
    sandboxes = _descendants(first.pid)
    assert sandboxes, "no sandbox was running"
    os.killpg(first.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends to the foreground group
    interrupted = time.monotonic()
    try:
        assert first.wait(timeout=60) == 130, log.read_text()
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
    stopped_after = time.monotonic() - interrupted
    left = sorted(pid for pid in sandboxes if _alive(pid))
    print(f"Ctrl-C ({mode or 'warm'}): the batch exited {stopped_after:.2f} s after SIGINT")
    assert not left, f"sandbox processes left after the batch exited: {left}"
    assert "Traceback" not in log.read_text() and "run the same command again to continue" in log.read_text()
    before = by_file(out) if out.exists() else {}
    assert not any(name.startswith("a_endless") for name in before), "a grading cut off by Ctrl-C was written"

    rerun = subprocess.run(command(2), cwd=REPO, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert f"grading {8 - len(before)} of 8" in rerun.stderr
    lines = by_file(out)
    assert len(lines) == 8 and "TIMEOUT" in lines["a_endless0.py"]["codes"]
    assert all(lines[name] == line for name, line in before.items())


def test_out_into_a_missing_folder_makes_it(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(CORRECT_CONV, folder / "alice.py")
    out = tmp_path / "results" / "cls1" / "results.jsonl"
    done = batch(folder, out, "--summary-html", str(tmp_path / "pages" / "summary.html"))
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert by_file(out)["alice.py"]["status"] == "passed"
    assert out.with_suffix(".md").is_file() and (tmp_path / "pages" / "summary.html").is_file()


def test_a_process_backend_batch_grades_several_at_once_under_a_small_open_files_limit(tmp_path):
    # Every process-backend sandbox held a descriptor per Landlock rule (some 256) for its whole
    # run: at --jobs 6 under the usual limit of 1024, half of a correct class got status error
    # (EMFILE); under 128, every submission did.
    if not shutil.which("prlimit"):
        pytest.skip("prlimit (util-linux) is not installed")
    folder = tmp_path / "class"
    folder.mkdir()
    for number in range(4):
        shutil.copy(CORRECT_CONV, folder / f"student{number}.py")
    config = tmp_path / "grader.yaml"
    config.write_text(f"tasks_root: {REPO}\nsandbox: process\n", encoding="utf-8")
    out = tmp_path / "results.jsonl"
    done = subprocess.run(["prlimit", "--nofile=128:", *GRADER, "--config", str(config), "batch", "--task",
                           "conv_backward", str(folder), "--out", str(out), "--jobs", "4", "--lang", "en"],
                          capture_output=True, text=True, timeout=600, cwd=REPO)
    assert done.returncode == 0, done.stderr[-600:]
    assert [line["status"] for line in by_file(out).values()] == ["passed"] * 4
