"""``grader replay``: a visible case of a feedback re-run through the sandbox, its inputs, expected and
got arrays written as .npz; hidden cases are refused whatever the (student-held) feedback file says."""

from __future__ import annotations

import json

import numpy as np
import pytest

from feedback_support import EXAMPLES, REPO, SEED
from grader.grading import reference
from grader.spec import cases, taskspec

WRONG = EXAMPLES / "col2im" / "wrong_col2im_average_overlaps.py"


@pytest.fixture(scope="module")
def feedback_file(grade, tmp_path_factory):
    graded = grade("col2im", WRONG, shrink=True)
    path = tmp_path_factory.mktemp("replay") / "feedback.json"
    path.write_text(graded.stdout, encoding="utf-8")
    return path, graded.document


def _replay(run_grader, feedback, case, out, submission=WRONG, *extra):
    return run_grader("replay", str(feedback), case, "--submission", str(submission), "--out", str(out), *extra)


def test_visible_case_is_written_with_inputs_expected_and_got(run_grader, feedback_file, tmp_path):
    path, document = feedback_file
    process = _replay(run_grader, path, "overlap_stride1", tmp_path)
    assert process.returncode == 0, process.stderr
    written = tmp_path / f"col2im_overlap_stride1_{SEED}.npz"
    assert str(written) in process.stdout.decode()
    arrays = np.load(written, allow_pickle=False)
    assert sorted(arrays.files) == ["expected_x", "got_x", "input_col"]
    task = taskspec.load("col2im", REPO)
    case = next(c for c in cases.generate(task, SEED, 6) if c.name == "overlap_stride1")
    assert (arrays["input_col"] == case.inputs["col"]).all()
    assert np.allclose(arrays["expected_x"], reference.expected_outputs(task, [case])[case.index]["x"])
    entry = next(t for t in document["tests"] if t["name"] == "overlap_stride1")
    assert np.abs(arrays["got_x"] - arrays["expected_x"]).max() == pytest.approx(entry["checks"][0]["max_abs_error"], abs=1e-6)


def test_shrunk_case_is_rebuilt(run_grader, feedback_file, tmp_path):
    path, document = feedback_file
    process = _replay(run_grader, path, "shrunk", tmp_path)
    assert process.returncode == 0, process.stderr
    arrays = np.load(tmp_path / f"col2im_shrunk_{SEED}.npz", allow_pickle=False)
    assert list(arrays["expected_x"].shape) == document["shrunk"]["checks"][0]["expected_shape"]
    error = np.abs(arrays["got_x"] - arrays["expected_x"]).max()
    assert error == pytest.approx(document["shrunk"]["checks"][0]["max_abs_error"], abs=1e-6)


def test_hidden_case_is_refused_even_when_the_file_says_visible(run_grader, feedback_file, tmp_path):
    path, document = feedback_file
    process = _replay(run_grader, path, "large", tmp_path)
    assert process.returncode == 2 and "hidden" in process.stderr.decode()
    forged = json.loads(path.read_text(encoding="utf-8"))
    large = next(t for t in forged["tests"] if t["name"] == "large")
    large["visibility"] = "visible"
    large["params"] = {"N": 8, "C": 8, "H": 28, "W": 28, "FH": 3, "FW": 3, "stride": 1, "pad": 1, "OH": 28, "OW": 28}
    forged_path = tmp_path / "forged.json"
    forged_path.write_text(json.dumps(forged), encoding="utf-8")
    process = _replay(run_grader, forged_path, "large", tmp_path)
    assert process.returncode == 2 and "hidden" in process.stderr.decode()
    assert not list(tmp_path.glob("*.npz"))


def test_forged_shrunk_case_is_refused(run_grader, feedback_file, tmp_path):
    path, _ = feedback_file
    for change in ({"index": 8}, {"params": {"N": 99}}):
        forged = json.loads(path.read_text(encoding="utf-8"))
        if "params" in change:
            forged["shrunk"]["params"]["N"] = 99
        else:
            forged["shrunk"].update(change)
        forged_path = tmp_path / "forged.json"
        forged_path.write_text(json.dumps(forged), encoding="utf-8")
        process = _replay(run_grader, forged_path, "shrunk", tmp_path)
        assert process.returncode == 2, change
    assert not list(tmp_path.glob("*.npz"))


def test_unknown_case_and_bad_file(run_grader, feedback_file, tmp_path):
    path, _ = feedback_file
    process = _replay(run_grader, path, "no_such_case", tmp_path, WRONG, "--lang", "zh")
    assert process.returncode == 2 and "overlap_stride1" in process.stderr.decode()
    not_json = tmp_path / "not.json"
    not_json.write_text("{", encoding="utf-8")
    assert _replay(run_grader, not_json, "basic", tmp_path).returncode == 2
    assert _replay(run_grader, tmp_path / "missing.json", "basic", tmp_path).returncode == 2
