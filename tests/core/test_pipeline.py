"""pipeline.run stops the sandbox it was given on every path, whatever fails on the trusted side."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from core_support import ROOT
from grader.grading import pipeline, reference
from grader.sandbox import launch as sandbox
from grader.sandbox.limits import Limits
from grader.spec import config, taskspec


@pytest.fixture
def temporary(tmp_path, monkeypatch):
    """The trusted side's temporary folder for the test (reachable by a sandbox uid; after tmp_path,
    which is made in the temporary folder of the time)."""
    folder = Path(tempfile.mkdtemp(prefix="cnn-pipeline-"))
    folder.chmod(0o755)
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("failing", ["prepare", "expected_outputs", "meanwhile"])
def test_a_failure_on_the_trusted_side_leaves_no_folder_and_no_sandbox(failing, temporary, tmp_path, monkeypatch):
    # The process backend's work folder lives in TMPDIR; a failure while the sandbox waited for
    # its request (a codec's UnicodeError in decoding, before) left it there for good.
    (tmp_path / "grader.yaml").write_text("sandbox: process\n", encoding="utf-8")
    settings = config.load(str(tmp_path / "grader.yaml"), str(ROOT))
    task = taskspec.load("im2col", settings.root)
    limits = Limits.from_dict(task.limits(settings.values["limits"]))
    launch = sandbox.start(limits, "process", settings.values["sandbox_uids"])
    assert list(temporary.iterdir())

    def fail(*args, **kwargs):
        raise UnicodeError("a surprise")

    meanwhile = None
    if failing == "prepare":
        monkeypatch.setattr(pipeline, "prepare", fail)
    elif failing == "expected_outputs":
        monkeypatch.setattr(reference, "expected_outputs", fail)
    else:
        meanwhile = fail
    with pytest.raises(UnicodeError):
        pipeline.run(task, (ROOT / "examples" / "im2col" / "correct.py").read_bytes(), settings, seed=1, launch=launch,
                     meanwhile=meanwhile)
    assert list(temporary.iterdir()) == []
    assert launch.process.poll() is not None
