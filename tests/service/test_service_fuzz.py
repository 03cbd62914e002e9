"""Schemathesis over the OpenAPI document: generated requests, valid and invalid, to every operation.

Schemathesis draws requests from the served document (positive: what it allows; negative: what
it does not), a bounded number per operation, with derandomized Hypothesis so a run is
repeatable. Every answer must be one the document lists for that operation, with its media
type, headers and schema (``service_support.response_problems``), and never a 5xx other than
the documented 503s.

The positive requests to POST /v1/gradings name a task the service grades, so that they are
accepted and graded (whatever source Hypothesis wrote) rather than all refused as unknown
tasks, and their callback_url points at a closed loopback port: no request leaves the machine.
"""

from __future__ import annotations

import time

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from grader.service import api
from service_support import TOKENS, response_problems

EXAMPLES_PER_OPERATION = 30


def _operations():
    schema = schemathesis.openapi.from_dict(api.document())
    return {operation.ok().label: operation.ok() for operation in schema.get_all_operations()}


OPERATIONS = _operations()


def _takes_input(label: str) -> bool:
    method, path = label.split(" ", 1)
    operation = api.document()["paths"][path][method.lower()]
    return bool(operation.get("parameters") or operation.get("requestBody"))


CASES = [(label, GenerationMode.POSITIVE) for label in sorted(OPERATIONS)] + [
    (label, GenerationMode.NEGATIVE) for label in sorted(OPERATIONS) if _takes_input(label)]  # nothing to break else


@pytest.mark.parametrize("label, mode", CASES, ids=[f"{label}-{mode.value}" for label, mode in CASES])
def test_generated_requests_get_documented_answers_and_no_server_error(service, label, mode):
    operation = OPERATIONS[label]
    headers = {"Authorization": f"Bearer {TOKENS['operator'][1]}"}
    seen = []

    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        if label == "POST /v1/gradings" and mode == GenerationMode.POSITIVE and isinstance(case.body, dict):
            case.body["task"] = "relu_backward"
            if "callback_url" in case.body:
                case.body["callback_url"] = "http://127.0.0.1:9/"
        response = case.call(base_url=service.url, headers=headers, timeout=60)
        status = response.status_code
        seen.append(status)
        assert status < 500 or status == 503, (status, response.text[:300])
        answer_headers = {name: ", ".join(value) if isinstance(value, list) else value
                          for name, value in response.headers.items()}
        problems = response_problems(case.method.upper(), response.request.path_url.split("?")[0], status,
                                     answer_headers, response.content)
        assert not problems, problems

    run()
    assert seen, "schemathesis generated nothing"
    if label == "POST /v1/gradings" and mode == GenerationMode.POSITIVE:
        assert 200 in seen or 202 in seen, f"no generated grading was accepted: {sorted(set(seen))}"
    _settle(service)


def _settle(service, seconds: float = 120) -> None:
    """Wait until the shared service has graded what the generated requests left queued."""
    deadline = time.monotonic() + seconds
    with service.client("operator") as client:
        while True:
            samples = [line for line in client.get("/metrics").text.splitlines()
                       if line.startswith(("grader_queue_depth{", 'grader_workers{state="busy"}'))]
            if all(line.endswith(" 0.0") for line in samples):
                return
            assert time.monotonic() < deadline, samples
            time.sleep(0.1)
