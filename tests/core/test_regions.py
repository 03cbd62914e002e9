"""Region integrity: a whole file's changes outside the template's blanks, found after parsing and
reported in the student's lines; warn, reject and restore through the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from grader.grading import regions
from grader.grading.submission import prepare
from grader.spec.yamldoc import validator

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = (ROOT / "student_template" / "conv_backward.py").read_text(encoding="utf-8")
CORRECT = (ROOT / "examples" / "conv_backward" / "correct.py").read_text(encoding="utf-8")
FORWARD_LINE = "        N, C, H, W = x.shape"

TWO_BLANKS = """import numpy as np


def first(x):
    y = x + 1
    ########## Begin ##########
    pass
    ########## End ##########
    return y


def second(x):
    ########## Begin ##########
    pass
    ########## End ##########
"""


def line_of(text: str, needle: str) -> int:
    return text.split("\n").index(needle) + 1


def test_comments_blank_lines_and_formatting_do_not_count():
    student = CORRECT.replace("import numpy as np\n", "import numpy  as np   # numpy\n\n\n# note\n", 1)
    student = student.replace(FORWARD_LINE, "        N,C,H,W=x.shape  # unpack", 1)
    student = student.replace("卷积层的反向传播\n", "my own notes on the task\n", 1)  # the module's docstring
    student = student.replace("卷积层的前向传播", "forward pass, in my words", 1)  # a method's
    assert regions.compare(TEMPLATE, student).regions == []
    assert not regions.compare(TEMPLATE, CORRECT).changed


def test_each_changed_region_is_reported_in_the_students_lines():
    student = CORRECT.replace("import numpy as np\n", "import numpy as np\nimport os\n\n", 1)
    student = student.replace(FORWARD_LINE, FORWARD_LINE + "\n        x = x * 2", 1)
    student = student.replace("        self.stride = stride\n", "", 1)
    found = regions.compare(TEMPLATE, student)
    assert found.matched
    kinds = {(r["kind"], r["start"], r["end"]) for r in found.regions}
    assert ("changed", line_of(student, "import os"), line_of(student, "import os")) in kinds
    assert ("changed", line_of(student, "        x = x * 2"), line_of(student, "        x = x * 2")) in kinds
    removed_at = line_of(student, "        self.pad = pad")
    assert ("removed", removed_at, removed_at) in kinds
    assert len(kinds) == 3


def test_a_changed_def_header_and_a_new_top_level_definition():
    student = CORRECT.replace("    def forward(self, x):", "    def forward(self, x, scale=1):", 1)
    student += "\n\ndef helper(a):\n    return a\n"
    found = regions.compare(TEMPLATE, student)
    line = line_of(student, "    def forward(self, x, scale=1):")
    assert [r for r in found.regions if r["start"] == line] == [{"kind": "changed", "start": line, "end": line}]
    assert found.added == [(line_of(student, "def helper(a):"), line_of(student, "    return a"), None)]
    assert len(found.regions) == 1  # the helper is allowed, not a change


# A helper method inside the template's class, used by the student's blank: the blank is the
# class's last statement, so the method goes after its End marker.
WITH_METHOD = CORRECT.replace(
    "        dout = dout.transpose(0, 2, 3, 1).reshape(-1, FN)",
    "        dout = self._rows(dout, FN)", 1).rstrip("\n") + (
    "\n\n    def _rows(self, dout, FN):\n        # (N, FN, OH, OW) -> (N*OH*OW, FN)\n"
    "        return dout.transpose(0, 2, 3, 1).reshape(-1, FN)\n")


def test_a_helper_method_added_to_a_class_of_the_template_is_allowed():
    found = regions.compare(TEMPLATE, WITH_METHOD)
    assert found.regions == []
    first, last = line_of(WITH_METHOD, "    def _rows(self, dout, FN):"), len(WITH_METHOD.rstrip("\n").split("\n"))
    assert [(added.first, added.last) for added in found.added] == [(first, last)]
    overriding = CORRECT.rstrip("\n") + "\n\n    def forward(self, x):\n        return x\n"
    assert [r["kind"] for r in regions.compare(TEMPLATE, overriding).regions] == ["changed"]


def test_restore_puts_a_helper_method_back_into_its_class(monkeypatch):
    found = regions.compare(TEMPLATE, WITH_METHOD)
    source, line_map = regions.restored(TEMPLATE, WITH_METHOD, found)
    namespace: dict = {"__name__": "solution"}
    monkeypatch.setitem(sys.modules, "utils", _utils())  # the task's support module, as the sandbox has it
    exec(compile(source, "solution.py", "exec"), namespace)
    layer = namespace["Convolution"](np.ones((2, 1, 2, 2)), np.zeros(2))
    layer.forward(np.arange(9.0).reshape(1, 1, 3, 3))
    assert layer.backward(np.ones((1, 2, 2, 2))).shape == (1, 1, 3, 3)
    method_line = source.split("\n").index("    def _rows(self, dout, FN):") + 1
    assert line_map[method_line] == line_of(WITH_METHOD, "    def _rows(self, dout, FN):")


def _utils():
    import importlib.util

    spec = importlib.util.spec_from_file_location("utils", ROOT / "student_template" / "utils.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_redefining_a_name_the_template_binds_is_a_change():
    student = CORRECT + "\n\ndef im2col(*args):\n    return None\n"
    found = regions.compare(TEMPLATE, student)
    assert [r["kind"] for r in found.regions] == ["changed"] and found.added == []


def test_restore_puts_every_blank_back_into_the_pristine_template():
    student = TWO_BLANKS.replace("    y = x + 1", "    y = x + 100").replace(
        "    pass\n    ########## End ##########\n    return y", "    y = y * 2\n    ########## End ##########\n    return y")
    student = student.replace("def second(x):\n    ########## Begin ##########\n    pass",
                              "def second(x):\n    ########## Begin ##########\n    return helper(x)")
    student += "\n\ndef helper(x):\n    return -x\n"
    found = regions.compare(TWO_BLANKS, student)
    assert [r["start"] for r in found.regions] == [line_of(student, "    y = x + 100")]
    source, line_map = regions.restored(TWO_BLANKS, student, found)
    namespace: dict = {}
    exec(compile(source, "m.py", "exec"), namespace)
    assert namespace["first"](1) == 4  # the template's x + 1, then the student's blank
    assert namespace["second"](3) == -3  # the second blank and the added helper
    module_line = source.split("\n").index("    return helper(x)") + 1
    assert line_map[module_line] == line_of(student, "    return helper(x)")
    assert line_map[source.split("\n").index("    return -x") + 1] == line_of(student, "    return -x")


def test_markers_that_do_not_pair_with_the_templates_cannot_be_restored():
    student = CORRECT.replace("########## End ##########", "", 1)
    for policy in ("reject", "restore"):
        submission = prepare(student.encode(), TEMPLATE, "Convolution", "solution.py", policy)
        assert submission.problem == {"code": "OUTSIDE_BLANKS_CHANGED"}
        assert submission.outside_blanks["markers_match"] is False
    assert prepare(student.encode(), TEMPLATE, "Convolution", "solution.py", "warn").problem is None


def test_a_block_submission_has_no_outside():
    block = "        return None\n"
    submission = prepare(block.encode(), TEMPLATE, "Convolution", "solution.py", "reject")
    assert submission.mode == "block" and submission.problem is None and submission.outside_blanks is None


SABOTAGED = CORRECT.replace(FORWARD_LINE, FORWARD_LINE + "\n        x = x * 0", 1)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("policies")
    values = yaml.safe_load((ROOT / "grader.yaml").read_text(encoding="utf-8"))
    values.update(tasks_root=str(ROOT), shrink={"rounds": 0}, cases={"random": 1})
    submission = folder / "sabotaged.py"
    submission.write_text(SABOTAGED, encoding="utf-8")
    documents = {}
    for policy in ("warn", "reject", "restore"):
        config = folder / f"{policy}.yaml"
        config.write_text(yaml.safe_dump({**values, "outside_blanks": policy}), encoding="utf-8")
        completed = subprocess.run([sys.executable, "-m", "grader", "--config", str(config), "grade", "--task",
                                    "conv_backward", "--seed", "7", "--lang", "en", str(submission)],
                                   capture_output=True, timeout=180, cwd=ROOT)
        assert completed.returncode == 0, completed.stderr
        documents[policy] = json.loads(completed.stdout)
        assert not list(validator("feedback.schema.json").iter_errors(documents[policy]))
    return documents


def test_warn_grades_the_file_as_submitted_and_says_what_changed(graded):
    document = graded["warn"]
    assert document["gradable"] and document["status"] == "failed"
    outside = document["submission"]["outside_blanks"]
    line = line_of(SABOTAGED, "        x = x * 0")
    assert outside["action"] == "graded" and outside["regions"] == [{"kind": "changed", "start": line, "end": line}]
    assert f"line {line} changed" in outside["message"]


def test_reject_grades_nothing_with_a_stable_code(graded):
    document = graded["reject"]
    assert not document["gradable"] and document["score"] == 0
    assert document["program_error"]["code"] == "OUTSIDE_BLANKS_CHANGED"
    assert {t["code"] for t in document["tests"]} == {"OUTSIDE_BLANKS_CHANGED"}
    assert document["submission"]["outside_blanks"]["action"] == "rejected"


def test_restore_grades_the_template_with_the_students_blank(graded):
    document = graded["restore"]
    assert document["status"] == "passed" and document["gradable"]
    assert document["submission"]["outside_blanks"]["action"] == "restored"


def test_the_stricter_of_the_tasks_and_the_configs_policy_applies():
    from grader.spec import taskspec

    task = taskspec.load("conv_backward", ROOT)
    task.spec["outside_blanks"] = "restore"
    assert task.outside_blanks("warn") == "restore"
    assert task.outside_blanks("reject") == "reject"
    task.spec.pop("outside_blanks")
    assert task.outside_blanks("warn") == "warn"


@pytest.mark.parametrize("terms", [900, 2000])
def test_a_statement_too_deep_to_dump_is_a_change_not_a_crash(terms):
    deep = "Z = " + "+".join(["1"] * terms)
    student = CORRECT.replace(FORWARD_LINE, FORWARD_LINE + "\n        " + deep, 1)
    for policy in ("warn", "reject", "restore"):
        submission = prepare(student.encode(), TEMPLATE, "Convolution", "solution.py", policy)
        line = line_of(student, "        " + deep)
        assert submission.outside_blanks["regions"] == [{"kind": "changed", "start": line, "end": line}]
