"""The HTML feedback as a person sees it in Chromium: the heat map is drawn in the scale's colours with
the worst cell marked, a hostile submission's output stays text and runs nothing, the policy stops
a script even if one got into the page, long output stays inside the page. Screenshots of each page
are saved in the test's temporary folder."""

from __future__ import annotations

import copy

import pytest

from browser_support import EXAMPLES, HOSTILE_SUBMISSION, graded, rgb
from grader.feedback import html as render_html
from grader.feedback import htmlpage, svgcharts


@pytest.fixture(scope="module")
def overlaps():
    return graded("col2im", EXAMPLES / "col2im" / "wrong_col2im_average_overlaps.py", "en")


def write(tmp_path, name: str, html: str):
    path = tmp_path / f"{name}.html"
    path.write_text(html, encoding="utf-8")
    return path


def fill(element) -> str:
    return element.evaluate("e => getComputedStyle(e).fill")


def test_the_heat_map_is_drawn_in_the_scales_colours_with_the_worst_cell_marked(watched, overlaps, tmp_path):
    page = watched.open(write(tmp_path, "col2im_en", render_html.render(overlaps)))
    first = next(t for t in overlaps["tests"] if t["status"] == "failed" and t["visibility"] == "visible")
    error_map = first["checks"][0]["diagnostics"]["error_map"]
    figure = page.locator(f'details.failure[data-name="{first["name"]}"] figure').first
    assert figure.is_visible(), "the first failure is open, its heat map on screen"
    cells = figure.locator("svg.heat-map rect.cell")
    assert cells.count() == len(error_map["rows"]) * len(error_map["rows"][0])
    for r, row in enumerate(error_map["rows"]):
        for c, mark in enumerate(row):
            cell = cells.nth(r * len(row) + c)
            box = cell.bounding_box()
            assert box and box["width"] >= 12 and box["height"] >= 12, "every cell is drawn, large enough to see"
            if mark == ".":
                assert fill(cell) == rgb(svgcharts.RIGHT)
            else:
                assert fill(cell) != rgb(svgcharts.RIGHT), "a wrong cell is coloured by the scale"
    row, col = error_map["worst"]
    worst = figure.locator(f'rect.cell[data-row="{row}"][data-col="{col}"]')
    assert fill(worst) == rgb(svgcharts.SCALE[-1]), "the worst cell has the top colour of the scale"
    mark = figure.locator("rect.worst-mark")
    assert mark.is_visible()
    cell_box, mark_box = worst.bounding_box(), mark.bounding_box()
    assert cell_box["x"] <= mark_box["x"] and mark_box["x"] + mark_box["width"] <= cell_box["x"] + cell_box["width"] + 2
    assert cell_box["y"] <= mark_box["y"] and mark_box["y"] + mark_box["height"] <= cell_box["y"] + cell_box["height"] + 2
    assert figure.locator("svg.colour-scale rect").count() > 10, "the colour scale is drawn beside it"
    badge = page.locator("header .badge")
    assert badge.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(198, 40, 40)", \
        "the stylesheet applies: the policy lets its hash in"
    page.screenshot(path=str(tmp_path / "col2im_en.png"), full_page=True)
    figure.screenshot(path=str(tmp_path / "col2im_en_heat_map.png"))
    assert watched.requests == [page.url] and not watched.dialogs


def test_a_hostile_submissions_output_stays_text_and_runs_nothing(watched, tmp_path):
    document = graded("im2col", HOSTILE_SUBMISSION, "en")
    page = watched.open(write(tmp_path, "hostile", render_html.render(document)))
    for details in page.locator("details").all():
        details.evaluate("e => e.open = true")  # every printed output on screen, as a curious student would
    page.wait_for_timeout(300)  # time for an onerror or onload handler to run, had one got in
    assert page.title() == document["title"]
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert not watched.dialogs, f"a dialog opened: {watched.dialogs}"
    assert watched.requests == [page.url], "the page loaded nothing (an <img src=x> would have)"
    seen = page.locator("body").inner_text()
    assert "<script>document.title='pwned'</script>" in seen and "<img src=x onerror=alert(1)>" in seen
    assert "<script>window.pwned=1</script>" in seen, "the exception's message is shown as written"
    assert page.locator("body").is_visible()
    assert page.locator("script, img, iframe, object, embed, a").count() == 0
    page.screenshot(path=str(tmp_path / "hostile.png"), full_page=True)


def test_the_policy_stops_a_script_even_if_one_got_into_the_page(watched, tmp_path):
    smuggled = ("<p class=\"note\">text</p><script>document.title = 'ran'; window.ran = 1</script>"
                "<img src=\"data:,x\" onerror=\"document.title = 'ran'\"><style>p { display: none }</style>")
    page = watched.open(write(tmp_path, "smuggled", htmlpage.page("en", "safe", smuggled)))
    page.wait_for_timeout(300)
    assert page.title() == "safe" and page.evaluate("typeof window.ran") == "undefined"
    assert page.locator("p.note").is_visible(), "a style that is not the page's own does not apply"
    assert page.locator("p.note").evaluate("e => getComputedStyle(e).color") == "rgb(95, 107, 122)", \
        "while the page's own stylesheet does"
    assert any("Content Security Policy" in message for message in watched.console)


@pytest.mark.parametrize("lang,label", [("zh", "未通过"), ("en", "FAIL")])
def test_both_languages_read_at_a_glance(watched, tmp_path, lang, label):
    document = graded("maxpool_backward", EXAMPLES / "maxpool_backward" / "wrong_maxpool_average_rule.py", lang)
    page = watched.open(write(tmp_path, f"maxpool_{lang}", render_html.render(document)))
    assert page.locator("html").get_attribute("lang") == htmlpage.HTML_LANG[lang]
    assert page.locator("header .badge").inner_text() == label
    assert page.locator("header .summary").inner_text() == document["summary"]
    known = page.locator(".mistake")
    assert known.count() == len(document["diagnoses"]) and known.first.is_visible()
    assert page.locator("details.failure[open] svg.heat-map").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "nothing sticks out sideways"
    page.screenshot(path=str(tmp_path / f"maxpool_{lang}.png"), full_page=True)


def test_huge_output_stays_inside_the_page(watched, overlaps, tmp_path):
    document = copy.deepcopy(overlaps)
    first = next(t for t in document["tests"] if t["status"] == "failed" and t["visibility"] == "visible")
    first["stdout"] = "A" * 300_000 + "\n" + "line\n" * 5_000
    document["tests"][0]["name"] = "n" * 2_000
    page = watched.open(write(tmp_path, "huge", render_html.render(document)))
    output = page.locator(f'details.failure[data-name="{first["name"]}"] pre.stdout')
    assert output.is_visible() and output.bounding_box()["height"] <= 420, "long output scrolls inside its box"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    header_heights = [h.bounding_box()["height"] for h in page.locator("table.tests th").all()]
    assert max(header_heights) < 2 * min(header_heights) + 1 and max(header_heights) < 45, \
        "a long name wraps in its own column; the other columns keep their headers on one line"
    assert page.locator("details.failure svg.heat-map").first.is_visible(), "the heat map is still on screen"
    page.screenshot(path=str(tmp_path / "huge.png"))


def test_the_tiny_failing_cases_numbers_are_tables_a_person_can_read(watched, overlaps, tmp_path):
    shrunk = overlaps.get("shrunk")
    if not shrunk or "arrays" not in shrunk:
        pytest.fail("the shrunk case of this grading is tiny: its arrays are in the document")
    page = watched.open(write(tmp_path, "col2im_arrays_en", render_html.render(overlaps)))
    section = page.locator("section.shrunk")
    for part in ("inputs", "expected", "got"):
        for name, array in shrunk["arrays"][part].items():
            group = section.locator(f'div.array-group.{part}[data-name="{name}"]')
            assert group.is_visible(), f"{part} {name} is on screen"
            shown = [float(text) for text in group.locator("td").all_inner_texts()]
            values = array["values"]
            while values and isinstance(values[0], list):
                values = [v for row in values for v in row]
            assert shown == pytest.approx(values, rel=1e-5), f"{part} {name}: the cells are the document's values"
    section.screenshot(path=str(tmp_path / "col2im_arrays_en.png"))
    assert watched.requests == [page.url] and not watched.dialogs
