"""Broken tasks: each is caught by the check that owns it, with a message that says
where (file:line, the path in the spec) and what was expected.

Each case starts from the scaffold of `grader new` (a valid task: see
test_authoring_new.py), breaks one thing, and runs the validation on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from authoring_support import DEMO, copy_task, run_grader, write_scaffold
from grader.authoring.validation import context
from grader.authoring.validation import run as validation
from grader.spec import config

SPEC = f"tasks/{DEMO}.yaml"
REFERENCE = f"reference/{DEMO}.py"
TEMPLATE = f"student_template/{DEMO}.py"


@dataclass
class Broken:
    id: str
    file: str  # the file the breakage is written into
    old: str
    new: str
    check: str  # the check that must fail
    expected: str  # a part of the problem's text
    located_at: str | None = None  # a text on the line the problem must point at (in located_in)
    located_in: str | None = None  # the file the line is in, when not ``file``
    more: tuple = ()  # further (old, new) replacements in the same file, all occurrences


CASES = [
    # the schema, in words, at the line
    Broken("unknown_key", SPEC, "outputs:", "output:", "spec", "output: unknown key 'output'; did you mean 'outputs'?", "output:"),
    Broken("missing_required", SPEC, "  en: Backward pass of a per-channel scale layer (example)\n", "", "spec",
           "title: missing required key 'en'", "title:"),
    Broken("wrong_type", SPEC, "N: {min: 1, max: 3,", "N: {min: one, max: 3,", "spec",
           "params/N/min: expected an integer, got a string \"one\"", "N: {min: one"),
    Broken("unknown_param_key", SPEC, "H: {min: 1, max: 6}", "H: {min: 1, max: 6, step: 2}", "spec",
           "params/H/step: unknown key 'step' (allowed here: min, max, description)", "step: 2"),
    Broken("bad_enum", SPEC, "gamma: {shape: [C],", "gamma: {shape: [C], distribution: gauss,", "spec",
           "inputs/gamma/distribution: expected one of \"normal\", \"uniform\", \"integers\"; got \"gauss\"", "gauss"),
    Broken("not_yaml", SPEC, "x: {shape: [N, C, H, W],", "x: {shape: [N, C, H, W,", "spec", "not valid YAML", "x: {shape: [N, C, H, W,"),
    Broken("tab_indent", SPEC, "  H: {min: 1, max: 6}", "\tH: {min: 1, max: 6}", "spec", "YAML does not allow tabs", "\tH:"),
    Broken("duplicate_key", SPEC, f"id: {DEMO}\n", f"id: {DEMO}\nid: other\n", "spec", "id: key 'id' is written twice (first at line", "id: other"),
    Broken("entry_typo", SPEC, "  class: Demo", "  klass: Demo", "spec", "entry/klass: unknown key 'klass'; did you mean 'class'?", "klass"),
    Broken("case_name_pattern", SPEC, "- name: basic", "- name: Basic Case", "spec",
           "cases/fixed/0/name: \"Basic Case\" does not match the pattern", "Basic Case"),
    # names and references between sections
    Broken("unknown_name_in_shape", SPEC, "gamma: {shape: [C]", "gamma: {shape: [K]", "spec",
           "inputs/gamma/shape/0: unknown name(s) K in 'K' (known here: C, H, N, W)", "shape: [K]"),
    Broken("expression_syntax", SPEC, "dout: {shape: [N, C, H, W]", "dout: {shape: [N, C, H +, W]", "spec",
           "inputs/dout/shape/2: cannot parse expression 'H +'", "H +"),
    Broken("expression_call", SPEC, "x: {shape: [N, C, H, W]", "x: {shape: [N, C, H, len(W)]", "spec",
           "only min(), max() and abs() may be called", "len(W)"),
    Broken("fixed_case_missing_param", SPEC, "params: {N: 1, C: 1, H: 2, W: 2}", "params: {N: 1, C: 1, H: 2}", "spec",
           "cases/fixed/0/params: case 'basic' gives no value for the params ['W']", "params: {N: 1, C: 1, H: 2}"),
    Broken("fixed_case_unknown_param", SPEC, "params: {N: 1, C: 1, H: 2, W: 2}", "params: {N: 1, C: 1, H: 2, W: 2, K: 3}", "spec",
           "cases/fixed/0/params/K: case 'basic' sets 'K', which is not a param", "K: 3"),
    Broken("min_above_max", SPEC, "C: {min: 1, max: 4,", "C: {min: 5, max: 4,", "spec", "params/C: min 5 is greater than max 4", "C: {min: 5"),
    Broken("duplicate_case_name", SPEC, "- name: non_square", "- name: basic  # again", "spec",
           "cases/fixed/2/name: the case name 'basic' is already used by cases/fixed/0", "# again"),
    Broken("missing_file", SPEC, f"reference: reference/{DEMO}.py", "reference: reference/missing.py", "spec",
           "files/reference: reference/missing.py does not exist", "reference/missing.py"),
    Broken("output_never_produced", SPEC, "attributes: [dgamma]", "attributes: []", "spec",
           "outputs/dgamma: the entry never produces 'dgamma'", "  dgamma: {shape"),
    Broken("unknown_argument", SPEC, "init: [gamma]", "init: [gama]", "spec", "entry/init/0: argument 'gama' is not an input", "init: [gama]"),
    Broken("id_not_file_name", SPEC, f"id: {DEMO}", f"id: {DEMO}2", "spec", "differs from the file name", f"id: {DEMO}2"),
    Broken("unknown_name_in_output_shape", SPEC, "dx: {shape: [N, C, H, W]", "dx: {shape: [N, C, H, K]", "spec",
           "outputs/dx/shape/3: unknown name(s) K in 'K'", "dx: {shape: [N, C, H, K]"),
    # how inputs are drawn
    Broken("input_low_above_high", SPEC, "x: {shape: [N, C, H, W],", "x: {shape: [N, C, H, W], low: 5,", "spec",
           "inputs/x: low 5 is greater than high 2", "low: 5"),
    Broken("case_draws_unknown_input", SPEC, "params: {N: 1, C: 1, H: 2, W: 2}",
           "params: {N: 1, C: 1, H: 2, W: 2}\n      inputs: {y: {distribution: integers}}", "spec",
           "cases/fixed/0/inputs/y: case 'basic' draws 'y', which is not an input (inputs: x, gamma, dout)", "inputs: {y:"),
    Broken("case_draws_low_above_high", SPEC, "params: {N: 1, C: 1, H: 2, W: 2}",
           "params: {N: 1, C: 1, H: 2, W: 2}\n      inputs: {x: {distribution: integers, low: 3, high: 1}}", "spec",
           "cases/fixed/0/inputs/x: case 'basic' draws 'x' from integers with low 3 greater than high 1", "low: 3"),
    Broken("case_draw_unknown_key", SPEC, "params: {N: 1, C: 1, H: 2, W: 2}",
           "params: {N: 1, C: 1, H: 2, W: 2}\n      inputs: {x: {distribution: integers, mean: 0}}", "spec",
           "cases/fixed/0/inputs/x/mean: unknown key 'mean' (allowed here: distribution, scale, low, high)", "mean: 0"),
    # the parameter space
    Broken("fixed_case_breaks_constraint", SPEC, "inputs:", "constraints:\n  - H >= 3\ninputs:", "params",
           "cases/fixed/0/params: case 'basic' breaks H >= 3", "params: {N: 1, C: 1, H: 2, W: 2}"),
    Broken("unused_param", SPEC, "  N: {min: 1, max: 3,", "  K: {min: 1, max: 3}\n  N: {min: 1, max: 3,", "params",
           "params/K: the param 'K' is used by nothing", "  K: {min: 1", more=(("params: {N:", "params: {K: 1, N:"),)),
    Broken("constant_shape", SPEC, "gamma: {shape: [C]", "gamma: {shape: [4]", "params",
           "inputs/gamma/shape: the shape of 'gamma' depends on no param", "shape: [4]"),
    Broken("division_by_zero", SPEC, "inputs:", "derived:\n  Q: H // (C - 1)\ninputs:", "params",
           "case 'basic': division by zero in expression 'H // (C - 1)'", "params: {N: 1, C: 1, H: 2, W: 2}"),
    Broken("unsatisfiable", SPEC, "inputs:", "constraints:\n  - H >= 100\ninputs:", "params",
           "none of 400 draws from the params satisfies the constraints", "constraints:"),
    # the reference
    Broken("reference_raises", REFERENCE, "        dout = np.asarray(dout, dtype=np.float64)\n",
           "        dout = np.asarray(dout, dtype=np.float64)\n        raise ValueError('boom')\n", "reference",
           "(in backward): the reference raised ValueError: boom on case basic", "raise ValueError('boom')"),
    Broken("output_shape_not_the_references", SPEC, "dgamma: {shape: [C]", "dgamma: {shape: [N]", "reference",
           "outputs/dgamma/shape: on case batch_channels {'N': 3, 'C': 4, 'H': 3, 'W': 3}, the reference's dgamma has shape [4], not [3] (N)",
           "dgamma: {shape: [N]"),
    Broken("reference_not_finite", REFERENCE, "return dout * self.gamma.reshape(1, -1, 1, 1)",
           "return dout * self.gamma.reshape(1, -1, 1, 1) * np.inf", "reference", "produced non-finite 'dx' on case basic"),
    Broken("reference_imports_unavailable", REFERENCE, "import numpy as np", "import numpy as np\nimport no_such_module", "code",
           "imports 'no_such_module', which the sandbox does not provide", "import no_such_module"),
    # the template
    # the template (a marker may carry trailing blanks: they locate the line here)
    Broken("template_nested_blank", TEMPLATE, "        pass\n        ########## End",
           "        ########## Begin ########## \n        pass\n        ########## End", "code",
           "a second Begin marker before the End of the blank opened at line", "Begin ########## "),
    Broken("template_no_end", TEMPLATE, "        ########## End ##########\n", "", "code",
           "this Begin marker has no End marker", "########## Begin"),
    Broken("template_marker_typo", TEMPLATE, "########## End ##########", "######### End #########", "code",
           "this looks like a marker but is not exactly", "######### End #########"),
    Broken("template_no_begin", TEMPLATE, "        ########## Begin ##########\n", "", "code",
           "an End marker without a Begin marker", "########## End"),
    Broken("template_no_blank", TEMPLATE, "        ########## Begin ##########\n", "",  "code",
           "the template has no blank", None, more=(("        ########## End ##########\n", ""),)),
    Broken("template_syntax_error", TEMPLATE, "    def backward(self, dout):", "    def backward(self, dout)", "code",
           "the template does not compile", "def backward(self, dout)"),
    Broken("template_imports_scipy", TEMPLATE, "import numpy as np", "import numpy as np\nimport scipy.signal", "code",
           "imports 'scipy.signal', which the sandbox does not provide", "import scipy.signal"),
    Broken("template_missing_method", TEMPLATE, "    def forward(self, x):", "    def forwards(self, x):", "code",
           "class Demo has no method 'forward', which the spec's entry calls", "class Demo:"),
    # misconceptions
    Broken("misconception_syntax", SPEC, "              self.dgamma = (dout * self.x).sum(axis=0)",
           "              self.dgamma = (dout * self.x).sum(axis=0", "misconceptions",
           "misconceptions/0/code: does not compile", "self.dgamma = (dout * self.x).sum(axis=0"),
    Broken("misconception_no_mistake", SPEC, "              return dout.copy()", "              return super().backward(dout)",
           "misconceptions", "'demo_dx_without_gamma' gives the reference's outputs on every case where it runs: it is no mistake"),
    Broken("misconception_misspelled", SPEC, "      class Demo(Demo):\n          def backward(self, dout):\n              super()",
           "      class Demoo(Demo):\n          def backward(self, dout):\n              super()", "misconceptions",
           "Demoo is not a name of the reference, so nothing is redefined"),
    Broken("misconception_always_raises", SPEC, "self.dgamma = dout.sum(axis=(0, 2, 3))", "self.dgamma = undefined_name",
           "misconceptions", "'demo_dgamma_without_x' raised NameError: name 'undefined_name' is not defined on every case"),
    Broken("misconception_only_random", SPEC, "              return dout.copy()",
           "              return dout.copy() if self.x.shape[2] == 5 else super().backward(dout)", "misconceptions",
           "differs from the reference only on random cases", "demo_dx_without_gamma"),
    # reference-free checks
    Broken("gradient_wrong_reference", REFERENCE, "self.dgamma = (dout * self.x).sum(axis=(0, 2, 3))",
           "self.dgamma = 2 * (dout * self.x).sum(axis=(0, 2, 3))", "checks",
           "by finite differences but the reference's dgamma says", "pairs: {x: dx, gamma: dgamma}", located_in=SPEC),
    Broken("gradient_unknown_input", SPEC, "pairs: {x: dx, gamma: dgamma}", "pairs: {x: dx, beta: dgamma}", "checks",
           "checks/0/gradient/pairs/beta: 'beta' is not an input", "beta: dgamma"),
    Broken("gradient_unknown_step", SPEC, "gradient: {forward: forward,", "gradient: {forward: fwd,", "checks",
           "checks/0/gradient/forward: 'fwd' is neither a step's call nor its returns", "forward: fwd"),
    # a misspelt name inside entry, checks and pairs: the closest known name is suggested
    Broken("entry_argument_misspelt", SPEC, "init: [gamma]", "init: [gama]", "spec",
           "argument 'gama' is not an input, param or derived value; did you mean 'gamma'?", "init: [gama]"),
    Broken("entry_class_misspelt", SPEC, "  class: Demo\n", "  class: Dmeo\n", "code",
           "defines no top-level class 'Dmeo', which the spec's entry calls; did you mean 'Demo'?"),
    Broken("entry_method_misspelt", SPEC, "    - call: backward", "    - call: backwrd", "code",
           "class Demo has no method 'backwrd', which the spec's entry calls; did you mean 'backward'?"),
    Broken("gradient_step_misspelt", SPEC, "gradient: {forward: forward,", "gradient: {forward: forwrd,", "checks",
           "'forwrd' is neither a step's call nor its returns; did you mean 'forward'?", "forward: forwrd"),
    Broken("gradient_upstream_misspelt", SPEC, "upstream: dout,", "upstream: dou,", "checks",
           "checks/0/gradient/upstream: 'dou' is not an input; did you mean 'dout'?", "upstream: dou,"),
    Broken("pairs_input_misspelt", SPEC, "pairs: {x: dx, gamma: dgamma}", "pairs: {x: dx, gama: dgamma}", "checks",
           "checks/0/gradient/pairs/gama: 'gama' is not an input; did you mean 'gamma'?", "gama: dgamma"),
    Broken("pairs_output_misspelt", SPEC, "pairs: {x: dx, gamma: dgamma}", "pairs: {x: dx, gamma: dgama}", "checks",
           "checks/0/gradient/pairs/gamma: 'dgama' is not an output; did you mean 'dgamma'?", "gamma: dgama"),
]


def _line(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def _break(root: Path, case: Broken) -> None:
    path = root / case.file
    text = path.read_text(encoding="utf-8")
    assert case.old in text, f"the scaffold changed: {case.old!r} is not in {case.file}"
    text = text.replace(case.old, case.new, 1)
    for old, new in case.more:
        assert old in text, f"{old!r} is not in {case.file}"
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_broken_task_gets_a_precise_problem(tmp_path, case):
    root = write_scaffold(tmp_path / "root")
    _break(root, case)
    report = validation.validate(DEMO, config.load(None, str(root)), sandbox=False)
    assert not report.passed
    check = next(c for c in report.checks if c.name == case.check)
    assert check.status == "failed", [c.as_dict() for c in report.checks]
    matching = [p for p in check.problems if case.expected in p]
    assert matching, f"no problem of {case.check} says {case.expected!r}: {check.problems}"
    if case.located_at:
        located = root / (case.located_in or case.file)
        line = _line(located, case.located_at)
        assert any(p.startswith((f"{located}:{line}: ", f"{located}:{line} (in ")) for p in matching), matching
    earlier = report.checks[: report.checks.index(check)]
    assert all(c.status == "passed" for c in earlier), "an earlier check failed too: the breakage is not caught where it belongs"


def test_misconception_compile_error_points_at_the_yaml_line(tmp_path):
    root = write_scaffold(tmp_path / "root")
    _break(root, next(c for c in CASES if c.id == "misconception_syntax"))
    report = validation.validate(DEMO, config.load(None, str(root)), sandbox=False)
    problems = next(c for c in report.checks if c.name == "misconceptions").problems
    spec = root / SPEC
    broken_line = _line(spec, "self.dgamma = (dout * self.x).sum(axis=0")
    assert any(re.match(rf"{re.escape(str(spec))}:{broken_line}: .*\(line \d+ of the code\)", p) for p in problems), problems


def test_a_wrong_reference_that_passes_its_own_grading_is_caught_by_the_gradient_check(tmp_path):
    """The point of reference-free checks: the sandbox run agrees with the (wrong) reference."""
    root = write_scaffold(tmp_path / "root")
    _break(root, next(c for c in CASES if c.id == "gradient_wrong_reference"))
    report = validation.validate(DEMO, config.load(None, str(root)), sandbox=True)
    statuses = {c.name: c.status for c in report.checks}
    assert statuses["sandbox"] == "passed" and statuses["checks"] == "failed", statuses


def test_adjoint_check_catches_a_col2im_that_overwrites(tmp_path):
    root = tmp_path / "root"
    copy_task("im2col", root)
    copy_task("col2im", root)
    reference = root / "reference" / "col2im.py"
    text = reference.read_text(encoding="utf-8")
    assert "] += cols[" in text
    reference.write_text(text.replace("] += cols[", "] = cols["), encoding="utf-8")
    report = validation.validate("im2col", config.load(None, str(root)), sandbox=False)
    check = next(c for c in report.checks if c.name == "checks")
    assert check.status == "failed"
    spec = root / "tasks" / "im2col.yaml"
    line = _line(spec, "adjoint: {task: col2im")
    assert any(p.startswith(f"{spec}:{line}: checks/0/adjoint: on case ") and "the two references are not adjoint" in p
               for p in check.problems), check.problems


def test_adjoint_check_names_an_unknown_task(tmp_path):
    root = tmp_path / "root"
    copy_task("im2col", root)
    report = validation.validate("im2col", config.load(None, str(root)), sandbox=False)
    check = next(c for c in report.checks if c.name == "checks")
    assert any("checks/0/adjoint/task: the other task cannot be loaded: unknown task 'col2im'" in p for p in check.problems), check.problems


def test_broken_grader_yaml_is_a_usage_error_with_its_line(tmp_path):
    root = write_scaffold(tmp_path / "root")
    (root / "grader.yaml").write_text("language: en\nlimits:\n  cpu_second: 5\n", encoding="utf-8")
    result = run_grader("--root", str(root), "validate", "--no-sandbox")
    assert result.returncode == 2
    assert f"{root / 'grader.yaml'}:3: limits/cpu_second: unknown key 'cpu_second'; did you mean 'cpu_seconds'?" in result.stderr.decode()


def test_cli_reports_a_broken_task_and_exits_1(tmp_path):
    root = write_scaffold(tmp_path / "root")
    _break(root, next(c for c in CASES if c.id == "unknown_key"))
    result = run_grader("--root", str(root), "validate", "--no-sandbox")
    out = result.stdout.decode()
    assert result.returncode == 1, out
    assert f"{root / SPEC}:{_line(root / SPEC, 'output:')}: output: unknown key 'output'" in out
    assert "demo: BROKEN" in out and "1 of 1 tasks are broken: demo" in out


def test_an_endless_misconception_ends_its_check(tmp_path, monkeypatch):
    monkeypatch.setattr(context, "CHECK_SECONDS", 1)
    root = write_scaffold(tmp_path / "root")
    _break(root, Broken("endless", SPEC, "              return dout.copy()", "              while True:\n                  pass",
                        "misconceptions", ""))
    report = validation.validate(DEMO, config.load(None, str(root)), sandbox=False)
    statuses = {c.name: c.status for c in report.checks}
    assert statuses["misconceptions"] == "failed" and statuses["checks"] == "passed", statuses
    problems = next(c for c in report.checks if c.name == "misconceptions").problems
    assert problems == [f"{root / SPEC}: the misconceptions check ran longer than 1 s: look for an endless loop in the reference "
                        "or in a misconception's code (they run without the sandbox's limits)"]


def test_a_template_that_is_not_utf8(tmp_path):
    root = write_scaffold(tmp_path / "root")
    template = root / TEMPLATE
    template.write_bytes(template.read_bytes().replace("按通道".encode(), "按通道".encode("gbk")))
    report = validation.validate(DEMO, config.load(None, str(root)), sandbox=True)
    code = next(c for c in report.checks if c.name == "code")
    assert code.status == "failed" and code.problems[0].startswith(f"{template}: the template is not UTF-8 (byte ")
    assert next(c for c in report.checks if c.name == "sandbox").summary == "skipped: the code check failed"
