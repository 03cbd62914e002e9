"""Inline SVG pictures for the HTML pages: the error heat map and its colour scale, a bar, a histogram.

Owns drawing only: numbers and already-worded labels in (the callers take the words from the
catalogs), an ``<svg>`` element out, every text escaped with ``htmlpage.esc``. The feedback
(``html``) and the class summary (``batch/summary_html``) both draw with it, so a colour
scale, a bar or an axis is drawn one way. Only presentation attributes, no ``style``: the page's
Content-Security-Policy allows its one stylesheet and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .htmlpage import esc

# A sequential scale from pale yellow (a small error) to dark red (the largest error in the map):
# wrong cells are warm, right cells a neutral grey, non-finite ones black, so the three read apart.
SCALE = ("#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#bd0026", "#800026")
RIGHT = "#e8ebef"
NOT_FINITE = "#111111"
WORST_STROKE = "#0b57d0"
BAR = "#0969da"
TEXT = "#1f2328"
DIM = "#5f6b7a"
MAP_WIDTH = 480  # the heat map's cells together are at most this wide or tall (px)


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def scale_colour(fraction: float) -> str:
    """The scale's colour at ``fraction`` of its range (0 the smallest error, 1 the largest), interpolated."""
    fraction = min(max(fraction, 0.0), 1.0) * (len(SCALE) - 1)
    low = min(int(fraction), len(SCALE) - 2)
    weight = fraction - low
    a, b = _rgb(SCALE[low]), _rgb(SCALE[low + 1])
    return "#" + "".join(f"{round(x + (y - x) * weight):02x}" for x, y in zip(a, b))


def number(value: float) -> str:
    """A number as the pictures print it: 3 significant digits."""
    return f"{value:.3g}"


@dataclass
class HeatMapWords:
    """The worded parts of a heat map (from the catalogs): the axes' names, a cell's tooltip, "not finite"."""

    axes: str
    cell: Callable[[int, int, str], str]  # (row, column, the error as a text) -> the cell's tooltip
    not_finite: str


def heat_map(rows: list[str], errors: list[list[float | None]] | None, origin: list[int],
             worst: list[int] | None, words: HeatMapWords) -> str:
    """The map's cells coloured by their error: right cells grey, wrong ones on SCALE relative to the
    largest error shown, non-finite ones black with a "!"; the worst cell outlined. ``rows`` are the
    map's x/./! rows, ``errors`` the same cells' |got - expected| (absent in documents made before
    the map carried them: every wrong cell then takes the top of the scale)."""
    height, width = len(rows), max((len(r) for r in rows), default=0)
    if not height or not width:
        return ""
    top, left = origin
    cell = max(12, min(40, MAP_WIDTH // max(height, width)))
    pad_left, pad_top = 40, 26
    largest = heat_map_largest(rows, errors)
    step = 1 if cell >= 20 else 2 if cell >= 14 else 4
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="heat-map" role="img" width="{pad_left + width * cell + 4}" '
        f'height="{pad_top + height * cell + 4}" '
        f'viewBox="0 0 {pad_left + width * cell + 4} {pad_top + height * cell + 4}" '
        f'font-size="11" fill="{TEXT}">',
        f'<text x="2" y="11" fill="{DIM}">{esc(words.axes)}</text>',
    ]
    for c in range(0, width, step):
        parts.append(
            f'<text x="{pad_left + c * cell + cell / 2:g}" y="{pad_top - 5}" '
            f'text-anchor="middle" fill="{DIM}">{left + c}</text>'
        )
    for r in range(0, height, step):
        parts.append(
            f'<text x="{pad_left - 5}" y="{pad_top + r * cell + cell / 2 + 4:g}" '
            f'text-anchor="end" fill="{DIM}">{top + r}</text>'
        )
    for r, row in enumerate(rows):
        for c, mark in enumerate(row):
            error = errors[r][c] if errors else None
            if mark == "!":
                fill, state, shown = NOT_FINITE, "not-finite", words.not_finite
            elif mark == "x":
                fraction = error / largest if error is not None and largest > 0 else 1.0
                fill, state, shown = scale_colour(fraction), "wrong", number(error) if error is not None else "?"
            else:
                fill, state, shown = RIGHT, "right", number(error) if error is not None else "0"
            tip = esc(words.cell(top + r, left + c, shown))
            x, y = pad_left + c * cell, pad_top + r * cell
            parts.append(
                f'<rect class="cell {state}" data-row="{top + r}" data-col="{left + c}" data-error="{esc(shown)}" '
                f'x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{fill}" stroke="#ffffff" stroke-width="1">'
                f'<title>{tip}</title></rect>'
            )
            if mark == "!":
                parts.append(f'<text x="{x + cell / 2:g}" y="{y + cell / 2 + 4:g}" text-anchor="middle" fill="#ffffff" '
                             f'font-weight="700">!</text>')
    if worst is not None and 0 <= worst[0] - top < height and 0 <= worst[1] - left < width:
        x, y = pad_left + (worst[1] - left) * cell, pad_top + (worst[0] - top) * cell
        # Blue outside, white inside: visible on the palest and on the darkest cell alike.
        parts.append(
            f'<rect class="worst-mark" data-row="{worst[0]}" data-col="{worst[1]}" x="{x + 1.5:g}" y="{y + 1.5:g}" '
            f'width="{cell - 3}" height="{cell - 3}" fill="none" stroke="{WORST_STROKE}" stroke-width="3"/>'
            f'<rect x="{x + 4:g}" y="{y + 4:g}" width="{cell - 8}" height="{cell - 8}" fill="none" stroke="#ffffff" '
            f'stroke-width="1.5"/>'
        )
    parts.append("</svg>")
    return "".join(parts)


def heat_map_largest(rows: list[str], errors: list[list[float | None]] | None) -> float:
    """The largest finite error among the wrong cells: the top of the colour scale."""
    if not errors:
        return 0.0
    return max((e for row, line in zip(rows, errors) for mark, e in zip(row, line) if mark == "x" and e is not None),
               default=0.0)


def colour_scale(largest: float, title: str) -> str:
    """The scale as a bar of its colours from 0 to ``largest``, with three ticks."""
    steps, step_width, pad = 48, 5, 8
    width = steps * step_width
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="colour-scale" role="img" '
        f'width="{width + 2 * pad}" height="44" '
        f'viewBox="0 0 {width + 2 * pad} 44" font-size="11" fill="{TEXT}">',
        f'<text x="{pad}" y="11" fill="{DIM}">{esc(title)}</text>',
    ]
    for i in range(steps):
        parts.append(f'<rect x="{pad + i * step_width}" y="15" width="{step_width}" height="12" '
                     f'fill="{scale_colour(i / (steps - 1))}"/>')
    for fraction, anchor in ((0.0, "start"), (0.5, "middle"), (1.0, "end")):
        parts.append(
            f'<text x="{pad + fraction * width:g}" y="40" text-anchor="{anchor}">{number(fraction * largest)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def swatch(fill: str, stroke: str | None = None) -> str:
    """A small square of one colour, for a legend."""
    outline = f' stroke="{stroke}" stroke-width="3"' if stroke else ' stroke="#c9d1d9" stroke-width="1"'
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 16 16" aria-hidden="true">'
            f'<rect x="1.5" y="1.5" width="13" height="13" fill="{fill}"{outline}/></svg>')


def bar(value: float, maximum: float, width: int = 220, colour: str = BAR) -> str:
    """One horizontal bar, ``value`` of ``maximum``, for a row of a table."""
    length = width * value / maximum if maximum > 0 else 0
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="bar" width="{width}" height="14" viewBox="0 0 {width} 14" '
            f'role="img" data-value="{value:g}"><rect x="0" y="1" width="{width}" height="12" fill="#eef1f4"/>'
            f'<rect x="0" y="1" width="{length:.1f}" height="12" fill="{colour}"/></svg>')


def histogram(bins: list[tuple[str, int]], axis_title: str) -> str:
    """Vertical bars, one per (label, count), the count above each bar and the label below it."""
    if not bins:
        return ""
    column, chart_height, pad_top, pad_bottom = 66, 160, 20, 40
    tallest = max(count for _, count in bins) or 1
    width = column * len(bins) + 10
    height = pad_top + chart_height + pad_bottom
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="histogram" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-size="11" fill="{TEXT}">',
        f'<line x1="5" y1="{pad_top + chart_height}" x2="{width - 5}" y2="{pad_top + chart_height}" stroke="{DIM}"/>',
    ]
    for i, (label, count) in enumerate(bins):
        bar_height = chart_height * count / tallest
        x = 5 + i * column
        parts.append(
            f'<rect class="bin" data-count="{count}" x="{x + 6}" y="{pad_top + chart_height - bar_height:.1f}" '
            f'width="{column - 12}" height="{bar_height:.1f}" fill="{BAR}"><title>{esc(label)}: {count}</title></rect>'
        )
        parts.append(
            f'<text x="{x + column / 2:g}" y="{pad_top + chart_height - bar_height - 4:.1f}" '
            f'text-anchor="middle">{count}</text>'
        )
        parts.append(
            f'<text x="{x + column / 2:g}" y="{pad_top + chart_height + 15}" '
            f'text-anchor="middle" fill="{DIM}">{esc(label)}</text>'
        )
    parts.append(f'<text x="{width / 2:g}" y="{height - 6}" text-anchor="middle" fill="{DIM}">{esc(axis_title)}</text>')
    parts.append("</svg>")
    return "".join(parts)
