"""Where a student's error happened, in the student's own terms.

Owns mapping the module lines the runner reports back to the student's own numbering
(their file in whole mode; the line within their block in block mode), the few lines of
context around it taken from the student's own text, and the chain of calls through the
files the student was given. The grader's and the runner's frames never get here: the
runner keeps only frames of the files it wrote for the student (its ``describe_error``),
and the channel keeps only their file, line and function.
"""

from __future__ import annotations

import re
import textwrap

CONTEXT_LINES = 2  # shown before and after the line of the error
SYNTAX_ERRORS = {"SyntaxError", "IndentationError", "TabError"}


def own_lines(submission) -> list[str]:
    """The student's text as they numbered it: the whole file, or the block alone."""
    lines = (submission.own_text if submission.own_text is not None else submission.source).split("\n")
    if submission.mode == "whole":
        return lines[:-1] if lines and lines[-1] == "" else lines
    start = submission.block_start - 1
    return textwrap.dedent("\n".join(lines[start:start + submission.block_lines])).split("\n")


def _context(lines: list[str], line: int) -> list[dict]:
    first, last = max(1, line - CONTEXT_LINES), min(len(lines), line + CONTEXT_LINES)
    return [{"line": n, "text": lines[n - 1][:200], "current": n == line} for n in range(first, last + 1)]


def _module_line(error: dict, module_file: str, module_lines: int) -> int | None:
    """The module line of the error: the syntax error's line, else the innermost frame in the
    module; never one the module does not have (the runner's report is the student's to forge)."""
    for frame in reversed(error.get("frames", [])):
        if frame.get("file") == module_file and 1 <= frame["line"] <= module_lines:
            return frame["line"]
    if error.get("file") == module_file and error.get("line") and 1 <= error["line"] <= module_lines:
        return error["line"]
    return None


def mixes_tabs_and_spaces(submission) -> bool:
    """Some lines of the student's text are indented with tabs and others with spaces."""
    indents = [line[: len(line) - len(line.lstrip(" \t"))] for line in own_lines(submission) if line.strip()]
    return any("\t" in i for i in indents) and any(" " in i for i in indents)


def _own_message(submission, error: dict) -> str:
    """A syntax error's message with the module lines it names ("on line 70") in the student's numbering."""
    message = error.get("message", "")
    if submission.mode != "block" or error.get("exception") not in SYNTAX_ERRORS:
        return message

    def own(match: re.Match) -> str:
        line = submission.student_line(int(match.group(2)))
        return match.group(0) if line is None else f"{match.group(1)}{line}"

    return re.sub(r"(\bline )(\d+)", own, message)


def locate(submission, module_file: str, error: dict | None) -> dict | None:
    """The student's exception, with its line and context in their own numbering."""
    if not error:
        return None
    location: dict = {"exception": error.get("exception", ""), "message": _own_message(submission, error)}
    module_text = submission.source.split("\n") if submission.source is not None else []
    line = _module_line(error, module_file, len(module_text))
    if line is not None:
        own = submission.student_line(line)
        block_end = submission.block_start + submission.block_lines
        if own is None and submission.mode == "block" and location["exception"] in SYNTAX_ERRORS \
                and line >= block_end and submission.block_lines:
            # Python noticed the problem only after the block (e.g. an unclosed bracket on its last line).
            own = submission.block_lines
            location["after_block"] = True
        location.update(line=own, in_template=own is None, module_line=line)
        if own is not None:
            location["context"] = _context(own_lines(submission), own)
            column = error.get("column")
            if isinstance(column, int) and 0 < column <= len(module_text[line - 1]) + 1 and error.get("line") == line \
                    and not location.get("after_block"):
                indent = 0
                if submission.mode == "block":
                    indent = len(module_text[line - 1]) - len(own_lines(submission)[own - 1])
                location["column"] = max(1, column - indent)
    frames = []
    for frame in error.get("frames", []):
        if frame.get("file") == module_file:
            if not 1 <= frame["line"] <= len(module_text):
                continue  # a line the module does not have
            own = submission.student_line(frame["line"])
            frames.append({"yours": True, "file": module_file, "line": own if own is not None else frame["line"],
                           "in_template": own is None, "function": frame.get("function", "")})
        else:
            frames.append({"yours": False, "file": frame.get("file", ""), "line": frame["line"], "in_template": False,
                           "function": frame.get("function", "")})
    if frames:
        location["frames"] = frames
    return location
