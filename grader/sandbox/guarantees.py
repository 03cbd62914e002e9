"""Every label of the feedback's ``sandbox.enforced``: what it guarantees, and where it applies.

A platform may require labels before it trusts a grading (docs/security.md, whose table of them
is generated from this module: ``markdown_table``). So a label is defined here and nowhere else,
and which labels a sandbox reports is decided here, from the facts of that sandbox (``Setup``:
which backend, warm or not, what the kernel and the grader's privileges allowed): the single
grading, the warm pool and the process backend cannot drift apart. The backends say what they
did (``bwrap.plan``, ``process.plan``, ``pool.Worker``); this module says what that guarantees.
"""

from __future__ import annotations

from collections import namedtuple


class Setup(namedtuple("Setup", "backend warm own_uid seccomp landlock_abi network_namespace scratch_tmpfs",
                       defaults=(False, False, False, 0, False, False))):
    """The facts of one sandbox that its labels depend on.

    ``backend``: "bwrap" or "process". ``warm``: the submission runs in a warm worker's child.
    ``own_uid``: its processes run as a uid of their own (the grader is root). ``seccomp``: the
    system-call filter is installed. ``landlock_abi``: the ABI of the Landlock domain the
    student's process is in (0: none). ``network_namespace``, ``scratch_tmpfs``: the process
    backend's child (as root) got an empty network namespace, a tmpfs of ``scratch_mb`` as its
    work folder."""

    __slots__ = ()


class Guarantee(namedtuple("Guarantee", "label meaning applies condition")):
    """``label`` is in ``sandbox.enforced`` exactly when ``applies(setup)``; ``condition``: what,
    beyond the mode, it needs (for the docs)."""

    __slots__ = ()


def _bwrap(setup: Setup) -> bool:
    return setup.backend == "bwrap"


def _process(setup: Setup) -> bool:
    return setup.backend == "process"


GUARANTEES = (
    Guarantee("bwrap-namespaces", "own mount, pid, IPC, UTS and cgroup namespaces (and a user namespace when the "
              "grader is not root): no other process is visible, and all it starts dies with the sandbox", _bwrap, ""),
    Guarantee("read-only-system", "a file system of read-only binds: the interpreter, its standard library (package "
              "folders hidden), numpy and the files the dynamic loader needs; nothing else of the host", _bwrap, ""),
    Guarantee("no-network", "an empty network namespace of its own", _bwrap, ""),
    Guarantee("new-network-namespace", "the process backend's no-network: an empty network namespace of its own, "
              "and IPC and UTS namespaces",
              lambda setup: _process(setup) and setup.network_namespace, "root"),
    Guarantee("rlimits", "every resource limit set by the grader (none inherited from the process that starts it)",
              lambda setup: True, ""),
    Guarantee("new-session", "the process backend's session and process group of its own, which it cannot leave "
              "(the seccomp filter): the whole group is killed at the end (bwrap: bwrap-namespaces)", _process, ""),
    Guarantee("empty-environment", "no environment variable but PATH, HOME, LANG, the encoding and numpy's threads "
              "and huge pages", lambda setup: True, ""),
    Guarantee("private-scratch", "the process backend's work folder: fresh, its own, in the host's temporary "
              "folder, deleted afterwards whatever its rights (bounded in total only with private-tmpfs)",
              _process, ""),
    Guarantee("private-tmpfs", "everything it writes is in a tmpfs of scratch_mb that no other grading sees and that "
              "is gone, or emptied and checked, when it ends",
              lambda setup: _bwrap(setup) or setup.scratch_tmpfs, "process: root, mounts allowed"),
    Guarantee("own-uid", "a uid and gid of its own, no capability, every process of that uid killed afterwards",
              lambda setup: setup.own_uid, "root"),
    Guarantee("seccomp-no-new-session-no-sockets", "the system-call filter: no new session or process group, no "
              "socket, no namespace, no io_uring, no kernel object that outlives it, no change to another process",
              lambda setup: setup.seccomp, "x86_64 or aarch64"),
    Guarantee("landlock-filesystem", "a Landlock domain: reads only what the sandbox shows, writes only in its work "
              "folder", lambda setup: setup.landlock_abi >= 1, "Landlock ABI >= 1"),
    Guarantee("landlock-no-tcp", "no TCP connection or listener (Landlock)", lambda setup: setup.landlock_abi >= 4,
              "Landlock ABI >= 4"),
    Guarantee("landlock-scoped-signals-and-sockets", "no signal to and no abstract unix socket of a process outside "
              "its Landlock domain", lambda setup: setup.landlock_abi >= 6, "Landlock ABI >= 6"),
    Guarantee("warm-worker", "run by a warm worker: a sandbox that serves the submissions of one batch one at a time, "
              "checked pristine after each", lambda setup: setup.warm, ""),
    Guarantee("fresh-fork-per-submission", "in a fresh fork of that worker: nothing a submission changes (modules, "
              "files, processes, limits) reaches the next", lambda setup: setup.warm, ""),
)
LABELS = tuple(guarantee.label for guarantee in GUARANTEES)


def enforced(setup: Setup) -> list[str]:
    """The labels of ``setup``, in the order of ``GUARANTEES``."""
    return [guarantee.label for guarantee in GUARANTEES if guarantee.applies(setup)]


# Every way a submission can run, on a machine that allows everything (Landlock ABI 6, the
# seccomp filter's architecture, mounts for root): the columns of the docs' table. What the
# grader applies in each mode is the backends' (bwrap.plan: as an ordinary uid the runner
# confines itself; a warm worker confines every child), pinned by tests/security/test_backends.py
# and tests/platform/test_guarantees.py.
MODES = {
    "grade, bwrap, root": Setup("bwrap", own_uid=True, seccomp=True),
    "grade, bwrap, not root": Setup("bwrap", seccomp=True, landlock_abi=6),
    "batch, warm, root": Setup("bwrap", warm=True, own_uid=True, seccomp=True, landlock_abi=6),
    "batch, warm, not root": Setup("bwrap", warm=True, seccomp=True, landlock_abi=6),
    "process, root": Setup("process", own_uid=True, seccomp=True, landlock_abi=6, network_namespace=True,
                           scratch_tmpfs=True),
    "process, not root": Setup("process", seccomp=True, landlock_abi=6),
}
_MODE_NOTE = ("`grade` stands for every single grading (`grader grade`, shrinking, replay, `grader validate`, "
              "`grader batch --sandbox-per-submission`) and for `grader serve`, whose warm children report exactly "
              "`grade`'s labels (they hold every one of them, and more: pool.Worker.single_enforced); `batch, warm` "
              "for `grader batch`'s warm workers (bwrap only).")


def markdown_table() -> str:
    """The table of docs/security.md (``grader docs`` does not write it: tests/platform/test_guarantees.py
    checks that the page holds it as this function renders it)."""
    lines = ["| label | what it guarantees | " + " | ".join(MODES) + " | needs |",
             "|---|---|" + "---|" * len(MODES) + "---|"]
    for guarantee in GUARANTEES:
        cells = ["yes" if guarantee.applies(setup) else "-" for setup in MODES.values()]
        lines.append(f"| `{guarantee.label}` | {guarantee.meaning} | " + " | ".join(cells)
                     + f" | {guarantee.condition or '-'} |")
    return "\n".join(lines) + "\n\n" + _MODE_NOTE + "\n"
