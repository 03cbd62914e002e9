"""The red-team suite (tests/security/attacks/) again, through `grader batch` and its warm workers.

Every attack is graded by `grader batch --jobs 1` together with a correct submission of the
same task, which the same warm worker grades right after it: besides every check of the
security harness (the expected verdict, a schema-valid feedback, nothing left outside, no
connection, no leaked secret, no process of the sandbox uids left), the next submission in
that worker must pass. The harness is the security suite's own (``grade_with`` is the entry
point it lets other ways of grading plug in).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

SECURITY = Path(__file__).resolve().parents[1] / "security"
MODE = "bwrap"  # warm workers exist only with bwrap; elsewhere batch grades like `grader grade`
PARALLEL = 4


def _load(name: str, file: str):
    """The security suite's helpers, under the names its own conftest gives them."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, SECURITY / file)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


attacklist = _load("cnn_security_attacklist", "attacklist.py")
harness = _load("cnn_security_harness", "harness.py")
ATTACKS = attacklist.load()


def grade_in_batch(mode: str, task: str, data: bytes, env_extra: dict | None = None) -> "harness.Graded":
    """The attack and then a correct submission, in one `grader batch` with one warm worker."""
    folder = Path(tempfile.mkdtemp(prefix="cnn-batch-sec-"))
    folder.chmod(0o755)
    (folder / "class").mkdir()
    (folder / "class" / "1_attack.py").write_bytes(data)
    (folder / "class" / "2_next.py").write_bytes(harness.correct_example(task))
    command = [str(harness.GRADER), "--config", str(harness.config_file(mode)), "--root", str(harness.CHECKOUT),
               "batch", "--task", task, str(folder / "class"), "--out", str(folder / "results.jsonl"),
               "--feedback-dir", str(folder / "feedback"), "--jobs", "1", "--lang", "en"]
    try:
        done = subprocess.run(command, capture_output=True, env={**os.environ, **(env_extra or {})},
                              timeout=2 * harness.HANG_SECONDS, cwd="/")
        attack_file = folder / "feedback" / "1_attack.py.json"
        lines = (folder / "results.jsonl").read_bytes() if (folder / "results.jsonl").exists() else b""
        stdout = attack_file.read_bytes() if attack_file.exists() else b""
        graded = harness.Graded(done.returncode, stdout, done.stdout + done.stderr + lines, None)
        graded.problems += harness.contract_problems(graded)
        following = folder / "feedback" / "2_next.py.json"
        status = json.loads(following.read_bytes())["status"] if following.exists() else None
        if status != "passed":
            graded.problems.append(f"the next submission in the same warm worker did not pass ({status})")
        if b"with warm workers" not in done.stderr:
            graded.problems.append("the batch did not use warm workers: " + done.stderr.decode("utf-8", "replace")[-300:])
        return graded
    except subprocess.TimeoutExpired:
        return harness.Graded(None, b"", b"", None, ["grader batch did not answer in time"])
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def graded():
    problem = harness.mode_problem(MODE)
    if problem:
        pytest.skip(f"warm workers need bwrap, which cannot run here: {problem}")

    def one(attack):
        return attack.name, harness.run_attack(attack, MODE, attacklist, grade_with=grade_in_batch)

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        results = dict(pool.map(one, ATTACKS))
    results["__sandbox_uid_leftovers__"] = harness.settled(harness.leftover_sandbox_processes)
    return results


@pytest.mark.parametrize("attack", ATTACKS, ids=[attack.name for attack in ATTACKS])
def test_attack_is_contained_in_a_warm_worker(attack, graded):
    if MODE in attack.xfail:
        pytest.xfail(f"documented limitation of {MODE}: {attack.xfail[MODE]}")
    assert not graded[attack.name].problems, f"{attack.name} ({attack.why}):\n" + "\n".join(graded[attack.name].problems)


def test_no_process_of_the_sandbox_uid_range_survives_the_batches(graded):
    assert graded["__sandbox_uid_leftovers__"] == []
