"""The grader installed under every Python 3.11, 3.12 and 3.13 on the machine grades right, under
bwrap and under the process backend: a smoke grading per interpreter and backend.

scripts/interpreters.py (run by scripts/test.sh before pytest: making venvs is set-up, not a
test) finds the interpreters (PATH and pyenv) and gives each a venv with the grader; its
manifest says which has none and why, and those skip with that reason, as does a supported
version the machine does not have. Under each, one `grader batch` per seed task grades the
task's correct example, the example of its first misconception, and the task's share of a
few red-team files (tests/security/attacks/): the correct one passes, the wrong one fails and is
named, each attack gets the verdict its header expects and leaks nothing.

A Python installed under a folder other uids cannot enter (pyenv in /root) cannot run student
code under the process backend as root, which runs it as another uid: there the grader must say
exactly that, the claim is checked, and the case skips with the grader's message.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from platform_support import EXAMPLES, REPO

MANIFEST = REPO / ".interpreters" / "interpreters.json"
SUPPORTED = ("3.11", "3.12", "3.13")
SEED_TASKS = ("im2col", "col2im", "conv_backward", "maxpool_backward")
BACKENDS = ("bwrap", "process")
# Red-team files that need no listener or folder of the harness: a crash, a memory bomb, reading the
# host's packages and the reference, mutating the inputs, a block with CRLF and a BOM.
ATTACKS = ("crash_segfault", "exhaust_memory_bomb", "steal_installed_packages", "steal_read_reference",
           "fool_mutate_inputs", "awkward_block_crlf_bom")
SEED = 5


attacklist = sys.modules["cnn_security_attacklist"]  # (loaded by tests/conftest.py)


def _interpreters() -> list:
    """pytest params: one per interpreter of the manifest, and one per supported version without any."""
    if not MANIFEST.is_file():
        return [pytest.param(None, marks=pytest.mark.skip(reason="no .interpreters/interpreters.json: run "
                                                                  "bash scripts/test.sh, or .venv/bin/python scripts/interpreters.py"),
                             id="no-manifest")]
    entries = json.loads(MANIFEST.read_text(encoding="utf-8"))["interpreters"]
    params = []
    for entry in entries:
        marks = [pytest.mark.skip(reason=f"Python {entry['version']} ({entry['python']}): {entry['problem']}")] if entry["problem"] else []
        params.append(pytest.param(entry, marks=marks, id=f"{entry['version']}:{entry['python']}"))
    for version in SUPPORTED:
        if not any(entry["version"].startswith(version + ".") for entry in entries):
            params.append(pytest.param(None, marks=pytest.mark.skip(
                reason=f"no Python {version} on this machine (PATH, pyenv)"), id=f"{version}:missing"))
    return params


def _reachable_by_others(path: Path) -> bool:
    try:
        return bool(path.stat().st_mode & 0o004) and all(parent.stat().st_mode & 0o001 for parent in path.parents)
    except OSError:
        return False


def _readable_installation(version: str, own: Path) -> Path | None:
    """A Python ``version`` (3.x) that a uid with no rights can run: the grader's own or a system one."""
    minor = ".".join(version.split(".")[:2])
    for executable in (own, Path(f"/usr/local/bin/python{minor}"), Path(f"/usr/bin/python{minor}")):
        stdlib = executable.parent.parent / "lib" / f"python{minor}" / "os.py"
        if executable.exists() and _reachable_by_others(executable) and _reachable_by_others(stdlib):
            return executable
    return None


def _submissions(task: str, folder: Path, marker: str) -> dict[str, object]:
    """Writes the batch's files; {file name: what it must get ("passed", a misconception id, an Attack)}."""
    folder.mkdir(parents=True)
    shutil.copy(EXAMPLES / task / "correct.py", folder / "correct.py")
    misconception = yaml.safe_load((REPO / "tasks" / f"{task}.yaml").read_text(encoding="utf-8"))["misconceptions"][0]["id"]
    shutil.copy(EXAMPLES / task / f"wrong_{misconception}.py", folder / f"wrong_{misconception}.py")
    expected: dict[str, object] = {"correct.py": "passed", f"wrong_{misconception}.py": misconception}
    for attack in attacklist.load():
        if attack.name in ATTACKS and attack.task == task:
            data = attacklist.render(attack, {"MARKER": marker, "CHECKOUT": str(REPO)})
            assert b"@@" not in data, f"{attack.name} needs a value this test does not give"
            (folder / f"{attack.name}.py").write_bytes(data)
            expected[f"{attack.name}.py"] = attack
    return expected


def _problems(name: str, want: object, document: dict, marker: str) -> list[str]:
    if want == "passed":
        return [] if document["status"] == "passed" else [f"{name}: {document['status']} ({document['summary']})"]
    if isinstance(want, str):
        named = [d["id"] for d in document.get("diagnoses", [])]
        return [] if document["status"] == "failed" and named == [want] else [f"{name}: {document['status']}, named {named}"]
    found = [f"{name}: {problem}" for problem in attacklist.verdict_problems(want, document)]
    if want.leak_token(marker) in json.dumps(document, ensure_ascii=False):
        found.append(f"{name}: its leak token reached the feedback")
    return found


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("interpreter", _interpreters())
def test_a_smoke_grading_under_every_interpreter(interpreter, backend, tmp_path):
    python = Path(interpreter["python"])
    grader = Path(interpreter["venv"]) / "bin" / "grader"
    if backend == "bwrap" and not shutil.which("bwrap"):
        pytest.skip("bubblewrap is not installed")
    config = tmp_path / "grader.yaml"
    config.write_text(f"sandbox: {backend}\nlanguage: en\ncases:\n  random: 1\n", encoding="utf-8")
    marker = secrets.token_hex(8)

    def batch(task: str) -> tuple[str, subprocess.CompletedProcess, dict, Path]:
        expected = _submissions(task, tmp_path / task / "in", marker)
        feedback = tmp_path / task / "feedback"
        done = subprocess.run([str(grader), "--root", str(REPO), "--config", str(config), "batch", "--task", task,
                               "--seed", str(SEED), "--out", str(tmp_path / task / "results.jsonl"),
                               "--feedback-dir", str(feedback), str(tmp_path / task / "in")],
                              capture_output=True, text=True, timeout=300)
        return task, done, expected, feedback

    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(batch, SEED_TASKS))

    unreadable = os.geteuid() == 0 and backend == "process" and _readable_installation(interpreter["version"], python) is None
    if unreadable:
        # The grader must refuse with the reason, and be right about it: then this pair cannot run here.
        minor = ".".join(interpreter["version"].split(".")[:2])
        reason = f"no Python {minor} installation is readable by the sandbox uid"
        for task, done, expected, feedback in runs:
            documents = [json.loads((feedback / f"{name}.json").read_text(encoding="utf-8")) for name in expected]
            assert all(d["status"] == "error" and reason in d["summary"] for d in documents), (task, done.stderr[-1500:])
        pytest.skip(f"the process backend as root cannot run Python {interpreter['version']} ({python}): "
                    f"no uid but root can reach it, and no system Python {minor} exists; the grader says so: "
                    f"{documents[0]['summary']}")
    problems = []
    for task, done, expected, feedback in runs:
        if done.returncode != 0:
            problems.append(f"{task}: batch exit {done.returncode}: {done.stderr[-1500:]}")
            continue
        for name, want in expected.items():
            document = json.loads((feedback / f"{name}.json").read_text(encoding="utf-8"))
            assert document["sandbox"]["backend"] == backend
            problems += [f"{task}/{p}" for p in _problems(name, want, document, marker)]
    assert not problems, f"Python {interpreter['version']} ({python}), {backend}: {problems}"


def _choose(tmp_path: Path, versions: dict[str, str]) -> subprocess.CompletedProcess:
    """scripts/python.sh (how setup.sh picks the Python of .venv) with only these commands on PATH:
    {command name: the version it reports}."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for name, version in versions.items():
        (folder / name).write_text(f"#!/bin/sh\necho {version}\n", encoding="utf-8")
        (folder / name).chmod(0o755)
    return subprocess.run(["/bin/bash", str(REPO / "scripts" / "python.sh")], capture_output=True, text=True,
                          env={"PATH": str(folder)}, timeout=30)


@pytest.mark.parametrize("only", ["python3.12", "python3.13"])
def test_setup_takes_python_3_12_or_3_13_and_says_3_11_is_preferred(tmp_path, only):
    done = _choose(tmp_path, {only: only.removeprefix("python"), "python3": "3.10"})
    assert done.returncode == 0 and done.stdout.strip() == str(tmp_path / "bin" / only)
    assert "3.11" in done.stderr and "preferred" in done.stderr


def test_setup_prefers_python_3_11(tmp_path):
    done = _choose(tmp_path, {"python3.13": "3.13", "python3.12": "3.12", "python3.11": "3.11"})
    assert done.returncode == 0 and done.stdout.strip() == str(tmp_path / "bin" / "python3.11") and not done.stderr


def test_setup_refuses_other_versions_and_names_them(tmp_path):
    done = _choose(tmp_path, {"python3": "3.10"})
    assert done.returncode == 1 and not done.stdout
    assert "3.11, 3.12 or 3.13 is required" in done.stderr and "python3 is 3.10" in done.stderr
