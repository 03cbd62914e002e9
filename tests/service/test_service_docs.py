"""docs/platform.md's HTTP contract stays true: its curl examples run, its error table is complete.

Each ```sh block of the section "The HTTP service" that calls curl is run with bash (errexit,
pipefail) against the shared service, in a folder holding a correct submission.py, with
GRADER_URL, TOKEN and ADMIN_TOKEN set as the page says; what the examples write is checked
against the OpenAPI document.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest

from grader.service.problems import KINDS
from service_support import CORRECT_CONV, REPO, TOKENS, validate_against

PLATFORM = REPO / "docs" / "platform.md"


def http_section() -> str:
    text = PLATFORM.read_text(encoding="utf-8")
    start = text.index("## The HTTP service\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def examples() -> list[str]:
    return [block for block in re.findall(r"```sh\n(.*?)```", http_section(), re.S) if "curl " in block]


def test_the_section_has_examples_of_each_route_family():
    blocks = "\n".join(examples())
    for route in ("/v1/gradings", "$location", "/v1/tasks/", "/readyz", "/metrics", "/feedback.html", '"$GRADER_URL/"'):
        assert route in blocks, route


@pytest.mark.skipif(not shutil.which("curl"), reason="curl is not installed")
def test_the_curl_examples_run_against_a_live_service(service, tmp_path):
    (tmp_path / "submission.py").write_bytes(CORRECT_CONV.read_bytes())
    env = {**os.environ, "GRADER_URL": service.url, "TOKEN": TOKENS["platform"][1],
           "ADMIN_TOKEN": TOKENS["watcher"][1]}
    for block in examples():
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=180)
        assert done.returncode == 0, f"{block}\n{done.stdout[-1000:]}{done.stderr[-2000:]}"
    grading = json.loads((tmp_path / "grading.json").read_text())
    assert not validate_against({"$ref": "#/components/schemas/Grading"}, grading)
    assert grading["state"] == "done" and grading["feedback"]["status"] == "passed"
    assert grading["priority"] == "regrade"  # the last example's, waited for by its Location
    accepted = json.loads((tmp_path / "accepted.json").read_text())
    assert accepted["id"] == grading["id"] and accepted["feedback"] is None
    task = json.loads((tmp_path / "task.json").read_text())
    assert task["id"] == "conv_backward" and not validate_against({"$ref": "#/components/schemas/Task"}, task)
    assert json.loads((tmp_path / "ready.json").read_text())["ready"] is True
    assert "grader_build_info" in (tmp_path / "metrics.txt").read_text()
    page = (tmp_path / "feedback.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and grading["feedback"]["summary"] in page
    assert "content-security-policy:" in (tmp_path / "page-headers.txt").read_text().lower()
    assert '<iframe id="feedback" sandbox=""' in (tmp_path / "practice.html").read_text(encoding="utf-8")


def test_the_error_table_lists_every_kind_of_problem_with_its_status():
    table = {}
    for line in http_section().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].isdigit():
            for kind in re.findall(r"`([a-z-]+)`", cells[1]):
                table[kind] = int(cells[0])
    assert table == {kind: status for kind, (status, _) in KINDS.items()}
