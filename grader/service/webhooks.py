"""Callbacks: each finished grading with a callback_url, POSTed, signed, until it is received.

Owns the delivery of the outbox the store keeps. Each attempt is signed as the Standard
Webhooks specification says: ``webhook-id`` (the same on every attempt of one event, for the
receiver to deduplicate), ``webhook-timestamp`` (this attempt's, in seconds) and
``webhook-signature`` (``v1,`` + base64 of HMAC-SHA256 over ``id.timestamp.body``). A 2xx
answer delivers it; anything else (another status, a refused connection, a timeout) is retried
after ``first_retry_seconds``, doubling up to ``max_retry_seconds``, at most ``attempts``
times; every attempt is recorded, so a restart goes on where the last one stopped. Delivery is
at least once: an answer lost after the receiver acted is sent again. Redirects are not
followed, and no proxy from the environment is used.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import sys
import time
import traceback

import httpx

from .. import __version__
from .store import Delivery, Store

_PARALLEL = 8  # deliveries in flight at once


def signature(secret: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode("ascii")


def headers(secret: bytes, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "user-agent": f"cnn-grader/{__version__}",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message_id, timestamp, body),
    }


class Deliverer:
    def __init__(self, store: Store, secret: bytes | None, options: dict):
        self.store = store
        self.secret = secret
        self.attempts = options["attempts"]
        self.first_retry = options["first_retry_seconds"]
        self.max_retry = options["max_retry_seconds"]
        self.timeout = options["timeout_seconds"]
        self._wakeup = asyncio.Event()
        self._slots = asyncio.Semaphore(_PARALLEL)

    def wake(self) -> None:
        self._wakeup.set()

    def backoff(self, attempts: int) -> float:
        """The wait after the ``attempts``-th failed attempt."""
        return min(self.first_retry * 2 ** (attempts - 1), self.max_retry)

    async def run(self) -> None:
        """Deliver what is due, then sleep until the next is due or a grading finishes; until cancelled."""
        if self.secret is None:
            return
        async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False, trust_env=False) as client:
            while True:
                self._wakeup.clear()
                try:
                    due = await asyncio.to_thread(self.store.due_deliveries, time.time())
                    if due:
                        await asyncio.gather(*(self._deliver(client, delivery) for delivery in due))
                        continue
                    next_at = await asyncio.to_thread(self.store.next_delivery_at)
                    sleep = 60.0 if next_at is None else min(60.0, max(0.0, next_at - time.time()))
                except Exception:  # the store failed: the outbox is still there; try again soon
                    traceback.print_exc(file=sys.stderr)
                    sleep = 5.0
                try:
                    await asyncio.wait_for(self._wakeup.wait(), sleep)
                except TimeoutError:
                    pass

    async def _deliver(self, client: httpx.AsyncClient, delivery: Delivery) -> None:
        async with self._slots:
            attempts = delivery.attempts + 1
            timestamp = int(time.time())
            error = None
            try:
                signed = headers(self.secret, delivery.message_id, timestamp, delivery.payload)
                response = await client.post(delivery.url, content=delivery.payload, headers=signed)
                if not 200 <= response.status_code < 300:
                    error = f"answered {response.status_code}"
            except Exception as exc:  # refused, timed out, an address httpx cannot use: all are a failed attempt
                error = f"{type(exc).__name__}: {exc}"[:500]
            now = time.time()
            if error is None:
                await asyncio.to_thread(self.store.delivery_attempted, delivery.grading_id, attempts, now, None, None)
                return
            retry_at = now + self.backoff(attempts) if attempts < self.attempts else None
            then = f"retried in {retry_at - now:.1f} s" if retry_at else "given up"
            print(f"grader serve: webhook {delivery.message_id} to {delivery.url}: "
                  f"attempt {attempts} failed ({error}); {then}", file=sys.stderr)
            await asyncio.to_thread(self.store.delivery_attempted, delivery.grading_id, attempts, None, retry_at, error)
