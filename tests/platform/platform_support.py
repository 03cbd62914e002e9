"""Shared by the platform tests: the real CLI, the schemas, the bundled submissions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from grader.spec import yamldoc

REPO = Path(__file__).resolve().parents[2]
GRADER = [sys.executable, "-m", "grader"]
EXAMPLES = REPO / "examples"
HOSTILE = Path(__file__).resolve().parent / "hostile"
CORRECT_CONV = EXAMPLES / "conv_backward" / "correct.py"


def run_grader(*args: str, stdin: bytes | None = None, cwd: Path = REPO, timeout: float = 300,
               env: dict | None = None, text: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run([*GRADER, *args], input=stdin, capture_output=True, timeout=timeout, cwd=cwd,
                          env={**os.environ, **(env or {})}, text=text)


def valid(document: dict, schema: str) -> dict:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in yamldoc.validator(schema).iter_errors(document)]
    assert not errors, errors
    return document


def results_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def by_file(path: Path) -> dict[str, dict]:
    lines = results_lines(path)
    names = [line["file"] for line in lines]
    assert len(names) == len(set(names)), "a submission was graded twice"
    return {line["file"]: line for line in lines}
