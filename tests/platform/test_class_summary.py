"""The class summary (grader/batch/summary.py, summary_html.py) from results lines: the numbers it
counts, the same in Markdown and in the HTML page's charts, and file names that stay text."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from grader.batch import summary as classsummary
from grader.batch import summary_html as classsummary_html
from grader.spec import taskspec
from platform_support import REPO

TESTS = ["basic", "stride2_pad1", "large"]


@pytest.fixture(scope="module")
def task():
    return taskspec.load("conv_backward", REPO)


def line(file, status="failed", score=0.0, digest=None, codes=(), diagnoses=(), statuses=None, gradable=True):
    made = {"file": file, "sha256": digest or f"{hash(file) & 0xffffffff:064x}", "task": "conv_backward", "seed": 7,
            "status": status, "gradable": gradable, "score": score, "max_score": 3.0,
            "passed_tests": sum(1 for s in (statuses or {}).values() if s == "passed"), "tests": 3,
            "codes": list(codes), "diagnoses": list(diagnoses)}
    if statuses is not None:
        made["test_statuses"] = statuses
    return made


@pytest.fixture
def lines():
    every = dict.fromkeys(TESTS, "passed")
    return [
        line("a.py", "passed", 3.0, digest="a" * 64, statuses=every),
        line("copy_of_a.py", "passed", 3.0, digest="a" * 64, statuses=every),
        line("b.py", "failed", 1.0, digest="b" * 64, codes=["WRONG_VALUES"], diagnoses=["conv_db_keepdims"],
             statuses={"basic": "passed", "stride2_pad1": "failed", "large": "failed"}),
        line("c.py", "failed", 0.0, digest="b" * 64, codes=["WRONG_VALUES"], diagnoses=["conv_db_keepdims"],
             statuses={"basic": "failed", "stride2_pad1": "failed", "large": "not_run"}),
        line("old.py", "failed", 2.0, codes=["SHAPE_MISMATCH"]),  # written by a grader before test_statuses
        line("broken.py", "error", 0.0, digest="a" * 64),
    ]


def test_the_summary_counts_what_the_lines_say(task, lines):
    summary = classsummary.summarise(task, lines, "en")
    assert (summary.total, summary.passed, summary.failed, summary.errors, summary.scored) == (6, 2, 3, 1, 5)
    assert summary.tests == [("basic", 3), ("stride2_pad1", 2), ("large", 2)] and summary.tests_counted == 4
    assert summary.codes == [("WRONG_VALUES", 2), ("SHAPE_MISMATCH", 1)]
    assert [(i, n) for i, n, _ in summary.diagnoses] == [("conv_db_keepdims", 2)]
    assert [c for _, _, c in summary.bins] == [1, 0, 0, 1, 0, 0, 1, 0, 0, 2]
    assert summary.median == 2.0 and summary.mean == pytest.approx(9 / 5)


def test_identical_submissions_are_grouped_by_their_bytes_without_the_ones_in_error(lines):
    groups = classsummary.identical_groups(lines)
    assert [(g.files, g.status, g.score) for g in groups] == [(["a.py", "copy_of_a.py"], "passed", 3.0),
                                                               (["b.py", "c.py"], "failed", 1.0)]


def test_markdown_lists_the_pass_rate_per_test_and_the_groups(task, lines):
    markdown = classsummary.render(task, lines, "en")
    assert "| `stride2_pad1` | 2 | 50.0 % |" in markdown
    assert "- 2 files, PASS 3/3: ` a.py `, ` copy_of_a.py `" in markdown
    assert "| passed (every test) | 2 | 33.3 % |" in markdown


class Page(HTMLParser):
    def __init__(self, source):
        super().__init__()
        self.tags, self.text = [], []
        self.feed(source)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def test_the_html_page_draws_the_same_numbers(task, lines):
    page = Page(classsummary_html.render(task, lines, "en"))
    bins = [int(attrs["data-count"]) for tag, attrs in page.tags if tag == "rect" and attrs.get("class") == "bin"]
    assert bins == [1, 0, 0, 1, 0, 0, 1, 0, 0, 2]
    bars = [float(attrs["data-value"]) for tag, attrs in page.tags if tag == "svg" and attrs.get("class") == "bar"]
    assert bars == [2, 3, 0, 1] + [3, 2, 2] + [2, 1] + [2], "counts, per test, codes, misconceptions"
    text = "".join(page.text)
    assert "Pass rate per test" in text and "Identical submissions" in text and "copy_of_a.py" in text


def test_hostile_file_names_stay_text(task, lines):
    names = ["<script>alert(1)</script>.py", "\"><img src=x onerror=alert(2)>.py", "`|`.py"]
    for name in names:
        lines.append(line(name, "failed", 0.0, digest="c" * 64))
    html = classsummary_html.render(task, lines, "zh")
    page = Page(html)
    assert {tag for tag, _ in page.tags} <= {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "section",
                                             "table", "thead", "tbody", "tr", "th", "td", "svg", "rect", "text", "line",
                                             "span", "strong", "div", "br", "title"}
    assert all(name in "".join(page.text) for name in names)
    markdown = classsummary.render(task, lines, "zh")
    assert "`` `|`.py ``".replace("|", "\\|") in markdown, "a backtick in a file name does not end its code span"
    assert re.search(r"^## 完全相同的提交$", markdown, re.M)


def test_copies_are_grouped_however_reformatted_or_commented(task):
    from grader.batch import run as batch
    from platform_support import CORRECT_CONV, valid

    original = CORRECT_CONV.read_text(encoding="utf-8")
    # Indented by 2, with comments and blank lines: its docstrings' lines change too.
    reformatted = "# my own work, honest\n" + "\n".join(
        line.replace("    ", "  ") + ("  # step" if line.rstrip().endswith(":") else "") + "\n"
        for line in original.splitlines())
    renamed = original.replace("dout", "grad_out")  # another program: not a copy
    broken = "def backward(self, dout:\n    return dout  # a\n"
    broken_copy = "def backward(self,   dout:\n\n    return dout\n"
    sources = {"a.py": original, "a_copy.py": reformatted, "b.py": renamed, "c.py": broken, "c_copy.py": broken_copy}
    document = {"task": task.id, "seed": 7, "status": "failed", "gradable": True, "score": 0.0, "max_score": 3.0,
                "tests": []}
    lines = [valid(batch.results_line(name, "0" * 64, document, batch.normalised_digest(source.encode())),
                   "batch-results.schema.json") for name, source in sources.items()]
    groups = classsummary.identical_groups(lines)
    assert sorted(group.files for group in groups) == [["a.py", "a_copy.py"], ["c.py", "c_copy.py"]]
    assert batch.normalised_digest(b"\xff\xfe\x00") is None


def test_not_run_is_no_code_and_failures_without_a_misconception_are_listed(task, lines):
    lines.append(line("crashed.py", "failed", 0.0, codes=["NOT_RUN", "RUNTIME_ERROR"]))
    lines.append(line("syntax.py", "failed", 0.0, codes=["COMPILE_ERROR"], gradable=False))
    summary = classsummary.summarise(task, lines, "en")
    assert ("NOT_RUN", 1) not in summary.codes and ("RUNTIME_ERROR", 1) in summary.codes
    assert summary.unexplained == [("crashed.py", ["RUNTIME_ERROR"]), ("old.py", ["SHAPE_MISMATCH"])]
    markdown = classsummary.render(task, lines, "en")
    assert "## Failures no misconception explains" in markdown and "| ` old.py ` | `SHAPE_MISMATCH` |" in markdown
    assert "NOT_RUN" not in markdown
    text = "".join(Page(classsummary_html.render(task, lines, "en")).text)
    assert "Failures no misconception explains" in text and "crashed.py" in text and "NOT_RUN" not in text


def test_histogram_bins_are_labelled_as_half_open_intervals(task, lines):
    markdown = classsummary.render(task, lines, "en")
    labels = re.findall(r"^(\[[^ ]+, [^ ]+[)\]])", markdown, re.M)
    assert labels[0] == "[0, 0.3)" and labels[1] == "[0.3, 0.6)" and labels[-1] == "[2.7, 3]" and len(labels) == 10
    page = Page(classsummary_html.render(task, lines, "en"))
    assert "[0, 0.3)" in "".join(page.text)
