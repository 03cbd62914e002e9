"""Drain under load: SIGTERM while synchronous gradings arrive loses none that the service accepted.

``CLIENTS`` keep-alive clients submit correct files synchronously, one after another, each with
an Idempotency-Key of its own, until the service refuses them; SIGTERM comes once a few
gradings are done. Every request then has one of three fates: answered 200 with its passed
grading; refused with 503 and Retry-After (draining: nothing accepted); or never taken (the
connection refused or closed before an answer, once the socket is closed). The database, read
after the service exited, is the judge of what was accepted: every grading in it was answered
200 to the request that made it, and no request without an answer left a grading behind.
"""

from __future__ import annotations

import shutil
import signal
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from service_support import CORRECT_CONV, Server, new_folder, submission_body, write_config

pytestmark = pytest.mark.heavy

CLIENTS = 8
WORKERS = 2
SIGTERM_AFTER = 6  # gradings answered before the signal
HANG_SECONDS = 120


@pytest.fixture
def folder():
    path = new_folder("drain")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_sigterm_under_load_loses_no_accepted_synchronous_request(folder):
    server = Server(folder, write_config(folder, {"queue_limit": 2 * CLIENTS}), workers=WORKERS).start()
    answered = threading.Semaphore(0)
    fates: list[tuple[str, str, str | None]] = []  # (key, fate, grading id)
    lock = threading.Lock()

    def client_loop(number: int) -> None:
        with server.client(timeout=HANG_SECONDS) as client:
            for turn in range(1000):
                key = f"drain-{number}-{turn}"
                body = submission_body(CORRECT_CONV.read_text() + f"# {key}\n")
                try:
                    response = client.post("/v1/gradings", json=body, headers={"Idempotency-Key": key},
                                           params={"wait": HANG_SECONDS - 20})
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

    with ThreadPoolExecutor(CLIENTS) as pool:
        loops = [pool.submit(client_loop, number) for number in range(CLIENTS)]
        for _ in range(SIGTERM_AFTER):
            assert answered.acquire(timeout=HANG_SECONDS), "the load got no answers"
        server.signal(signal.SIGTERM)
        started = time.monotonic()
        for loop in loops:
            loop.result(timeout=HANG_SECONDS)
    assert server.process.wait(HANG_SECONDS) == 0
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
