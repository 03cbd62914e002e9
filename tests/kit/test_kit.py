"""``grader kit``: what a student can try offline, and that it gives nothing of the answer away.

For every task: the kit holds the template, the support modules, a README and check.py; no
reference source and no expected output of a hidden case; its check.py (Python and numpy only)
passes the reference and fails the template. It judges as the grader does (same codes on the same
visible case), and its gradient check catches what the shipped expected outputs cannot.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from grader.grading import reference
from grader.kit import build
from grader.spec import cases as cases_mod
from grader.spec import config, taskspec

REPO = Path(__file__).resolve().parents[2]
TASKS = taskspec.task_ids(REPO)
SETTINGS = config.load(None, REPO)


def make_kit(task_id: str, folder: Path, lang: str = "en") -> Path:
    task = taskspec.load(task_id, REPO)
    build.write(build.files(task, SETTINGS.values["tolerance"], lang), folder)
    return folder


def run_check(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "check.py"], cwd=folder, capture_output=True, text=True, timeout=120)


def case_codes(output: str) -> dict[str, str | None]:
    """{case name: code or None} from check.py's case lines (LABEL  name[ (title)][  CODE])."""
    found = {}
    for line in output.splitlines():
        if line.startswith(("PASS  ", "FAIL  ")):  # a gradient line follows its case line: setdefault
            parts = line.split("  ")
            name = parts[1].split(" (")[0].split(",")[0]
            found.setdefault(name, parts[2] if len(parts) > 2 and line.startswith("FAIL") else None)
    return found


def test_every_task_is_covered():
    assert len(TASKS) == 10


@pytest.mark.parametrize("task_id", TASKS)
def test_a_kit_passes_the_reference_and_fails_the_template(task_id, tmp_path):
    task = taskspec.load(task_id, REPO)
    folder = make_kit(task_id, tmp_path / "kit")
    assert {task.module_file, "README.md", "check.py", "kit.json"} <= {p.name for p in folder.iterdir()}
    assert {p.name for p in task.support_paths} <= {p.name for p in folder.iterdir()}
    failing = run_check(folder)
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "FAIL" in failing.stdout and "Traceback" not in failing.stderr
    (folder / task.module_file).write_bytes(task.reference_path.read_bytes())
    passing = run_check(folder)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    visible = [c.name for c in build.visible_cases(task)]
    assert case_codes(passing.stdout) == dict.fromkeys(visible)


@pytest.mark.parametrize("task_id", TASKS)
def test_a_kit_holds_no_reference_source_and_nothing_of_a_hidden_case(task_id, tmp_path):
    task = taskspec.load(task_id, REPO)
    folder = make_kit(task_id, tmp_path / "kit")
    given = task.template_source() + "".join(task.support_files().values())
    # Every line of the reference that the student is not given already.
    own_lines = {line.strip() for line in task.reference_path.read_text(encoding="utf-8").splitlines()
                 if len(line.strip()) > 12 and line.strip() not in given}
    texts = {p.name: p.read_text(encoding="utf-8") for p in folder.rglob("*") if p.suffix in (".py", ".md", ".json")}
    for name, content in texts.items():
        leaked = [line for line in own_lines if line in content]
        assert not leaked, f"{name} holds lines of the reference: {leaked[:3]}"
    shipped = {p.stem for p in (folder / "cases").glob("*.npz")}
    visible_fixed = {f["name"] for f in task.spec["cases"]["fixed"] if f["visible"]}
    assert shipped == visible_fixed
    kit = json.loads(texts["kit.json"])
    assert {c["name"] for c in kit["cases"]} == visible_fixed
    # No array of the kit is the reference's output on a hidden case, nor a random case's input.
    every = cases_mod.generate(task, build.KIT_SEED, 3)
    secret = [c for c in every if not c.visible or c.kind == "random"]
    secret_arrays = [a for outputs in reference.expected_outputs(task, secret).values() for a in outputs.values()]
    secret_arrays += [a for c in secret for a in c.inputs.values()]
    for path in (folder / "cases").glob("*.npz"):
        with np.load(path) as arrays:
            for key in arrays.files:
                assert not any(a.shape == arrays[key].shape and np.array_equal(a, arrays[key]) for a in secret_arrays)


def test_the_kit_command_writes_a_zip_whose_check_runs(tmp_path):
    out = tmp_path / "conv.zip"
    completed = subprocess.run([sys.executable, "-m", "grader", "kit", "conv_backward", "--lang", "zh", "--out",
                                str(out)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "unzipped")
    assert {"solution.py", "utils.py", "README.md", "check.py", "kit.json", "cases/basic.npz"} <= names
    assert "cases/large.npz" not in names  # the hidden case
    assert "离线" in (tmp_path / "unzipped" / "check.py").parent.joinpath("kit.json").read_text(encoding="utf-8")
    completed = run_check(tmp_path / "unzipped")
    assert completed.returncode == 1 and "MISSING_OUTPUT" in completed.stdout
    assert "公开用例" in completed.stdout


def test_a_kit_is_the_same_bytes_every_time(tmp_path):
    task = taskspec.load("im2col", REPO)
    assert build.files(task, SETTINGS.values["tolerance"], "en") == build.files(task, SETTINGS.values["tolerance"], "en")


@pytest.mark.parametrize("example", ["conv_backward/wrong_conv_db_keepdims.py",
                                     "conv_backward/wrong_conv_dout_not_nhwc.py",
                                     "maxpool_backward/wrong_maxpool_average_rule.py", "im2col/wrong_im2col_column_order_khkwc.py"])
def test_check_gives_the_graders_code_on_each_visible_case(example, tmp_path):
    task_id = example.split("/")[0]
    task = taskspec.load(task_id, REPO)
    folder = make_kit(task_id, tmp_path / "kit")
    (folder / task.module_file).write_bytes((REPO / "examples" / example).read_bytes())
    kit_codes = case_codes(run_check(folder).stdout)
    graded = subprocess.run([sys.executable, "-m", "grader", "grade", "--task", task_id, "--lang", "en",
                             str(REPO / "examples" / example)], cwd=REPO, capture_output=True, timeout=120)
    document = json.loads(graded.stdout)
    grader_codes = {t["name"]: t["code"] for t in document["tests"] if t["name"] in kit_codes}
    assert grader_codes == kit_codes
    assert any(kit_codes.values())


CHEAT = '''
import glob, os
import numpy as np
from utils import im2col, col2im
HERE = os.path.dirname(os.path.abspath(__file__))


class Convolution:
    """Looks its answers up in the kit's expected outputs: right on every visible case only."""
    def __init__(self, W, b, stride=1, pad=0):
        self.W, self.b, self.stride, self.pad = W, b, stride, pad

    def forward(self, x):
        self.x = x
        from reference_forward import forward
        return forward(self, x)

    def backward(self, dout):
        for path in glob.glob(os.path.join(HERE, "cases", "*.npz")):
            with np.load(path) as arrays:
                if arrays["input.x"].shape == self.x.shape and np.array_equal(arrays["input.x"], self.x):
                    self.dW, self.db = arrays["expected.dW"], arrays["expected.db"]
                    return arrays["expected.dx"]
        self.dW, self.db = np.zeros_like(self.W), np.zeros_like(self.b)
        return np.zeros_like(self.x)
'''


def test_the_gradient_check_catches_an_answer_right_on_the_visible_cases_only(tmp_path):
    task = taskspec.load("conv_backward", REPO)
    folder = make_kit("conv_backward", tmp_path / "kit")
    # The template's own forward, for the cheat to call.
    template = ast.parse(task.template_source())
    forward = next(f for c in template.body if isinstance(c, ast.ClassDef) for f in c.body
                   if isinstance(f, ast.FunctionDef) and f.name == "forward")
    (folder / "reference_forward.py").write_text("import numpy as np\nfrom utils import im2col, col2im\n\n"
                                                 + ast.unparse(forward) + "\n", encoding="utf-8")
    (folder / task.module_file).write_text(CHEAT, encoding="utf-8")
    completed = run_check(folder)
    assert completed.returncode == 1, completed.stdout
    assert "GRADIENT_CHECK" in completed.stdout
    assert "finite differences" in completed.stdout


@pytest.mark.parametrize("path", [build.CHECK_SOURCE, Path(build.diagnostics.__file__)])
def test_what_a_kit_ships_imports_only_numpy_and_the_standard_library(path):
    allowed = set(sys.stdlib_module_names) | {"numpy", "_diagnostics", "__future__"}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            assert {a.name.split(".")[0] for a in node.names} <= allowed, ast.unparse(node)
        elif isinstance(node, ast.ImportFrom):
            assert not node.level and node.module.split(".")[0] in allowed, ast.unparse(node)


IM2COL_CHEAT = '''
import glob, os
import numpy as np
HERE = os.path.dirname(os.path.abspath(__file__))


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    """Looks its answer up in the kit's expected outputs; elsewhere a zero array of the right shape."""
    for path in glob.glob(os.path.join(HERE, "cases", "*.npz")):
        with np.load(path) as arrays:
            if arrays["input.x"].shape == input_data.shape and np.array_equal(arrays["input.x"], input_data):
                return arrays["expected.col"]
    N, C, H, W = input_data.shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    return np.zeros((N * out_h * out_w, C * filter_h * filter_w))
'''


def test_the_adjoint_check_catches_an_answer_right_on_the_visible_cases_only(tmp_path):
    task = taskspec.load("im2col", REPO)
    folder = make_kit("im2col", tmp_path / "kit")
    (folder / task.module_file).write_text(IM2COL_CHEAT, encoding="utf-8")
    completed = run_check(folder)
    assert completed.returncode == 1, completed.stdout
    assert "ADJOINT_CHECK" in completed.stdout and "col2im" in completed.stdout
    assert set(case_codes(completed.stdout).values()) == {None}, "every visible case itself passes"
