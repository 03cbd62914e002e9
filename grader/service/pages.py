"""What the service sends to a browser as HTML, and the headers that keep it safe there.

Owns the feedback page of a grading (GET /v1/gradings/{id}/feedback.html): the page of
``grader grade --format html`` for the stored feedback, sent with the page's own
Content-Security-Policy as a header too (``htmlpage`` puts it in a meta element; a header is
what a browser applies before it reads a byte, and it may carry ``sandbox``, which a meta
policy cannot: even a script that got into the page would have nowhere to run), with
``nosniff`` (the browser takes it as the HTML it is declared to be, and nothing else as HTML),
no referrer, and no caching (it is one student's feedback, read with a token).
"""

from __future__ import annotations

from starlette.responses import Response

from .. import htmlpage

FEEDBACK_POLICY = htmlpage.CONTENT_SECURITY_POLICY + "; sandbox"
NOSNIFF = {"X-Content-Type-Options": "nosniff"}


def feedback_response(page: str) -> Response:
    """The feedback page of one grading, as served."""
    return Response(page.encode("utf-8"), media_type="text/html", headers={
        "Content-Security-Policy": FEEDBACK_POLICY, **NOSNIFF, "Referrer-Policy": "no-referrer",
        "Cache-Control": "private, no-store"})
