"""What executes inside the sandbox, and nothing else: the trust boundary as a folder.

    runner       imports the student's module, calls it on each case, streams the outputs back
    warm_worker  a warm worker: imports numpy once, forks a runner per submission
    landlock     the kernel's file and network allow-list (also applied by the trusted side to the
                 process backend's child before exec)
    seccomp      the system-call filter (likewise)
    removal      deletes what a sandbox wrote (inside warm workers; the process backend's folder)

These modules use the standard library alone and import nothing of the grader but each other
(tests/security/test_confined.py checks both): the grader package is not in the sandbox, so each
is shipped in as source (``source``) and started as ``python -I -B -S -c SOURCE`` (``argv``).
Once the student's code runs next to them they are untrusted: the trusted side takes from them
only what ``sandbox/protocol.py`` can check.
"""

from __future__ import annotations

import os
from functools import lru_cache

_FOLDER = os.path.dirname(os.path.abspath(__file__))


@lru_cache(maxsize=None)
def source(name: str) -> str:
    """The source of the confined module ``name`` (e.g. "runner"), as it is shipped into a sandbox."""
    with open(os.path.join(_FOLDER, f"{name}.py"), encoding="utf-8") as handle:
        return handle.read()


def argv(interpreter, name: str, *args: str) -> list[str]:
    """The command that runs the confined module ``name`` as a program: isolated mode, no bytecode
    written, no site module (no environment variable, user site or .pth file is honoured)."""
    return [str(interpreter), "-I", "-B", "-S", "-c", source(name), *args]
