"""The class summary of a batch as one self-contained HTML page, with SVG charts.

Owns the layout only: it draws ``classsummary.summarise``'s numbers (the same as the Markdown
summary's) as the counts, a score histogram, bars of the pass rate per test and of the most
frequent codes and misconceptions, the failing submissions no misconception explains, and the
groups of identical submissions. Labels come from the
catalogs (``class.*``); file names come from the class's folder or archive, so they are escaped
like everything else (``htmlpage``).
"""

from __future__ import annotations

from ..feedback import htmlpage, svgcharts
from ..feedback.htmlpage import esc
from ..feedback.messages import text
from .summary import Summary, bin_label, share, summarise


def _bar_table(rows: list[tuple[str, int]], total: int, heads: list[str], extra: list[str] | None = None) -> str:
    """A table of (label markup, count) with a bar of count / total for each; ``extra`` adds a last column."""
    head = f'<th>{esc(heads[0])}</th><th></th><th class="num">{esc(heads[1])}</th><th class="num">{esc(heads[2])}</th>'
    head += f"<th>{esc(heads[3])}</th>" if extra is not None else ""
    body = []
    for position, (label, count) in enumerate(rows):
        last = f"<td>{esc(extra[position])}</td>" if extra is not None else ""
        body.append(f'<tr><td>{label}</td><td class="bar-cell">{svgcharts.bar(count, total)}</td>'
                    f'<td class="num">{count}</td><td class="num">{esc(share(count, total))}</td>{last}</tr>')
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _mono(value: str) -> str:
    return f'<span class="mono">{esc(value)}</span>'


def _page(summary: Summary) -> str:
    lang = summary.lang

    def t(key: str, **values) -> str:
        return text(lang, f"class.{key}", **values)

    body = [f"<h1>{esc(t('title', task=summary.task, title=summary.title))}</h1>"]
    if summary.seeds:
        seeds = t("seed", seeds=", ".join(map(str, summary.seeds)), task=summary.task, seed=summary.seeds[0])
        body.append(f'<p class="note">{esc(seeds)}</p>')
    counts = [(t("passed"), summary.passed), (t("failed"), summary.failed), (t("not_gradable"), summary.not_gradable),
              (t("errors"), summary.errors)]
    heads = ["", t("submissions"), t("share")]
    table = _bar_table([(esc(label), count) for label, count in counts], summary.total, heads)
    body.append(
        f'<section class="counts">{table}'
        f"<p>{esc(t('submissions'))}: <strong>{summary.total}</strong></p></section>"
    )
    if summary.scored:
        mean = t("mean", mean=f"{summary.mean:.2f}", max_score=f"{summary.max_score:g}", median=f"{summary.median:g}")
        body.append(f"<p>{esc(mean)}</p>")
        body.append(f"<h2>{esc(t('histogram'))}</h2>")
        if summary.bins:
            last = len(summary.bins) - 1
            bins = [(bin_label(low, high, band == last), count) for band, (low, high, count) in enumerate(summary.bins)]
            body.append(f'<div class="figure">{svgcharts.histogram(bins, t("score"))}</div>')
        else:
            body.append(f"<p>{esc(t('all_zero', count=summary.scored))}</p>")
    if summary.tests:
        body.append(
            f'<h2>{esc(t("tests"))}</h2><p class="note">{esc(t("tests_note", count=summary.tests_counted))}</p>'
        )
        body.append(_bar_table([(_mono(name), passed) for name, passed in summary.tests], summary.tests_counted,
                               [t("test"), t("passed_tests"), t("share")]))
    if summary.codes:
        body.append(f"<h2>{esc(t('codes'))}</h2>")
        body.append(_bar_table([(_mono(code), count) for code, count in summary.codes], summary.scored,
                               [t("code"), t("submissions"), t("share")]))
    if summary.diagnoses:
        body.append(f"<h2>{esc(t('misconceptions'))}</h2>")
        body.append(
            _bar_table(
                [(_mono(identifier), count) for identifier, count, _ in summary.diagnoses],
                summary.scored,
                [t("misconception"), t("submissions"), t("share"), t("what")],
                [what for _, _, what in summary.diagnoses],
            )
        )
    if summary.unexplained:
        rows = "".join(f"<tr><td>{_mono(name)}</td><td>{' '.join(_mono(code) for code in codes)}</td></tr>"
                       for name, codes in summary.unexplained)
        more = summary.unexplained_total - len(summary.unexplained)
        note = t("unexplained_note", count=summary.unexplained_total)
        body.append(
            f'<h2>{esc(t("unexplained"))}</h2><p class="note">{esc(note)}</p>'
            f'<table class="unexplained"><thead><tr><th>{esc(t("file"))}</th><th>{esc(t("code"))}</th></tr></thead>'
            f"<tbody>{rows}</tbody></table>" + (f'<p class="note">{esc(t("more", count=more))}</p>' if more else "")
        )
    if summary.groups:
        rows = "".join(
            f'<tr class="group"><td class="num">{len(group.files)}</td>'
            f'<td><span class="badge {esc(group.status)}">{esc(text(lang, f"render.{group.status}"))}</span> '
            f"{group.score:g}/{group.max_score:g}</td><td>{'<br>'.join(_mono(name) for name in group.files)}</td></tr>"
            for group in summary.groups
        )
        body.append(
            f'<h2>{esc(t("groups"))}</h2><p class="note">{esc(t("groups_note"))}</p>'
            f'<table class="groups"><thead><tr><th class="num">{esc(t("files"))}</th><th>{esc(t("verdict"))}</th>'
            f"<th></th></tr></thead><tbody>{rows}</tbody></table>"
        )
    return htmlpage.page(lang, t("title", task=summary.task, title=summary.title), "\n".join(body))


def render(task, lines: list[dict], lang: str) -> str:
    """The HTML class summary of the results ``lines`` (written by ``grader batch`` beside the Markdown one)."""
    return _page(summarise(task, lines, lang))
