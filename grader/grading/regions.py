"""Region integrity: what a whole-file submission changed outside the template's blanks.

Owns the comparison and the restored module. Both files are parsed with each blank hollowed out
(its Begin marker becomes a placeholder statement, its lines empty, so line numbers stay the
student's), and their statements are compared as syntax trees: comments, docstrings, blank
lines and formatting do not count. Each statement list (the module, a class, a function, an if...) is
aligned with the template's; what differs is reported as a region of the student's lines:
``changed`` (a statement or a def/class header that is not the template's) or ``removed`` (the
template's statement is gone; reported at the student's line where it was). A new function or
class whose name the template does not bind, at the top level or in one of the template's
classes (a helper method), is ``added``: allowed in every policy.

``restore`` builds the module from the pristine template with the student's blanks put back
(any number of them) and their added definitions put back too (a method at the end of its
class, a top-level one at the end of the module), and maps its lines back to theirs.
"""

from __future__ import annotations

import ast
import copy
import difflib
from collections import namedtuple
from dataclasses import dataclass, field
from functools import lru_cache

from ..spec.taskspec import BEGIN_MARKER, END_MARKER

PLACEHOLDER = "__grader_blank__"
DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
BODIES = ("body", "orelse", "finalbody", "handlers")  # (a match's cases compare whole: they have no lines)


class Added(namedtuple("Added", "first last after")):
    """A definition the student added: their lines ``first``..``last``; ``after``: the template's
    line it goes after in a restored module (the end of its class), None at the top level (the end
    of the module). (Its lines keep their indentation, as the blanks' do.)"""

    __slots__ = ()


@dataclass
class Integrity:
    """``regions``: what changed outside the blanks ({"kind", "start", "end"}, the student's lines);
    ``matched``: the blanks could be paired with the template's (same number of marker pairs, and
    the file parses with its blanks hollowed out); ``added``: the student's new definitions
    (``Added``), at the top level or in a class of the template."""

    matched: bool
    regions: list[dict] = field(default_factory=list)
    added: list[Added] = field(default_factory=list)
    student_blanks: list[tuple[int, int]] = field(default_factory=list)  # (begin, end) marker line indexes

    @property
    def changed(self) -> bool:
        return not self.matched or bool(self.regions)


def marker_pairs(text: str) -> list[tuple[int, int]] | None:
    """(Begin, End) line indexes of each blank, in order; None when the markers do not pair up."""
    pairs, begin = [], None
    for index, line in enumerate(text.split("\n")):
        word = line.strip()
        if word == BEGIN_MARKER:
            if begin is not None:
                return None
            begin = index
        elif word == END_MARKER:
            if begin is None:
                return None
            pairs.append((begin, index))
            begin = None
    return None if begin is not None else pairs


def _hollowed(text: str, pairs: list[tuple[int, int]]) -> str:
    lines = text.split("\n")
    for begin, end in pairs:
        indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
        lines[begin] = indent + PLACEHOLDER
        for index in range(begin + 1, end + 1):
            lines[index] = ""
    return "\n".join(lines)


def _statements(tree: ast.Module):
    """Every statement of ``tree`` (and its except handlers and match cases): where a def or a
    class can be, without walking the expressions (most of a tree's nodes)."""
    pending = [tree]
    while pending:
        node = pending.pop()
        yield node
        for _, value in ast.iter_fields(node):
            if isinstance(value, list):
                pending += [child for child in value if isinstance(child, (ast.stmt, ast.excepthandler,
                                                                           ast.match_case))]


def _without_docstrings(tree: ast.Module) -> ast.Module:
    """A docstring is a comment to a reader of the code: translated or edited, it changes nothing."""
    for node in _statements(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, *DEFINITIONS)) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            node.header_end = body[0].lineno - 1  # (not a field: ast.dump ignores it)
            node.body = body[1:]
    return tree


def _key(node: ast.AST) -> str:
    try:
        return ast.dump(node, annotate_fields=False, include_attributes=False)
    except RecursionError:  # a statement nested deeper than ast.dump recurses: no template has one
        return f"<too deep to compare {id(node)}>"


def _shell(node: ast.AST) -> str:
    """The node without its statement lists: a def's header, an if's test..."""
    shell = copy.copy(node)  # the node itself is left alone: a template's tree is shared by threads
    for name in BODIES:
        if hasattr(shell, name):
            setattr(shell, name, [])
    return _key(shell)


def _start(node: ast.AST) -> int:
    decorators = getattr(node, "decorator_list", [])
    return min([node.lineno] + [d.lineno for d in decorators])


def _bound_names(body: list[ast.stmt]) -> set[str]:
    names = set()
    for node in body:
        if isinstance(node, DEFINITIONS):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


class _Template:
    """A template parsed with its blanks hollowed out, and its statements' keys as asked for:
    the same for every submission of a task, so made once (``_template``)."""

    def __init__(self, text: str, pairs: list[tuple[int, int]]):
        self.tree = _without_docstrings(ast.parse(_hollowed(text, pairs)))
        self.names = _bound_names(self.tree.body)
        self._keys: dict[tuple[str, ast.AST], str] = {}

    def key(self, node: ast.AST) -> str:
        if ("key", node) not in self._keys:
            self._keys[("key", node)] = _key(node)
        return self._keys[("key", node)]

    def shell(self, node: ast.AST) -> str:
        if ("shell", node) not in self._keys:
            self._keys[("shell", node)] = _shell(node)
        return self._keys[("shell", node)]


@lru_cache(maxsize=32)
def _template(text: str) -> _Template:
    """``text`` as a ``_Template`` (its markers pair up); SyntaxError and the like when it does not parse."""
    return _Template(text, marker_pairs(text))


class _Comparison:
    def __init__(self, template: _Template, template_blanks: list[tuple[int, int]]):
        self.template = template
        self.template_names = template.names
        self.template_blanks = template_blanks
        self.regions: list[dict] = []
        self.added: list[Added] = []

    def changed(self, node: ast.AST) -> None:
        self.regions.append({"kind": "changed", "start": _start(node), "end": node.end_lineno or node.lineno})

    def statements(self, template: list, student: list, top: bool, after_line: int,
                   owner: ast.ClassDef | None = None) -> None:
        """Align two statement lists; ``after_line``: the student's line just before the list;
        ``owner``: the template's class whose body they are, if they are one."""
        matcher = difflib.SequenceMatcher(None, [self.template.key(n) for n in template], [_key(n) for n in student],
                                          autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                continue
            ours, theirs = list(template[i1:i2]), list(student[j1:j2])
            where = theirs[0].lineno if theirs else (student[j1 - 1].end_lineno + 1 if j1 else after_line + 1)
            for node in theirs:
                partner = next((t for t in ours if type(t) is type(node) and getattr(t, "name", None)
                                == getattr(node, "name", None)), None)
                if partner is not None:
                    ours.remove(partner)
                    self.pair(partner, node)
                elif isinstance(node, DEFINITIONS) and (top or owner) and node.name not in \
                        (self.template_names if top else _bound_names(owner.body)):
                    self.add(node, owner)
                else:
                    self.changed(node)
            for _ in ours:
                self.regions.append({"kind": "removed", "start": where, "end": where})

    def add(self, node: ast.AST, owner: ast.ClassDef | None) -> None:
        first, last = _start(node), node.end_lineno or node.lineno
        if owner is None:
            self.added.append(Added(first, last, None))
            return
        # The class's last line in the template; a blank there ends at its End marker (hollowed,
        # the blank's lines were empty and the class seemed to end at its Begin).
        end = owner.end_lineno
        for begin, blank_end in self.template_blanks:
            if begin + 1 <= end <= blank_end + 1:
                end = blank_end + 1
        self.added.append(Added(first, last, end))

    def pair(self, template: ast.AST, student: ast.AST) -> None:
        """The same kind of statement (and the same name): its header, then each of its bodies."""
        bodies = [name for name in BODIES if getattr(student, name, None)]
        if self.template.shell(template) != _shell(student) or not bodies:
            first_body = getattr(student, "header_end", None) or \
                min((getattr(student, n)[0].lineno for n in bodies), default=student.lineno + 1) - 1
            end = first_body if bodies and first_body >= student.lineno else (student.end_lineno or student.lineno)
            self.regions.append({"kind": "changed", "start": _start(student), "end": max(end, student.lineno)})
        owner = template if isinstance(template, ast.ClassDef) else None
        for name in BODIES:
            ours, theirs = getattr(template, name, None), getattr(student, name, None)
            if ours or theirs:
                self.statements(ours or [], theirs or [], False, student.lineno, owner if name == "body" else None)


def compare(template: str, student: str) -> Integrity:
    """What ``student`` (a whole file) changed outside the blanks of ``template``."""
    template_pairs, student_pairs = marker_pairs(template), marker_pairs(student)
    if template_pairs is None or student_pairs is None or len(template_pairs) != len(student_pairs):
        return Integrity(matched=False)
    try:
        ours = _template(template)
        theirs = _without_docstrings(ast.parse(_hollowed(student, student_pairs)))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return Integrity(matched=False, student_blanks=student_pairs)
    comparison = _Comparison(ours, template_pairs)
    try:
        comparison.statements(ours.tree.body, theirs.body, True, 0)
    except (RecursionError, MemoryError):  # statements nested beyond Python's recursion: not comparable
        return Integrity(matched=False, student_blanks=student_pairs)
    regions = sorted(comparison.regions, key=lambda r: (r["start"], r["end"]))
    return Integrity(True, regions, comparison.added, student_pairs)


def restored(template: str, student: str, integrity: Integrity) -> tuple[str, dict[int, int]]:
    """The template with the student's blanks and added definitions put back, and
    {module line: student line} for every line that is the student's (1-based)."""
    template_lines, student_lines = template.split("\n"), student.split("\n")
    module: list[str] = []
    line_map: dict[int, int] = {}

    def take(first: int, last: int) -> None:
        for line in range(first, last + 1):
            module.append(student_lines[line - 1])
            line_map[len(module)] = line

    pairs = marker_pairs(template) or []
    blanks = {begin: (end, theirs) for (begin, end), theirs in zip(pairs, integrity.student_blanks)}
    methods: dict[int, list[Added]] = {}
    for added in integrity.added:
        if added.after is not None:
            methods.setdefault(added.after, []).append(added)
    index = 0
    while index < len(template_lines):
        module.append(template_lines[index])
        if index in blanks:
            end, (their_begin, their_end) = blanks[index]
            take(their_begin + 2, their_end)  # (1-based: the lines between their markers)
            index = end
            module.append(template_lines[index])
        for added in methods.get(index + 1, []):
            module.append("")
            take(added.first, added.last)
        index += 1
    for added in integrity.added:
        if added.after is None:
            module += ["", ""]
            take(added.first, added.last)
    return "\n".join(module) + ("\n" if not module or module[-1] != "" else ""), line_map
