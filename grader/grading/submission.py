"""Submissions: the student's bytes turned into the module the sandbox imports.

Owns decoding (UTF-8, a UTF-8 BOM, a PEP 263 coding declaration such as gbk, CRLF
endings), the choice between the two modes, Python's verdict on whether the module compiles
(established here, on the trusted side: nothing the sandbox reports can make an attempt
ungradable), and the line mapping back to the student's own numbering:

whole  the file contains the Begin/End markers, or defines the task's entry (``def im2col``,
       ``class Convolution``) at the top level: it is the module, as written;
block  neither: it is the code of the template's one blank, re-indented and spliced
       between the markers.

A whole file with the template's markers is held to the task's ``outside_blanks`` policy
(``regions`` compares it with the template): ``warn`` grades it as written and reports what
changed outside the blanks; ``reject`` makes it ungradable (OUTSIDE_BLANKS_CHANGED); ``restore``
grades the template with the student's blanks (and the definitions they added) put back.
"""

from __future__ import annotations

import codecs
import io
import re
import textwrap
import tokenize
from dataclasses import dataclass, field

from ..spec.taskspec import BEGIN_MARKER, END_MARKER

MAX_BYTES = 256 * 1024


@dataclass
class Submission:
    source: str | None  # the module's source, or None when the bytes cannot be made one
    mode: str  # "whole" or "block"
    encoding: str
    notes: list[str] = field(default_factory=list)
    # Why it cannot be graded: {"code": ..., detail}; for COMPILE_ERROR, "error" is the
    # compiler's error in the channel's form (the source is kept, to show where).
    problem: dict | None = None
    block_start: int = 0  # module line of the block's first line (block mode)
    block_lines: int = 0
    # What changed outside the blanks of a whole file: {"policy", "regions", "markers_match"}
    outside_blanks: dict | None = None
    own_text: str | None = None  # the student's file, when the module is not it (restored)
    line_map: dict[int, int] | None = None  # module line -> the student's line (restored)

    def student_line(self, module_line: int | None) -> int | None:
        """The student's own line number for a line of the module, None if it is template code."""
        if module_line is None:
            return None
        if self.line_map is not None:
            return self.line_map.get(module_line)
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
    except SyntaxError as exc:  # an unknown encoding, or a BOM that contradicts the declaration
        return None, "unknown", notes, _declaration_problem(data, str(exc))
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:  # bytes that are not text in a real text encoding
        line = data[:exc.start].count(b"\n") + 1
        return None, encoding, notes, {"code": "ENCODING_ERROR", "encoding": encoding, "line": line}
    except Exception:  # noqa: BLE001 - a codec that is no text encoding (rot13, hex) or always fails (undefined)
        # Python's own words for it: the declaration, not the bytes, is the student's mistake.
        return None, encoding, notes, _declaration_problem(data, f"encoding problem: {encoding}")
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


def _declaration_problem(data: bytes, message: str) -> dict:
    """A coding declaration Python refuses: the SyntaxError Python itself raises, on its line."""
    lines = data.split(b"\n", 2)[:2]
    line = next((number for number, text in enumerate(lines, 1) if _CODING.match(text.decode("latin-1"))), None)
    error = {"exception": "SyntaxError", "message": message[:200], "frames": []}
    if line is not None:
        error.update(line=line, text=lines[line - 1].decode("latin-1")[:200])
    return {"code": "COMPILE_ERROR", "error": error}


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


def prepare(data: bytes, template: str, entry_name: str, module_file: str,
            outside_blanks: str = "warn") -> Submission:
    """The module made of ``data`` (to be imported as ``module_file``), or why there is none.
    ``outside_blanks``: the task's policy for a whole file that changes the template outside its blanks."""
    text, encoding, notes, problem = decode(data)
    if problem:
        return Submission(None, "whole", encoding, notes, problem)
    if BEGIN_MARKER in text or END_MARKER in text:
        submission = Submission(text, "whole", encoding, notes)
    elif defines_at_top_level(text, entry_name):
        submission = Submission(text, "whole", encoding, notes + ["WHOLE_BY_DEFINITION"])
    else:
        submission = _spliced(text, template, encoding, notes)
    if submission.source is not None:
        error = compile_error(submission.source, module_file)
        if error:
            submission.problem = {"code": "COMPILE_ERROR", "error": error}
        elif submission.mode == "whole":
            _hold_to_template(submission, template, outside_blanks, module_file)
    return submission


def _hold_to_template(submission: Submission, template: str, policy: str, module_file: str) -> None:
    """Apply the ``outside_blanks`` policy to a whole file that compiles."""
    from . import regions  # only a whole file pays for the comparison

    text = submission.source
    integrity = regions.compare(template, text)
    if not integrity.changed or (policy == "warn" and not integrity.matched):
        return  # (a file without the template's markers has no outside to compare under warn)
    submission.outside_blanks = {"policy": policy, "regions": integrity.regions, "markers_match": integrity.matched}
    if policy == "reject" or (policy == "restore" and not integrity.matched):
        submission.problem = {"code": "OUTSIDE_BLANKS_CHANGED"}
    elif policy == "restore":
        submission.own_text = text
        submission.source, submission.line_map = regions.restored(template, text, integrity)
        error = compile_error(submission.source, module_file)
        if error:
            submission.problem = {"code": "COMPILE_ERROR", "error": error}


def _spliced(text: str, template: str, encoding: str, notes: list[str]) -> Submission:
    """Block mode: ``text`` is the code of the template's one blank."""
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


def compile_error(source: str, module_file: str) -> dict | None:
    """Why Python cannot compile ``source`` (in the form the channel gives a sandbox's errors), or
    None. The sandbox's interpreter is the same major.minor, so it would say the same; a program
    too deeply nested for the parser or the compiler (MemoryError, RecursionError) is the
    student's compile error too. Compiling executes nothing."""
    try:
        compile(source, module_file, "exec", dont_inherit=True)
    except SyntaxError as exc:
        error = {"exception": type(exc).__name__, "message": (exc.msg or str(exc))[:500], "file": module_file,
                 "frames": []}
        for key, value in (("line", exc.lineno), ("column", exc.offset)):
            if isinstance(value, int) and value > 0:
                error[key] = value
        if exc.text:
            error["text"] = exc.text.rstrip("\n")[:500]
        return error
    except Exception as exc:  # noqa: BLE001 - MemoryError, RecursionError, ValueError, OverflowError...
        message = "the program is nested too deeply for Python to compile" \
            if isinstance(exc, (MemoryError, RecursionError)) else str(exc)[:500]
        return {"exception": type(exc).__name__, "message": message, "frames": []}
    return None
