"""Fixtures of the feedback tests: the real CLI, every JSON answer checked against the schema.

``grade(task, path, lang=..., seed=..., shrink=False, fmt="json")`` runs ``grader grade``
in a subprocess and returns a ``Graded`` (exit code, stdout, and the parsed document when
the format is JSON, already validated against grader/schemas/feedback.schema.json).
Gradings are deterministic for a seed, so they are cached for the session: the zh and en
tests of one submission cost two gradings, not one per assertion.
"""

from __future__ import annotations

import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from feedback_support import EXAMPLES, GRADER, SEED, SEED_TASKS, SUBMISSIONS, Graded, make_config

PARALLEL_GRADINGS = 2  # the machines this runs on have two cores


@pytest.fixture(scope="session")
def feedback_validator():
    from grader.spec.yamldoc import validator

    return validator("feedback.schema.json")


@pytest.fixture(scope="session")
def run_grader():
    """Run any grader command line; returns the CompletedProcess."""

    def run(*args: str, stdin: bytes | None = None, env: dict | None = None, timeout: float = 240):
        return subprocess.run([str(GRADER), *args], input=stdin, capture_output=True, timeout=timeout,
                              env={**os.environ, **(env or {})})

    return run


@pytest.fixture(scope="session")
def configs(tmp_path_factory):
    """Configs by name: quick (no shrinking), shrink (shrinking with a budget that never runs out in a test)."""
    folder = tmp_path_factory.mktemp("configs")
    return {
        "quick": make_config(folder, "quick", shrink={"rounds": 0}, cases={"random": 2}),
        "shrink": make_config(folder, "shrink", shrink={"rounds": 6, "wall_seconds": 120}, cases={"random": 2}),
    }


@pytest.fixture(scope="session")
def grade(run_grader, configs, feedback_validator):
    cache: dict = {}

    def grade_(task: str, path: Path | str, lang: str = "en", seed: int = SEED, shrink: bool = False,
               fmt: str = "json") -> Graded:
        key = (task, str(path), lang, seed, shrink, fmt)
        if key not in cache:
            config = configs["shrink" if shrink else "quick"]
            process = run_grader("--config", str(config), "grade", "--task", task, "--seed", str(seed),
                                 "--lang", lang, "--format", fmt, str(path))
            stdout = process.stdout.decode("utf-8")
            document = None
            if fmt == "json":
                document = json.loads(stdout)
                errors = [f"{list(e.path)}: {e.message}" for e in feedback_validator.iter_errors(document)]
                assert not errors, f"feedback of {path} is not valid against the schema: {errors[:3]}"
            cache[key] = Graded(process.returncode, stdout, process.stderr.decode("utf-8", "replace"), document)
        return cache[key]

    return grade_


@pytest.fixture(scope="session")
def prefetched(grade):
    """The seed tasks' examples and every test submission graded in zh and en, two at a time, before the
    tests read them (every task's examples on several seeds: test_examples.py, through `grader batch`)."""
    examples = [path for task in SEED_TASKS for path in sorted((EXAMPLES / task).glob("wrong_*.py"))]
    jobs = [(path.parent.name, path, lang) for path in examples + sorted(SUBMISSIONS.glob("*/*.py")) for lang in ("zh", "en")]
    jobs += [(task, EXAMPLES / task / "correct.py", "en") for task in SEED_TASKS]
    with ThreadPoolExecutor(PARALLEL_GRADINGS) as pool:
        list(pool.map(lambda job: grade(job[0], job[1], lang=job[2]), jobs))
