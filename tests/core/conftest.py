"""Fixtures of the core tests."""

from pathlib import Path

import pytest

from core_support import feedback_of, run_cli


@pytest.fixture
def grade():
    def _grade(task: str, submission, *extra: str) -> tuple[int, dict]:
        if isinstance(submission, (bytes, str)) and not isinstance(submission, Path):
            data = submission.encode() if isinstance(submission, str) else submission
            completed = run_cli("grade", "--task", task, *extra, "-", stdin=data)
        else:
            completed = run_cli("grade", "--task", task, *extra, str(submission))
        return completed.returncode, feedback_of(completed)

    return _grade
