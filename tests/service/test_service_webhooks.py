"""Callbacks: signed as Standard Webhooks says, retried until received, every attempt recorded.

A receiver on loopback (``service_support.Receiver``, the ``receiver`` fixture) records what
reaches it and answers with a scripted status per path. Signatures are checked with the `standardwebhooks` package,
an implementation of the specification that is not ours.
"""

from __future__ import annotations

import json
import time

import pytest
import standardwebhooks

from service_support import CORRECT_CONV, WEBHOOK_SECRET, submission_body, validate_against


def submit_with_callback(service, url: str) -> dict:
    with service.client("platform") as client:
        response = client.post("/v1/gradings", params={"wait": 0},
                               json=submission_body(CORRECT_CONV.read_bytes(), callback_url=url, metadata={"n": 1}))
    assert response.status_code == 202
    return response.json()


def callback_state(service, grading_id: str, state: str, seconds: float = 60) -> dict:
    deadline = time.monotonic() + seconds
    with service.client("platform") as client:
        while True:
            callback = client.get(f"/v1/gradings/{grading_id}").json()["callback"]
            if callback["state"] == state:
                return callback
            assert time.monotonic() < deadline, callback
            time.sleep(0.05)


def test_a_finished_grading_is_posted_signed_and_the_receiver_can_verify_it(service, receiver):
    grading = submit_with_callback(service, receiver.url("ok"))
    headers, body = receiver.wait_for("ok", 1)[0]
    event = standardwebhooks.Webhook(WEBHOOK_SECRET).verify(body, headers)
    assert not validate_against({"$ref": "#/components/schemas/WebhookEvent"}, event)
    assert event["type"] == "grading.finished" and event["data"]["id"] == grading["id"]
    assert event["data"]["state"] == "done" and event["data"]["feedback"]["status"] == "passed"
    assert event["data"]["metadata"] == {"n": 1}
    assert headers["webhook-id"] == "msg_" + grading["id"]
    with pytest.raises(standardwebhooks.WebhookVerificationError):  # the check can fail: another key
        standardwebhooks.Webhook("whsec_" + "A" * 32).verify(body, headers)
    with pytest.raises(standardwebhooks.WebhookVerificationError):  # and a changed body
        standardwebhooks.Webhook(WEBHOOK_SECRET).verify(body.replace(b'"passed"', b'"failed"'), headers)
    assert callback_state(service, grading["id"], "delivered")["attempts"] == 1


def test_a_failing_receiver_gets_the_same_event_again_until_it_takes_it(service, receiver):
    grading = submit_with_callback(service, receiver.url("flaky"))
    deliveries = receiver.wait_for("flaky", 3)
    assert {headers["webhook-id"] for headers, _ in deliveries} == {"msg_" + grading["id"]}
    assert len({body for _, body in deliveries}) == 1
    for headers, body in deliveries:
        standardwebhooks.Webhook(WEBHOOK_SECRET).verify(body, headers)
    assert callback_state(service, grading["id"], "delivered")["attempts"] == 3
    assert json.loads(deliveries[0][1])["data"]["id"] == grading["id"]


def test_a_receiver_that_never_takes_it_is_given_up_after_the_attempts_and_that_is_recorded(service, receiver):
    grading = submit_with_callback(service, receiver.url("down"))
    callback = callback_state(service, grading["id"], "failed")
    assert callback["attempts"] == 3 and len(receiver.received["down"]) == 3  # service.webhooks.attempts
