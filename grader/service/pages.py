"""What the service sends to a browser, and the headers that keep it safe there.

Owns two things:

* The feedback page of a grading (GET /v1/gradings/{id}/feedback.html): the page of ``grader
  grade --format html`` for the stored feedback, sent with the page's own Content-Security-Policy
  as a header too (``htmlpage`` puts it in a meta element; a header applies before the browser
  reads a byte, and it may carry ``sandbox``, which a meta policy cannot: even a script that got
  into the page would have no origin to run in), ``nosniff`` (the browser takes it as the HTML it
  is declared to be, and nothing else as HTML), no referrer, and no caching (it is one student's
  feedback, read with a token).
* The practice page (GET /, ``service.practice_page``): grader/service/practice/ holds its
  index.html, script, labels, stylesheet and icon, shipped in the package and read once when the
  app is made. The index names each asset by a URL carrying a hash of its bytes, so an asset can
  be cached for good (``immutable``) and a new grader's page never runs an old script; the index
  itself is revalidated on every load. The page's policy lets it run its own script files only
  (no inline script, no eval), talk to this origin only, and be framed by nobody; its styles are
  its own stylesheet's plus the feedback page's (the feedback is shown in a frame given as
  ``srcdoc``, and such a frame works under its parent's policy as well as its own).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..feedback import htmlpage
from .problems import Problem

NOSNIFF = {"X-Content-Type-Options": "nosniff"}
FEEDBACK_POLICY = htmlpage.CONTENT_SECURITY_POLICY + "; sandbox"

PRACTICE_DIR = Path(__file__).with_name("practice")
PRACTICE_INDEX = "index.html"
# Every file the page may load, with its media type: nothing else under /practice/ is served.
PRACTICE_ASSETS = {"practice.js": "text/javascript", "labels.js": "text/javascript", "practice.css": "text/css",
                   "favicon.svg": "image/svg+xml"}
_ASSET_REFERENCE = re.compile(r"\{\{([A-Za-z0-9_.-]+)\}\}")


def _directive(policy: str, name: str) -> list[str]:
    for directive in policy.split(";"):
        words = directive.split()
        if words and words[0] == name:
            return words[1:]
    raise ValueError(f"the policy has no {name}: {policy}")


PRACTICE_POLICY = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' " + " ".join(_directive(htmlpage.CONTENT_SECURITY_POLICY, "style-src")),
    "img-src 'self'",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
])
# An asset is never a document of its own; were one opened as such, it could do nothing.
ASSET_POLICY = "default-src 'none'; sandbox"
ASSET_CACHE = "public, max-age=31536000, immutable"


def feedback_response(page: str) -> Response:
    """The feedback page of one grading, as served."""
    return Response(page.encode("utf-8"), media_type="text/html", headers={
        "Content-Security-Policy": FEEDBACK_POLICY, **NOSNIFF, "Referrer-Policy": "no-referrer",
        "Cache-Control": "private, no-store"})


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    etag: str  # a strong validator: the hash of the bytes, quoted


@dataclass(frozen=True)
class PracticePage:
    index: bytes
    assets: dict[str, Asset]


def load_practice_page(folder: Path = PRACTICE_DIR) -> PracticePage:
    """The page's files, read once; each ``{{name}}`` of the index becomes that asset's URL."""
    assets = {}
    for name, media_type in PRACTICE_ASSETS.items():
        body = (folder / name).read_bytes()
        assets[name] = Asset(body, media_type, '"' + hashlib.sha256(body).hexdigest()[:20] + '"')

    def url(match: re.Match) -> str:
        return f"/practice/{match.group(1)}?v={assets[match.group(1)].etag.strip(chr(34))}"

    index = _ASSET_REFERENCE.sub(url, (folder / PRACTICE_INDEX).read_text(encoding="utf-8"))
    return PracticePage(index.encode("utf-8"), assets)


def _not_modified(request: Request, etag: str) -> bool:
    given = request.headers.get("if-none-match")
    if not given:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in given.split(",")]
    return "*" in tags or etag in tags


def practice_routes(page: PracticePage) -> list[Route]:
    async def index(request: Request) -> Response:
        return Response(page.index, media_type="text/html", headers={
            "Content-Security-Policy": PRACTICE_POLICY, **NOSNIFF, "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-cache"})

    async def asset(request: Request) -> Response:
        found = page.assets.get(request.path_params["file"])
        if found is None:
            raise Problem("not-found", "no such file of the practice page")
        headers = {"ETag": found.etag, "Cache-Control": ASSET_CACHE}
        if _not_modified(request, found.etag):
            return Response(status_code=304, headers=headers)
        return Response(found.body, media_type=found.media_type,
                        headers={**headers, "Content-Security-Policy": ASSET_POLICY, **NOSNIFF})

    return [Route("/", index, methods=["GET"]), Route("/practice/{file}", asset, methods=["GET"])]
