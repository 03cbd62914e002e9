"""Shared by the service tests: a real `grader serve` on loopback, and the document's checks.

``Server`` starts `grader serve --port 0` as a subprocess with a grader.yaml of its own (small
limits, two tasks, a database in a temporary folder), reads the port it printed, and waits
for /readyz. Its ``client`` is an httpx client whose every response is checked against the
OpenAPI document (``check_response``): a documented status for the operation, the documented
media type, a body valid against the documented schema, the headers a status promises.
``Receiver`` takes webhooks on loopback; ``grade_with_service`` makes the security harness grade
through a running service; ``labels`` and ``directives`` read the practice page's labels and a
Content-Security-Policy.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import httpx
import uvicorn
from jsonschema import Draft202012Validator
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from grader.service import api

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
CORRECT_CONV = EXAMPLES / "conv_backward" / "correct.py"
PRACTICE = REPO / "grader" / "service" / "practice"
TASKS = ("conv_backward", "relu_backward")
STARTUP_SECONDS = 180  # a hang detector: the self-tests of two tasks take a few seconds
# Tokens of the shared service: NAME SCOPES TOKEN [PER_MINUTE].
TOKENS = {
    "platform": ("submit", "platform-token-0123456789abcdef"),
    "other": ("submit", "other-token-0123456789abcdefgh"),
    "operator": ("submit,admin", "operator-token-0123456789abcdef"),
    "watcher": ("admin", "watcher-token-0123456789abcdefg"),
    "tiny": ("submit", "tiny-token-0123456789abcdefghij", 2),
}
WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
LIMITS = {"wall_seconds": 6, "cpu_seconds": 5}


def token_lines(tokens: dict = TOKENS) -> str:
    return "\n".join(" ".join([name, *map(str, spec[:2])] + ([str(spec[2])] if len(spec) > 2 else []))
                     for name, spec in tokens.items()) + "\n"


def write_config(folder: Path, service: dict | None = None, shrink_rounds: int = 0) -> Path:
    """A grader.yaml for a test service (and for `grader grade` runs compared with it)."""
    service = {"tasks": list(TASKS), "database": str(folder / "service.sqlite3"), **(service or {})}
    lines = ["language: en", f"tasks_root: {REPO}", "cases:", "  random: 2", "shrink:", f"  rounds: {shrink_rounds}",
             "  wall_seconds: 4", "limits:"]
    lines += [f"  {name}: {value}" for name, value in LIMITS.items()]
    lines.append("service:")
    for name, value in service.items():
        lines.append(f"  {name}: {json.dumps(value)}")
    path = folder / "grader.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass
class Server:
    folder: Path
    config: Path
    env: dict = field(default_factory=dict)
    workers: int = 2
    prefix: list[str] = field(default_factory=list)  # e.g. setpriv to an ordinary uid, as in the image
    process: subprocess.Popen | None = None
    url: str = ""
    log: Path | None = None

    def start(self, wait_ready: bool = True) -> "Server":
        self.log = self.folder / f"serve-{time.monotonic_ns()}.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [*self.prefix, sys.executable, "-m", "grader", "--config", str(self.config), "serve", "--port", "0",
                 "--workers", str(self.workers)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.folder,
                env={**os.environ, "GRADER_TOKENS": "", "GRADER_WEBHOOK_SECRET": "", **self.env})
        deadline = time.monotonic() + STARTUP_SECONDS
        while not self.url:
            match = re.search(r"listening on (http://\S+?)/\s", self.log_text())
            if match:
                self.url = match.group(1)
            elif self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"grader serve did not start:\n{self.log_text()[-3000:]}")
            else:
                time.sleep(0.05)
        if wait_ready:
            self.wait_ready()
        return self

    def wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                if httpx.get(self.url + "/readyz", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"grader serve did not get ready:\n{self.log_text()[-3000:]}")
            time.sleep(0.1)

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log and self.log.exists() else ""

    def client(self, token: str | None = None, timeout: float = 120) -> httpx.Client:
        headers = {"Authorization": f"Bearer {TOKENS[token][1]}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout,
                            event_hooks={"response": [check_response]})

    def signal(self, number: int) -> None:
        self.process.send_signal(number)

    def stop(self, timeout: float = 120) -> int:
        """SIGTERM, then wait for the drain to end; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise AssertionError(f"grader serve did not stop after SIGTERM:\n{self.log_text()[-3000:]}") from None
        return self.process.returncode

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()


def new_folder(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"cnn-service-{prefix}-"))


def submission_body(source: bytes | str, task: str = "conv_backward", **extra) -> dict:
    if isinstance(source, bytes):
        source = source.decode("utf-8")
    return {"task": task, "source": source, "lang": "en", **extra}


# --- a webhook receiver ------------------------------------------------------------------------

# The status a receiver's path answers its 1st, 2nd, ... delivery with (the last one repeats).
SCRIPTS = {"ok": [200], "flaky": [500, 502, 204], "down": [500]}


class Receiver:
    """A webhook receiver on loopback (Starlette on uvicorn, in a thread): records every delivery
    (headers, body) per path and answers with the path's script in ``SCRIPTS``."""

    def __init__(self):
        self.received: dict[str, list[tuple[dict, bytes]]] = defaultdict(list)
        app = Starlette(routes=[Route("/{name}", self.receive, methods=["POST"])])
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> "Receiver":
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "the receiver did not start"
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    async def receive(self, request: Request) -> Response:
        name = request.path_params["name"]
        self.received[name].append((dict(request.headers), await request.body()))
        script = SCRIPTS[name]
        return Response(status_code=script[min(len(self.received[name]), len(script)) - 1])

    def url(self, name: str) -> str:
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/{name}"

    def wait_for(self, name: str, count: int, seconds: float = 60) -> list[tuple[dict, bytes]]:
        deadline = time.monotonic() + seconds
        while len(self.received[name]) < count:
            assert time.monotonic() < deadline, f"{name}: {len(self.received[name])} of {count} deliveries arrived"
            time.sleep(0.05)
        return self.received[name]


# --- the document's checks -----------------------------------------------------------------


@lru_cache(maxsize=1)
def _operations() -> list[tuple[re.Pattern, str, dict]]:
    document = api.document()
    found = []
    for path, item in document["paths"].items():
        pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")
        for method, operation in item.items():
            found.append((pattern, method.upper(), operation))
    return found


def _resolve(node: dict) -> dict:
    document = api.document()
    while "$ref" in node:
        target = document
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


@lru_cache(maxsize=None)
def _validator(schema_json: str) -> Draft202012Validator:
    return Draft202012Validator({**json.loads(schema_json), "components": api.document()["components"]})


def validate_against(schema: dict, instance: object) -> list[str]:
    validator = _validator(json.dumps(schema, sort_keys=True))
    return [f"{list(error.absolute_path)}: {error.message[:300]}" for error in validator.iter_errors(instance)]


def response_problems(method: str, path: str, status: int, headers, body: bytes) -> list[str]:
    """Everything in one response that the OpenAPI document does not allow."""
    media_type = headers.get("content-type", "").split(";")[0].strip()
    operation = next((op for pattern, verb, op in _operations() if verb == method and pattern.match(path)), None)
    if operation is None:  # an unknown path or method: the router's 404 or 405, as a problem document
        if status not in (404, 405):
            return [f"{method} {path} is not in the document but answered {status}"]
        schema, expected_type, promised = {"$ref": "#/components/schemas/Problem"}, "application/problem+json", {}
    else:
        responses = operation["responses"]
        response = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or responses.get("default")
        if response is None:
            return [f"{method} {path} answered {status}, which the document does not list ({sorted(responses)})"]
        response = _resolve(response)
        content = response.get("content", {})
        if not content:
            return []
        if media_type not in content:
            return [f"{method} {path} {status}: media type {media_type!r}, the document says {sorted(content)}"]
        schema, expected_type = content[media_type]["schema"], media_type
        promised = response.get("headers", {})
    problems = []
    if media_type != expected_type:
        problems.append(f"{method} {path} {status}: media type {media_type!r}, expected {expected_type!r}")
    for name in promised:
        if name.lower() not in {key.lower() for key in headers.keys()}:
            problems.append(f"{method} {path} {status}: the header {name} is missing")
    if expected_type.endswith("json"):
        try:
            instance = json.loads(body)
        except ValueError as exc:
            return problems + [f"{method} {path} {status}: the body is not JSON: {exc}"]
        problems += [f"{method} {path} {status}: {error}" for error in validate_against(schema, instance)]
    return problems


def check_response(response: httpx.Response) -> None:
    response.read()
    problems = response_problems(response.request.method, response.request.url.path, response.status_code,
                                 response.headers, response.content)
    assert not problems, problems


# --- the practice page ------------------------------------------------------------------------


def directives(policy: str) -> dict[str, list[str]]:
    """A Content-Security-Policy as {directive: [sources]}."""
    return {name: sources for name, *sources in (part.split() for part in policy.split(";") if part.strip())}


def labels() -> dict[str, dict[str, str]]:
    """labels.js's two tables, read strictly: every line of a table must be `key: "text",`."""
    text = (PRACTICE / "labels.js").read_text(encoding="utf-8")
    tables = {}
    for lang, body in re.findall(r"\n  (\w+): Object\.freeze\(\{\n(.*?)\n  \}\),", text, re.S):
        entries = {}
        for line in body.splitlines():
            match = re.fullmatch(r'    (\w+): "((?:[^"\\]|\\.)*)",', line)
            assert match, f"labels.js, {lang}: a line that is not `key: \"text\",`: {line!r}"
            assert match.group(1) not in entries, f"labels.js, {lang}: {match.group(1)} twice"
            entries[match.group(1)] = match.group(2)
        tables[lang] = entries
    return tables


# --- the security harness through the service ----------------------------------------------


def grade_with_service(server: Server, token: str, service_secret: str | None = None):
    """A ``grade_with(mode, task, data, env_extra)`` for tests/security/harness.run_attack: the
    submission graded by ``server`` (its mode is the server's own configuration). The harness
    puts a fresh secret in the grader's environment for each attack; a running service has
    its own, ``service_secret``, which must not reach the answer either."""
    harness = sys.modules["cnn_security_harness"]  # (loaded by tests/conftest.py)

    def grade_with(mode: str, task: str, data: bytes, env_extra: dict | None = None):
        import base64

        with server.client(token, timeout=harness.HANG_SECONDS) as client:
            try:
                body = {"task": task, "source_base64": base64.b64encode(data).decode(), "lang": "en"}
                # Waits longer than the default (the wall limit and a margin): among concurrent
                # gradings a queued one may start late, and a 202 here would be no fault.
                response = client.post("/v1/gradings", json=body, params={"wait": harness.HANG_SECONDS - 10})
            except httpx.TimeoutException:
                why = f"the service did not answer within {harness.HANG_SECONDS} s"
                return harness.Graded(None, b"", b"", None, [why])
        body = response.json()
        document = body.get("feedback") if response.status_code == 200 else None
        stdout = json.dumps(document, ensure_ascii=False).encode() if document is not None else response.content
        graded = harness.Graded(0 if response.status_code == 200 else response.status_code, stdout, b"", None)
        graded.problems += harness.contract_problems(graded)
        if service_secret and service_secret.encode() in response.content:
            graded.problems.append("the service's secret environment variable reached the answer")
        return graded

    return grade_with
