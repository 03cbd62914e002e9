"""The service's database: an embedded SQLite file in WAL mode.

Owns what must outlive the process: every accepted grading (with its seed and source, until
it is graded), the idempotency keys, and the webhook outbox. A grading is committed before
its id is given to anyone, with ``synchronous=FULL``: once a client has a 202, a crash or
SIGKILL of the service, or of the machine, loses nothing, and a restart grades what was queued
or running with the recorded seed. A grading's later steps (started, finished) are committed
with ``synchronous=NORMAL`` (WAL's usual setting; two fsyncs fewer a grading, each under the
store's lock): a SIGKILL of the service still loses none of them, and what a power loss could
roll back is a grading's return to queued, graded again on its recorded seed at the next
start. A grading's completion and its webhook become due in one transaction (the outbox
pattern), so a finished grading's callback cannot be lost either. Finished gradings stay for
the retention period, without their source.

Calls are synchronous and serialised by one lock; the event loop calls them in a thread.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE gradings (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    owner TEXT NOT NULL,
    task TEXT NOT NULL,
    lang TEXT NOT NULL,
    format TEXT NOT NULL,
    priority TEXT NOT NULL,
    seed INTEGER NOT NULL,
    source BLOB,
    metadata TEXT,
    state TEXT NOT NULL,
    accepted_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    feedback TEXT,
    timings TEXT,
    runs INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX gradings_unfinished ON gradings (state) WHERE state IN ('queued', 'running');
CREATE INDEX gradings_finished_at ON gradings (finished_at);
CREATE TABLE idempotency_keys (
    owner TEXT NOT NULL,
    key TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    grading_id TEXT NOT NULL,
    PRIMARY KEY (owner, key)
);
CREATE TABLE webhooks (
    grading_id TEXT PRIMARY KEY,
    message_id TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,
    payload BLOB,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL,
    last_error TEXT,
    delivered_at REAL
);
CREATE INDEX webhooks_due ON webhooks (next_attempt_at) WHERE state = 'pending';
"""


class IdempotencyConflict(Exception):
    """The key was used before with another body."""


class StoreError(Exception):
    """The database cannot be used (another version, not a database, unwritable)."""


@dataclass
class Record:
    id: str
    owner: str
    task: str
    lang: str
    format: str
    priority: str
    seed: int
    metadata: dict | None
    state: str
    accepted_at: float
    started_at: float | None = None
    finished_at: float | None = None
    feedback: dict | None = None
    timings: dict | None = None
    runs: int = 0
    source: bytes | None = None
    callback_url: str | None = None
    callback_state: str | None = None
    callback_attempts: int = 0
    seq: int = 0


@dataclass
class Delivery:
    grading_id: str
    message_id: str
    url: str
    payload: bytes
    attempts: int


_COLUMNS = ("g.seq, g.id, g.owner, g.task, g.lang, g.format, g.priority, g.seed, g.metadata, g.state, g.accepted_at, "
            "g.started_at, g.finished_at, g.feedback, g.timings, g.runs, w.url, w.state, w.attempts")


def _record(row, source: bytes | None = None) -> Record:
    (seq, id_, owner, task, lang, format_, priority, seed, metadata, state, accepted_at, started_at, finished_at,
     feedback, timings, runs, url, callback_state, callback_attempts) = row
    return Record(id=id_, owner=owner, task=task, lang=lang, format=format_, priority=priority, seed=seed,
                  metadata=json.loads(metadata) if metadata is not None else None, state=state,
                  accepted_at=accepted_at, started_at=started_at, finished_at=finished_at,
                  feedback=json.loads(feedback) if feedback is not None else None,
                  timings=json.loads(timings) if timings is not None else None, runs=runs, source=source,
                  callback_url=url, callback_state=callback_state, callback_attempts=callback_attempts or 0, seq=seq)


class Store:
    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=10)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # ``add`` commits with FULL
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                self._db.executescript("BEGIN;" + _SCHEMA + f"PRAGMA user_version={SCHEMA_VERSION};COMMIT;")
            elif version != SCHEMA_VERSION:
                raise StoreError(f"{path} was written by another version of the service (schema {version}, "
                                 f"this one reads {SCHEMA_VERSION}); give service.database another file")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot use the database {path}: {exc}") from None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _select(self, where: str, arguments: tuple) -> list[sqlite3.Row]:
        return self._db.execute(f"SELECT {_COLUMNS} FROM gradings g LEFT JOIN webhooks w ON w.grading_id = g.id "
                                f"WHERE {where}", arguments).fetchall()

    # --- gradings ---------------------------------------------------------------------------

    def add(self, record: Record, source: bytes, idempotency: tuple[str, str] | None = None) -> tuple[Record, bool]:
        """Record an accepted grading (and its key, and its webhook's outbox row) in one
        transaction; with a key already used with the same body hash, the grading it made
        instead (created False). ``idempotency``: (key, sha256 of the body)."""
        with self._lock:
            self._db.execute("PRAGMA synchronous=FULL")  # this commit, and every one before it, on disk
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if idempotency is not None:
                    known = self._db.execute("SELECT body_sha256, grading_id FROM idempotency_keys "
                                             "WHERE owner = ? AND key = ?", (record.owner, idempotency[0])).fetchone()
                    if known is not None:
                        if known[0] != idempotency[1]:
                            raise IdempotencyConflict(idempotency[0])
                        rows = self._select("g.id = ?", (known[1],))
                        if rows:
                            self._db.execute("COMMIT")
                            return _record(rows[0]), False
                        self._db.execute("DELETE FROM idempotency_keys WHERE owner = ? AND key = ?",
                                         (record.owner, idempotency[0]))
                self._db.execute(
                    "INSERT INTO gradings (id, owner, task, lang, format, priority, seed, source, metadata, state, "
                    "accepted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (record.id, record.owner, record.task, record.lang, record.format, record.priority, record.seed,
                     source, None if record.metadata is None else json.dumps(record.metadata, ensure_ascii=False),
                     record.state, record.accepted_at))
                if idempotency is not None:
                    self._db.execute("INSERT INTO idempotency_keys (owner, key, body_sha256, grading_id) "
                                     "VALUES (?, ?, ?, ?)", (record.owner, idempotency[0], idempotency[1], record.id))
                if record.callback_url:
                    self._db.execute("INSERT INTO webhooks (grading_id, message_id, url, state) VALUES (?, ?, ?, ?)",
                                     (record.id, "msg_" + record.id, record.callback_url, "waiting"))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            finally:
                self._db.execute("PRAGMA synchronous=NORMAL")
        record.callback_state = "waiting" if record.callback_url else None
        return record, True

    def replay(self, owner: str, key: str, body_sha256: str) -> Record | None:
        """The grading an Idempotency-Key made with the same body, None if it made none; with
        another body, IdempotencyConflict."""
        with self._lock:
            known = self._db.execute("SELECT body_sha256, grading_id FROM idempotency_keys WHERE owner = ? AND key = ?",
                                     (owner, key)).fetchone()
            if known is None:
                return None
            if known[0] != body_sha256:
                raise IdempotencyConflict(key)
            rows = self._select("g.id = ?", (known[1],))
        return _record(rows[0]) if rows else None

    def get(self, grading_id: str) -> Record | None:
        with self._lock:
            rows = self._select("g.id = ?", (grading_id,))
        return _record(rows[0]) if rows else None

    def source(self, grading_id: str) -> bytes | None:
        with self._lock:
            row = self._db.execute("SELECT source FROM gradings WHERE id = ?", (grading_id,)).fetchone()
        return row[0] if row else None

    def unfinished(self) -> list[Record]:
        """Queued and running gradings, in the order they were accepted (after a restart)."""
        with self._lock:
            rows = self._select("g.state IN ('queued', 'running') ORDER BY g.seq", ())
        return [_record(row) for row in rows]

    def started(self, grading_id: str, at: float) -> None:
        with self._lock:
            self._db.execute("UPDATE gradings SET state = 'running', started_at = ?, runs = runs + 1 WHERE id = ?",
                             (at, grading_id))

    def finished(self, grading_id: str, state: str, feedback: dict, timings: dict, at: float,
                 webhook_payload: bytes | None) -> None:
        """The grading's result, its source dropped, and its webhook due now: one transaction."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("UPDATE gradings SET state = ?, feedback = ?, timings = ?, finished_at = ?, "
                                 "source = NULL WHERE id = ?",
                                 (state, json.dumps(feedback, ensure_ascii=False, allow_nan=False), json.dumps(timings),
                                  at, grading_id))
                if webhook_payload is not None:
                    self._db.execute("UPDATE webhooks SET payload = ?, state = 'pending', next_attempt_at = ? "
                                     "WHERE grading_id = ?", (webhook_payload, at, grading_id))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    # --- webhooks ---------------------------------------------------------------------------

    def due_deliveries(self, now: float, limit: int = 32) -> list[Delivery]:
        with self._lock:
            rows = self._db.execute("SELECT grading_id, message_id, url, payload, attempts FROM webhooks "
                                    "WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?",
                                    (now, limit)).fetchall()
        return [Delivery(*row) for row in rows]

    def next_delivery_at(self) -> float | None:
        with self._lock:
            return self._db.execute("SELECT min(next_attempt_at) FROM webhooks WHERE state = 'pending'").fetchone()[0]

    def delivery_attempted(self, grading_id: str, attempts: int, delivered_at: float | None,
                           next_attempt_at: float | None, error: str | None) -> None:
        """One attempt's outcome: delivered, retried at ``next_attempt_at``, or (neither) given up."""
        state = "delivered" if delivered_at is not None else ("pending" if next_attempt_at is not None else "failed")
        with self._lock:
            self._db.execute("UPDATE webhooks SET state = ?, attempts = ?, delivered_at = ?, next_attempt_at = ?, "
                             "last_error = ? WHERE grading_id = ?",
                             (state, attempts, delivered_at, next_attempt_at, error, grading_id))

    # --- retention ---------------------------------------------------------------------------

    def purge(self, finished_before: float) -> int:
        """Forget gradings finished before the cut-off, with their keys and webhooks."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                old = "SELECT id FROM gradings WHERE state IN ('done', 'error') AND finished_at < ?"
                self._db.execute(f"DELETE FROM idempotency_keys WHERE grading_id IN ({old})", (finished_before,))
                self._db.execute(f"DELETE FROM webhooks WHERE grading_id IN ({old})", (finished_before,))
                count = self._db.execute("DELETE FROM gradings WHERE state IN ('done', 'error') AND finished_at < ?",
                                         (finished_before,)).rowcount
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return count
