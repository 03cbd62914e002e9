"""The service's parts on their own: the store, the quota, the signature, the dispatcher's order.

No server here: the store on a temporary file, the quota on a clock the test moves, the
dispatcher in front of an engine the test completes by hand.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from datetime import datetime, timezone

import pytest
import standardwebhooks

from grader.service import auth, store, webhooks
from grader.service.dispatcher import Dispatcher
from grader.service.engine import Graded
from grader.service.metrics import Metrics
from grader.service.problems import Problem
from grader.service.settings import Token


def record(grading_id: str, **fields) -> store.Record:
    values = dict(id=grading_id, owner="platform", task="conv_backward", lang="en", format="json",
                  priority="interactive", seed=7, metadata=None, state="queued", accepted_at=time.time())
    values.update(fields)
    return store.Record(**values)


@pytest.fixture
def database(tmp_path):
    opened = store.Store(tmp_path / "service.sqlite3")
    yield opened
    opened.close()


def test_a_grading_is_kept_with_its_source_until_finished_then_without_it(database, tmp_path):
    database.add(record("a" * 32, callback_url="http://127.0.0.1:9/"), b"print(1)\n")
    again = store.Store(tmp_path / "service.sqlite3")  # what a restart reads
    assert [r.id for r in again.unfinished()] == ["a" * 32]
    assert again.source("a" * 32) == b"print(1)\n" and again.get("a" * 32).callback_state == "waiting"
    again.started("a" * 32, time.time())
    again.finished("a" * 32, "done", {"status": "passed"}, {"total_seconds": 1.0}, time.time(), b"{}")
    assert again.unfinished() == [] and again.source("a" * 32) is None
    finished = again.get("a" * 32)
    assert finished.feedback == {"status": "passed"} and finished.runs == 1 and finished.callback_state == "pending"
    again.close()


def test_an_idempotency_key_gives_back_its_grading_or_a_conflict(database):
    created, is_new = database.add(record("b" * 32), b"x", ("key-1", "hash-1"))
    assert is_new and database.replay("platform", "key-1", "hash-1").id == "b" * 32
    same, is_new = database.add(record("c" * 32), b"x", ("key-1", "hash-1"))
    assert not is_new and same.id == "b" * 32 and database.get("c" * 32) is None
    with pytest.raises(store.IdempotencyConflict):
        database.replay("platform", "key-1", "hash-2")
    with pytest.raises(store.IdempotencyConflict):
        database.add(record("d" * 32), b"x", ("key-1", "hash-2"))
    assert database.replay("someone-else", "key-1", "hash-2") is None  # keys are per owner


def test_the_outbox_gives_what_is_due_records_each_attempt_and_retention_forgets_old_gradings(database):
    now = time.time()
    for grading_id in ("e" * 32, "f" * 32):
        database.add(record(grading_id, callback_url="http://127.0.0.1:9/"), b"x", (grading_id, "h"))
        database.finished(grading_id, "done", {"status": "passed"}, {}, now - 7200, b'{"n": 1}')
    database.add(record("0" * 32), b"x")  # unfinished: never forgotten
    due = database.due_deliveries(now)
    assert sorted(d.grading_id for d in due) == ["e" * 32, "f" * 32] and due[0].payload == b'{"n": 1}'
    database.delivery_attempted("e" * 32, 1, None, now + 60, "answered 500")
    assert [d.grading_id for d in database.due_deliveries(now)] == ["f" * 32]
    assert database.next_delivery_at() == pytest.approx(now - 7200)
    database.delivery_attempted("f" * 32, 1, now, None, None)
    assert database.get("f" * 32).callback_state == "delivered"
    assert database.purge(now - 3600) == 2
    assert database.get("e" * 32) is None and database.replay("platform", "e" * 32, "h") is None
    assert [r.id for r in database.unfinished()] == ["0" * 32]


def test_a_database_of_another_version_is_refused(tmp_path):
    import sqlite3

    with sqlite3.connect(tmp_path / "old.sqlite3") as connection:
        connection.execute("PRAGMA user_version = 99")
    with pytest.raises(store.StoreError, match="another version"):
        store.Store(tmp_path / "old.sqlite3")


def test_the_quota_is_a_minutes_worth_refilled_continuously():
    now = [1000.0]
    quotas = auth.Quotas(600, clock=lambda: now[0])
    tiny = Token("tiny", frozenset({"submit"}), "t" * 20, per_minute=2)
    quotas.take(tiny)
    quotas.take(tiny)
    with pytest.raises(Problem) as refused:
        quotas.take(tiny)
    assert refused.value.status == 429 and refused.value.retry_after == 30
    now[0] += 30
    quotas.take(tiny)
    free = Token("free", frozenset({"submit"}), "f" * 20, per_minute=0)
    for _ in range(1000):
        quotas.take(free)


def test_tokens_are_recognised_by_their_whole_value_only():
    platform = Token("platform", frozenset({"submit"}), "platform-token-0123456789")
    authenticator = auth.Authenticator([platform, Token("admin", frozenset({"admin"}), "admin-token-0123456789ab")])
    assert authenticator.identify("Bearer platform-token-0123456789") is platform
    assert authenticator.identify("bearer platform-token-0123456789") is platform
    for wrong in (None, "", "Bearer", "platform-token-0123456789", "Bearer platform-token-012345678",
                  "Bearer platform-token-01234567890", "Basic platform-token-0123456789"):
        with pytest.raises(Problem) as refused:
            authenticator.identify(wrong)
        assert refused.value.status == 401
    assert auth.Authenticator([]).identify(None) is auth.OPEN


def test_our_signature_is_the_standard_webhooks_one():
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    key = standardwebhooks.Webhook(secret)._whsecret
    body = '{"type": "grading.finished", "grade": "\u00e9"}'
    theirs = standardwebhooks.Webhook(secret).sign("msg_1", datetime.fromtimestamp(1_700_000_000, timezone.utc), body)
    assert webhooks.signature(key, "msg_1", 1_700_000_000, body.encode()) == theirs


class HandEngine:
    """An engine whose gradings finish when the test says so."""

    capacity = 1

    def __init__(self):
        self.submitted: list[tuple[str, concurrent.futures.Future]] = []

    def submit(self, job):
        future = concurrent.futures.Future()
        self.submitted.append((job.task, future))
        return future

    def workers(self):
        return {"busy": 0, "idle": 1}

    def finish_next(self, status: str = "passed"):
        task, future = self.submitted.pop(0)
        document = {"status": status, "task": task, "tests": []}
        if status == "error":
            document["error"] = "the sandbox failed: the sandbox was killed from outside by signal 9"
        future.set_result(Graded(document, 0.1, 0.2))
        return task


def test_the_dispatcher_starts_interactive_first_and_only_waited_for_gradings_while_draining(tmp_path):
    async def scenario():
        engine = HandEngine()
        database = store.Store(tmp_path / "service.sqlite3")
        dispatcher = Dispatcher(engine, database, Metrics(engine.workers), limit=3, refusal=lambda task: None,
                                finished=lambda: None)
        runner = asyncio.create_task(dispatcher.run())
        for grading_id, task, priority in [("1" * 32, "first", "regrade"), ("2" * 32, "regrade", "regrade"),
                                           ("3" * 32, "interactive", "interactive"), ("4" * 32, "waited", "regrade")]:
            accepted = record(grading_id, task=task, priority=priority)
            database.add(accepted, b"x")
            dispatcher.admit(accepted)
            await asyncio.sleep(0.05)  # the first one starts at once: the engine has room for one
        assert not dispatcher.room()
        assert [task for task, _ in engine.submitted] == ["first"]
        assert [dispatcher.position(g) for g in ("2" * 32, "3" * 32, "4" * 32)] == [2, 1, 3]
        order = [engine.finish_next()]
        await asyncio.sleep(0.05)
        order.append(engine.finish_next())  # the interactive one, though accepted after a regrade
        dispatcher.drain()
        waiting = asyncio.create_task(dispatcher.wait("4" * 32, 30))
        await asyncio.sleep(0.05)
        order.append(engine.finish_next())  # draining: only the one a request waits for
        await waiting
        await asyncio.sleep(0.05)
        assert not engine.submitted and dispatcher.position("2" * 32) == 1 and not dispatcher.busy()
        assert database.get("4" * 32).state == "done" and database.get("2" * 32).state == "queued"
        runner.cancel()
        database.close()
        return order

    assert asyncio.run(scenario()) == ["first", "interactive", "waited"]


@pytest.mark.parametrize("statuses, state", [(["error", "passed"], "done"), (["error", "error"], "error"),
                                             (["passed"], "done")])
def test_a_grading_the_engine_answers_error_is_graded_once_more_and_no_more(tmp_path, statuses, state):
    async def scenario():
        engine = HandEngine()
        database = store.Store(tmp_path / "service.sqlite3")
        dispatcher = Dispatcher(engine, database, Metrics(engine.workers), limit=3, refusal=lambda task: None,
                                finished=lambda: None)
        runner = asyncio.create_task(dispatcher.run())
        accepted = record("5" * 32)
        database.add(accepted, b"x")
        dispatcher.admit(accepted)
        for status in statuses:
            await asyncio.sleep(0.05)
            assert len(engine.submitted) == 1  # the same job, submitted again only after the first answer
            engine.finish_next(status)
        await dispatcher.wait("5" * 32, 30)
        await asyncio.sleep(0.05)
        assert not engine.submitted  # never a third time
        finished = database.get("5" * 32)
        runner.cancel()
        database.close()
        return finished

    finished = asyncio.run(scenario())
    assert finished.state == state and finished.feedback["status"] == statuses[-1]


# --- the stock of case sets ------------------------------------------------------------------


def test_the_stock_hands_out_prepared_case_sets_bounded_and_a_given_seed_gets_the_same_cases():
    import numpy as np

    from grader.sandbox.limits import Limits
    from grader.service import stock
    from grader.spec import config, taskspec
    from service_support import REPO

    settings = config.load(str(REPO / "grader.yaml"), str(REPO))
    task = taskspec.load("relu_backward", settings.root)
    limits = {task.id: Limits.from_dict(task.limits(settings.values["limits"]))}
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as executor:
        cases = stock.Stock({task.id: task}, settings, limits, executor, size=2)
        cases.fill([task.id])
        deadline = time.monotonic() + 60  # a hang detector, not a timing assertion
        while cases._ready[task.id].qsize() < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert cases._ready[task.id].qsize() == 2  # bounded: the refill of a full stock is dropped
        seeds = [cases.draw_seed(task.id) for _ in range(2)]
        assert len(set(seeds)) == 2
        drawn = cases.take(task.id, seeds[0])
        assert drawn.seed == seeds[0] and cases.take(task.id, seeds[0]) is not drawn  # held once, then computed
        again = stock.prepare(task, settings, limits[task.id], seeds[0])  # what a given seed gets
        assert [case.params for case in again.cases] == [case.params for case in drawn.cases]
        assert again.array_frames == drawn.array_frames and again.header == drawn.header
        for index, outputs in drawn.expected.items():
            assert all(np.array_equal(outputs[name], again.expected[index][name]) for name in outputs)
        assert cases.draw_seed("no-such-task") >= 0  # no stock: a fresh seed, computed on demand
