"""Errors as RFC 9457 problem documents (application/problem+json).

Owns the kinds of problem the service answers with: each has a stable ``type`` URI, a
``title`` that is the same for every occurrence and an HTTP status; ``detail`` says what
happened this time. A ``Problem`` raised anywhere in a request's handling becomes its answer;
429, 503 and a 409 "not-finished" carry ``Retry-After`` (and ``retry_after`` in the body), 401
``WWW-Authenticate``.
"""

from __future__ import annotations

import json
import math

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://cnn-grader.invalid/problems/"

# slug -> (status, title). docs/platform.md lists them; a test keeps the two in step.
KINDS = {
    "malformed-request": (400, "The request cannot be read"),
    "unauthorized": (401, "A valid bearer token is required"),
    "forbidden": (403, "The token lacks the scope this needs"),
    "not-found": (404, "No such resource"),
    "method-not-allowed": (405, "Method not allowed"),
    "request-timeout": (408, "The request body came too slowly"),
    "idempotency-conflict": (409, "The Idempotency-Key was used with another body"),
    "not-finished": (409, "The grading has not finished"),
    "too-large": (413, "The request is over the size limit"),
    "unsupported-media-type": (415, "The body must be application/json"),
    "invalid-request": (422, "The body breaks the GradingRequest schema"),
    "unknown-task": (422, "No such task"),
    "invalid-source": (422, "The source cannot be read"),
    "callbacks-unavailable": (422, "This service sends no callbacks"),
    "quota-exceeded": (429, "The token is over its quota"),
    "queue-full": (503, "The queue is full"),
    "not-ready": (503, "The service is starting"),
    "draining": (503, "The service is shutting down"),
    "task-refused": (503, "The task cannot be graded by this service"),
    "internal": (500, "The service failed"),
}


class Problem(Exception):
    """A request answered with a problem document instead of its result."""

    def __init__(self, kind: str, detail: str, retry_after: float | None = None, **extensions):
        super().__init__(detail)
        self.kind = kind
        self.status, self.title = KINDS[kind]
        self.detail = detail
        self.retry_after = None if retry_after is None else max(1, math.ceil(retry_after))
        self.extensions = extensions

    def document(self, instance: str | None = None) -> dict:
        body = {"type": TYPE_BASE + self.kind, "title": self.title, "status": self.status, "detail": self.detail}
        if instance is not None:
            body["instance"] = instance
        if self.retry_after is not None:
            body["retry_after"] = self.retry_after
        body.update(self.extensions)
        return body

    def headers(self) -> dict[str, str]:
        headers = {}
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        if self.status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="grader"'
        if self.kind == "draining":
            headers["Connection"] = "close"  # the client's next request goes to another replica
        return headers

    def body(self, instance: str | None = None) -> bytes:
        return json.dumps(self.document(instance), ensure_ascii=False).encode("utf-8")
