"""Load: many submissions at once over HTTP, correct, wrong and hostile mixed, every verdict right.

``CNN_SERVICE_LOAD_SUBMISSIONS`` submissions (default ``DEFAULT_SUBMISSIONS``, bounded for the
suite; the documented figure is 1,000, run with ``CNN_SERVICE_LOAD_SUBMISSIONS=1000``) from
``CNN_SERVICE_LOAD_CONCURRENCY`` clients (default 32), each a keep-alive connection sending
synchronous gradings to one service (bwrap, the red-team harness's limits). In every
``len(KINDS)``: correct files (examples/<task>/correct.py and correct_block.py, made distinct by
a comment), wrong ones (examples/<task>/wrong_<misconception id>.py: failed, and that
misconception named; a wrong file whose name is no misconception of its task: failed, and
nothing named) and one attack of the red-team list (its header's verdict, and nothing of its
world touched, as tests/security/harness.py checks it).

Every answer is checked against the OpenAPI document (the client's response hook) and its
feedback against feedback.schema.json. A full queue's 503 is retried after its Retry-After, as
a platform would, and counted. Afterwards: each accepted grading was graded once
(grader_gradings_total), no process of a sandbox uid is left while the service idles, and none
of the processes the service started (seen below it during the load) is left once it stopped.
The figures are printed (``-s``); no duration is asserted.
"""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest
import yaml

from service_support import EXAMPLES, REPO, Server, new_folder

pytestmark = pytest.mark.heavy

DEFAULT_SUBMISSIONS = 64
SUBMISSIONS = int(os.environ.get("CNN_SERVICE_LOAD_SUBMISSIONS", DEFAULT_SUBMISSIONS))
CONCURRENCY = int(os.environ.get("CNN_SERVICE_LOAD_CONCURRENCY", 32))
WORKERS = 4
TASKS = ("conv_backward", "maxpool_backward", "im2col", "col2im")  # the red-team list's tasks
KINDS = ("correct", "wrong", "correct", "wrong", "correct", "correct", "wrong", "attack")
BUSY_RETRIES = 50  # a hang detector for a queue that never has room


attacklist = sys.modules["cnn_security_attacklist"]  # (loaded by tests/conftest.py)
harness = sys.modules["cnn_security_harness"]
MODE = "bwrap"


@dataclass(frozen=True)
class Submission:
    number: int
    task: str
    kind: str  # correct | wrong | attack
    file: str
    # What a wrong file must be named by: its misconception, or nothing when its name is none of
    # the task's (as tests/feedback/test_examples.py reads the examples' names).
    expected: str | None = None


def _misconceptions(task: str) -> set[str]:
    spec = yaml.safe_load((REPO / "tasks" / f"{task}.yaml").read_text(encoding="utf-8"))
    return {misconception["id"] for misconception in spec.get("misconceptions", [])}


def submissions(count: int) -> list[Submission]:
    # correct_loops.py: plain loops, slower than the harness's CPU limit on the large case.
    corrects = [(task, EXAMPLES / task / name) for task in TASKS for name in ("correct.py", "correct_block.py")
                if (EXAMPLES / task / name).exists()]
    wrongs = [(task, path) for task in TASKS for path in sorted((EXAMPLES / task).glob("wrong_*.py"))]
    attacks = [attack for attack in attacklist.load() if attack.task in TASKS and MODE not in attack.xfail]
    made, counters = [], Counter()
    for number in range(count):
        kind = KINDS[number % len(KINDS)]
        turn = counters[kind]
        counters[kind] += 1
        if kind == "attack":
            attack = attacks[turn % len(attacks)]
            made.append(Submission(number, attack.task, kind, attack.name))
        else:
            task, path = (corrects if kind == "correct" else wrongs)[turn % len(corrects if kind == "correct"
                                                                                  else wrongs)]
            named = path.stem.removeprefix("wrong_")
            made.append(Submission(number, task, kind, str(path.relative_to(EXAMPLES)),
                                   named if kind == "wrong" and named in _misconceptions(task) else None))
    return made


@pytest.fixture(scope="module")
def load_service():
    problem = harness.mode_problem(MODE)
    if problem:
        pytest.skip(f"{MODE} cannot run here: {problem}")
    folder = new_folder("load")
    config = folder / "grader.yaml"
    config.write_text(harness.config_file(MODE).read_text() + f"tasks_root: {REPO}\n"
                      + f"service:\n  tasks: {list(TASKS)}\n  database: {folder / 'service.sqlite3'}\n"
                      + f"  queue_limit: {CONCURRENCY}\n")
    marker = "load-" + secrets.token_hex(8)
    server = Server(folder, config, env={"CNN_LOAD_TEST_MARKER": marker}, workers=WORKERS)
    try:
        yield server.start(), marker
    finally:
        if server.process is not None and server.process.poll() is None:
            server.kill()
        shutil.rmtree(folder, ignore_errors=True)


def _problems(submission: Submission, document: dict) -> list[str]:
    if submission.kind == "correct":
        return [] if document["status"] == "passed" else [f"status {document['status']}: {document['summary']}"]
    named = [diagnosis["id"] for diagnosis in document.get("diagnoses", [])]
    expected = [submission.expected] if submission.expected else []
    if document["status"] != "failed" or named != expected:
        return [f"status {document['status']}, named {named}, expected failed naming {expected}"]
    return []


class Client:
    """One keep-alive connection of the load: grades submissions synchronously, one at a time."""

    def __init__(self, server: Server):
        self.server = server
        self.busy_answers = 0
        self.lock = threading.Lock()
        self.local = threading.local()
        self.opened: list[httpx.Client] = []

    def _client(self) -> httpx.Client:
        if not hasattr(self.local, "client"):
            self.local.client = self.server.client(timeout=harness.HANG_SECONDS)
            with self.lock:
                self.opened.append(self.local.client)
        return self.local.client

    def close(self) -> None:
        for client in self.opened:
            client.close()

    def post(self, task: str, data: bytes) -> harness.Graded:
        body = {"task": task, "source_base64": base64.b64encode(data).decode(), "lang": "en"}
        for _ in range(BUSY_RETRIES):
            try:
                response = self._client().post("/v1/gradings", json=body,
                                               params={"wait": harness.HANG_SECONDS - 10})
            except httpx.HTTPError as exc:
                return harness.Graded(None, b"", b"", None, [f"no answer: {type(exc).__name__}: {exc}"])
            if response.status_code != 503:
                break
            with self.lock:
                self.busy_answers += 1
            time.sleep(min(float(response.headers["retry-after"]), 5.0))
        if response.status_code != 200:
            return harness.Graded(response.status_code, response.content, b"", None,
                                  [f"answered {response.status_code}: {response.text[:300]}"])
        document = response.json()["feedback"]
        graded = harness.Graded(0, httpx.Response(200, json=document).content, b"", None)
        graded.problems += harness.contract_problems(graded)
        return graded

    def grade(self, submission: Submission) -> list[str]:
        if submission.kind == "attack":
            attack = next(a for a in attacklist.load() if a.name == submission.file)
            world = harness.World(attack, attacklist)
            try:
                graded = world.check(self.post(attack.task, world.data))
            finally:
                world.close()
        else:
            data = (EXAMPLES / submission.file).read_bytes() + f"\n# submission {submission.number}\n".encode()
            graded = self.post(submission.task, data)
            if graded.feedback is not None:
                graded.problems += _problems(submission, graded.feedback)
        return [f"#{submission.number} {submission.file}: {problem}" for problem in graded.problems]


def _metric(server: Server, name: str) -> float:
    text = httpx.get(server.url + "/metrics", timeout=30).text
    return sum(float(line.rpartition(" ")[2]) for line in text.splitlines()
               if not line.startswith("#") and line.split("{")[0].split(" ")[0] == name)


def _descendants(pid: int) -> set[tuple[int, str]]:
    """(pid, start time) of every live process below ``pid``: the start time tells a pid reused later."""
    parents, started = {}, {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents.setdefault(int(fields[1]), []).append(int(entry))
            started[int(entry)] = fields[19]
    found, todo = set(), [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.add((child, started[child]))
            todo.append(child)
    return found


def _alive(processes: set[tuple[int, str]]) -> list[str]:
    alive = []
    for pid, started in processes:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[19] == started and fields[0] != "Z":
            alive.append(f"pid {pid} ({fields[0]})")
    return alive


def test_a_mixed_load_gets_every_verdict_right_and_leaves_no_process(load_service):
    server, marker = load_service
    work = submissions(SUBMISSIONS)
    client = Client(server)
    seen: set[tuple[int, str]] = set()  # every process the service started during the load
    loading = threading.Event()

    def watch():
        while not loading.wait(0.2):
            seen.update(_descendants(server.process.pid))

    watcher = threading.Thread(target=watch)
    watcher.start()
    started = time.monotonic()
    try:
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            found = [problem for problems in pool.map(client.grade, work) for problem in problems]
    finally:
        loading.set()
        watcher.join()
        client.close()
    seconds = time.monotonic() - started
    kinds = Counter(submission.kind for submission in work)
    print(f"\nload: {len(work)} submissions ({dict(kinds)}) at concurrency {CONCURRENCY} on {WORKERS} workers "
          f"in {seconds:.1f} s ({len(work) / seconds:.1f}/s); {client.busy_answers} answers 503 (retried); "
          f"{len(found)} problems")
    assert not found, "\n".join(found[:20]) + (f"\n... and {len(found) - 20} more" if len(found) > 20 else "")
    assert _metric(server, "grader_gradings_total") == len(work)  # each accepted grading graded once
    assert server.process.poll() is None and httpx.get(server.url + "/readyz", timeout=30).status_code == 200
    assert harness.settled(harness.leftover_sandbox_processes) == []
    assert server.stop() == 0, server.log_text()[-3000:]
    assert "Traceback" not in server.log_text()
    assert harness.settled(lambda: harness.processes_with(marker)) == []  # nothing the service started lives on
    assert seen and harness.settled(lambda: _alive(seen)) == []
    assert harness.settled(harness.leftover_sandbox_processes) == []
