"""Shared by the core tests: run the real CLI and validate what it prints."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from grader.spec import yamldoc

ROOT = Path(__file__).resolve().parents[2]
GRADER = [sys.executable, "-m", "grader"]
SEED_TASKS = ["im2col", "col2im", "conv_backward", "maxpool_backward"]


def run_cli(*args: str, stdin: bytes | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*GRADER, *args], input=stdin, capture_output=True, timeout=timeout, cwd=ROOT)


def feedback_of(completed: subprocess.CompletedProcess) -> dict:
    """The one JSON document on stdout, checked against the feedback schema."""
    document = json.loads(completed.stdout)
    errors = list(yamldoc.validator("feedback.schema.json").iter_errors(document))
    assert not errors, [e.message for e in errors]
    return document
