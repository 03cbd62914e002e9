"""`grader serve` and `grader grade` give the same answer for the same task, source and seed.

The same grader.yaml (the shared service's), the same seed and language: the verdict, the
score, every test's status and code, the named misconceptions, the program error and the
sandbox's backend and `enforced` labels must be the same, for a correct file, wrong ones, a
file given as a blank only, and one that does not compile. The HTML page (format html) must be
the very bytes `grader grade --format html` prints: the two documents differ only in what was
measured (timing, and resources but the limits), which the page does not show; the test checks both halves of that claim.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from service_support import EXAMPLES, REPO, submission_body

SEED = 4242
SUBMISSIONS = {
    "correct": (EXAMPLES / "conv_backward" / "correct.py").read_bytes(),
    "correct_block": (EXAMPLES / "conv_backward" / "correct_block.py").read_bytes(),
    "wrong_conv_db_wrong_axis": (EXAMPLES / "conv_backward" / "wrong_conv_db_wrong_axis.py").read_bytes(),
    "wrong_conv_dw_without_transpose": (EXAMPLES / "conv_backward" / "wrong_conv_dw_without_transpose.py").read_bytes(),
    "does_not_compile": b"class Convolution:\n    def backward(self, dout)\n        return dout\n",
}


def essentials(document: dict) -> dict:
    return {
        "status": document["status"],
        "gradable": document["gradable"],
        "score": document["score"],
        "max_score": document["max_score"],
        "seed": document["seed"],
        "tests": [(test["name"], test["status"], test["code"], test.get("diagnoses")) for test in document["tests"]],
        "diagnoses": [diagnosis["id"] for diagnosis in document.get("diagnoses", [])],
        "program_error": (document.get("program_error") or {}).get("code"),
        "backend": document["sandbox"]["backend"],
        "enforced": sorted(document["sandbox"]["enforced"]),
        "summary": document["summary"],
    }


@pytest.mark.parametrize("name", SUBMISSIONS)
def test_the_service_and_the_cli_agree(service, tmp_path, name):
    source = SUBMISSIONS[name]
    path = tmp_path / "submission.py"
    path.write_bytes(source)
    cli = subprocess.run([sys.executable, "-m", "grader", "--config", str(service.config), "grade", "--task",
                          "conv_backward", "--seed", str(SEED), "--lang", "en", str(path)],
                         capture_output=True, cwd=REPO, timeout=300)
    assert cli.returncode == 0, cli.stderr.decode(errors="replace")[-2000:]
    with service.client("platform") as client:
        grading = client.post("/v1/gradings", json=submission_body(source, seed=SEED)).json()
    assert grading["state"] == "done"
    assert essentials(grading["feedback"]) == essentials(json.loads(cli.stdout))
    if name.startswith("wrong"):
        assert grading["feedback"]["diagnoses"], "a wrong file with a named misconception: the diagnoses are compared"


MEASURED = ("timing", "resources")  # what two gradings of the same file and seed may differ in (but limits)


@pytest.mark.parametrize("name", ["correct", "wrong_conv_db_wrong_axis", "does_not_compile"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_services_html_is_the_clis_byte_for_byte(service, tmp_path, name, lang):
    path = tmp_path / "submission.py"
    path.write_bytes(SUBMISSIONS[name])
    runs = {}
    for output_format in ("json", "html"):
        done = subprocess.run([sys.executable, "-m", "grader", "--config", str(service.config), "grade", "--task",
                               "conv_backward", "--seed", str(SEED), "--lang", lang, "--format", output_format,
                               str(path)], capture_output=True, cwd=REPO, timeout=300)
        assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
        runs[output_format] = done.stdout.decode("utf-8")
    with service.client("platform") as client:
        grading = client.post("/v1/gradings", json=submission_body(SUBMISSIONS[name], seed=SEED, lang=lang,
                                                                   format="html")).json()
    assert grading["state"] == "done"
    cli_document = json.loads(runs["json"])
    unmeasured = {key: value for key, value in cli_document.items() if key not in MEASURED}
    assert {key: value for key, value in grading["feedback"].items() if key not in MEASURED} == unmeasured
    if name != "does_not_compile":
        assert grading["feedback"]["resources"]["limits"] == cli_document["resources"]["limits"]
        served, graded = grading["feedback"]["resources"]["case_seconds"], cli_document["resources"]["case_seconds"]
        assert set(served) == set(graded) == {test["name"] for test in cli_document["tests"]}
    assert grading["rendered"] == runs["html"]
