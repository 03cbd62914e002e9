"""The HTTP routes (Starlette): each request checked, then handed to the service's parts.

Owns reading a request defensively and answering in the document's shapes. A body is read
in chunks and cut off past service.max_request_kb (413) or service.request_seconds (408),
never buffered whole first; it must be application/json in UTF-8, strict JSON (no duplicate
keys, no NaN or infinities), and valid against GradingRequest (422, each problem named).
Whatever goes wrong answers with a problem document: a ``Problem`` raised by any part, the
router's 404 and 405, and - never expected - anything else as a 500 without a traceback.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import math
import re
import secrets
import time
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..grading import submission
from . import api, pages
from .auth import require
from .lifecycle import Service
from .problems import MEDIA_TYPE, Problem
from .store import IdempotencyConflict, Record

MAX_WAIT_SECONDS = 600
_GRADING_ID = re.compile(r"^[0-9a-f]{32}$")
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
STARTING_RETRY_SECONDS = 5
NOT_FINISHED_RETRY_SECONDS = 1
REFUSED_RETRY_SECONDS = 300


def _service(request: Request) -> Service:
    return request.app.state.service


# --- reading a request ---------------------------------------------------------------------


def _wait(request: Request) -> float | None:
    text = request.query_params.get("wait")
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 <= value <= MAX_WAIT_SECONDS):
        raise Problem("malformed-request", f"wait must be a number of seconds from 0 to {MAX_WAIT_SECONDS}")
    return value


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is not None and not _IDEMPOTENCY_KEY.match(key):
        raise Problem("malformed-request", "Idempotency-Key must be 1-255 printable ASCII characters without spaces")
    return key


def _check_media_type(request: Request) -> None:
    media_type, *parameters = (request.headers.get("content-type") or "").split(";")
    if media_type.strip().lower() != "application/json":
        raise Problem("unsupported-media-type", f"send the body as application/json, not {media_type.strip()[:100]!r}"
                      if media_type.strip() else "send the body as application/json (no Content-Type was given)")
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise Problem("unsupported-media-type", "the body must be JSON in UTF-8")


async def _read_body(request: Request, limit: int, seconds: float) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise Problem("malformed-request", "Content-Length must be a number of bytes")
        if int(declared) > limit:
            raise Problem("too-large", f"the body is {int(declared)} bytes; at most {limit} are read")
    chunks, size = [], 0
    try:
        async with asyncio.timeout(seconds):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise Problem("too-large", f"the body is over {limit} bytes")
                chunks.append(chunk)
    except TimeoutError:
        raise Problem("request-timeout", f"the body did not arrive within {seconds:g} s") from None
    except ClientDisconnect:
        raise Problem("malformed-request", "the client went away before the body arrived") from None
    return b"".join(chunks)


def _no_duplicates(pairs: list) -> dict:
    seen = set()
    for key, _ in pairs:
        if key in seen:
            raise ValueError(f"the key {key[:60]!r} appears twice in one object")
        seen.add(key)
    return dict(pairs)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:40]} is out of a double's range")
    return value


def _not_json(name: str):
    raise ValueError(f"{name} is not JSON")


def parse_json(data: bytes) -> object:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Problem("malformed-request", f"the body is not UTF-8 (byte {exc.start})") from None
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_float=_finite, parse_constant=_not_json)
    except RecursionError:
        raise Problem("malformed-request", "the body is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError is one
        raise Problem("malformed-request", f"the body is not JSON: {str(exc)[:200]}") from None


def _source(body: dict) -> bytes:
    if "source" in body:
        try:
            data = body["source"].encode("utf-8")
        except UnicodeEncodeError:
            raise Problem("invalid-source", "source holds a lone surrogate (\\ud800-\\udfff), which no file can "
                                            "hold; send the file's bytes as source_base64") from None
    else:
        try:
            data = base64.b64decode(body["source_base64"], validate=True)
        except (binascii.Error, ValueError):
            raise Problem("invalid-source", "source_base64 is not standard base64 (A-Z a-z 0-9 + /, padded with =)") \
                from None
    if len(data) > submission.MAX_BYTES:
        raise Problem("too-large", f"the submission is {len(data)} bytes; "
                                   f"the grader takes at most {submission.MAX_BYTES}")
    return data


def _check_callback(service: Service, url: str) -> None:
    if service.settings.webhook_secret is None:
        raise Problem("callbacks-unavailable", "this service has no webhook secret (GRADER_WEBHOOK_SECRET), so it "
                                               "sends no callbacks; poll GET /v1/gradings/{id} instead")
    try:
        parts = urlsplit(url)
        host = parts.hostname if parts.port is None or parts.port > 0 else None  # .port raises on 65536 and more
    except ValueError:
        host = None
    if parts.scheme not in ("http", "https") or not host or any(ord(c) <= 0x20 or ord(c) == 0x7f for c in url):
        raise Problem("invalid-request", "callback_url must be an absolute http(s) URL with a host",
                      errors=[{"pointer": "/callback_url", "detail": "must be an absolute http(s) URL with a host"}])


def _refuse_unless_serving(service: Service) -> None:
    if service.state == "draining":
        raise Problem("draining", "the service is shutting down and takes no new gradings; another replica will",
                      retry_after=STARTING_RETRY_SECONDS)
    if service.state == "starting":
        raise Problem("not-ready", "the service is starting (its self-tests run); retry shortly",
                      retry_after=STARTING_RETRY_SECONDS)
    if service.state == "failed":
        raise Problem("not-ready", f"this service cannot grade: {service.problem}", retry_after=REFUSED_RETRY_SECONDS)


# --- answering -----------------------------------------------------------------------------


async def _resource(service: Service, grading_id: str) -> dict:
    record = await asyncio.to_thread(service.store.get, grading_id)
    position, running = service.dispatcher.position(grading_id), service.dispatcher.running(grading_id)
    # In a thread: rendering a page (format html, text) is CPU work the event loop should not wait for.
    return await asyncio.to_thread(api.grading_resource, record, position, running)


async def create_grading(request: Request) -> Response:
    service = _service(request)
    token = service.auth.identify(request.headers.get("authorization"))
    require(token, "submit")
    _refuse_unless_serving(service)
    wait = _wait(request)
    key = _idempotency_key(request)
    _check_media_type(request)
    values = service.settings.values
    body = parse_json(await _read_body(request, values["max_request_kb"] * 1024, values["request_seconds"]))
    problems = api.body_problems("GradingRequest", body)
    if problems:
        first = problems[0]
        raise Problem("invalid-request", f"{first['pointer'] or 'the body'}: {first['detail']}"
                      + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""), errors=problems)
    task_id = body["task"]
    if task_id not in service.order:
        raise Problem("unknown-task", f"no task {task_id[:100]!r} here (GET /v1/tasks lists them)", task=task_id[:200])
    if service.refusal(task_id):
        raise Problem("task-refused", f"{task_id} is not graded here: {service.refusal(task_id)}",
                      retry_after=REFUSED_RETRY_SECONDS, task=task_id)
    source = _source(body)
    if "callback_url" in body:
        _check_callback(service, body["callback_url"])
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()
    record = None
    if key is not None:
        try:
            record = await asyncio.to_thread(service.store.replay, token.name, key, digest)
        except IdempotencyConflict:
            raise Problem("idempotency-conflict", "this Idempotency-Key was used before with another body") from None
    if record is None:
        service.quotas.take(token)
        if not service.dispatcher.room():
            raise Problem("queue-full", f"{service.dispatcher.queued()} gradings wait already",
                          retry_after=service.dispatcher.retry_after())
        record = Record(id=secrets.token_hex(16), owner=token.name, task=task_id,
                        lang=body.get("lang") or service.settings.grader.language, format=body.get("format", "json"),
                        priority=body.get("priority", "interactive"),
                        seed=int(body["seed"]) if "seed" in body else service.engine.draw_seed(task_id),
                        metadata=body.get("metadata"),
                        state="queued", accepted_at=time.time(), callback_url=body.get("callback_url"))
        try:
            record, created = await asyncio.to_thread(service.store.add, record, source,
                                                      (key, digest) if key is not None else None)
        except IdempotencyConflict:
            raise Problem("idempotency-conflict", "this Idempotency-Key was used before with another body") from None
        if created:
            service.dispatcher.admit(record)
    await service.dispatcher.wait(record.id, service.default_wait(task_id) if wait is None else wait)
    resource = await _resource(service, record.id)
    if resource["state"] in ("done", "error"):
        return JSONResponse(resource, status_code=200)
    return JSONResponse(resource, status_code=202, headers={"Location": f"/v1/gradings/{record.id}"})


async def _waited_for(request: Request) -> tuple[Service, str]:
    """The service and the id of the grading a GET names, once it finished or ``wait`` ran out;
    404 unless it is one of the token's (or the token has the scope admin)."""
    service = _service(request)
    token = service.auth.identify(request.headers.get("authorization"))
    grading_id = request.path_params["id"]
    wait = _wait(request) or 0.0
    record = await asyncio.to_thread(service.store.get, grading_id) if _GRADING_ID.match(grading_id) else None
    if record is None or (record.owner != token.name and "admin" not in token.scopes):
        raise Problem("not-found", "no such grading (or not one of this token's, or past its retention period)")
    if record.feedback is None and wait:
        await service.dispatcher.wait(grading_id, wait)
    return service, grading_id


async def get_grading(request: Request) -> Response:
    service, grading_id = await _waited_for(request)
    return JSONResponse(await _resource(service, grading_id))


async def get_feedback_page(request: Request) -> Response:
    service, grading_id = await _waited_for(request)
    record = await asyncio.to_thread(service.store.get, grading_id)
    if record is None or record.feedback is None:
        raise Problem("not-finished", f"the grading has not finished; wait for it with GET /v1/gradings/{grading_id}"
                                      "?wait=S, then ask again", retry_after=NOT_FINISHED_RETRY_SECONDS)
    return pages.feedback_response(await asyncio.to_thread(api.rendered, record.feedback, "html"))


def _task_summary(service: Service, task_id: str) -> dict:
    task = service.tasks.get(task_id)
    summary = {"id": task_id, "title": task.spec["title"] if task else {"zh": task_id, "en": task_id},
               "state": service.task_state(task_id)}
    if service.refusal(task_id):
        summary["problem"] = service.refusal(task_id)
    return summary


async def list_tasks(request: Request) -> Response:
    service = _service(request)
    service.auth.identify(request.headers.get("authorization"))
    return JSONResponse({"tasks": [_task_summary(service, task_id) for task_id in service.order]})


def task_document(service: Service, task_id: str) -> dict:
    """What a student may see of a task: its texts, template, support files, visible fixed cases and limits."""
    task = service.tasks[task_id]
    spec = task.spec
    visible = []
    for case in spec["cases"]["fixed"]:
        if case["visible"]:
            entry = {"name": case["name"], "params": dict(case["params"])}
            if case.get("title"):
                entry["title"] = case["title"]
            visible.append(entry)
    limits = service.limits(task_id)
    return {**_task_summary(service, task_id), "description": spec["description"], "module": task.module_name,
            "template": task.template_source(), "support_files": task.support_files(), "visible_cases": visible,
            "limits": {name: limits[name] for name in ("wall_seconds", "cpu_seconds", "memory_mb")}}


async def get_task(request: Request) -> Response:
    service = _service(request)
    service.auth.identify(request.headers.get("authorization"))
    task_id = request.path_params["id"]
    if task_id not in service.order:
        raise Problem("not-found", "no such task (GET /v1/tasks lists them)")
    if task_id not in service.tasks:
        raise Problem("not-found", f"{task_id} cannot be shown: {service.refusal(task_id)}")
    return JSONResponse(await asyncio.to_thread(task_document, service, task_id))


async def livez(request: Request) -> Response:
    return JSONResponse({"status": "alive"})


async def readyz(request: Request) -> Response:
    service = _service(request)
    body = {"ready": service.ready(), "state": service.state,
            "tasks": [_task_summary(service, task_id) for task_id in service.order]}
    if service.problem:
        body["problem"] = service.problem
    if body["ready"]:
        return JSONResponse(body)
    return JSONResponse(body, status_code=503, headers={"Retry-After": str(STARTING_RETRY_SECONDS)})


async def metrics(request: Request) -> Response:
    service = _service(request)
    require(service.auth.identify(request.headers.get("authorization")), "admin")
    from .metrics import CONTENT_TYPE

    return Response(service.metrics.exposition(), headers={"Content-Type": CONTENT_TYPE})


async def openapi(request: Request) -> Response:
    return Response(api.document_bytes(), media_type="application/json")


# --- errors --------------------------------------------------------------------------------


def _problem_response(request: Request, problem: Problem) -> Response:
    return Response(problem.body(request.url.path), status_code=problem.status, headers=problem.headers(),
                    media_type=MEDIA_TYPE)


async def _on_problem(request: Request, exc: Problem) -> Response:
    return _problem_response(request, exc)


async def _on_http_exception(request: Request, exc: HTTPException) -> Response:
    if exc.status_code == 405:
        problem = Problem("method-not-allowed", f"{request.method} is not allowed here")
        response = _problem_response(request, problem)
        if exc.headers and "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    if exc.status_code == 404:
        return _problem_response(request, Problem("not-found", "no such resource (GET /openapi.json lists the API)"))
    return _problem_response(request, Problem("malformed-request", str(exc.detail)[:200]))


async def _on_anything_else(request: Request, exc: Exception) -> Response:
    # Starlette logs the traceback (stderr); the client learns nothing of it.
    return _problem_response(request, Problem("internal", "the service failed on this request; it is logged"))


def create_app(service: Service) -> Starlette:
    @asynccontextmanager
    async def lifespan(app):
        await service.start()
        yield
        await service.stop()

    routes = [
        Route("/v1/gradings", create_grading, methods=["POST"]),
        Route("/v1/gradings/{id}", get_grading, methods=["GET"]),
        Route("/v1/gradings/{id}/feedback.html", get_feedback_page, methods=["GET"]),
        Route("/v1/tasks", list_tasks, methods=["GET"]),
        Route("/v1/tasks/{id}", get_task, methods=["GET"]),
        Route("/livez", livez, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
    ]
    if service.settings.values["practice_page"]:
        routes += pages.practice_routes(pages.load_practice_page())
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={
        Problem: _on_problem, HTTPException: _on_http_exception, Exception: _on_anything_else})
    app.state.service = service
    return app
