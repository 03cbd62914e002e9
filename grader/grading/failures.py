"""The grader's own failures, as the platform is told them: one reason per kind.

``grader grade``, ``grader batch`` and ``grader serve`` answer a grading that could not be made
with a document whose status is "error" (the grader's failure: retry, do not count the attempt);
its ``error`` is ``reason(exc, task)``, the same words whichever of them graded, and for a broken task
(``task_broken``) its summary says only that (no server path reaches the student).
"""

from __future__ import annotations

import sys
import traceback

from ..sandbox.errors import SandboxError, SandboxUnavailable
from ..spec.taskspec import TaskError
from .reference import ReferenceError_


def task_broken(exc: Exception) -> bool:
    """The task, not the grader or the student, is at fault: its author must fix it."""
    return isinstance(exc, (TaskError, ReferenceError_))


def reason(exc: Exception, task_id: str) -> str:
    """Why the grading of a submission of ``task_id`` failed. An unexpected exception (a bug of
    the grader) is also printed with its traceback on stderr, for the operator."""
    if task_broken(exc):
        return f"the task {task_id!r} is broken: {exc}"
    if isinstance(exc, SandboxUnavailable):
        return f"no sandbox can run here: {exc}"
    if isinstance(exc, SandboxError):
        return f"the sandbox failed: {exc}"
    traceback.print_exception(exc, file=sys.stderr)
    return f"internal error: {type(exc).__name__}: {exc}"
