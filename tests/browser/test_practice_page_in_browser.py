"""The practice page of a real `grader serve` in Chromium, as a student uses it.

One service on loopback for the module (conv_backward and im2col, a token required, as a course
would run it). A student opens /, is asked for the token (a wrong one is refused, the right one
lets the tasks in), reads the task, pastes a file into the editor and grades it: a correct one shows
"passed", a wrong one the failing test with its heat map, in the sandboxed feedback frame; a hostile
one (markup in its output and its exception) runs nothing in the page or the frame, and the page
asks for nothing beyond its own files and the API. A full queue, a refused task and a grading that
outlasts the request's wait (202, then the Location is polled) each get their own message. Every
step is saved as a screenshot in the test's temporary folder, in Chinese and in English.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
import pytest

from browser_support import EXAMPLES, HOSTILE_SUBMISSION, service_support
from grader.feedback.messages import text as catalog
from grader.service import pages
from grader.service.problems import MEDIA_TYPE, Problem

support = service_support()
LABELS = support.labels()
TOKEN = "student-token-0123456789abcdef"
CORRECT = (EXAMPLES / "conv_backward" / "correct.py").read_text(encoding="utf-8")
WRONG = (EXAMPLES / "conv_backward" / "wrong_conv_dout_not_nhwc.py").read_text(encoding="utf-8")  # wrong values
GRADING_SECONDS = 120  # a hang detector: a grading here takes a few seconds
# What the page may ask the service for: its own files and the public API, nothing else.
GRADING_ANSWER = re.compile(r"^/v1/gradings(/[0-9a-f]{32})?$")
ALLOWED = re.compile(r"^/(|practice/(" + "|".join(map(re.escape, pages.PRACTICE_ASSETS))
                     + r")|v1/tasks|v1/tasks/[a-z0-9_]+|v1/gradings|v1/gradings/[0-9a-f]{32})$")


@pytest.fixture(scope="module")
def practice(browser, tmp_path_factory):
    """The service (after ``browser``: without Chromium it is not started at all)."""
    folder = tmp_path_factory.mktemp("practice-service")
    (folder / "tokens.txt").write_text(f"student submit {TOKEN}\n", encoding="utf-8")
    config = support.write_config(folder, {"tasks": ["conv_backward", "im2col"],
                                           "tokens_file": str(folder / "tokens.txt")})
    server = support.Server(folder, config)
    server.start()
    yield server
    assert server.stop() == 0, server.log_text()[-3000:]
    assert "Traceback" not in server.log_text(), server.log_text()[-5000:]


def label(lang: str, key: str, **values) -> str:
    return re.sub(r"\{(\w+)\}", lambda match: str(values.get(match.group(1), match.group(0))), LABELS[lang][key])


def open_page(watched, practice, lang: str, task: str = "conv_backward"):
    """Open the page as a student: it asks for the token, then shows the task."""
    page = watched.page
    page.goto(f"{practice.url}/?lang={lang}&task={task}")
    page.locator("#token-panel").wait_for(state="visible")
    assert page.locator("#token-message").inner_text() == label(lang, "token_needed")
    page.fill("#token-input", TOKEN)
    page.click("#token-use")
    page.locator("#task-title").filter(has_text=re.compile(".")).wait_for()
    assert page.locator("#token-panel").is_hidden()
    return page


def grade(page, source: str) -> dict:
    """Paste ``source`` into the editor, press Grade, wait until the page is done; the finished grading
    as the service last answered it (the POST's 200, or the last poll of its Location)."""
    answers = []

    def keep(response):
        if GRADING_ANSWER.match(urlsplit(response.url).path) and response.status == 200:
            answers.append(response)

    page.on("response", keep)
    try:
        page.fill("#source", source)
        page.click("#grade")
        page.locator('#grade[aria-busy="false"]').wait_for(timeout=GRADING_SECONDS * 1000)
    finally:
        page.remove_listener("response", keep)
    assert answers, "no grading came back"
    return answers[-1].json()


def frame_of(page, graded: dict):
    """The feedback frame, once it shows ``graded``'s page."""
    frame = page.frame_locator("#feedback")
    frame.locator("header .summary").filter(has_text=graded["feedback"]["summary"]).wait_for()
    return frame


def status(page) -> tuple[str, str]:
    box = page.locator("#status")
    return box.get_attribute("class"), box.locator(".message").inner_text()


def shoot(page, tmp_path, name: str) -> None:
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)


def requested_paths(watched, practice) -> list[str]:
    origin = urlsplit(practice.url)
    outside = [url for url in watched.requests if urlsplit(url).netloc != origin.netloc]
    assert not outside, f"the page asked another host: {outside}"
    return [urlsplit(url).path for url in watched.requests]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_student_enters_the_token_grades_a_correct_file_then_a_wrong_one(watched, practice, tmp_path, lang):
    page = watched.page
    page.goto(f"{practice.url}/?lang={lang}")
    page.locator("#token-panel").wait_for(state="visible")
    assert page.locator("#workspace").is_hidden(), "nothing but the question for the token"
    page.fill("#token-input", "not-the-token-0123456789")
    page.click("#token-use")
    page.locator("#token-message").filter(has_text=label(lang, "token_wrong")).wait_for()
    shoot(page, tmp_path, f"token_{lang}")
    page = open_page(watched, practice, lang)
    task = httpx.get(f"{practice.url}/v1/tasks/conv_backward",
                             headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert page.locator("#task-title").inner_text() == task["title"][lang]
    assert page.locator("#task-description").inner_text() == task["description"][lang].strip()
    assert page.title() == label(lang, "app_title")
    shoot(page, tmp_path, f"task_{lang}")

    passed = grade(page, CORRECT)
    assert passed["feedback"]["status"] == "passed" and passed["lang"] == lang
    kind, message = status(page)
    assert "ok" in kind.split() and message == label(lang, "passed", score=f"{passed['feedback']['score']:g}",
                                                       max=f"{passed['feedback']['max_score']:g}")
    assert frame_of(page, passed).locator("header .badge").inner_text() == catalog(lang, "render.passed")
    shoot(page, tmp_path, f"passed_{lang}")

    failed = grade(page, WRONG)
    assert failed["feedback"]["status"] == "failed"
    kind, message = status(page)
    assert "bad" in kind.split() and message == label(lang, "failed", score=f"{failed['feedback']['score']:g}",
                                                      max=f"{failed['feedback']['max_score']:g}")
    first = next(t for t in failed["feedback"]["tests"] if t["status"] == "failed" and t["visibility"] == "visible")
    error_map = next(check["diagnostics"]["error_map"] for check in first["checks"]
                     if check.get("diagnostics", {}).get("error_map"))
    frame = frame_of(page, failed)
    opened = frame.locator(f'details.failure[open][data-name="{first["name"]}"]')
    assert opened.count() == 1, "the first failing visible test is open"
    figure = opened.locator("figure").first
    figure.scroll_into_view_if_needed()
    cells = figure.locator("svg.heat-map rect.cell")
    assert cells.count() == len(error_map["rows"]) * len(error_map["rows"][0])
    assert figure.locator("rect.worst-mark").is_visible() and figure.locator("svg.colour-scale").is_visible()
    box = cells.first.bounding_box()
    assert box and box["width"] >= 12, "the heat map is drawn, large enough to see"
    assert page.title() == label(lang, "app_title")
    shoot(page, tmp_path, f"failed_{lang}")
    page.locator("#feedback").screenshot(path=str(tmp_path / f"failed_{lang}_heat_map.png"))
    page.set_viewport_size({"width": 1500, "height": 900})  # wide: the feedback beside the editor
    assert page.locator("#result").bounding_box()["x"] > page.locator("#source").bounding_box()["x"] + 500
    page.screenshot(path=str(tmp_path / f"failed_{lang}_wide.png"))
    page.set_viewport_size({"width": 1000, "height": 800})
    assert not watched.dialogs
    assert all(ALLOWED.match(path) for path in requested_paths(watched, practice)), watched.requests


def test_a_hostile_file_runs_nothing_in_the_page_or_the_frame(watched, practice, tmp_path):
    page = open_page(watched, practice, "en", task="im2col")
    graded = grade(page, HOSTILE_SUBMISSION.read_text(encoding="utf-8"))
    assert graded["feedback"]["status"] == "failed"
    frame = frame_of(page, graded)
    for details in frame.locator("details").all():
        details.evaluate("e => e.open = true")  # every printed output on screen, as a curious student would
    page.wait_for_timeout(300)  # time for an onerror or onload handler to run, had one got in
    assert not watched.dialogs, f"a dialog opened: {watched.dialogs}"
    assert page.title() == label("en", "app_title")
    assert page.evaluate("typeof window.pwned") == "undefined"
    inside = page.frame_locator("#feedback").locator("html")
    assert inside.evaluate("e => document.title") == graded["feedback"]["title"]
    assert inside.evaluate("e => typeof window.pwned") == "undefined"
    seen = frame.locator("body").inner_text()
    assert "<script>document.title='pwned'</script>" in seen and "<img src=x onerror=alert(1)>" in seen
    assert "<script>window.pwned=1</script>" in seen, "the exception's message is shown as written"
    assert frame.locator("script, img, iframe, object, embed, a").count() == 0
    assert page.locator("#feedback").get_attribute("sandbox") == ""
    assert page.locator("script:not([src])").count() == 0 and page.locator("iframe").count() == 1
    paths = requested_paths(watched, practice)
    assert all(ALLOWED.match(path) for path in paths), f"a request beyond the page and the API: {paths}"
    shoot(page, tmp_path, "hostile")
    frame.locator("pre.stdout").first.scroll_into_view_if_needed()
    page.locator("#feedback").screenshot(path=str(tmp_path / "hostile_frame.png"))


def problem_answer(route, kind: str, detail: str, **extensions) -> None:
    """Answer the page's POST with the service's own problem document (as ``Problem`` makes it)."""
    made = Problem(kind, detail, **extensions)
    route.fulfill(status=made.status, headers={**made.headers(), "Content-Type": MEDIA_TYPE},
                  body=made.body("/v1/gradings"))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_full_queue_a_refused_task_and_a_long_grading_each_get_their_message(watched, practice, tmp_path, lang):
    page = open_page(watched, practice, lang)
    answers = []
    page.on("response", lambda response: answers.append((response.request.method, urlsplit(response.url).path,
                                                         response.status)))

    # The queue is full: 503 with Retry-After. The student is told to wait, and the button counts down.
    page.route("**/v1/gradings", lambda route: problem_answer(route, "queue-full", "8 gradings wait already",
                                                              retry_after=3))
    page.fill("#source", CORRECT)
    page.click("#grade")
    page.locator("#status .message").filter(has_text=label(lang, "queue_full", seconds=3)).wait_for()
    assert page.locator("#grade").is_disabled()
    assert page.locator("#grade").inner_text() in {label(lang, "retry_button", seconds=s) for s in (1, 2, 3)}
    assert "warn" in status(page)[0].split()
    shoot(page, tmp_path, f"queue_full_{lang}")
    page.locator("#grade:not([disabled])").wait_for(timeout=10_000)
    assert page.locator("#grade").inner_text() == label(lang, "grade")

    # The task failed its self-test: not the student's fault, and the teacher's detail is there.
    page.unroute("**/v1/gradings")
    page.route("**/v1/gradings", lambda route: problem_answer(
        route, "task-refused", "conv_backward is not graded here: its reference, graded as a student's file with seed "
        "7, got status failed (basic: WRONG_VALUES)", retry_after=300, task="conv_backward"))
    page.click("#grade")
    page.locator("#status .message").filter(has_text=label(lang, "refused_notice")).wait_for()
    assert "bad" in status(page)[0].split()
    assert label(lang, "for_teacher") in page.locator("#status .detail").inner_text()
    shoot(page, tmp_path, f"refused_{lang}")

    # The grading outlasts the request's wait (here: wait=0): 202 and a Location, polled until done.
    page.unroute("**/v1/gradings")
    page.route("**/v1/gradings", lambda route: route.continue_(url=route.request.url + "?wait=0"))
    graded = grade(page, CORRECT)
    assert graded["state"] == "done" and graded["feedback"]["status"] == "passed"
    assert ("POST", "/v1/gradings", 202) in answers, answers
    assert ("GET", f"/v1/gradings/{graded['id']}", 200) in answers, "the Location was polled"
    assert status(page)[1] == label(lang, "passed", score=f"{graded['feedback']['score']:g}",
                                    max=f"{graded['feedback']['max_score']:g}")
    page.unroute("**/v1/gradings")
    assert not watched.dialogs


def test_the_language_switch_relabels_the_page_and_is_remembered(watched, practice, tmp_path):
    page = open_page(watched, practice, "en")
    page.click('button[data-lang="zh"]')
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.title() == label("zh", "app_title")
    for node in page.locator("[data-label]").all():
        key = node.get_attribute("data-label")
        assert node.text_content() == LABELS["zh"][key], key
    assert page.locator('button[data-lang="zh"]').get_attribute("aria-pressed") == "true"
    task = httpx.get(f"{practice.url}/v1/tasks/conv_backward",
                             headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert page.locator("#task-title").inner_text() == task["title"]["zh"]
    assert page.locator("#task-select option:checked").inner_text() == task["title"]["zh"]
    page.goto(practice.url + "/")  # the same tab: the token and the language are kept
    page.locator("#task-title").filter(has_text=task["title"]["zh"]).wait_for()
    assert page.locator("#token-panel").is_hidden() and page.locator("html").get_attribute("lang") == "zh-CN"
    shoot(page, tmp_path, "switched_to_zh")
