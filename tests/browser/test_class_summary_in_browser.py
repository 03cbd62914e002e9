"""The HTML class summary of a real `grader batch` in Chromium: the histogram's bars and the pass-rate bars
are drawn in proportion to their counts, and a student's hostile file name stays text."""

from __future__ import annotations

import shutil
import subprocess

from browser_support import EXAMPLES, GRADER


def test_the_class_summary_charts_are_drawn_in_proportion(watched, tmp_path):
    folder = tmp_path / "class"
    (folder / "group").mkdir(parents=True)
    conv = EXAMPLES / "conv_backward"
    for name, example in (("a.py", "correct.py"), ("b.py", "correct.py"), ("c.py", "wrong_conv_db_keepdims.py"),
                          ("d.py", "wrong_conv_dw_without_transpose.py"), ("group/<img src=x onerror=alert(1)>.py", "wrong_conv_db_keepdims.py")):
        shutil.copy(conv / example, folder / name)
    out = tmp_path / "results.jsonl"
    done = subprocess.run([str(GRADER), "batch", "--task", "conv_backward", str(folder), "--out", str(out), "--lang", "en"],
                          capture_output=True, timeout=600)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    page = watched.open(tmp_path / "results.html")
    bins = page.locator("svg.histogram rect.bin")
    assert bins.count() == 10
    heights = [(int(b.get_attribute("data-count")), b.bounding_box()["height"]) for b in bins.all()]
    assert sum(count for count, _ in heights) == 5
    tallest_count, tallest_height = max(heights)
    assert tallest_height > 50
    for count, height in heights:
        assert abs(height - tallest_height * count / tallest_count) < 1.5, "a bar's height is its count"
    bars = page.locator("svg.bar").all()
    assert bars, "pass rate, codes and misconceptions are drawn as bars"
    for bar in bars:
        track, filled = bar.locator("rect").all()
        value = float(bar.get_attribute("data-value"))
        assert filled.bounding_box() is None or filled.bounding_box()["width"] <= track.bounding_box()["width"] + 0.5
        if value == 0:
            assert filled.bounding_box() is None or filled.bounding_box()["width"] < 1
    body = page.locator("body").inner_text()
    assert "group/<img src=x onerror=alert(1)>.py" in body and "Identical submissions" in body
    assert not watched.dialogs and watched.requests == [page.url]
    page.screenshot(path=str(tmp_path / "class_summary.png"), full_page=True)
