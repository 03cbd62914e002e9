"""The labels of ``sandbox.enforced`` mean the same wherever a submission runs, and the docs list them.

A platform may require labels (docs/security.md). For the same sandbox, a single grading
(`grader grade`), a batch with a sandbox per submission and a batch on warm workers must report
the same labels, but for what the warm workers add; and the page's table is the one
``grader/sandbox/guarantees.py`` decides from.
"""

from __future__ import annotations

import os

import pytest

from grader.batch import run as batch
from grader.grading import pipeline
from grader.sandbox import guarantees
from grader.sandbox.confined import landlock
from grader.spec import config, taskspec
from platform_support import CORRECT_CONV, REPO

# What a warm worker adds to a single grading's sandbox: the worker, the fork per submission and,
# as root (where a single grading's runner is not confined: its uid already keeps it from bwrap's
# init), each child's own Landlock domain. Landlock's labels by the ABI they need.
WARM_ONLY = {"warm-worker", "fresh-fork-per-submission"}
LANDLOCK = {1: "landlock-filesystem", 4: "landlock-no-tcp", 6: "landlock-scoped-signals-and-sockets"}


def settings_for(tmp_path, backend: str) -> config.Settings:
    (tmp_path / "grader.yaml").write_text(f"sandbox: {backend}\n", encoding="utf-8")
    return config.load(str(tmp_path / "grader.yaml"), str(REPO))


def labels_three_ways(settings: config.Settings) -> dict[str, set[str]]:
    """The labels of one correct submission through grade, a batch per submission, a warm batch."""
    task = taskspec.load("conv_backward", settings.root)
    source = CORRECT_CONV.read_bytes()
    graded = pipeline.run(task, source, settings, seed=3)
    assert all(verdict.passed for verdict in graded.verdicts)
    found = {"grade": set(graded.enforced)}
    plan = batch.make_plan(task, settings, seed=3)
    for name, warm in (("per-submission", False), ("warm", True)):
        sandboxes = batch.Sandboxes(plan, jobs=1, warm=warm)
        try:
            if warm and sandboxes.pool is None:
                continue
            document = batch.grade(plan, sandboxes, source, "en")
        finally:
            sandboxes.close()
        assert document["status"] == "passed"
        found[name] = set(document["sandbox"]["enforced"])
    return found


def test_grade_and_batch_report_the_same_labels_for_the_same_sandbox(tmp_path):
    settings = settings_for(tmp_path, "auto")
    if pipeline.sandbox.choose_backend("auto")[0] != "bwrap":
        pytest.skip("bwrap cannot run here: no warm workers")
    found = labels_three_ways(settings)
    assert found["per-submission"] == found["grade"]
    added = WARM_ONLY | ({label for abi, label in LANDLOCK.items() if landlock.abi_version() >= abi}
                         if os.geteuid() == 0 else set())
    assert found["warm"] == found["grade"] | added, found["warm"] ^ (found["grade"] | added)


def test_the_process_backend_reports_the_same_labels_through_grade_and_batch(tmp_path):
    found = labels_three_ways(settings_for(tmp_path, "process"))
    assert "warm" not in found  # the process backend has no warm workers
    assert found["per-submission"] == found["grade"]


def test_every_label_reported_is_defined_once_and_documented():
    page = (REPO / "docs" / "security.md").read_text(encoding="utf-8")
    assert guarantees.markdown_table() in page, "docs/security.md: paste guarantees.markdown_table() in its place"
    assert len(set(guarantees.LABELS)) == len(guarantees.LABELS)
    for setup in guarantees.MODES.values():
        assert set(guarantees.enforced(setup)) <= set(guarantees.LABELS)
