"""Faults: a sandbox or worker killed while it grades, and the service killed with gradings queued.

Each test starts its own `grader serve` (open, on loopback) with a database of its own. The
processes the service started (its engine's sandboxes or warm workers) are found as its
children in /proc, so the tests hold for any engine behind the seam. A "slow" submission is a
correct one that sleeps at import inside the sandbox, so that it surely runs when the test
acts; no duration is asserted.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import threading
import time
from collections import defaultdict

import pytest

from grader.service.api import timestamp
from service_support import CORRECT_CONV, WEBHOOK_SECRET, Server, new_folder, submission_body, write_config

pytestmark = pytest.mark.heavy


def slow(seconds: float, note: str = "") -> str:
    return f"import time  # {note}\ntime.sleep({seconds})\n" + CORRECT_CONV.read_text()


def until(check, seconds: float = 60, what: str = "the condition"):
    """Poll ``check`` until it returns something true (a hang detector, not a timing assertion)."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} did not happen within {seconds} s"
        time.sleep(0.05)


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


def metric(client, name: str) -> float:
    return sum(float(line.rpartition(" ")[2]) for line in client.get("/metrics").text.splitlines()
               if not line.startswith("#") and line.split("{")[0].split(" ")[0] == name)


@pytest.fixture
def folder():
    path = new_folder("faults")
    yield path
    shutil.rmtree(path, ignore_errors=True)


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


def test_a_service_killed_with_gradings_queued_grades_each_once_after_a_restart(folder, receiver):
    config = write_config(folder, {"queue_limit": 16, "webhooks": {"first_retry_seconds": 0.2,
                                                                   "max_retry_seconds": 0.5}})
    env = {"GRADER_WEBHOOK_SECRET": WEBHOOK_SECRET}
    server = Server(folder, config, env=env, workers=1).start()
    url = receiver.url("ok")
    try:
        with server.client() as client:
            accepted = [client.post("/v1/gradings", params={"wait": 0},
                                    json=submission_body(slow(1.5 if n < 3 else 0, f"n{n}"), seed=900 + n,
                                                         callback_url=url)).json()
                        for n in range(10)]
            until(lambda: client.get(f"/v1/gradings/{accepted[0]['id']}").json()["state"] == "done",
                  what="the first grading finishing")
        server.kill()
    finally:
        if server.process.poll() is None:
            server.kill()
    with sqlite3.connect(folder / "service.sqlite3") as db:
        finished_before = dict(db.execute("SELECT id, finished_at FROM gradings WHERE state IN ('done', 'error')"))
    assert accepted[0]["id"] in finished_before and len(finished_before) < len(accepted)
    restarted = Server(folder, config, env=env, workers=2).start()
    try:
        deliveries = until(lambda: _by_grading(receiver.received["ok"], len(accepted)), seconds=180,
                           what="a webhook for every grading")
        with restarted.client() as client:
            finished = {g["id"]: client.get(f"/v1/gradings/{g['id']}").json() for g in accepted}
            graded_after = metric(client, "grader_gradings_total")
    finally:
        assert restarted.stop() == 0
    assert sorted(deliveries) == sorted(g["id"] for g in accepted)
    for grading in accepted:
        bodies = deliveries[grading["id"]]
        assert len(set(bodies)) == 1, f"{grading['id']} was finished more than once: {len(set(bodies))} outcomes"
        event = json.loads(bodies[0])["data"]
        assert event["state"] == "done" and event["feedback"]["status"] == "passed"
        assert event["feedback"]["seed"] == grading["seed"]
        assert finished[grading["id"]]["finished_at"] == event["finished_at"]
    for grading_id, finished_at in finished_before.items():  # kept, not graded again
        assert finished[grading_id]["finished_at"] == timestamp(finished_at)
    assert graded_after == len(accepted) - len(finished_before)  # the rest graded once each after the restart
    with sqlite3.connect(folder / "service.sqlite3") as db:
        runs = dict(db.execute("SELECT id, runs FROM gradings"))
    # Started once each, but the one running at the kill (started again after the restart).
    assert sorted(runs.values()).count(1) >= len(accepted) - 1 and max(runs.values()) <= 2


def _by_grading(received: list, count: int) -> dict[str, list[bytes]] | None:
    """{grading id: [each delivery's body]} once ``count`` gradings have had one."""
    found = defaultdict(list)
    for headers, body in list(received):
        found[json.loads(body)["data"]["id"]].append(body)
    return dict(found) if len(found) >= count else None
