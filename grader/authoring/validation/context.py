"""What every check of a task shares: the task, its settings and cases (``Context``), the time
budget of the checks that run author code on the trusted side, and reading a source file."""

from __future__ import annotations

import ast
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...spec import cases as cases_mod
from ...spec.config import Settings
from ...spec.taskspec import Task
from .report import Check

MAX_LISTED = 5
CHECK_SECONDS = 120  # budget of the checks that run author code on the trusted side


@dataclass
class Context:
    task: Task
    settings: Settings
    seed: int
    cases: list[cases_mod.Case] = field(default_factory=list)
    expected: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)

    @property
    def tolerances(self) -> dict[str, dict]:
        return self.task.tolerances(self.settings.values["tolerance"])

    @property
    def fixed_cases(self) -> list[cases_mod.Case]:
        return [case for case in self.cases if case.kind == "fixed"]


class RunTooLong(BaseException):
    """Author code ran past its budget; a BaseException so that no `except Exception` in it stops it."""


@contextmanager
def _time_limit(seconds: float):
    """The reference and the variants run unsandboxed on the trusted side: an endless loop in
    them must end the check, not hang `grader validate` (no limit outside the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise RunTooLong()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def bounded(name: str, run, context: Context) -> Check:
    try:
        with _time_limit(CHECK_SECONDS):
            return run(context)
    except RunTooLong:
        return Check(
            name,
            "failed",
            f"stopped after {CHECK_SECONDS} s",
            [
                f"{context.task.spec_path}: the {name} check ran longer than {CHECK_SECONDS} s: "
                "look for an endless loop in the reference or in a misconception's code "
                "(they run without the sandbox's limits)"
            ],
        )


def parse(check: Check, path: Path, what: str) -> tuple[str, ast.Module] | None:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        check.fail(f"{path}: {what} is not UTF-8 (byte {exc.start}); save it as UTF-8")
        return None
    try:
        return text, ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        check.fail(f"{path}:{exc.lineno}: {what} does not compile: {exc.msg}")
        return None
