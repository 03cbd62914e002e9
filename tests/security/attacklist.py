"""The red-team attack list: every file in tests/security/attacks/, its header, its rendering.

Each attack is a real student submission with a machine-readable header of comment lines
at its top (``# key: value``), so that any entry point (``grader grade`` here, ``grader
batch`` or a warm pool later) can run the same list and judge it the same way:

    # task: im2col                 the task it is graded as
    # family: steal                steal | fool | forge | exhaust | crash | awkward | escape
    # expect: failed               the verdict: passed (the answer is right and the hostile
                                   part merely failed) or failed
    # codes: WRONG_VALUES TIMEOUT  with expect failed: the codes a failing test may carry
                                   (NOT_RUN always allowed); at least one test carries one
    # post: next                   extra post-conditions: next = the same task's correct
                                   example, graded right after, still passes
    # transform: crlf              bytes-level changes applied after rendering:
                                   crlf, bom, encode=<codec>
    # xfail[MODE]: reason          MODE (bwrap, process, bwrap-unprivileged, process-unprivileged) cannot stop
                                   this attack; the reason is documented in docs/security.md
    # why: ...                     one line saying what the attack tries

Placeholders filled in by ``render`` (the harness gives each attack fresh values):
@@MARKER@@ a unique token (files, argv and leaks carry it), @@OUTSIDE@@ a world-writable
host folder outside the sandbox (a unix socket file of the test listens there as
listener.sock), @@CHECKOUT@@ the grader's checkout, @@TCP_PORT@@, @@UDP_PORT@@, @@ABSTRACT@@
listeners of the test, @@HOST_ADDRS@@ the host's addresses (a Python list literal), @@NUL@@
and @@BYTE_FF@@ raw bytes.

An attack that gets hold of something it must not see prints or raises it behind the token
``LEAKED-<marker>``; the harness fails the attack when that token reaches the feedback.

Usable without pytest: ``load()`` returns the list; ``render(attack, values)`` the bytes to
submit; ``verdict_problems(attack, feedback)`` what is wrong with a feedback document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

ATTACK_DIR = Path(__file__).resolve().parent / "attacks"
FAMILIES = ("steal", "fool", "forge", "exhaust", "crash", "awkward", "escape")
MODES = ("bwrap", "process", "bwrap-unprivileged", "process-unprivileged")
_HEADER = re.compile(r"^#\s*([a-z_-]+)(?:\[([a-z-]+)\])?\s*:\s*(.*?)\s*$")
_RAW_BYTES = {b"@@NUL@@": b"\x00", b"@@BYTE_FF@@": b"\xff\xfe"}
POSTS = ("next",)
TRANSFORMS = ("crlf", "bom", "encode=")


def _feedback_codes() -> frozenset[str]:
    import json

    schema = Path(__file__).resolve().parents[2] / "grader" / "schemas" / "feedback.schema.json"
    return frozenset(json.loads(schema.read_text(encoding="utf-8"))["$defs"]["code"]["enum"])


@dataclass(frozen=True)
class Attack:
    name: str
    path: Path
    task: str
    family: str
    expect: str
    codes: frozenset[str] = frozenset()
    post: frozenset[str] = frozenset()
    transforms: tuple[str, ...] = ()
    xfail: dict[str, str] = field(default_factory=dict)
    why: str = ""

    def leak_token(self, marker: str) -> str:
        return "LEAKED-" + marker


def _parse(path: Path) -> Attack:
    values: dict[str, str] = {}
    xfail: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _HEADER.match(line)
        if not line.startswith("#"):
            break
        if not match:
            continue
        key, mode, value = match.groups()
        if key == "xfail":
            if mode not in MODES:
                raise ValueError(f"{path.name}: xfail for an unknown mode {mode!r}")
            xfail[mode] = value
        else:
            values[key] = value
    for required in ("task", "family", "expect", "why"):
        if required not in values:
            raise ValueError(f"{path.name}: the header has no {required!r}")
    if values["family"] not in FAMILIES:
        raise ValueError(f"{path.name}: unknown family {values['family']!r}")
    if values["expect"] not in ("passed", "failed"):
        raise ValueError(f"{path.name}: expect must be passed or failed")
    unknown = set(values.get("codes", "").split()) - _feedback_codes()
    unknown |= set(values.get("post", "").split()) - set(POSTS)
    unknown |= {t for t in values.get("transform", "").split() if not t.startswith(TRANSFORMS)}
    if unknown:
        raise ValueError(f"{path.name}: unknown codes, post-conditions or transforms {sorted(unknown)}")
    return Attack(
        name=path.stem, path=path, task=values["task"], family=values["family"], expect=values["expect"],
        codes=frozenset(values.get("codes", "").split()), post=frozenset(values.get("post", "").split()),
        transforms=tuple(values.get("transform", "").split()), xfail=xfail, why=values["why"],
    )


def load() -> list[Attack]:
    return [_parse(path) for path in sorted(ATTACK_DIR.glob("*.py"))]


def render(attack: Attack, values: dict[str, str]) -> bytes:
    """The submission's bytes: placeholders filled, then the header's transforms applied."""
    text = attack.path.read_text(encoding="utf-8")
    for name, value in values.items():
        text = text.replace(f"@@{name}@@", str(value))
    codec = "utf-8"
    for transform in attack.transforms:
        if transform.startswith("encode="):
            codec = transform.split("=", 1)[1]
        elif transform == "crlf":
            text = text.replace("\n", "\r\n")
    data = text.encode(codec)
    for placeholder, raw in _RAW_BYTES.items():
        data = data.replace(placeholder, raw)
    if "bom" in attack.transforms:
        data = b"\xef\xbb\xbf" + data
    return data


def verdict_problems(attack: Attack, feedback: dict) -> list[str]:
    """What is wrong with the verdict of ``feedback`` for this attack (empty: as expected)."""
    status = feedback.get("status")
    if status != attack.expect:
        codes = sorted({t.get("code") for t in feedback.get("tests", []) if t.get("code")})
        return [f"status {status!r} (codes {codes}), expected {attack.expect!r}"]
    if attack.expect == "passed" or not attack.codes:
        return []
    failing = [t.get("code") for t in feedback.get("tests", []) if t.get("status") != "passed"]
    unexpected = sorted({code for code in failing if code not in attack.codes | {"NOT_RUN"}})
    problems = [f"failing tests carry codes {unexpected}, expected only {sorted(attack.codes)}"] if unexpected else []
    if not any(code in attack.codes for code in failing):
        problems.append(f"no failing test carries any of {sorted(attack.codes)}")
    return problems
