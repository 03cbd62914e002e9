"""The HTTP contract of `grader serve`, against a real service on loopback.

Every response of these tests is checked against the OpenAPI document (the client's response
hook, ``service_support.check_response``): a documented status, media type, headers and a
body valid against the documented schema. Beyond the shapes, what each route promises: tasks
without their reference, gradings synchronous and asynchronous, idempotency, authentication,
and a problem document (never a 500) for every kind of bad request.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import threading
import time
from urllib.parse import urlsplit

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from grader.feedback import html as render_html
from grader.feedback import htmlpage
from grader.service import api
from grader.spec import taskspec
from grader.spec.config import load as load_config
from grader.spec.yamldoc import SCHEMA_DIR
from service_support import CORRECT_CONV, EXAMPLES, REPO, TOKENS, directives, submission_body, validate_against

PROBLEM_TYPE = re.compile(r"^https://cnn-grader\.invalid/problems/[a-z-]+$")


def problem(response, status: int, kind: str) -> dict:
    assert response.status_code == status, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert PROBLEM_TYPE.match(body["type"]) and body["type"].endswith("/" + kind), body
    assert body["status"] == status and body["detail"] and "Traceback" not in response.text
    return body


# --- the document ----------------------------------------------------------------------------


def test_the_openapi_document_in_the_repository_is_valid_and_names_the_feedback_schema():
    spec, base_uri = read_from_filename(str(SCHEMA_DIR / "openapi.json"))
    validate(spec, base_uri=base_uri)
    feedback = spec["components"]["schemas"]["Grading"]["properties"]["feedback"]
    assert {"$ref": "feedback.schema.json"} in feedback["oneOf"]  # referred to, not copied
    assert "Feedback" not in spec["components"]["schemas"]


def test_the_served_document_is_valid_self_contained_and_carries_the_feedback_schema(service):
    with service.client() as client:
        served = client.get("/openapi.json").json()
    validate(served)
    assert served == api.document()
    refs = re.findall(r'"\$ref": "([^"]+)"', json.dumps(served))
    assert refs and all(ref.startswith("#/components/") for ref in refs)
    feedback = json.loads((SCHEMA_DIR / "feedback.schema.json").read_text())
    bundled = served["components"]["schemas"]["Feedback"]
    assert bundled["required"] == feedback["required"] and set(bundled["$defs"]) == set(feedback["$defs"])


# --- tasks -----------------------------------------------------------------------------------


def test_the_tasks_are_listed_with_their_state(service):
    with service.client("platform") as client:
        tasks = client.get("/v1/tasks").json()["tasks"]
    assert [(task["id"], task["state"]) for task in tasks] == [("conv_backward", "serving"),
                                                                ("relu_backward", "serving")]
    assert tasks[0]["title"]["en"] == "Backward pass of the convolution layer"


def test_a_task_shows_what_a_student_may_see(service):
    with service.client("platform") as client:
        task = client.get("/v1/tasks/conv_backward").json()
    spec = taskspec.load("conv_backward", REPO)
    assert task["template"] == spec.template_source()
    assert task["support_files"] == {"utils.py": (REPO / "student_template" / "utils.py").read_text()}
    assert task["description"] == spec.spec["description"] and task["module"] == spec.module_name
    hidden = [case["name"] for case in spec.spec["cases"]["fixed"] if not case["visible"]]
    assert hidden == ["large"]
    assert [case["name"] for case in task["visible_cases"]] == [
        case["name"] for case in spec.spec["cases"]["fixed"] if case["visible"]]
    assert task["visible_cases"][0]["params"] == {"N": 1, "C": 1, "H": 4, "W": 4, "FN": 1, "FH": 2, "FW": 2,
                                                  "stride": 1, "pad": 0}
    assert task["limits"]["wall_seconds"] == 6


def strings(node) -> list[str]:
    """Every string of a JSON document, keys included."""
    if isinstance(node, dict):
        return [text for key, value in node.items() for text in [key, *strings(value)]]
    if isinstance(node, list):
        return [text for value in node for text in strings(value)]
    return [node] if isinstance(node, str) else []


@pytest.mark.parametrize("task_id", ["conv_backward", "relu_backward"])
def test_no_byte_of_the_reference_its_variants_or_hidden_cases_leaks_through_the_task_routes(service, task_id):
    task = taskspec.load(task_id, REPO)
    with service.client("platform") as client:
        shown = "\n".join(strings(client.get(f"/v1/tasks/{task_id}").json()) + strings(client.get("/v1/tasks").json()))
    given = task.template_source() + "".join(task.support_files().values())
    secret_lines = task.reference_path.read_text().splitlines()
    for misconception in task.spec.get("misconceptions", []):
        secret_lines += misconception["code"].splitlines()
    secret = {line.strip() for line in secret_lines if len(line.strip()) > 12 and line.strip() not in given}
    assert len(secret) >= 3, "too little to look for: the test would prove nothing"
    assert not [line for line in secret if line in shown]
    for case in task.spec["cases"]["fixed"]:
        if not case["visible"]:
            assert case["name"] not in shown.split("\n")


def test_unknown_tasks_are_404(service):
    with service.client("platform") as client:
        problem(client.get("/v1/tasks/no_such_task"), 404, "not-found")
        problem(client.get("/v1/tasks/..%2Fgrader"), 404, "not-found")


# --- gradings --------------------------------------------------------------------------------


def test_a_correct_file_is_graded_while_the_request_waits(service):
    with service.client("platform") as client:
        response = client.post("/v1/gradings", json=submission_body(CORRECT_CONV.read_bytes(), seed=7,
                                                                    metadata={"submission": "abc", "n": [1, 2]}))
        assert response.status_code == 200, response.text[:500]
        grading = response.json()
        assert grading["state"] == "done" and grading["queue_position"] is None
        feedback = grading["feedback"]
        assert feedback["status"] == "passed" and feedback["seed"] == 7 == grading["seed"]
        assert grading["metadata"] == {"submission": "abc", "n": [1, 2]} and grading["rendered"] is None
        assert all(grading["timings"][name] is not None for name in api.TIMINGS)
        assert client.get(f"/v1/gradings/{grading['id']}").json() == grading


def test_each_grading_draws_fresh_cases_in_a_warm_child_and_reports_what_it_used(service):
    from grader.spec import config, taskspec

    with service.client("platform") as client:
        gradings = [client.post("/v1/gradings", json=submission_body(CORRECT_CONV.read_bytes())).json()
                    for _ in range(3)]
    assert len({grading["seed"] for grading in gradings}) == 3  # drawn per grading (from the stock)
    task = taskspec.load("conv_backward", config.load(str(service.config)).root)
    for grading in gradings:
        feedback = grading["feedback"]
        assert feedback["status"] == "passed" and feedback["seed"] == grading["seed"]
        resources, timing = feedback["resources"], feedback["timing"]
        # Measured by the warm worker (wait4 of its child), kept only when plausible: a fork of a
        # worker that has numpy loaded, the student's arithmetic on small arrays.
        assert 0 < resources["cpu_seconds"] <= timing["sandbox_seconds"] * 2 + 0.05
        assert 1 < resources["peak_memory_mb"] < resources["limits"]["memory_mb"]
        assert set(resources["case_seconds"]) == {test["name"] for test in feedback["tests"]}
        assert resources["limits"]["wall_seconds"] == 6 and 0 < timing["sandbox_seconds"] <= timing["total_seconds"]
        assert feedback["task_hash"] == task.content_hash


def test_the_asynchronous_form_answers_202_with_location_then_the_grading_can_be_waited_for(service):
    with service.client("platform") as client:
        response = client.post("/v1/gradings", params={"wait": 0},
                               json=submission_body((EXAMPLES / "conv_backward" / "wrong_conv_db_wrong_axis.py").read_bytes()))
        assert response.status_code == 202
        grading = response.json()
        assert response.headers["location"] == f"/v1/gradings/{grading['id']}"
        assert grading["state"] in ("queued", "running") and grading["feedback"] is None
        assert isinstance(grading["seed"], int)  # fixed at acceptance: a restart grades these very cases
        done = client.get(response.headers["location"], params={"wait": 60}).json()
    assert done["state"] == "done" and done["feedback"]["status"] == "failed"
    assert done["feedback"]["seed"] == grading["seed"]


@pytest.mark.parametrize("output_format", ["text", "gradescope"])
def test_the_other_formats_come_rendered_beside_the_feedback(service, output_format):
    with service.client("platform") as client:
        grading = client.post("/v1/gradings", json=submission_body(CORRECT_CONV.read_bytes(),
                                                                   format=output_format)).json()
    assert grading["feedback"]["status"] == "passed"
    rendered = grading["rendered"]
    if output_format == "text":
        assert isinstance(rendered, str) and grading["feedback"]["summary"] in rendered
    else:
        assert rendered["score"] == grading["feedback"]["score"] and rendered["tests"]


def test_the_html_format_carries_the_page_that_grade_format_html_prints(service):
    with service.client("platform") as client:
        grading = client.post("/v1/gradings", json=submission_body(
            (EXAMPLES / "conv_backward" / "wrong_conv_db_wrong_axis.py").read_bytes(), format="html", lang="zh")).json()
    assert grading["format"] == "html" and grading["feedback"]["status"] == "failed"
    page = grading["rendered"]
    assert page == render_html.render(grading["feedback"])
    assert page.startswith("<!DOCTYPE html>") and '<html lang="zh-CN">' in page and "heat-map" in page


def test_a_gradings_feedback_page_is_served_as_html_with_its_policy_as_a_header(service):
    with service.client("platform") as client, service.client("other") as other:
        grading = client.post("/v1/gradings", json=submission_body(
            (EXAMPLES / "conv_backward" / "wrong_conv_db_wrong_axis.py").read_bytes())).json()  # format json: the page anyway
        response = client.get(f"/v1/gradings/{grading['id']}/feedback.html")
        problem(other.get(f"/v1/gradings/{grading['id']}/feedback.html"), 404, "not-found")
    assert response.status_code == 200 and response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text == render_html.render(grading["feedback"])
    policy = directives(response.headers["content-security-policy"])
    assert policy["default-src"] == ["'none'"] and "script-src" not in policy and "sandbox" in policy
    assert policy == {**directives(htmlpage.CONTENT_SECURITY_POLICY), "sandbox": []}, "the page's own policy"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "no-store" in response.headers["cache-control"] and "private" in response.headers["cache-control"]


def test_a_feedback_page_asked_for_before_the_grading_finished_is_409_until_it_has(service):
    slow = b"import time\ntime.sleep(2)\n" + CORRECT_CONV.read_bytes()
    with service.client("platform") as client:
        accepted = client.post("/v1/gradings", params={"wait": 0}, json=submission_body(slow)).json()
        early = problem(client.get(f"/v1/gradings/{accepted['id']}/feedback.html"), 409, "not-finished")
        assert early["retry_after"] >= 1 and accepted["id"] in early["detail"]
        page = client.get(f"/v1/gradings/{accepted['id']}/feedback.html", params={"wait": 60})
    assert page.status_code == 200 and "badge big passed" in page.text


def test_a_file_in_another_encoding_comes_as_base64(service):
    source = "# -*- coding: latin-1 -*-\n# caf\xe9\n".encode("latin-1") + CORRECT_CONV.read_bytes()
    with service.client("platform") as client:
        grading = client.post("/v1/gradings", json={"task": "conv_backward", "lang": "en",
                                                    "source_base64": base64.b64encode(source).decode()}).json()
    assert grading["feedback"]["status"] == "passed" and grading["feedback"]["submission"]["encoding"] == "iso-8859-1"


# --- idempotency -----------------------------------------------------------------------------


def test_the_same_idempotency_key_and_body_give_the_same_grading_and_another_body_409(service):
    body = submission_body(CORRECT_CONV.read_bytes(), seed=11)
    with service.client("platform") as client, service.client("other") as other:
        first = client.post("/v1/gradings", json=body, headers={"Idempotency-Key": "sub-1001"}, params={"wait": 0})
        again = client.post("/v1/gradings", json=body, headers={"Idempotency-Key": "sub-1001"})
        assert first.status_code == 202 and again.status_code == 200
        assert again.json()["id"] == first.json()["id"]
        # The same body with its keys in another order is the same body.
        reordered = dict(reversed(list(body.items())))
        assert client.post("/v1/gradings", json=reordered, headers={"Idempotency-Key": "sub-1001"}).json()["id"] \
            == first.json()["id"]
        conflict = client.post("/v1/gradings", json={**body, "seed": 12}, headers={"Idempotency-Key": "sub-1001"})
        problem(conflict, 409, "idempotency-conflict")
        # Keys are per token: another client's "sub-1001" is its own.
        theirs = other.post("/v1/gradings", json=body, headers={"Idempotency-Key": "sub-1001"}, params={"wait": 0})
        assert theirs.status_code == 202 and theirs.json()["id"] != first.json()["id"]
        other.get(f"/v1/gradings/{theirs.json()['id']}", params={"wait": 60})


# --- authentication --------------------------------------------------------------------------


def test_routes_need_a_known_token_and_say_how_to_give_one(service):
    with service.client() as anonymous:
        for method, path in [("GET", "/v1/tasks"), ("GET", "/v1/tasks/conv_backward"), ("POST", "/v1/gradings"),
                             ("GET", "/v1/gradings/" + "0" * 32), ("GET", "/metrics")]:
            response = anonymous.request(method, path, json={})
            problem(response, 401, "unauthorized")
            assert response.headers["www-authenticate"].startswith("Bearer")
        for header in ["Bearer", "Basic cGxhdGZvcm06eA==", "Bearer " + TOKENS["platform"][1] + "x",
                       "Bearer " + TOKENS["platform"][1][:-1], "bearer\t" + TOKENS["platform"][1]]:
            problem(anonymous.get("/v1/tasks", headers={"Authorization": header}), 401, "unauthorized")
        for path in ("/livez", "/readyz", "/openapi.json"):
            assert anonymous.get(path).status_code == 200


def test_scopes_decide_who_submits_who_reads_what_and_who_sees_the_metrics(service):
    with service.client("platform") as platform, service.client("other") as other, \
            service.client("operator") as operator, service.client("watcher") as watcher:
        problem(watcher.post("/v1/gradings", json=submission_body("x = 1\n")), 403, "forbidden")
        grading = platform.post("/v1/gradings", json=submission_body("x = 1\n"), params={"wait": 0}).json()
        problem(other.get(f"/v1/gradings/{grading['id']}"), 404, "not-found")  # not even its existence
        assert operator.get(f"/v1/gradings/{grading['id']}").json()["id"] == grading["id"]
        problem(platform.get("/metrics"), 403, "forbidden")
        assert watcher.get("/metrics").status_code == 200
        platform.get(f"/v1/gradings/{grading['id']}", params={"wait": 60})


def test_a_token_over_its_quota_gets_429_with_retry_after(service):
    with service.client("tiny") as tiny:
        answers = [tiny.post("/v1/gradings", json=submission_body("x = 1\n"), params={"wait": 0}) for _ in range(3)]
        assert [answer.status_code for answer in answers[:2]] == [202, 202]
        body = problem(answers[2], 429, "quota-exceeded")
        assert int(answers[2].headers["retry-after"]) == body["retry_after"] >= 1
        for answer in answers[:2]:
            tiny.get(answer.headers["location"], params={"wait": 60})


# --- bad requests ----------------------------------------------------------------------------


def raw(service, request: bytes, pause_after: int | None = None, pause: float = 0.0) -> tuple[int, dict, bytes]:
    """Send bytes as they are (what no well-behaved client sends); the parsed answer."""
    parts = urlsplit(service.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        if pause_after is None:
            sock.sendall(request)
        else:
            sock.sendall(request[:pause_after])
            time.sleep(pause)
            try:
                sock.sendall(request[pause_after:])
            except OSError:
                pass
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = re.search(rb"(?i)content-length: *(\d+)", head)
            if length and len(body) >= int(length.group(1)):
                break
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def post_bytes(service, body: bytes, content_type: str = "application/json") -> tuple[int, dict, bytes]:
    token = TOKENS["platform"][1]
    head = (f"POST /v1/gradings HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n")
    return raw(service, head.encode() + body)


def raw_problem(answer, status: int, kind: str) -> dict:
    code, headers, body = answer
    assert code == status, (code, body[:300])
    assert headers["content-type"].startswith("application/problem+json")
    document = json.loads(body)
    assert document["type"].endswith("/" + kind) and document["status"] == status
    assert not validate_against({"$ref": "#/components/schemas/Problem"}, document)
    return document


@pytest.mark.parametrize("body, why", [
    (b"\xff\xfe{}", "not UTF-8"),
    (b'{"task": "conv_backward", "source": "x"', "not JSON"),
    (b'{"task": "conv_backward", "task": "relu_backward", "source": "x"}', "appears twice"),
    (b'{"task": "conv_backward", "source": "x", "seed": NaN}', "NaN is not JSON"),
    (b'{"task": "conv_backward", "source": "x", "metadata": {"x": 1e999}}', "out of a double's range"),
    (b"[" * 100000, "nested too deeply"),
])
def test_bodies_that_are_not_strict_json_in_utf8_are_400(service, body, why):
    assert why in raw_problem(post_bytes(service, body), 400, "malformed-request")["detail"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "application/json; charset=latin-1", "multipart/form-data; boundary=x"])
def test_bodies_that_are_not_application_json_are_415(service, content_type):
    raw_problem(post_bytes(service, b'{"task": "conv_backward", "source": "x"}', content_type), 415,
                "unsupported-media-type")


def test_a_body_without_a_content_type_is_415(service):
    with service.client("platform") as client:
        problem(client.post("/v1/gradings", content=b'{"task": "conv_backward", "source": "x"}'), 415,
                "unsupported-media-type")


@pytest.mark.parametrize("body, pointer", [
    ({"task": "conv_backward", "source": "x", "colour": "red"}, ""),
    ({"task": "conv_backward"}, ""),
    ({"task": "conv_backward", "source": "x", "source_base64": "eA=="}, ""),
    ({"source": "x"}, ""),
    ({"task": "conv_backward", "source": 42}, "/source"),
    ({"task": "conv_backward", "source": "x", "lang": "fr"}, "/lang"),
    ({"task": "conv_backward", "source": "x", "seed": -1}, "/seed"),
    ({"task": "conv_backward", "source": "x", "seed": 2 ** 63}, "/seed"),
    ({"task": "conv_backward", "source": "x", "format": "pdf"}, "/format"),
    ({"task": "conv_backward", "source": "x", "priority": "urgent"}, "/priority"),
    ({"task": "conv_backward", "source": "x", "metadata": [1]}, "/metadata"),
    ({"task": "conv_backward", "source": "x", "callback_url": "ftp://example.org/x"}, "/callback_url"),
    ([1, 2], ""),
    ("just a string", ""),
])
def test_bodies_that_break_the_schema_are_422_naming_each_problem(service, body, pointer):
    with service.client("platform") as client:
        document = problem(client.post("/v1/gradings", json=body), 422, "invalid-request")
    assert pointer in [error["pointer"] for error in document["errors"]], document["errors"]
    assert "'x'" not in json.dumps(document["errors"])  # the values are not echoed back


@pytest.mark.parametrize("body, kind, words", [
    ({"task": "no_such_task", "source": "x"}, "unknown-task", "no task 'no_such_task'"),
    ({"task": "conv_backward", "source_base64": "not base64!"}, "invalid-source", "base64"),
    ({"task": "conv_backward", "source_base64": "eA"}, "invalid-source", "base64"),
    ({"task": "conv_backward", "source": "\ud800"}, "invalid-source", "surrogate"),
    ({"task": "conv_backward", "source": "x", "callback_url": "http://"}, "invalid-request", "callback_url"),
])
def test_unknown_tasks_and_unreadable_sources_are_422(service, body, kind, words):
    with service.client("platform") as client:
        document = problem(client.post("/v1/gradings", content=json.dumps(body).encode(),
                                       headers={"Content-Type": "application/json"}), 422, kind)
    assert words in document["detail"]


def test_a_body_over_the_limit_is_413_before_it_is_read_and_a_chunked_one_as_soon_as_it_is_over(service):
    big = b'{"task": "conv_backward", "source": "' + b"x" * (600 * 1024) + b'"}'
    raw_problem(post_bytes(service, big), 413, "too-large")

    def chunks():
        yield b'{"task": "conv_backward", "source": "'
        for _ in range(64):
            yield b"x" * 16384

    with service.client("platform") as client:
        problem(client.post("/v1/gradings", content=chunks(), headers={"Content-Type": "application/json"}),
                413, "too-large")


def test_a_submission_over_the_graders_limit_is_413(service):
    with service.client("platform") as client:
        document = problem(client.post("/v1/gradings", json={"task": "conv_backward", "source": "#" * (300 * 1024)}),
                           413, "too-large")
    assert "262144" in document["detail"]


def test_a_client_that_sends_its_body_too_slowly_gets_408(service):
    body = json.dumps(submission_body(CORRECT_CONV.read_bytes())).encode()
    token = TOKENS["platform"][1]
    head = (f"POST /v1/gradings HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    answer = raw(service, head + body, pause_after=len(head) + 10, pause=3)
    raw_problem(answer, 408, "request-timeout")


SLOW_CLIENTS = 16  # of each kind: silent, and sending their head a byte at a time
CLOSED_WITHIN_SECONDS = 60  # a hang detector: the shared service's request_seconds is 2


def test_slow_heads_hold_no_worker_and_their_connections_are_closed(service):
    parts = urlsplit(service.url)
    silent = [socket.create_connection((parts.hostname, parts.port), timeout=30) for _ in range(SLOW_CLIENTS)]
    trickling = [socket.create_connection((parts.hostname, parts.port), timeout=30) for _ in range(SLOW_CLIENTS)]
    head = b"POST /v1/gradings HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 4096
    open_ones = set(silent + trickling)

    def trickle():  # a byte to each trickling connection every 0.2 s, until the service closed them all
        deadline, sent = time.monotonic() + CLOSED_WITHIN_SECONDS, 0
        while open_ones and time.monotonic() < deadline:
            for sock in list(open_ones):
                try:
                    if sock in trickling:
                        sock.send(head[sent % len(head):][:1])
                    sock.setblocking(False)
                    if sock.recv(4096) == b"":
                        open_ones.discard(sock)
                except BlockingIOError:
                    pass
                except OSError:  # reset, or a broken pipe: closed by the service too
                    open_ones.discard(sock)
            sent += 1
            time.sleep(0.2)

    slow_clients = threading.Thread(target=trickle)
    slow_clients.start()
    try:
        # While they hang on, a grading is graded: slow clients hold a socket, not a worker.
        with service.client("platform") as client:
            graded = client.post("/v1/gradings", json=submission_body(CORRECT_CONV.read_bytes()))
            assert graded.json()["feedback"]["status"] == "passed"
            assert client.get("/readyz").status_code == 200
        slow_clients.join()
        assert not open_ones, f"{len(open_ones)} slow connections still open after {CLOSED_WITHIN_SECONDS} s"
    finally:
        open_ones.clear()
        slow_clients.join()
        for sock in silent + trickling:
            sock.close()


@pytest.mark.parametrize("head", [b"GET /livez HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (20 * 1024),
                                  b"GET /livez HTTP/1.1\r\nHost: x\r\nBad Header Name: 1\r\n\r\n"],
                         ids=["over_h11s_limit", "bad_syntax"])
def test_a_head_that_cannot_be_parsed_gets_a_400_problem_document(service, head):
    raw_problem(raw(service, head), 400, "malformed-request")


@pytest.mark.parametrize("query", ["wait=-1", "wait=abc", "wait=601", "wait=nan", "wait=inf"])
def test_a_wait_that_is_not_a_number_of_seconds_is_400(service, query):
    with service.client("platform") as client:
        problem(client.post(f"/v1/gradings?{query}", json=submission_body("x = 1\n")), 400, "malformed-request")
        problem(client.get(f"/v1/gradings/{'0' * 32}?{query}"), 400, "malformed-request")


def test_an_idempotency_key_with_spaces_or_too_long_is_400(service):
    with service.client("platform") as client:
        for key in ("two words", "k" * 256):
            problem(client.post("/v1/gradings", json=submission_body("x = 1\n"), headers={"Idempotency-Key": key}),
                    400, "malformed-request")


def test_unknown_gradings_routes_and_methods_are_problem_documents(service):
    with service.client("operator") as client:
        problem(client.get("/v1/gradings/" + "0" * 32), 404, "not-found")
        problem(client.get("/v1/gradings/not-an-id"), 404, "not-found")
        problem(client.get("/v2/gradings"), 404, "not-found")
        response = client.delete("/v1/tasks")
        problem(response, 405, "method-not-allowed")
        assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD"}


# --- probes and metrics ----------------------------------------------------------------------


def test_the_probes_and_the_metrics(service):
    with service.client("watcher") as client:
        assert client.get("/livez").json() == {"status": "alive"}
        ready = client.get("/readyz").json()
        assert ready["ready"] is True and ready["state"] == "serving"
        with service.client("platform") as platform:
            platform.post("/v1/gradings", json=submission_body(CORRECT_CONV.read_bytes()))
        text = client.get("/metrics").text
    for sample in ('grader_gradings_total{code="none",status="passed",task="conv_backward"}',
                   'grader_queue_depth{priority="interactive"}', 'grader_queue_depth{priority="regrade"}',
                   'grader_workers{state="idle"}', 'grader_workers{state="busy"}', "grader_sandbox_fallbacks_total",
                   'grader_grading_duration_seconds_bucket{le="+Inf",phase="sandbox"}', "grader_build_info{"):
        assert sample in text, sample
    assert "_created" not in text


def test_a_service_without_tokens_is_open_on_loopback_and_refuses_nothing_it_would_grade(tmp_path):
    from grader.service import settings

    grader_settings = load_config(str(_config(tmp_path)))
    opened = settings.load(grader_settings, environ={})
    assert opened.open and opened.host == "127.0.0.1" and opened.generated_token is None
    exposed = settings.load(grader_settings, host="0.0.0.0", environ={})
    assert not exposed.open and exposed.generated_token and exposed.tokens[0].scopes == {"submit", "admin"}
    image_default = settings.load(grader_settings, environ={settings.HOST_ENV: "0.0.0.0"})
    assert image_default.generated_token and image_default.host == "0.0.0.0"


def _config(folder):
    path = folder / "grader.yaml"
    path.write_text(f"tasks_root: {REPO}\nservice:\n  database: {folder / 'db.sqlite3'}\n")
    return path


@pytest.mark.parametrize("line, words", [
    ("platform submit short", "16-512 characters"),
    ("platform write " + "t" * 20, "scopes must be"),
    ("plat/form submit " + "t" * 20, "the name"),
    ("platform submit " + "t" * 20 + " many", "GRADINGS_PER_MINUTE"),
    ("platform submit", "expected NAME SCOPES TOKEN"),
    ("a submit " + "t" * 20 + "\nb submit " + "t" * 20, "the same token"),
])
def test_a_bad_tokens_file_stops_the_start_with_its_line(tmp_path, line, words):
    from grader.service import settings

    tokens = tmp_path / "tokens"
    tokens.write_text("# the platform's tokens\n" + line + "\n")
    config = _config(tmp_path)
    config.write_text(config.read_text() + f"  tokens_file: {tokens}\n")
    with pytest.raises(settings.SettingsError) as error:
        settings.load(load_config(str(config)), environ={})
    assert words in str(error.value)
