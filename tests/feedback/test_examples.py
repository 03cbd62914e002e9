"""Every task's bundled examples (examples/<task>/) get the verdict their names promise, through
`grader batch`, on several seeds and in zh and en; and the demo's checker (scripts/example_lines.py)
says so line by line and fails when one does not.

Each task has correct.py (its template with the blanks filled), correct_block.py where it has a
single blank (the code of the blank alone), and wrong_<id>.py for each misconception <id> it
declares: that one must fail and be diagnosed as exactly <id>, in every seed. A wrong_*.py whose
name is no misconception must fail and be diagnosed as nothing."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from feedback_support import EXAMPLES, GRADER, REPO, SEED

# The batch of every task runs on each of these seeds, the first in zh, the others in en.
SEEDS = [(SEED, "zh"), (7, "en"), (20241111, "en")]
TASKS = sorted(path.stem for path in (REPO / "tasks").glob("*.yaml"))
BEGIN = "########## Begin ##########"


def _example_lines():
    spec = importlib.util.spec_from_file_location("example_lines", REPO / "scripts" / "example_lines.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


LINES = _example_lines()


def _spec(task: str) -> dict:
    return yaml.safe_load((REPO / "tasks" / f"{task}.yaml").read_text(encoding="utf-8"))


def _messages(task: str) -> dict[str, dict]:
    return {m["id"]: m["message"] for m in _spec(task).get("misconceptions", [])}


def _examples(task: str) -> list[Path]:
    return sorted((EXAMPLES / task).glob("*.py"))


EXAMPLE_FILES = [(task, path) for task in TASKS for path in _examples(task)]


@pytest.fixture(scope="session")
def batches(configs, tmp_path_factory):
    """{(task, seed): folder of the feedback JSONs} of one `grader batch` per task and seed, two at a time."""
    root = tmp_path_factory.mktemp("example-batches")

    def run(job):
        task, seed, lang = job
        folder = root / f"{seed}"
        folder.mkdir(exist_ok=True)  # batch does not make the folder of --out
        done = subprocess.run([str(GRADER), "--config", str(configs["quick"]), "batch", "--task", task, "--seed", str(seed),
                               "--lang", lang, "--out", str(folder / f"{task}.jsonl"), "--feedback-dir", str(folder / task),
                               str(EXAMPLES / task)], capture_output=True, timeout=300)
        assert done.returncode == 0, f"batch of {task}, seed {seed}: {done.stderr.decode(errors='replace')[-2000:]}"
        return (task, seed), folder

    with ThreadPoolExecutor(2) as pool:
        return dict(pool.map(run, [(task, seed, lang) for task in TASKS for seed, lang in SEEDS]))


@pytest.mark.parametrize("task", TASKS)
def test_every_task_has_a_correct_example_and_one_wrong_example_per_misconception(task):
    names = {path.name for path in _examples(task)}
    assert "correct.py" in names
    single_blank = (REPO / "student_template" / f"{task}.py").read_text(encoding="utf-8").count(BEGIN) == 1
    assert ("correct_block.py" in names) == single_blank, "a block-only example exactly where the task has one blank"
    missing = {f"wrong_{identifier}.py" for identifier in _messages(task)} - names
    assert not missing, f"misconceptions without their example: {sorted(missing)}"
    for name in names:
        LINES.expectation(name, set(_messages(task)))  # every name is correct*.py or wrong_*.py


@pytest.mark.parametrize("task,path", EXAMPLE_FILES, ids=[f"{t}/{p.name}" for t, p in EXAMPLE_FILES])
def test_the_example_gets_the_verdict_its_name_promises_on_every_seed(batches, task, path):
    messages = _messages(task)
    status, diagnoses = LINES.expectation(path.name, set(messages))
    for seed, lang in SEEDS:
        document = json.loads((batches[task, seed] / task / f"{path.name}.json").read_text(encoding="utf-8"))
        where = f"seed {seed}"
        assert document["status"] == status and document["lang"] == lang, (where, document["summary"])
        assert document["submission"]["mode"] == ("block" if path.name == "correct_block.py" else "whole")
        named = [d["id"] for d in document.get("diagnoses", [])]
        assert named == diagnoses, f"{where}: diagnosed as {named}"
        if status == "passed":
            assert "shrunk" not in document
            continue
        assert document["score"] < document["max_score"]
        failing = [t for t in document["tests"] if t["status"] == "failed"]
        assert failing and all(t["code"] for t in failing)
        if not diagnoses:
            assert all("diagnoses" not in t for t in document["tests"])
            continue
        (diagnosis,) = document["diagnoses"]
        assert diagnosis["message"] == messages[diagnoses[0]][lang]
        explained = [t for t in document["tests"] if t.get("diagnoses")]
        assert explained and all(t["status"] == "failed" and t["diagnoses"] == diagnoses for t in explained)
        assert set(diagnosis["cases"]) == {t["name"] for t in explained}
        # every failing hidden test is explained too (which ones fail depends on the mistake)
        assert all(t.get("diagnoses") == diagnoses for t in failing if t["visibility"] == "hidden"), where


def _demo(examples: Path, feedback: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "scripts" / "example_lines.py"), str(examples), str(feedback)],
                          capture_output=True, text=True, timeout=60)


def test_the_demo_prints_one_line_per_example_and_succeeds_when_every_name_is_kept(batches):
    seed = SEEDS[1][0]
    done = _demo(EXAMPLES, batches[TASKS[0], seed])
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [[task, path.name] for task, path in EXAMPLE_FILES]
    assert not any("expected" in line for line in lines)
    named = next(line for line in lines if line.split()[1] == "wrong_conv_db_keepdims.py")
    assert named.split()[2] == "failed" and named.split()[3].startswith("0/") and named.endswith("named conv_db_keepdims")


def test_the_demo_fails_on_a_broken_promise_and_says_which(batches, tmp_path):
    """A correct example that fails, a wrong one named as another misconception, one without feedback."""
    feedback = tmp_path / "feedback"
    shutil.copytree(batches[TASKS[0], SEEDS[1][0]], feedback)
    examples = tmp_path / "examples"
    shutil.copytree(EXAMPLES / "relu_backward", examples / "relu_backward")
    fed = feedback / "relu_backward"
    shutil.copy(fed / "wrong_relu_mask_ignored.py.json", fed / "correct.py.json")
    shutil.copy(fed / "wrong_relu_mask_ignored.py.json", fed / "wrong_relu_mask_inverted.py.json")
    (fed / "correct_block.py.json").unlink()
    done = _demo(examples, feedback)
    assert done.returncode == 1
    broken = {line.split()[1]: line for line in done.stdout.splitlines() if "<- expected" in line}
    assert set(broken) == {"correct.py", "correct_block.py", "wrong_relu_mask_inverted.py"}
    assert broken["correct.py"].endswith("<- expected passed")
    assert broken["correct_block.py"].endswith("no feedback  <- expected passed")
    assert broken["wrong_relu_mask_inverted.py"].endswith("named relu_mask_ignored  <- expected failed, named relu_mask_inverted")
