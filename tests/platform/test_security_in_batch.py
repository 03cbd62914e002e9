"""The red-team suite (tests/security/attacks/) again, through `grader batch`, among correct neighbours.

Per mode (bwrap with warm workers, as root and as an ordinary uid; the process backend, one
sandbox per submission, as an ordinary uid), the attacks of each task are graded in a few
batches of ``CHUNK`` attacks each, every attack followed by a correct submission of the same
task (its neighbour), ``JOBS`` at a time: a neighbour runs beside an attack and after it,
on the same warm worker or the same uid. Each attack is checked as the security harness checks
a `grader grade` (the expected verdict, a schema-valid feedback, nothing outside, no
connection, no leaked secret, no process left); every neighbour must pass; and each batch must
end with exit 0, on warm workers where bwrap runs, leaving nothing in its TMPDIR and no zombie
of its own behind at any moment (a child the batch did not start itself: in another session
than the batch's, and no session leader).
"""

from __future__ import annotations

import json
import math
import os
import secrets
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

BATCH_MODES = ("bwrap", "bwrap-unprivileged", "process-unprivileged")
CHUNK = 8  # attacks per batch
JOBS = 2  # submissions graded at once in a batch
PARALLEL = 3  # batches at once


attacklist = sys.modules["cnn_security_attacklist"]  # (loaded by tests/conftest.py)
harness = sys.modules["cnn_security_harness"]
ATTACKS = attacklist.load()


def chunks(attacks: list) -> list[list]:
    """The attacks of each task in batches of at most CHUNK, the slow ones (those that run into
    the wall clock) spread over them."""
    grouped = []
    for task in sorted({attack.task for attack in attacks}):
        of_task = sorted((a for a in attacks if a.task == task), key=lambda a: ("TIMEOUT" not in a.codes, a.name))
        count = math.ceil(len(of_task) / CHUNK)
        grouped += [of_task[index::count] for index in range(count)]
    return grouped


class ZombieWatch:
    """Zombie children of the batch process it did not start itself, seen while it runs."""

    def __init__(self, pid: int):
        self.pid, self.seen = pid, set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        session = None
        while not self._stop.wait(0.02):
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit():
                    continue
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except (OSError, IndexError):
                    continue
                if int(entry.name) == self.pid:
                    session = int(fields[3])
                elif int(fields[1]) == self.pid and fields[0] == "Z" and session is not None \
                        and int(fields[3]) not in (session, int(entry.name)):
                    self.seen.add(int(entry.name))

    def stop(self) -> set[int]:
        self._stop.set()
        self._thread.join()
        return self.seen


def grade_batch(mode: str, attacks: list) -> tuple[dict, list[str], list[str]]:
    """Grade ``attacks`` (one task) in one `grader batch` among their neighbours: (attack name ->
    Graded, the neighbours' problems, the batch's own problems)."""
    task = attacks[0].task
    secret = "s3cr3t-" + secrets.token_hex(12)
    worlds = [harness.World(attack, attacklist, secret) for attack in attacks]
    folder = Path(tempfile.mkdtemp(prefix="cnn-batch-sec-"))
    temporary = harness.grader_tmpdir()
    try:
        folder.chmod(0o777)
        (folder / "class").mkdir(mode=0o755)
        files = {}
        for number, world in enumerate(worlds):
            files[f"{2 * number:03d}_{world.attack.name}.py"] = world.data
            files[f"{2 * number + 1:03d}_neighbour.py"] = harness.correct_example(task)
        for name, data in files.items():
            (folder / "class" / name).write_bytes(data)
            (folder / "class" / name).chmod(0o644)
        command = [*harness.command_prefix(mode), str(harness.GRADER), "--config", str(harness.config_file(mode)),
                   "--root", str(harness.CHECKOUT), "batch", "--task", task, str(folder / "class"),
                   "--out", str(folder / "results.jsonl"), "--feedback-dir", str(folder / "feedback"),
                   "--jobs", str(JOBS), "--lang", "en"]
        env = {**os.environ, harness.SECRET_NAME: secret, "TMPDIR": str(temporary), **harness.cache_of(mode)}
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd="/")
        watch = ZombieWatch(process.pid)
        try:
            stdout, stderr = process.communicate(timeout=4 * harness.HANG_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
        zombies = watch.stop()
        lines = (folder / "results.jsonl").read_bytes() if (folder / "results.jsonl").exists() else b""
        problems = []
        if process.returncode != 0:
            problems.append(f"exit code {process.returncode}: {stderr.decode('utf-8', 'replace')[-600:]}")
        if harness.backend_of(mode) == "bwrap" and b"with warm workers" not in stderr:
            problems.append("the batch did not use warm workers: " + stderr.decode("utf-8", "replace")[-300:])
        if zombies:
            problems.append(f"zombies of the batch process: {sorted(zombies)}")
        problems += harness.leftovers_in(temporary)
        neighbours = []
        graded = {}
        names = list(files)
        for position, name in enumerate(names):
            path = folder / "feedback" / f"{name}.json"
            document = path.read_bytes() if path.exists() else b""
            if name.endswith("_neighbour.py"):
                status = json.loads(document)["status"] if document else None
                if status != "passed":
                    neighbours.append(f"the correct {task} after {names[position - 1]}: {status}")
                continue
            world = worlds[int(name[:3]) // 2]
            result = harness.Graded(0, document, stdout + stderr + lines, None)
            result.problems += harness.contract_problems(result)
            graded[world.attack.name] = world.check(result)
        return graded, neighbours, problems
    finally:
        for world in worlds:
            world.close()
        subprocess.run(["rm", "-rf", str(folder)], check=False)


_results: dict[str, dict] = {}


@pytest.fixture(scope="module")
def batches():
    """mode -> {"attacks": name -> Graded, "neighbours": [...], "batches": [...], "leftovers": [...]}."""

    def of_mode(mode: str) -> dict:
        if mode not in _results:
            problem = harness.mode_problem(mode)
            if problem:
                pytest.skip(f"mode {mode} cannot run here: {problem}")
            with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
                done = list(pool.map(lambda chunk: grade_batch(mode, chunk), chunks(ATTACKS)))
            leftovers = harness.settled(harness.leftover_sandbox_processes)
            if harness.unprivileged(mode):
                leftovers += harness.settled(harness.processes_of_the_unprivileged_grader)
            _results[mode] = {"attacks": {name: g for graded, _, _ in done for name, g in graded.items()},
                              "neighbours": [p for _, neighbours, _ in done for p in neighbours],
                              "batches": [p for _, _, problems in done for p in problems], "leftovers": leftovers}
        return _results[mode]

    return of_mode


@pytest.mark.parametrize("mode", BATCH_MODES)
@pytest.mark.parametrize("attack", ATTACKS, ids=[attack.name for attack in ATTACKS])
def test_attack_is_contained_in_a_batch(mode, attack, batches):
    graded = batches(mode)["attacks"][attack.name]
    if mode in attack.xfail:
        pytest.xfail(f"documented limitation of {mode}: {attack.xfail[mode]}")
    assert not graded.problems, f"{attack.name} ({attack.why}) under {mode}:\n" + "\n".join(graded.problems)


@pytest.mark.parametrize("mode", BATCH_MODES)
def test_the_neighbours_of_the_attacks_keep_their_verdicts(mode, batches):
    assert batches(mode)["neighbours"] == []


@pytest.mark.parametrize("mode", BATCH_MODES)
def test_every_batch_ends_cleanly_on_warm_workers_leaving_no_folder_and_no_zombie(mode, batches):
    assert batches(mode)["batches"] == []


@pytest.mark.parametrize("mode", BATCH_MODES)
def test_no_process_survives_the_batches(mode, batches):
    assert batches(mode)["leftovers"] == []
