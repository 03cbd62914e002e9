"""Shared by the authoring tests: the real CLI, and task roots built in tmp_path."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from grader.commands import new

REPO = Path(__file__).resolve().parents[2]
GRADER = Path(sys.executable).with_name("grader")
DEMO = "demo"


def run_grader(*args: str, stdin: bytes | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """The installed console script, exactly as a user runs it."""
    command = [str(GRADER)] if GRADER.exists() else [sys.executable, "-m", "grader"]
    return subprocess.run(command + list(args), input=stdin, capture_output=True, timeout=timeout, cwd=REPO)


def write_scaffold(root: Path, task: str = DEMO, ties: bool = False) -> Path:
    """The task `grader new` writes, written in-process (faster than the CLI for many roots)."""
    for relative, text in new.scaffold(task, ties).items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")
    return root


def copy_task(task: str, root: Path) -> None:
    """A shipped task (spec, reference, template and support files) copied into ``root``."""
    for relative in (f"tasks/{task}.yaml", f"reference/{task}.py", f"student_template/{task}.py", "student_template/utils.py"):
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO / relative, target)
