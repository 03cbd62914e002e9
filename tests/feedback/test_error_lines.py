"""Errors in the student's own terms: the line and its context in their own numbering (their file in
whole mode, their block in block mode), never the runner's or grader's frames; a compile error
makes the submission not gradable with every test still listed at 0 points."""

from __future__ import annotations

import pytest

from feedback_support import EXAMPLES, SUBMISSIONS
from grader.feedback.messages import text

BEGIN = "########## Begin ##########"
END = "########## End ##########"


def _block_of(path):
    """The lines between the markers of a whole-file submission, and the index of Begin's line."""
    lines = path.read_text(encoding="utf-8").split("\n")
    begin = next(i for i, line in enumerate(lines) if line.strip() == BEGIN)
    end = next(i for i, line in enumerate(lines) if line.strip() == END)
    return lines[begin + 1:end], begin


def _line_of(lines, needle):
    return next(i for i, line in enumerate(lines) if needle in line) + 1


RAISING = EXAMPLES / "conv_backward" / "wrong_col2im_no_stride_pad.py"
CALL = "dx = col2im(dcol, self.x.shape, FH, FW)"


@pytest.fixture(scope="module")
def raising_block(tmp_path_factory):
    block, _ = _block_of(RAISING)
    path = tmp_path_factory.mktemp("block") / "block.py"
    path.write_text("\n".join(block) + "\n", encoding="utf-8")
    return path, block


def _check_runtime_error(test, line, own_text):
    error = test["error"]
    assert test["code"] == "RUNTIME_ERROR"
    assert error["exception"] == "ValueError" and "cannot reshape" in error["message"]
    assert error["line"] == line and error["in_template"] is False
    current = [c for c in error["context"] if c["current"]]
    assert [c["line"] for c in current] == [line] and current[0]["text"].strip() == own_text
    assert [c["line"] for c in error["context"]] == list(range(line - 2, line + 3))
    frames = error["frames"]
    assert frames[0]["yours"] and frames[0]["line"] == line and frames[0]["function"] == "backward"
    assert [f["file"] for f in frames[1:]] == ["utils.py"] and frames[-1]["function"] == "col2im"
    assert not any("runner" in f["file"] or "grader" in f["file"] for f in frames)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_runtime_error_whole_mode_uses_the_file_lines(grade, lang):
    document = grade("conv_backward", RAISING, lang=lang).document
    assert document["submission"]["mode"] == "whole"
    line = _line_of(RAISING.read_text(encoding="utf-8").split("\n"), CALL)
    test = document["tests"][1]
    _check_runtime_error(test, line, CALL)
    assert test["message"].endswith(text(lang, "codes.RUNTIME_ERROR", exception="ValueError", message=test["error"]["message"],
                                         where=text(lang, "where.line", line=line)))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_runtime_error_block_mode_uses_the_block_lines(grade, raising_block, lang):
    path, block = raising_block
    document = grade("conv_backward", path, lang=lang).document
    assert document["submission"]["mode"] == "block"
    line = _line_of(block, CALL)
    assert line < 20, "the line within the block, not within the module"
    test = document["tests"][1]
    _check_runtime_error(test, line, CALL)
    assert text(lang, "where.block_line", line=line) in test["message"]
    assert test["error"]["module_line"] > line


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_syntax_error_in_a_block_is_not_gradable_and_every_test_is_listed(grade, lang):
    document = grade("col2im", SUBMISSIONS / "col2im" / "unclosed_bracket_block.py", lang=lang).document
    assert document["status"] == "failed" and document["gradable"] is False and document["score"] == 0
    assert len(document["tests"]) >= 10
    assert all(t["code"] == "COMPILE_ERROR" and t["score"] == 0 and t["max_score"] > 0 for t in document["tests"])
    error = document["program_error"]["error"]
    assert error["exception"] == "SyntaxError" and error["line"] == 6 and "after_block" not in error
    assert error["column"] == len("return img") + 1
    assert error["context"][-1] == {"line": 6, "text": "return img[:, :, pad:H + pad, pad:W + pad", "current": True}
    assert document["summary"].startswith(text(lang, "summary.not_gradable", reason="")[:4])
    assert text(lang, "where.block_line", line=6) in document["program_error"]["message"]


def test_syntax_error_noticed_after_the_block_points_at_its_last_line(grade, tmp_path):
    path = tmp_path / "ends_with_for.py"
    path.write_text("N, C, H, W = input_shape\nimg = np.zeros(input_shape)\nfor y in range(filter_h):\n", encoding="utf-8")
    error = grade("col2im", path).document["program_error"]["error"]
    assert error["exception"] == "IndentationError"
    assert error["after_block"] is True and error["line"] == 3 and "column" not in error
    assert "on line 3" in error["message"], "the module line in Python's message is put in the block's numbering"


def test_tab_error_in_a_whole_file(grade, tmp_path):
    source = (EXAMPLES / "maxpool_backward" / "correct.py").read_text(encoding="utf-8").split("\n")
    line = _line_of(source, "pool_size = self.pool_h * self.pool_w")
    source[line - 1] = "\t" + source[line - 1].lstrip()
    path = tmp_path / "tabs.py"
    path.write_text("\n".join(source), encoding="utf-8")
    document = grade("maxpool_backward", path).document
    assert document["gradable"] is False
    error = document["program_error"]["error"]
    assert error["exception"] == "TabError" and error["line"] == line
    assert error["hint"] == text("en", "exception_hints.TabError")


def test_mixed_tabs_in_a_block(grade):
    document = grade("maxpool_backward", SUBMISSIONS / "maxpool_backward" / "mixed_tabs_block.py", lang="zh").document
    assert document["gradable"] is False
    error = document["program_error"]["error"]
    assert error["exception"] in ("IndentationError", "TabError") and error["line"] == 6
    assert error["hint"] == text("zh", "exception_hints.TabError")


def test_a_line_or_column_the_module_does_not_have_never_reaches_the_feedback():
    # The runner's report is the student's to forge: a 4000-digit line is valid JSON that
    # JavaScript reads as Infinity.
    from grader.grading import locate
    from grader.grading.submission import Submission

    submission = Submission("x = 1\ny = 2\n", "whole", "utf-8")
    forged = {"exception": "ValueError", "message": "m", "file": "m.py", "line": 10**4000, "column": 10**4000,
              "frames": [{"file": "m.py", "line": 10**4000, "function": "f", "text": ""},
                         {"file": "m.py", "line": 2, "function": "g", "text": ""}]}
    location = locate.locate(submission, "m.py", forged)
    assert location["line"] == 2 and location["module_line"] == 2 and "column" not in location
    assert [frame["line"] for frame in location["frames"]] == [2]
    syntax = {"exception": "SyntaxError", "message": "m", "file": "m.py", "line": 1, "column": 10**6, "frames": []}
    assert "column" not in locate.locate(submission, "m.py", syntax)
