"""Submissions: the student's bytes turned into the module the sandbox imports.

Owns decoding (UTF-8, a UTF-8 BOM, a PEP 263 coding declaration such as gbk, CRLF
endings), the choice between the two modes, and the line mapping back to the
student's own numbering:

whole  the file contains the Begin/End markers, or defines the task's entry (``def im2col``,
       ``class Convolution``) at the top level: it is the module, as written;
block  neither: it is the code of the template's one blank, re-indented and spliced
       between the markers.
"""

from __future__ import annotations

import codecs
import io
import re
import textwrap
import tokenize
from dataclasses import dataclass, field

from .taskspec import BEGIN_MARKER, END_MARKER

MAX_BYTES = 256 * 1024


@dataclass
class Submission:
    source: str | None  # the module's source, or None when it cannot be used at all
    mode: str  # "whole" or "block"
    encoding: str
    notes: list[str] = field(default_factory=list)
    problem: dict | None = None  # why the source is None: {"code": ..., detail}
    block_start: int = 0  # module line of the block's first line (block mode)
    block_lines: int = 0

    def student_line(self, module_line: int | None) -> int | None:
        """The student's own line number for a line of the module, None if it is template code."""
        if module_line is None:
            return None
        if self.mode == "whole":
            return module_line
        offset = module_line - self.block_start
        return offset + 1 if 0 <= offset < self.block_lines else None


def decode(data: bytes) -> tuple[str | None, str, list[str], dict | None]:
    """(text, encoding, notes, problem)."""
    notes = []
    if len(data) > MAX_BYTES:
        return None, "unknown", notes, {"code": "SUBMISSION_TOO_LARGE", "size": len(data), "limit": MAX_BYTES}
    if data.startswith(codecs.BOM_UTF8):
        notes.append("BOM_REMOVED")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        return None, "unknown", notes, {"code": "ENCODING_ERROR", "reason": str(exc)[:200]}
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        position = getattr(exc, "start", None)
        line = data[:position].count(b"\n") + 1 if isinstance(position, int) else None
        return None, encoding, notes, {"code": "ENCODING_ERROR", "encoding": encoding, "line": line}
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        notes.append("NEWLINES_NORMALISED")
    if encoding not in ("utf-8", "utf-8-sig"):
        notes.append("ENCODING_DECLARED")
        # The declaration names the bytes we already decoded; the sandbox gets UTF-8.
        text = _drop_coding_declaration(text)
    return text, encoding, notes, None


_CODING = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")


def _drop_coding_declaration(text: str) -> str:
    lines = text.split("\n")
    for i in range(min(2, len(lines))):
        if _CODING.match(lines[i]):
            lines[i] = "# (coding declaration applied by the grader)"
    return "\n".join(lines)


def blanks(template: str) -> list[tuple[int, int, str]]:
    """(begin line index, end line index, indentation) of each blank in a template."""
    found, begin = [], None
    for i, line in enumerate(template.split("\n")):
        if line.strip() == BEGIN_MARKER:
            begin = i
        elif line.strip() == END_MARKER and begin is not None:
            found.append((begin, i, line[: len(line) - len(line.lstrip())]))
            begin = None
    return found


def _tabs_to_spaces(text: str) -> str:
    """A block indented with tabs only is re-indented with 4 spaces a tab, so it can join
    a template indented with spaces; mixed indentation is left for Python to judge."""
    leading = [line[: len(line) - len(line.lstrip(" \t"))] for line in text.split("\n") if line.strip()]
    if not any("\t" in lead for lead in leading) or any(" " in lead for lead in leading):
        return text
    return "\n".join("    " * (len(line) - len(line.lstrip("\t"))) + line.lstrip("\t") for line in text.split("\n"))


def defines_at_top_level(text: str, name: str) -> bool:
    return re.search(rf"^(?:def|class)[ \t]+{re.escape(name)}\b", text, re.MULTILINE) is not None


def prepare(data: bytes, template: str, entry_name: str) -> Submission:
    text, encoding, notes, problem = decode(data)
    if problem:
        return Submission(None, "whole", encoding, notes, problem)
    if BEGIN_MARKER in text or END_MARKER in text:
        return Submission(text, "whole", encoding, notes)
    if defines_at_top_level(text, entry_name):
        return Submission(text, "whole", encoding, notes + ["WHOLE_BY_DEFINITION"])
    holes = blanks(template)
    if len(holes) != 1:
        return Submission(None, "block", encoding, notes, {"code": "BLOCK_MODE_UNAVAILABLE", "blanks": len(holes)})
    begin, end, indent = holes[0]
    block = textwrap.dedent(_tabs_to_spaces(text))
    block_lines = block.rstrip("\n").split("\n") if block.strip() else []
    # An empty block still has to compile, so that the student hears what is missing.
    indented = [(indent + line) if line.strip() else "" for line in block_lines] or [indent + "pass"]
    template_lines = template.split("\n")
    module = template_lines[: begin + 1] + indented + template_lines[end:]
    return Submission("\n".join(module), "block", encoding, notes, block_start=begin + 2, block_lines=len(block_lines))
