"""The practice page over HTTP: what `grader serve` sends at / and /practice/, and how to turn it off.

What a browser does with it is in tests/browser/test_practice_page_in_browser.py. Here: the page runs
its own script files only (no inline script, no handler attribute, no style attribute, so the policy
can say ``script-src 'self'`` and mean it), names each file by the hash of its bytes so it can be
cached for good, holds no token and needs none, speaks only documented routes of the public API,
has every label in both languages, and is gone (404) when service.practice_page is false.
"""

from __future__ import annotations

import asyncio
import fnmatch
import hashlib
import re
import tomllib
from html.parser import HTMLParser

import httpx
import pytest

from grader.feedback import htmlpage
from grader.service import api, pages
from grader.service import settings as service_settings
from grader.service.app import create_app
from grader.service.lifecycle import Service
from grader.spec import config
from service_support import REPO, TOKENS, directives, labels, write_config

PRACTICE = pages.PRACTICE_DIR


class _Markup(HTMLParser):
    """Every start tag of a page with its attributes, and the text inside each <script>."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.script_text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.script_text.append(data)


def markup(html: str) -> _Markup:
    parser = _Markup()
    parser.feed(html)
    return parser


# --- the page and its files --------------------------------------------------------------------


def test_the_page_runs_its_own_script_files_only_and_nobody_may_frame_it(service):
    with service.client() as client:  # no token: the page is public, the API behind it is not
        response = client.get("/")
    assert response.status_code == 200 and response.headers["content-type"] == "text/html; charset=utf-8"
    policy = directives(response.headers["content-security-policy"])
    assert policy["default-src"] == ["'none'"] and policy["script-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"] and policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == policy["form-action"] == ["'none'"]
    assert not [source for sources in policy.values() for source in sources
                if source in ("'unsafe-inline'", "'unsafe-eval'", "*", "data:", "blob:") or "://" in source]
    # The feedback frame (srcdoc) lives under this policy too: its stylesheet's hash, and nothing more.
    assert policy["style-src"] == ["'self'"] + directives(htmlpage.CONTENT_SECURITY_POLICY)["style-src"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-cache"

    page = markup(response.text)
    assert "".join(page.script_text).strip() == "", "no inline script"
    for tag, attributes in page.tags:
        assert not [name for name in attributes if name.startswith("on")], f"<{tag}> has an event handler attribute"
        assert "style" not in attributes, f"<{tag}> has a style attribute"
    scripts = [attributes["src"] for tag, attributes in page.tags if tag == "script"]
    assert [src.split("?")[0] for src in scripts] == ["/practice/labels.js", "/practice/practice.js"]
    frames = [attributes for tag, attributes in page.tags if tag == "iframe"]
    assert len(frames) == 1 and frames[0]["sandbox"] == "", "the feedback frame may run nothing"
    assert not [tag for tag, _ in page.tags if tag in ("form", "base", "object", "embed")]


def test_each_file_is_named_by_the_hash_of_its_bytes_and_cached_for_good(service):
    with service.client() as client:
        page = markup(client.get("/").text)
        urls = {attributes.get("src") or attributes.get("href") for tag, attributes in page.tags
                if tag in ("script", "link", "img")}
        assert {url.split("?")[0] for url in urls} == {f"/practice/{name}" for name in pages.PRACTICE_ASSETS}
        for url in urls:
            name, version = re.fullmatch(r"/practice/([\w.]+)\?v=([0-9a-f]+)", url).groups()
            response = client.get(url)
            body = (PRACTICE / name).read_bytes()
            assert response.status_code == 200 and response.content == body
            assert hashlib.sha256(body).hexdigest().startswith(version) and len(version) >= 16
            assert response.headers["content-type"].split(";")[0] == pages.PRACTICE_ASSETS[name]
            assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert response.headers["x-content-type-options"] == "nosniff"
            again = client.get(url, headers={"If-None-Match": response.headers["etag"]})
            assert again.status_code == 304 and again.content == b""
            assert client.get(url, headers={"If-None-Match": '"something-else"'}).status_code == 200


@pytest.mark.parametrize("path", ["/practice/index.html", "/practice/nothing.js", "/practice/..%2Fapp.py",
                                  "/practice/%2e%2e/pages.py", "/practice/", "/index.html"])
def test_nothing_but_the_pages_own_files_is_served(service, path):
    with service.client() as client:
        response = client.get(path)
    assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json"


def test_the_page_holds_no_token_and_needs_none_while_the_api_does(service):
    with service.client() as client:
        served = [client.get("/").content] + [client.get(f"/practice/{name}").content for name in pages.PRACTICE_ASSETS]
        assert client.get("/v1/tasks").status_code == 401
    for secret in [spec[1] for spec in TOKENS.values()] + ["Bearer platform"]:
        assert not [body for body in served if secret.encode() in body]


def test_the_script_speaks_only_documented_routes_of_the_public_api():
    script = (PRACTICE / "practice.js").read_text(encoding="utf-8")
    used = set(re.findall(r'"(/v1/[a-z/]*)', script))
    assert used == {"/v1/tasks", "/v1/tasks/", "/v1/gradings", "/v1/gradings/"}, used
    documented = [path for path in api.document()["paths"] if path.startswith("/v1/")]
    for prefix in used:
        assert any(path.startswith(prefix) for path in documented), prefix
    for operation in ("/metrics", "/readyz", "admin", "innerHTML", "outerHTML", "insertAdjacentHTML", "document.write",
                      "eval(", "new Function"):
        assert operation not in script, f"practice.js uses {operation}"
    assert 'format: "html"' in script


def test_every_label_is_there_in_both_languages_with_the_same_placeholders():
    tables = labels()
    assert set(tables) == {"zh", "en"} and tables["zh"].keys() == tables["en"].keys()
    for key, english in tables["en"].items():
        assert sorted(re.findall(r"\{\w+\}", tables["zh"][key])) == sorted(re.findall(r"\{\w+\}", english)), key
        assert tables["zh"][key].strip() and english.strip(), key
    index = (PRACTICE / "index.html").read_text(encoding="utf-8")
    script = (PRACTICE / "practice.js").read_text(encoding="utf-8")
    used = set(re.findall(r'data-label(?:-placeholder|-title)?="(\w+)"', index))
    used |= set(re.findall(r'\bt\("(\w+)"', script))
    used |= set(re.findall(r'(?:showStatus|waitBeforeRetry)\("\w+", "(\w+)"', script))
    used |= set(re.findall(r'askForToken\("(\w+)"', script)) | set(re.findall(r'key: "(\w+)"', script))
    used |= set(re.findall(r'"[a-z-]+": "(\w+)"', script))  # WAIT_AND_RETRY's problem types -> labels
    assert len(used) > 40
    assert sorted(used - tables["en"].keys()) == []


def test_every_file_of_the_page_is_package_data_so_an_installed_grader_has_it():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = project["tool"]["setuptools"]["package-data"]["grader"]
    files = [path.relative_to(REPO / "grader").as_posix() for path in PRACTICE.iterdir()]
    served = [pages.PRACTICE_INDEX, *pages.PRACTICE_ASSETS]
    assert sorted(files) == sorted(f"service/practice/{name}" for name in served), "only what the page uses"
    assert not [name for name in files if not any(fnmatch.fnmatch(name, pattern) for pattern in patterns)]


# --- on and off ----------------------------------------------------------------------------------


@pytest.fixture
def answers(tmp_path):
    """``answers(service_values, paths)``: each path's response from the app of a service made from a
    grader.yaml with those service values, not started (no lifespan, no engine): enough for the routes
    that grade nothing."""
    made = []

    def ask(service_values: dict, paths: list[str], argv: tuple[str, ...] = ()) -> dict[str, httpx.Response]:
        from grader import cli

        args = cli.build_parser(["serve", *argv]).parse_args(["serve", *argv])
        made.append(Service(service_settings.load(config.load(str(write_config(tmp_path, service_values))),
                                                  environ={}, practice_page=args.practice_page)))

        async def get_all():
            transport = httpx.ASGITransport(app=create_app(made[-1]))
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
                return {path: await client.get(path) for path in paths}

        return asyncio.run(get_all())

    yield ask
    for service in made:
        service.engine.stop()
        service.store.close()


def test_the_page_is_on_by_default(answers):
    for path, response in answers({}, ["/", "/practice/practice.js"]).items():
        assert response.status_code == 200, path


def test_an_operator_can_turn_it_off_and_then_it_is_404_while_the_api_is_there(answers):
    found = answers({"practice_page": False}, ["/", "/practice/practice.js", "/practice/labels.js", "/v1/tasks",
                                               "/openapi.json"])
    for path in ("/", "/practice/practice.js", "/practice/labels.js"):
        assert found[path].status_code == 404, path
        assert found[path].headers["content-type"] == "application/problem+json", path
    assert found["/v1/tasks"].status_code == 200 and found["/openapi.json"].status_code == 200


def test_grader_serve_no_practice_page_turns_it_off_for_one_start(answers):
    found = answers({"practice_page": True}, ["/", "/practice/practice.js", "/v1/tasks"], ("--no-practice-page",))
    assert found["/"].status_code == 404 and found["/practice/practice.js"].status_code == 404
    assert found["/v1/tasks"].status_code == 200
    assert answers({"practice_page": True}, ["/"])["/"].status_code == 200  # without the flag: grader.yaml's
