"""The class summary of a batch: what it counts (``summarise``) and its Markdown (``render``).

Owns the report an instructor reads after a regrade: pass rate, score histogram, pass rate per
test, frequent codes and misconceptions, the failing submissions no misconception explains (where an
author finds the next misconception), groups of identical submissions (the same code once
whitespace and comments are set aside: ``run.normalised_digest``). It is computed from the
results lines alone (the last line of each file), so it describes the whole results file,
including lines written by an earlier, interrupted run. ``summary_html`` draws the same
``Summary`` as charts; the labels of both come from the catalogs (``class.*``). The Markdown
histogram is a text bar chart, readable both in a terminal and in rendered Markdown.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from ..feedback.messages import text

BINS = 10
BAR_WIDTH = 30
TOP = 10  # the most frequent codes and misconceptions listed
UNEXPLAINED_LISTED = 50  # failing submissions no misconception explains, listed by name
# A test the run never reached (an earlier one crashed or timed out) says nothing of its own:
# counted as a code, it would double every crash.
NOT_COUNTED_CODES = {"NOT_RUN"}


@dataclass
class Group:
    """Submissions with the same code (``run.normalised_digest``), and the verdict of the first
    (the same code on the same cases)."""

    files: list[str]
    status: str
    score: float
    max_score: float


@dataclass
class Summary:
    task: str
    title: str
    lang: str
    seeds: list[int]
    total: int
    passed: int
    failed: int
    not_gradable: int
    errors: int
    scored: int  # submissions with a verdict (every status but "error")
    max_score: float
    mean: float | None
    median: float | None
    bins: list[tuple[float, float, int]]  # (low, high, count); the last band includes the full score
    codes: list[tuple[str, int]]
    diagnoses: list[tuple[str, int, str]]  # (id, count, what it is)
    tests: list[tuple[str, int]]  # (test, submissions that passed it), in the tests' order
    tests_counted: int  # submissions whose line lists its tests (lines of older graders do not)
    groups: list[Group] = field(default_factory=list)
    unexplained: list[tuple[str, list[str]]] = field(default_factory=list)  # (file, codes), the first listed
    unexplained_total: int = 0


def identical_groups(lines: list[dict]) -> list[Group]:
    """Groups of two or more submissions with the same code, largest first. The code is compared
    as ``normalised_sha256`` says (whitespace and comments set aside); a line without one (an
    older grader's) by its bytes."""
    by_code: dict[str, list[dict]] = defaultdict(list)
    for line in lines:
        digest = line.get("normalised_sha256") or line.get("sha256")
        if digest and line["status"] != "error":  # an error line has no verdict yet
            by_code[digest].append(line)
    groups = [Group(sorted(line["file"] for line in same), same[0]["status"], same[0]["score"], same[0]["max_score"])
              for same in by_code.values() if len(same) > 1]
    return sorted(groups, key=lambda group: (-len(group.files), group.files[0]))


def unexplained_failures(lines: list[dict]) -> list[dict]:
    """The gradable submissions that failed with no misconception recognised, by file name."""
    return sorted((line for line in lines if line["status"] == "failed" and line["gradable"] and not line["diagnoses"]),
                  key=lambda line: line["file"])


def counted_codes(line: dict) -> list[str]:
    return [code for code in line["codes"] if code not in NOT_COUNTED_CODES]


def bin_label(low: float, high: float, last: bool) -> str:
    """A histogram band as an interval, ``[a, b)``; the last one holds the full score, ``[a, b]``."""
    return f"[{low:.3g}, {high:.3g}{']' if last else ')'}"


def _bins(scores: list[float], max_score: float) -> list[tuple[float, float, int]]:
    """One band of width max_score / BINS per bar (the last band includes the full score)."""
    if max_score <= 0:
        return []
    width = max_score / BINS
    counts = [0] * BINS
    for score in scores:
        counts[min(int(score / width), BINS - 1)] += 1
    return [(band * width, (band + 1) * width, count) for band, count in enumerate(counts)]


def summarise(task, lines: list[dict], lang: str) -> Summary:
    by_status = Counter(line["status"] for line in lines)
    scored = [line for line in lines if line["status"] != "error"]
    max_score = max((line["max_score"] for line in scored), default=0)
    scores = sorted(line["score"] for line in scored)
    unexplained = unexplained_failures(lines)
    middle = len(scores) // 2
    median = (scores[middle] if len(scores) % 2 else (scores[middle - 1] + scores[middle]) / 2) if scores else None
    messages = {m["id"]: " ".join(m["message"][lang].split()) for m in task.spec.get("misconceptions", [])}
    diagnoses = Counter(identifier for line in scored for identifier in line["diagnoses"])
    listed = [line for line in scored if "test_statuses" in line]
    passed_per_test: dict[str, int] = {}
    for line in listed:
        for name, status in line["test_statuses"].items():
            passed_per_test[name] = passed_per_test.get(name, 0) + (status == "passed")
    return Summary(
        task=task.id,
        title=task.spec["title"][lang],
        lang=lang,
        seeds=sorted({line["seed"] for line in lines if isinstance(line.get("seed"), int)}),
        total=len(lines),
        passed=by_status["passed"],
        failed=by_status["failed"],
        not_gradable=sum(1 for line in lines if line["status"] == "failed" and not line["gradable"]),
        errors=by_status["error"],
        scored=len(scored),
        max_score=max_score,
        mean=sum(scores) / len(scores) if scores else None,
        median=median,
        bins=_bins(scores, max_score),
        codes=Counter(code for line in scored for code in counted_codes(line)).most_common(TOP),
        diagnoses=[
            (identifier, count, messages.get(identifier, "")) for identifier, count in diagnoses.most_common(TOP)
        ],
        tests=list(passed_per_test.items()),
        tests_counted=len(listed),
        groups=identical_groups(lines),
        unexplained=[(line["file"], counted_codes(line)) for line in unexplained[:UNEXPLAINED_LISTED]],
        unexplained_total=len(unexplained),
    )


def share(count: int, total: int) -> str:
    return f"{100 * count / total:.1f} %" if total else "-"


def _row(label: str, count: int, total: int) -> str:
    return f"| {label} | {count} | {share(count, total)} |"


def _cell(value: str) -> str:
    return value.replace("|", "\\|")


def _code(name: str) -> str:
    """``name`` as Markdown code that no backtick or bar in it can end (a student names their files)."""
    fence = "`" * (max((len(run) for run in re.findall("`+", name)), default=0) + 1)
    return f"{fence} {_cell(name)} {fence}"


def render(task, lines: list[dict], lang: str) -> str:
    """The Markdown summary (printed by ``grader batch`` and written next to its results)."""
    summary = summarise(task, lines, lang)

    def t(key: str, **values) -> str:
        return text(lang, f"class.{key}", **values)

    out = [f"# {t('title', task=summary.task, title=summary.title)}", ""]
    if summary.seeds:
        out += [t("seed", seeds=", ".join(map(str, summary.seeds)), task=summary.task, seed=summary.seeds[0]), ""]
    total = summary.total
    out += [f"| | {t('submissions')} | {t('share')} |", "|---|---:|---:|",
            _row(t("submissions"), total, total),
            _row(t("passed"), summary.passed, total),
            _row(t("failed"), summary.failed, total),
            _row(t("not_gradable"), summary.not_gradable, total),
            _row(t("errors"), summary.errors, total), ""]
    if summary.scored:
        out += [
            t("mean", mean=f"{summary.mean:.2f}", max_score=f"{summary.max_score:g}", median=f"{summary.median:g}"),
            "",
            f"## {t('histogram')}",
            "",
            "```",
            *_histogram(summary, t),
            "```",
            "",
        ]
    if summary.tests:
        out += [f"## {t('tests')}", "", t("tests_note", count=summary.tests_counted), "",
                f"| {t('test')} | {t('passed_tests')} | {t('share')} |", "|---|---:|---:|"]
        out += [_row(f"`{name}`", passed, summary.tests_counted) for name, passed in summary.tests]
        out.append("")
    if summary.codes:
        out += [f"## {t('codes')}", "", f"| {t('code')} | {t('submissions')} | {t('share')} |", "|---|---:|---:|"]
        out += [_row(f"`{code}`", count, summary.scored) for code, count in summary.codes]
        out.append("")
    if summary.diagnoses:
        out += [
            f"## {t('misconceptions')}",
            "",
            f"| {t('misconception')} | {t('submissions')} | {t('share')} | {t('what')} |",
            "|---|---:|---:|---|",
        ]
        out += [
            f"{_row(f'`{identifier}`', count, summary.scored)} {_cell(what)} |"
            for identifier, count, what in summary.diagnoses
        ]
        out.append("")
    if summary.unexplained:
        out += [f"## {t('unexplained')}", "", t("unexplained_note", count=summary.unexplained_total), "",
                f"| {t('file')} | {t('code')} |", "|---|---|"]
        out += [f"| {_code(name)} | {', '.join(f'`{code}`' for code in codes)} |"
                for name, codes in summary.unexplained]
        if summary.unexplained_total > len(summary.unexplained):
            out.append(t("more", count=summary.unexplained_total - len(summary.unexplained)))
        out.append("")
    if summary.groups:
        out += [f"## {t('groups')}", "", t("groups_note"), ""]
        for group in summary.groups:
            heading = t("group", count=len(group.files), verdict=text(lang, f"render.{group.status}"),
                        score=f"{group.score:g}/{group.max_score:g}")
            out.append(f"- {heading}: " + ", ".join(_code(name) for name in group.files))
        out.append("")
    return "\n".join(out)


def _histogram(summary: Summary, t) -> list[str]:
    if not summary.bins:
        return [t("all_zero", count=summary.scored)]
    tallest = max(count for _, _, count in summary.bins)
    labels = [bin_label(low, high, band == len(summary.bins) - 1) for band, (low, high, _) in enumerate(summary.bins)]
    width = max(len(label) for label in labels)
    rows = []
    for label, (_, _, count) in zip(labels, summary.bins):
        bar = "█" * round(BAR_WIDTH * count / tallest) if count else ""
        rows.append(f"{label:<{width}} {bar} {count}")
    return rows
