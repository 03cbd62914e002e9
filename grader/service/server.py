"""uvicorn around the app: the listening socket, what is said at start-up, SIGTERM as a drain,
and a deadline for every request's head.

uvicorn's own SIGTERM handling closes the listening socket at once; a replica leaving a
Kubernetes Service must instead go on answering (503 with Retry-After, readiness failing)
while its gradings finish. So the first SIGTERM (or Ctrl-C) starts the service's drain, and
uvicorn is asked to exit only when it is over; a second one stops at once (what still runs
stays unfinished in the database and is graded after a restart).

uvicorn does not time a request's head: its keep-alive timer starts only after an answer, and
any byte resets it, so a client sending its headers a byte at a time (or nothing at all) held
its connection for ever. Such a connection holds a socket, never a grading worker (those are
taken only for a parsed, authenticated, validated request), but enough of them exhaust the
file descriptors. So every head must arrive within service.request_seconds of the connection
(or of the previous answer, plus the keep-alive), else the connection is closed; a head is
at most h11's 16 KiB (a larger one is answered 400), and the body is timed by the app (408).

The process keeps the memory it freed (``keep_freed_memory``): every grading computes the
reference on a fresh case set and parses the student's arrays, megabytes that glibc would
otherwise hand back to the kernel after each and fault in afresh for the next.
"""

from __future__ import annotations

import asyncio
import copy
import ctypes
import os
import socket
import sys

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from .. import cli
from . import problems
from .app import create_app
from .lifecycle import Service
from .settings import ServiceSettings, SettingsError
from .store import StoreError

GRACEFUL_SHUTDOWN_SECONDS = 5  # closing idle keep-alive connections, after the drain
KEEP_ALIVE_SECONDS = 5


def _protocol_with_head_deadline(head_seconds: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol, closing a connection whose next request head is late, and
    answering a request it cannot parse (a head over h11's limit, bad syntax) with a problem
    document like every other error of the API, not uvicorn's plain text."""

    class HeadDeadline(H11Protocol):
        _head_timer: asyncio.TimerHandle | None = None

        def send_400_response(self, msg: str) -> None:
            body = problems.Problem("malformed-request", f"the HTTP request cannot be parsed: {msg}").body()
            headers = [(b"content-type", problems.MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode()),
                       (b"connection", b"close")]
            for event in (h11.Response(status_code=400, headers=headers, reason=b"Bad Request"), h11.Data(data=body),
                          h11.EndOfMessage()):
                self.transport.write(self.conn.send(event))
            self.transport.close()

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self._arm(head_seconds)

        def on_response_complete(self) -> None:
            self._arm(KEEP_ALIVE_SECONDS + head_seconds)  # before: a pipelined head is parsed in there
            super().on_response_complete()

        def handle_events(self) -> None:
            cycle = self.cycle
            super().handle_events()
            if self.cycle is not cycle:  # a request's head arrived: the app times its body
                self._disarm()

        def connection_lost(self, exc) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self, seconds: float) -> None:
            self._disarm()
            self._head_timer = self.loop.call_later(seconds, self._head_late)

        def _disarm(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_late(self) -> None:
            self._head_timer = None
            if not self.transport.is_closing():
                self.transport.close()

    return HeadDeadline


def _log_config() -> dict:
    """uvicorn's logging, every line on stderr (its access log would go to stdout)."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    for handler in config["handlers"].values():
        handler["stream"] = "ext://sys.stderr"
    return config


class _DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, service: Service):
        super().__init__(config)
        self.service = service
        self._loop: asyncio.AbstractEventLoop | None = None
        self._draining = False
        self._drain: asyncio.Task | None = None  # kept: the loop holds its tasks weakly

    async def serve(self, sockets=None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets=sockets)

    def handle_exit(self, sig: int, frame) -> None:
        if not self._draining and self._loop is not None and not self.should_exit:
            self._draining = True  # a second signal stops at once
            self._loop.call_soon_threadsafe(self._begin_drain)
            return
        super().handle_exit(sig, frame)

    def _begin_drain(self) -> None:
        async def drain():
            await self.service.drain()
            self.should_exit = True

        self._drain = asyncio.create_task(drain())


def _listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def say(text: str) -> None:
    print(f"grader serve: {text}", file=sys.stderr)


def _announce(settings: ServiceSettings, service: Service, url: str) -> None:
    say(f"listening on {url}")
    if settings.generated_token:
        say(f"no token is configured and {settings.host} is not loopback: this run's token (scopes submit, admin) is "
            f"{settings.generated_token}  - configure tokens (service.tokens_file or GRADER_TOKENS) to keep one")
    elif settings.open:
        say("no token is configured: the API is open, on loopback only (configure service.tokens_file or "
            "GRADER_TOKENS to listen elsewhere)")
    else:
        say(f"{len(settings.tokens)} tokens configured: /v1 and /metrics need one")
    say(f"database {settings.database}; {settings.workers} workers; queue of {settings.values['queue_limit']}; "
        f"webhooks {'signed' if settings.webhook_secret else 'off (no GRADER_WEBHOOK_SECRET)'}")
    say(f"practice page at {url}" if settings.values["practice_page"] else "practice page off (service.practice_page)")
    refused = f" (refused: {', '.join(service.problems)})" if service.problems else ""
    say(f"tasks: {', '.join(service.order)}{refused}")
    for task_id, problem in service.problems.items():
        say(f"refusing {task_id}: {problem}")


# glibc's mallopt parameters (malloc.h).
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD_BYTES = 16 << 20  # above any case's array: a hostile submission's huge ones still go back
TRIM_THRESHOLD_BYTES = 64 << 20


def keep_freed_memory() -> None:
    """Keep freed blocks under 16 MiB in the heap, and up to 64 MiB of free heap, for reuse.

    By default glibc maps a block over 128 KiB (later: over the largest one freed) on its own
    and unmaps it when freed, and trims the heap's free top: the conv_backward reference's
    large case then faulted in 2131 fresh pages (8.5 MB) every time, 10.6 ms instead of 4.2 ms
    with these settings (none). An operator's own GLIBC_TUNABLES for malloc win; another C
    library keeps its own policy."""
    if "glibc.malloc." in os.environ.get("GLIBC_TUNABLES", ""):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
    mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)


def run(settings: ServiceSettings) -> int:
    keep_freed_memory()
    try:
        service = Service(settings)
    except (StoreError, SettingsError) as exc:
        raise cli.UsageError(f"grader serve: {exc}") from None
    try:
        sock = _listening_socket(settings.host, settings.port)
    except OSError as exc:
        say(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}")
        return cli.EXIT_INTERNAL
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(create_app(service), host=host, port=port, lifespan="on", server_header=False,
                            http=_protocol_with_head_deadline(settings.values["request_seconds"]),
                            timeout_keep_alive=KEEP_ALIVE_SECONDS, timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
                            log_level="info", log_config=_log_config(), proxy_headers=False)
    _announce(settings, service, f"http://{'[' + host + ']' if ':' in host else host}:{port}/")
    server = _DrainingServer(config, service)
    server.run(sockets=[sock])
    sock.close()
    return cli.EXIT_OK if server.started else cli.EXIT_INTERNAL
