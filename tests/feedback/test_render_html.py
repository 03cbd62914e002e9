"""``--format html``: the page shows what the feedback document says (heat maps of the visible failures,
nothing more of a hidden test than its entry), and nothing in the document can become markup or script.

The page is parsed with the standard library's HTML parser; tests/browser/ checks the same pages in
a real browser."""

from __future__ import annotations

import base64
import copy
import hashlib
import re
from html.parser import HTMLParser

import pytest

from feedback_support import EXAMPLES, SUBMISSIONS
from grader.feedback import html as render_html
from grader.feedback import htmlpage, svgcharts

# Every element the renderer writes. A tag outside this list in a page means some text became markup.
OUR_TAGS = {"html", "head", "meta", "title", "style", "body", "header", "span", "div", "h1", "h2", "p", "table", "thead",
            "tbody", "tr", "th", "td", "br", "strong", "details", "summary", "section", "figure", "figcaption", "pre",
            "ul", "li", "footer", "svg", "rect", "text", "line", "caption"}

# Attributes a browser loads or follows; the pages have none (a data-* attribute is only text).
URL_ATTRIBUTES = {"href", "xlink:href", "src", "srcset", "action", "formaction", "data", "poster", "background", "ping"}

HOSTILE = [
    "<script>document.title='pwned';window.pwned=1</script>",
    '"><img src=x onerror="window.pwned=2">',
    "'><svg onload=alert(1)>",
    "</style><style>body{display:none}</style>",
    "</pre></details></body><script>alert(3)</script>",
    '<a href="javascript:alert(4)">click</a>',
    "<svg><a xlink:href=\"javascript:alert(5)\"><text>x</text></a></svg>",
    "<!-- --><![CDATA[<script>alert(6)</script>]]>",
    '<meta http-equiv="refresh" content="0;url=https://example.invalid/">',
    "{title} {0} %s \x00\x07\x1b[31mred\x1b[0m\r\x7f\x85 \ud800",
    "&lt;script&gt; &amp; &#60;script&#62;",
]

# Fields whose value is one of a few words the schema fixes (they select labels and classes).
FIXED = {"schema_version", "grader_version", "task_hash", "lang", "status", "visibility", "kind", "code", "mode",
         "backend", "rows", "encoding", "axis", "exception"}


class Page(HTMLParser):
    """Elements, attributes and text of a page, as a browser's parser would see them."""

    def __init__(self, source: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(source)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def all(self, tag: str, cls: str | None = None) -> list[dict]:
        return [attrs for name, attrs in self.tags if name == tag and (cls is None or cls in (attrs.get("class") or "").split())]


def poisoned(document: dict, payload: str) -> dict:
    """``document`` with every free text (messages, names, printed output, file names...) replaced by ``payload``."""

    def walk(node, key=None):
        if isinstance(node, dict):
            return {k: walk(v, k) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, key) for v in node]
        if isinstance(node, str) and key not in FIXED:
            return payload
        return node

    return walk(copy.deepcopy(document))


@pytest.fixture(scope="module")
def overlaps(grade):
    """A failing col2im in English with shrinking: visible and hidden failures, a known mistake, a shrunk case."""
    return grade("col2im", EXAMPLES / "col2im" / "wrong_col2im_average_overlaps.py", lang="en", shrink=True)


def test_html_renders_the_json_document(grade, overlaps):
    html = grade("col2im", EXAMPLES / "col2im" / "wrong_col2im_average_overlaps.py", lang="en", shrink=True, fmt="html").stdout
    assert html == render_html.render(overlaps.document)
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")


def test_every_failing_visible_test_has_a_heat_map_of_its_error_map(overlaps):
    page = Page(render_html.render(overlaps.document))
    maps = [check["diagnostics"]["error_map"] for test in overlaps.failing_visible() for check in test["checks"]
            if (check.get("diagnostics") or {}).get("error_map")]
    shrunk_map = overlaps.document["shrunk"]["checks"][0]["diagnostics"]["error_map"]
    assert len(page.all("svg", "heat-map")) == len(maps) + 1, "one heat map per failing visible output, and the shrunk case's"
    cells = page.all("rect", "cell")
    assert len(cells) == sum(len(m["rows"]) * len(m["rows"][0]) for m in maps + [shrunk_map])
    wrong = [c for c in cells if "wrong" in c["class"].split()]
    assert len(wrong) == sum(row.count("x") for m in maps + [shrunk_map] for row in m["rows"])
    right_fills = {c["fill"] for c in cells if "right" in c["class"].split()}
    assert right_fills == {svgcharts.RIGHT}
    assert svgcharts.RIGHT not in {c["fill"] for c in wrong}
    marks = page.all("rect", "worst-mark")
    assert [[int(m["data-row"]), int(m["data-col"])] for m in marks] == [m["worst"] for m in maps + [shrunk_map]]


def test_the_worst_cell_takes_the_top_of_the_scale_and_smaller_errors_paler_colours(overlaps):
    first = overlaps.failing_visible()[0]
    error_map = first["checks"][0]["diagnostics"]["error_map"]
    html = render_html.render(overlaps.document)
    first_map = html[html.index('<svg xmlns="http://www.w3.org/2000/svg" class="heat-map"'):]
    first_map = first_map[: first_map.index("</svg>")]
    cells = Page(first_map).all("rect", "cell")
    row, col = error_map["worst"]
    worst = next(c for c in cells if (int(c["data-row"]), int(c["data-col"])) == (row, col))
    assert worst["fill"] == svgcharts.SCALE[-1]

    def lightness(colour):
        return sum(int(colour[i:i + 2], 16) for i in (1, 3, 5))

    wrong = sorted((float(c["data-error"]), lightness(c["fill"])) for c in cells if "wrong" in c["class"].split())
    assert wrong[0][0] < wrong[-1][0] and wrong[0][1] > wrong[-1][1], "a smaller error is drawn paler"
    assert [light for _, light in wrong] == sorted((light for _, light in wrong), reverse=True)


def test_hidden_tests_show_their_status_code_and_mistake_only(overlaps):
    document = overlaps.document
    page = render_html.render(document)
    hidden = [t for t in document["tests"] if t["visibility"] == "hidden" and t["status"] == "failed"]
    assert hidden
    for test in hidden:
        row = re.search(rf'<tr class="test failed" data-name="{test["name"]}">(.*?)</tr>', page).group(1)
        shown = re.sub(r"<[^>]+>", " ", row).split()
        allowed = {"FAIL", test["name"], "(hidden)", f"0/{test['max_score']:g}", test["code"]} | \
            {f"[{d}]" for d in test.get("diagnoses", [])} | set((test.get("title") or "").split())
        assert set(shown) <= allowed, set(shown) - allowed
        assert f'class="failure" data-name="{test["name"]}"' not in page
    assert "A hidden test shows only whether it passed" in page


def test_a_submission_whose_failures_are_all_hidden_gets_no_failure_details(overlaps):
    document = copy.deepcopy(overlaps.document)
    for test in document["tests"]:
        if test["status"] == "failed" and test["visibility"] == "visible":
            test["status"], test["score"], test["code"] = "passed", test["max_score"], None
    page = Page(render_html.render(document))
    assert page.all("details", "failure") == []
    assert len(page.all("svg", "heat-map")) == 1, "only the shrunk case's map (it is drawn from the parameter space)"


@pytest.mark.parametrize("payload", HOSTILE, ids=range(len(HOSTILE)))
def test_no_text_of_the_document_becomes_markup(overlaps, feedback_validator, payload):
    document = poisoned(overlaps.document, payload)
    document["tests"][1]["stdout"] = payload * 3
    document["import_stdout"] = payload
    assert not list(feedback_validator.iter_errors(document))
    html = render_html.render(document)
    html.encode("utf-8")  # a lone surrogate would make the page unwritable
    page = Page(html)
    assert {tag for tag, _ in page.tags} <= OUR_TAGS
    for tag, attrs in page.tags:
        assert not set(attrs) & URL_ATTRIBUTES and not any(name.startswith("on") for name in attrs), (tag, attrs)
    assert len(page.all("style")) == 1 and len(page.all("meta")) == 4
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]", html), "control characters are shown, not sent"
    assert "<script" not in html.lower()
    text = "".join(page.text)
    visible = htmlpage._UNPRINTABLE.sub(htmlpage._visible, payload.replace("\r\n", "\n"))
    assert visible in text, "the student's text is shown as text, as written"


def test_a_student_cannot_inject_a_tag_through_a_real_grading(grade):
    graded = grade("im2col", SUBMISSIONS / "im2col" / "prints_markup.py", lang="en", fmt="html")
    assert graded.returncode == 0
    page = Page(graded.stdout)
    assert {tag for tag, _ in page.tags} <= OUR_TAGS
    text = "".join(page.text)
    assert "<script>document.title='pwned'</script>" in text
    assert "<img src=x onerror=alert(1)>" in text


def test_the_policy_allows_no_script_and_exactly_the_one_stylesheet(overlaps):
    html = render_html.render(overlaps.document)
    page = Page(html)
    policy = next(attrs["content"] for tag, attrs in page.tags if tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy")
    assert [tag for tag, _ in page.tags][:3] == ["html", "head", "meta"] and page.tags[3][1].get("http-equiv"), \
        "the policy comes right after the charset, before anything it governs"
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'" and "script-src" not in directives
    assert directives["base-uri"] == "'none'" and directives["form-action"] == "'none'"
    stylesheet = html[html.index("<style>") + len("<style>"):html.index("</style>")]
    digest = base64.b64encode(hashlib.sha256(stylesheet.encode("utf-8")).digest()).decode()
    assert directives["style-src"] == f"'sha256-{digest}'"


@pytest.mark.parametrize("lang,label,html_lang", [("zh", "未通过", "zh-CN"), ("en", "FAIL", "en")])
def test_labels_come_from_the_catalog_of_the_feedbacks_language(grade, lang, label, html_lang):
    document = grade("col2im", EXAMPLES / "col2im" / "wrong_col2im_average_overlaps.py", lang=lang).document
    html = render_html.render(document)
    assert f'<html lang="{html_lang}">' in html and f">{label}</span>" in html
    assert document["summary"] in html


def test_the_grader_error_document_renders_its_summary(run_grader):
    done = run_grader("grade", "--task", "no_such_task", "--format", "html", "--lang", "en", "-", stdin=b"")
    assert done.returncode == 2
    page = Page(done.stdout.decode())
    assert "no_such_task" in "".join(page.text) and page.all("table") == []


def test_a_document_made_before_maps_carried_errors_still_draws_its_map(overlaps):
    document = copy.deepcopy(overlaps.document)
    for test in document["tests"] + [document["shrunk"]]:
        for check in test["checks"]:
            error_map = (check.get("diagnostics") or {}).get("error_map")
            if error_map:
                del error_map["errors"], error_map["worst"]
    page = Page(render_html.render(document))
    assert page.all("svg", "heat-map") and page.all("rect", "worst-mark") == []
    assert {c["fill"] for c in page.all("rect", "cell") if "wrong" in c["class"].split()} == {svgcharts.SCALE[-1]}
