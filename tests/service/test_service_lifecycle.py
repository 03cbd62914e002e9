"""A service's life: start-up and self-tests, the queue, SIGKILL and restart, a sandbox killed
while it grades, SIGTERM and drain.

Each test starts its own `grader serve` (without tokens: open, on loopback) with a database of
its own. A "slow" submission is a correct one that first sleeps at import (inside the
sandbox), so that a grading is surely running or queued when the test acts; no test asserts a
duration. The processes the service started (its engine's sandboxes or warm workers) are found
as its children in /proc, so the tests hold for any engine behind the seam.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from service_support import CORRECT_CONV, REPO, WEBHOOK_SECRET, Server, new_folder, submission_body, write_config

pytestmark = pytest.mark.heavy


def slow(seconds: float, seed_note: str = "") -> str:
    return f"import time  # {seed_note}\ntime.sleep({seconds})\n" + CORRECT_CONV.read_text()


@pytest.fixture
def folder():
    path = new_folder("life")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def until(check, seconds: float = 60, what: str = "the condition"):
    """Poll ``check`` until it returns something true (a hang detector, not a timing assertion)."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {seconds} s")
        time.sleep(0.05)


def metric(client: httpx.Client, name: str, labels: str = "") -> float:
    """The sum of the samples of ``name`` whose labels contain ``labels``."""
    total = 0.0
    for line in client.get("/metrics").text.splitlines():
        sample, _, value = line.rpartition(" ")
        if not line.startswith("#") and sample.split("{")[0] == name and labels in sample:
            total += float(value)
    return total


def test_queued_gradings_survive_sigkill_and_are_graded_once_with_their_seed_after_a_restart(folder, receiver):
    config = write_config(folder, {"queue_limit": 10, "webhooks": {"first_retry_seconds": 0.2,
                                                                   "max_retry_seconds": 0.5}})
    env = {"GRADER_WEBHOOK_SECRET": WEBHOOK_SECRET}
    callback = {"callback_url": receiver.url("ok")}
    server = Server(folder, config, env=env, workers=1).start()
    try:
        with server.client() as client:
            finished = client.post("/v1/gradings", json=submission_body(CORRECT_CONV.read_bytes(), **callback)).json()
            assert finished["state"] == "done"
            running = client.post("/v1/gradings", params={"wait": 0}, json=submission_body(slow(3), **callback)).json()
            queued = [client.post("/v1/gradings", params={"wait": 0},
                                  json=submission_body(CORRECT_CONV.read_bytes(), seed=100 + n, **callback,
                                                       priority="regrade" if n == 2 else "interactive")).json()
                      for n in range(3)]
            until(lambda: client.get(f"/v1/gradings/{running['id']}").json()["state"] == "running",
                  what="the slow grading starting")
            assert [client.get(f"/v1/gradings/{g['id']}").json()["queue_position"] for g in queued] == [1, 2, 3]
            finished = client.get(f"/v1/gradings/{finished['id']}").json()
        server.kill()
    finally:
        if server.process.poll() is None:
            server.kill()
    restarted = Server(folder, config, env=env, workers=1).start()
    accepted = [finished, running, *queued]
    try:
        assert "4 gradings accepted before the last stop are queued again" in restarted.log_text()
        with restarted.client() as client:
            for grading in [running, *queued]:
                done = client.get(f"/v1/gradings/{grading['id']}", params={"wait": 60}).json()
                assert done["state"] == "done" and done["feedback"]["status"] == "passed", done
                assert done["feedback"]["seed"] == grading["seed"]
            assert client.get(f"/v1/gradings/{finished['id']}").json() == finished  # kept, not graded again
            assert metric(client, "grader_gradings_total") == 4  # each graded once, after the restart
        # Counted by the webhooks too: each grading's outcome is delivered, and only one outcome
        # (a delivery may repeat - at least once - but with the same body).
        deliveries = until(lambda: _by_grading(receiver.received["ok"], len(accepted)), what="every webhook")
        assert sorted(deliveries) == sorted(grading["id"] for grading in accepted)
        assert all(len(set(bodies)) == 1 for bodies in deliveries.values()), deliveries
    finally:
        assert restarted.stop() == 0
    with sqlite3.connect(folder / "service.sqlite3") as db:  # started once each; the one running at the kill twice
        runs = dict(db.execute("SELECT id, runs FROM gradings"))
    assert runs == {grading["id"]: 2 if grading is running else 1 for grading in accepted}


def _by_grading(received: list, count: int) -> dict[str, list[bytes]] | None:
    """{grading id: [each delivery's body]} once ``count`` gradings have had one."""
    found = defaultdict(list)
    for _, body in list(received):
        found[json.loads(body)["data"]["id"]].append(body)
    return dict(found) if len(found) >= count else None


def test_a_sandbox_killed_while_it_grades_is_graded_again_and_the_service_recovers(folder):
    server = Server(folder, write_config(folder, {"queue_limit": 4}), workers=1).start()
    try:
        answer = {}
        with server.client() as client:
            before = set(children(server.process.pid))  # a warm engine's idle workers, if any

            def grade():
                answer["response"] = client.post("/v1/gradings", json=submission_body(slow(3), seed=4711))

            waiting = threading.Thread(target=grade)
            waiting.start()
            grading = until(lambda: [g for g in [_only_running(folder)] if g], what="the grading starting")[0]
            # The grading's own processes: the engine's children, new ones and (warm) the old ones.
            victims = until(lambda: set(children(server.process.pid)) | before, what="a sandbox of the grading")
            time.sleep(1)  # inside the student's sleep, most likely (either way it is not the student's doing)
            assert client.get(f"/v1/gradings/{grading}").json()["state"] == "running"
            killed = 0
            for pid in victims:
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
                except ProcessLookupError:
                    pass
            assert killed, "no process of the grading was there to kill"
            waiting.join(120)
            response = answer["response"]
            if response.status_code == 503:  # the alternative the contract allows: the platform retries
                assert int(response.headers["retry-after"]) >= 1
            else:
                assert response.status_code == 200, response.text[:500]
                body = response.json()
                assert body["id"] == grading
                assert body["state"] == "done" and body["feedback"]["status"] == "passed", body["feedback"]
                assert body["feedback"]["seed"] == 4711
            # The service recovers: ready, and the next gradings are right.
            assert client.get("/readyz").status_code == 200
            for number in range(2):
                after = client.post("/v1/gradings", json=submission_body(CORRECT_CONV.read_text() + f"# {number}\n"))
                assert after.json()["feedback"]["status"] == "passed"
            assert metric(client, "grader_gradings_total") == 3  # the killed grading counted once
    finally:
        assert server.stop() == 0
    assert "Traceback" not in server.log_text()


def _only_running(folder) -> str | None:
    """The id of the one grading the database says is running, if one is."""
    with sqlite3.connect(f"file:{folder / 'service.sqlite3'}?mode=ro", uri=True, timeout=10) as db:
        rows = db.execute("SELECT id FROM gradings WHERE state = 'running'").fetchall()
    return rows[0][0] if len(rows) == 1 else None


def children(pid: int) -> list[int]:
    """The live processes whose parent is ``pid``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry))
    return found


def test_sigterm_finishes_every_waiting_request_refuses_new_work_and_keeps_the_queue(folder):
    config = write_config(folder, {"queue_limit": 10})
    server = Server(folder, config, workers=2).start()
    with server.client() as client, ThreadPoolExecutor(3) as pool:
        waiting = [pool.submit(client.post, "/v1/gradings", json=submission_body(slow(1.5, f"s{n}")))
                   for n in range(3)]
        until(lambda: metric(client, "grader_workers", 'state="busy"') == 2
              and metric(client, "grader_queue_depth", 'priority="interactive"') == 1, what="two running, one queued")
        left = client.post("/v1/gradings", params={"wait": 0}, json=submission_body(CORRECT_CONV.read_bytes())).json()
        server.signal(signal.SIGTERM)
        until(lambda: client.get("/readyz").status_code == 503, what="readiness failing")
        assert client.get("/readyz").json()["state"] == "draining"
        refused = client.post("/v1/gradings", json=submission_body(CORRECT_CONV.read_bytes()))
        assert refused.status_code == 503 and refused.json()["type"].endswith("/draining")
        assert int(refused.headers["retry-after"]) >= 1
        answers = [future.result() for future in waiting]
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert all(answer.json()["feedback"]["status"] == "passed" for answer in answers)
    assert server.process.wait(120) == 0
    assert "Traceback" not in server.log_text()
    restarted = Server(folder, config, workers=1).start()
    try:
        with restarted.client() as client:
            done = client.get(f"/v1/gradings/{left['id']}", params={"wait": 60}).json()
            assert done["state"] == "done" and done["feedback"]["seed"] == left["seed"]
    finally:
        assert restarted.stop() == 0


# The drain under load: clients submitting synchronously, and answers before the SIGTERM.
DRAIN_CLIENTS = 8
DRAIN_SIGTERM_AFTER = 6
DRAIN_HANG_SECONDS = 120


def test_sigterm_under_load_loses_no_accepted_synchronous_request(folder):
    """Clients submit correct files synchronously, each with an Idempotency-Key of its own, until
    refused; SIGTERM once a few are done. Every request is then answered 200 with its passed
    grading, refused 503 with Retry-After (draining: nothing accepted), or never taken (the
    connection refused or closed before an answer). The database, read after the exit, judges
    what was accepted: every grading in it was answered 200 to the request that made it."""
    server = Server(folder, write_config(folder, {"queue_limit": 2 * DRAIN_CLIENTS}), workers=2).start()
    answered = threading.Semaphore(0)
    fates: list[tuple[str, str, str | None]] = []  # (key, fate, grading id)
    lock = threading.Lock()

    def client_loop(number: int) -> None:
        with server.client(timeout=DRAIN_HANG_SECONDS) as client:
            for turn in range(1000):
                key = f"drain-{number}-{turn}"
                body = submission_body(CORRECT_CONV.read_text() + f"# {key}\n")
                try:
                    response = client.post("/v1/gradings", json=body, headers={"Idempotency-Key": key},
                                           params={"wait": DRAIN_HANG_SECONDS - 20})
                except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError) as exc:
                    with lock:
                        fates.append((key, f"no answer: {type(exc).__name__}", None))
                    return
                if response.status_code == 200 and response.json()["feedback"]["status"] == "passed":
                    with lock:
                        fates.append((key, "passed", response.json()["id"]))
                    answered.release()
                    continue
                if response.status_code == 503 and int(response.headers["retry-after"]) >= 1:
                    fate = "refused: " + response.json()["type"].rsplit("/", 1)[1]
                else:
                    fate = f"wrong answer {response.status_code}: {response.text[:300]}"
                with lock:
                    fates.append((key, fate, None))
                return

    with ThreadPoolExecutor(DRAIN_CLIENTS) as pool:
        loops = [pool.submit(client_loop, number) for number in range(DRAIN_CLIENTS)]
        for _ in range(DRAIN_SIGTERM_AFTER):
            assert answered.acquire(timeout=DRAIN_HANG_SECONDS), "the load got no answers"
        server.signal(signal.SIGTERM)
        started = time.monotonic()
        for loop in loops:
            loop.result(timeout=DRAIN_HANG_SECONDS)
    assert server.process.wait(DRAIN_HANG_SECONDS) == 0
    stop_seconds = time.monotonic() - started
    assert "Traceback" not in server.log_text()
    with sqlite3.connect(folder / "service.sqlite3") as db:
        recorded = dict(db.execute("SELECT k.key, g.state FROM idempotency_keys k JOIN gradings g ON g.id = k.grading_id"))
    passed = {key: grading for key, fate, grading in fates if fate == "passed"}
    wrong = [(key, fate) for key, fate, _ in fates if fate.startswith("wrong")]
    print(f"\ndrain: {len(passed)} gradings passed, {len(fates) - len(passed)} requests refused or not taken "
          f"({sorted({fate for _, fate, _ in fates if fate != 'passed'})}); the service stopped {stop_seconds:.1f} s "
          "after SIGTERM")
    assert not wrong, wrong
    assert set(recorded) == set(passed), {key: state for key, state in recorded.items() if key not in passed}
    assert set(recorded.values()) == {"done"}
    assert any(fate == "refused: draining" for _, fate, _ in fates), "no request arrived while draining"


def test_interactive_goes_before_regrade_and_a_full_queue_answers_503_with_retry_after(folder):
    server = Server(folder, write_config(folder, {"queue_limit": 2}), workers=1).start()
    try:
        with server.client() as client:
            busy = client.post("/v1/gradings", params={"wait": 0}, json=submission_body(slow(2))).json()
            until(lambda: client.get(f"/v1/gradings/{busy['id']}").json()["state"] == "running",
                  what="the slow grading starting")
            regrade = client.post("/v1/gradings", params={"wait": 0},
                                  json=submission_body(CORRECT_CONV.read_bytes(), priority="regrade")).json()
            interactive = client.post("/v1/gradings", params={"wait": 0},
                                      json=submission_body(CORRECT_CONV.read_bytes())).json()
            assert client.get(f"/v1/gradings/{interactive['id']}").json()["queue_position"] == 1
            assert client.get(f"/v1/gradings/{regrade['id']}").json()["queue_position"] == 2
            full = client.post("/v1/gradings", json=submission_body(CORRECT_CONV.read_bytes()))
            assert full.status_code == 503 and full.json()["type"].endswith("/queue-full")
            assert int(full.headers["retry-after"]) == full.json()["retry_after"] >= 1
            # This service has no webhook secret: it refuses a callback rather than send it unsigned.
            unsigned = client.post("/v1/gradings", json=submission_body("x = 1\n", callback_url="http://127.0.0.1:9/"))
            assert unsigned.status_code == 422 and unsigned.json()["type"].endswith("/callbacks-unavailable")
            done = {name: client.get(f"/v1/gradings/{g['id']}", params={"wait": 60}).json()
                    for name, g in (("regrade", regrade), ("interactive", interactive))}
        assert done["interactive"]["started_at"] < done["regrade"]["started_at"]
        assert done["interactive"]["timings"]["queued_seconds"] < done["regrade"]["timings"]["queued_seconds"]
    finally:
        assert server.stop() == 0


def test_readiness_waits_for_the_self_tests_and_a_task_that_fails_its_own_is_refused_alone(folder):
    root = folder / "root"
    for name in ("tasks", "reference", "student_template"):
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    # conv_backward's reference takes a while to import (on both sides): the self-test is slow.
    reference = root / "reference" / "conv_backward.py"
    reference.write_text("import time\ntime.sleep(2)\n" + reference.read_text())
    # relu_backward's reference is not deterministic: graded as a student's file, it fails.
    relu = root / "reference" / "relu_backward.py"
    noise = "dx[self.mask] = 0\n        dx += np.random.default_rng().normal()"
    relu.write_text(relu.read_text().replace("dx[self.mask] = 0", noise))
    # im2col's template is broken (its Begin marker is gone): the task's problem, named by its file.
    template = root / "student_template" / "im2col.py"
    template.write_text(template.read_text().replace("########## Begin ##########", "", 1))
    config = write_config(folder, {"tasks": ["conv_backward", "relu_backward", "im2col"]})
    config.write_text(config.read_text().replace(f"tasks_root: {REPO}", f"tasks_root: {root}"))
    server = Server(folder, config, workers=2).start(wait_ready=False)
    try:
        first = until(lambda: _answer(server.url + "/readyz"), what="an answer")
        assert first.status_code == 503 and first.json()["state"] == "starting"
        assert int(first.headers["retry-after"]) >= 1
        with server.client() as client:
            starting = client.post("/v1/gradings", json=submission_body(CORRECT_CONV.read_bytes()))
            assert starting.status_code == 503 and starting.json()["type"].endswith("/not-ready")
        server.wait_ready()
        with server.client() as client:
            ready = client.get("/readyz").json()
            states = {task["id"]: task for task in ready["tasks"]}
            assert ready["state"] == "serving" and states["conv_backward"]["state"] == "serving"
            assert states["relu_backward"]["state"] == "refused"
            assert "WRONG_VALUES" in states["relu_backward"]["problem"]
            assert states["im2col"]["state"] == "refused" and "spec is broken" in states["im2col"]["problem"]
            # What a client (a student on the practice page) reads names no folder of the server.
            assert "<tasks root>/student_template/im2col.py" in states["im2col"]["problem"]
            assert str(root) not in json.dumps(ready) and str(root) not in client.get("/v1/tasks").text
            refused = client.post("/v1/gradings", json=submission_body("x = 1\n", task="relu_backward"))
            assert refused.status_code == 503 and refused.json()["type"].endswith("/task-refused")
            assert refused.headers["retry-after"] and refused.json()["task"] == "relu_backward"
            assert client.get("/v1/tasks/relu_backward").json()["state"] == "refused"
            assert client.get("/v1/tasks/im2col").status_code == 404
            graded = client.post("/v1/gradings", json=submission_body(CORRECT_CONV.read_bytes())).json()
            assert graded["feedback"]["status"] == "passed"
    finally:
        assert server.stop() == 0
    said = r"refusing relu_backward: its reference, graded as a student's file with seed \d+"
    assert re.search(said, server.log_text())


def _answer(url: str):
    try:
        return httpx.get(url, timeout=5)
    except httpx.HTTPError:
        return None
