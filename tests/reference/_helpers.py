"""Shared helpers of the tests in tests/reference (loaded by path, never via sys.path).

* ``load_path`` imports a Python file by path (like grader.taskspec.load_module);
* ``reference(task)`` / ``naive()`` give the trusted reference modules and tests/naive.py;
* ``load_student(path)`` / ``load_student_source(src)`` import a student-style file with
  ``from utils import im2col, col2im`` resolved to student_template/utils.py;
* ``splice(template, blocks)`` fills the Begin/End blanks of a template;
* ``CONV_CONFIGS`` is the grid of (N, C, H, W, FH, FW, stride, pad) every check runs on;
* ``run_task(task, module, cfg)`` calls a module the way the grader calls the task and
  returns its outputs (``None`` for a missing one).
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
import textwrap
import types
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
REFERENCE_DIR = REPO / "reference"
TEMPLATE_DIR = REPO / "student_template"
EXAMPLES_DIR = REPO / "examples"
NAIVE_PATH = REPO / "tests" / "naive.py"

BEGIN = "########## Begin ##########"
END = "########## End ##########"

TASKS = [
    "im2col", "col2im", "conv_backward", "maxpool_backward", "conv_forward",
    "maxpool_forward", "avgpool_backward", "conv_transpose", "relu_backward", "affine_backward",
]
SEED_TASKS = ["im2col", "col2im", "conv_backward", "maxpool_backward"]
# Tasks whose students get utils.py (im2col / col2im students must not).
USES_UTILS = {"conv_backward", "maxpool_backward", "conv_forward", "maxpool_forward",
              "avgpool_backward", "conv_transpose"}
BLANKS = {task: (2 if task == "conv_transpose" else 1) for task in TASKS}

_counter = itertools.count()


# ------------------------------------------------------------------------ loading

def load_path(path, name=None) -> types.ModuleType:
    """Import the file at ``path`` as a fresh module (not left in sys.modules)."""
    name = name or f"_cnn_test_module_{next(_counter)}"
    spec = importlib.util.spec_from_file_location(name, str(path))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    return module


_cache: dict = {}


def reference(task: str) -> types.ModuleType:
    key = ("reference", task)
    if key not in _cache:
        _cache[key] = load_path(REFERENCE_DIR / f"{task}.py", f"_cnn_reference_{task}")
    return _cache[key]


def naive() -> types.ModuleType:
    if "naive" not in _cache:
        _cache["naive"] = load_path(NAIVE_PATH, "_cnn_tests_naive")
    return _cache["naive"]


def student_utils() -> types.ModuleType:
    if "utils" not in _cache:
        _cache["utils"] = load_path(TEMPLATE_DIR / "utils.py", "_cnn_student_utils")
    return _cache["utils"]


class _UtilsImportable:
    """Context manager: ``import utils`` gives student_template/utils.py meanwhile."""

    def __enter__(self):
        self._saved = sys.modules.get("utils")
        sys.modules["utils"] = student_utils()
        return self

    def __exit__(self, *exc):
        if self._saved is None:
            sys.modules.pop("utils", None)
        else:
            sys.modules["utils"] = self._saved
        return False


def load_student(path) -> types.ModuleType:
    """Import a student-style file by path with ``utils`` resolvable."""
    with _UtilsImportable():
        return load_path(path)


def load_student_source(source: str, filename: str = "<student>") -> types.ModuleType:
    """Execute student-style source text as a fresh module with ``utils`` resolvable."""
    module = types.ModuleType(f"_cnn_test_source_{next(_counter)}")
    module.__file__ = filename
    code = compile(source, filename, "exec")
    with _UtilsImportable():
        exec(code, module.__dict__)
    return module


def blank_ranges(lines: list[str]) -> list[tuple[int, int]]:
    """(begin_line_index, end_line_index) of every blank of a template."""
    ranges, begin = [], None
    for i, line in enumerate(lines):
        if line.strip() == BEGIN:
            assert begin is None, f"line {i + 1}: Begin inside a blank"
            begin = i
        elif line.strip() == END:
            assert begin is not None, f"line {i + 1}: End without Begin"
            ranges.append((begin, i))
            begin = None
    assert begin is None, "Begin without End"
    return ranges


def splice(template: str, blocks: list[str]) -> str:
    """Replace the body of each blank with a block, re-indented to the marker's indent.

    A block may be given dedented (column 0) or already indented like the template.
    """
    lines = template.splitlines(keepends=True)
    ranges = blank_ranges(lines)
    assert len(ranges) == len(blocks)
    out, pos = [], 0
    for (b, e), block in zip(ranges, blocks):
        out.extend(lines[pos:b + 1])
        indent = lines[b][: len(lines[b]) - len(lines[b].lstrip())]
        body = textwrap.dedent(block).strip("\n")
        out.extend((indent + l).rstrip() + "\n" if l.strip() else "\n" for l in body.splitlines())
        pos = e
    out.extend(lines[pos:])
    return "".join(out)


def template_source(task: str) -> str:
    return (TEMPLATE_DIR / f"{task}.py").read_text(encoding="utf-8")


# ------------------------------------------------------------------------ configurations

@dataclass(frozen=True)
class Cfg:
    """One shape configuration: images (N, C, H, W), window/filter (FH, FW), stride, pad."""
    N: int
    C: int
    H: int
    W: int
    FH: int
    FW: int
    stride: int
    pad: int

    @property
    def out_h(self):
        return (self.H + 2 * self.pad - self.FH) // self.stride + 1

    @property
    def out_w(self):
        return (self.W + 2 * self.pad - self.FW) // self.stride + 1

    @property
    def FN(self):  # number of filters / output channels, derived so it varies
        return 1 + (self.N + 2 * self.C + self.FH) % 3

    def __str__(self):
        return (f"N{self.N}C{self.C}_{self.H}x{self.W}_k{self.FH}x{self.FW}"
                f"_s{self.stride}p{self.pad}")


_HAND_PICKED = [
    # N, C, H, W, FH, FW, stride, pad
    (2, 3, 5, 5, 3, 3, 1, 1),   # "same" convolution, overlapping windows
    (1, 1, 4, 4, 2, 2, 2, 0),   # classic 2x2/2 pooling, everything divides
    (2, 2, 7, 5, 3, 2, 2, 1),   # non-square everything, 7+2-3 not divisible by 2
    (3, 1, 6, 8, 1, 1, 1, 0),   # 1x1 kernel
    (1, 2, 5, 6, 1, 1, 2, 1),   # 1x1 kernel with stride and padding
    (2, 3, 4, 5, 4, 5, 1, 0),   # kernel == input size -> 1x1 output
    (1, 2, 3, 4, 7, 8, 1, 2),   # kernel == padded input size
    (1, 1, 2, 3, 4, 5, 2, 1),   # kernel == padded input size, stride 2
    (2, 1, 8, 7, 3, 3, 3, 2),   # stride 3, pad 2, non-dividing
    (3, 3, 6, 6, 3, 3, 2, 0),   # overlapping: stride 2 < window 3
    (1, 3, 9, 7, 2, 4, 3, 1),   # window 2x4, stride 3
    (2, 2, 5, 4, 3, 2, 1, 2),   # pad 2, stride 1
    (1, 4, 6, 5, 2, 3, 2, 2),   # C = 4
    (4, 1, 5, 5, 5, 5, 2, 2),   # N = 4, 5x5 window on a 9x9 padded input
    (2, 2, 1, 1, 1, 1, 1, 0),   # 1x1 image
    (2, 3, 7, 7, 3, 3, 3, 0),   # stride == window, 7 not divisible
    (1, 2, 6, 9, 4, 2, 3, 1),
    (3, 2, 4, 4, 2, 2, 1, 1),   # overlapping 2x2 windows, stride 1, pad 1
    (2, 2, 6, 7, 3, 3, 1, 0),   # stride 1 < window 3, heavy overlap
    (1, 3, 5, 8, 2, 3, 1, 2),
]


def _random_configs(count: int, seed: int) -> list[Cfg]:
    rng = np.random.default_rng(seed)
    out: list[Cfg] = []
    while len(out) < count:
        N, C = (int(v) for v in rng.integers(1, 4, size=2))
        H, W = (int(v) for v in rng.integers(1, 9, size=2))
        stride, pad = int(rng.integers(1, 4)), int(rng.integers(0, 3))
        FH = int(rng.integers(1, min(6, H + 2 * pad) + 1))
        FW = int(rng.integers(1, min(6, W + 2 * pad) + 1))
        out.append(Cfg(N, C, H, W, FH, FW, stride, pad))
    return out


CONV_CONFIGS: list[Cfg] = [Cfg(*c) for c in _HAND_PICKED] + _random_configs(14, seed=20240611)
# A smaller subset for the (slower) finite-difference checks.
GRADCHECK_CONFIGS: list[Cfg] = [CONV_CONFIGS[i] for i in (0, 2, 4, 6, 8, 9, 13, 17)]


def conv_transpose_cfg_ok(cfg: Cfg) -> bool:
    """The transposed convolution reads H, W as its INPUT size: its output must be >= 1."""
    return ((cfg.H - 1) * cfg.stride - 2 * cfg.pad + cfg.FH >= 1
            and (cfg.W - 1) * cfg.stride - 2 * cfg.pad + cfg.FW >= 1)


CONV_TRANSPOSE_CONFIGS = [c for c in CONV_CONFIGS if conv_transpose_cfg_ok(c)]


def ids(configs) -> list[str]:
    return [str(c) for c in configs]


# ------------------------------------------------------------------------ inputs

def make_inputs(task: str, cfg: Cfg, seed: int = 0, ties: bool = False) -> dict:
    """Random float64 inputs of a task for one configuration (deterministic)."""
    rng = np.random.default_rng([seed, *[getattr(cfg, f) for f in
                                        ("N", "C", "H", "W", "FH", "FW", "stride", "pad")]])
    N, C, H, W, FH, FW = cfg.N, cfg.C, cfg.H, cfg.W, cfg.FH, cfg.FW

    def normal(*shape):
        if ties:  # small integers: many equal values
            return rng.integers(-2, 3, size=shape).astype(np.float64)
        return rng.normal(size=shape)

    if task == "im2col":
        return {"x": normal(N, C, H, W)}
    if task == "col2im":
        return {"col": normal(N * cfg.out_h * cfg.out_w, C * FH * FW), "x_shape": (N, C, H, W)}
    if task in ("conv_backward", "conv_forward"):
        FN = cfg.FN
        return {"x": normal(N, C, H, W), "W": normal(FN, C, FH, FW), "b": normal(FN),
                "dout": normal(N, FN, cfg.out_h, cfg.out_w)}
    if task in ("maxpool_backward", "maxpool_forward", "avgpool_backward"):
        return {"x": normal(N, C, H, W), "dout": normal(N, C, cfg.out_h, cfg.out_w)}
    if task == "conv_transpose":
        C_out = cfg.FN
        oh = (H - 1) * cfg.stride - 2 * cfg.pad + FH
        ow = (W - 1) * cfg.stride - 2 * cfg.pad + FW
        return {"x": normal(N, C, H, W), "W": normal(C, C_out, FH, FW), "b": normal(C_out),
                "dout": normal(N, C_out, oh, ow)}
    if task == "relu_backward":
        return {"x": normal(N, C, H, W), "dout": normal(N, C, H, W)}
    if task == "affine_backward":
        M = FW + 1
        return {"x": normal(N, C, H, W), "W": normal(C * H * W, M), "b": normal(M),
                "dout": normal(N, M)}
    raise KeyError(task)


def _copies(inputs: dict) -> dict:
    return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in inputs.items()}


# ------------------------------------------------------------------------ running

OUTPUTS = {
    "im2col": ["col"],
    "col2im": ["img"],
    "conv_backward": ["out", "dx", "dW", "db"],
    "conv_forward": ["out"],
    "maxpool_backward": ["out", "dx"],
    "maxpool_forward": ["out"],
    "avgpool_backward": ["out", "dx"],
    "conv_transpose": ["out", "dx", "dW", "db"],
    "relu_backward": ["out", "dx"],
    "affine_backward": ["out", "dx", "dW", "db"],
}
# The outputs the student writes (the others come from code given in the template).
GRADED = {
    "im2col": ["col"], "col2im": ["img"], "conv_backward": ["dx", "dW", "db"],
    "conv_forward": ["out"], "maxpool_backward": ["dx"], "maxpool_forward": ["out"],
    "avgpool_backward": ["dx"], "conv_transpose": ["out", "dx", "dW", "db"],
    "relu_backward": ["dx"], "affine_backward": ["dx", "dW", "db"],
}


def run_task(task: str, module, cfg: Cfg, inputs: dict) -> dict:
    """Call ``module`` as the grader calls ``task``; inputs are passed as copies.

    Returns {output name: value}; attributes that are missing give None. Exceptions
    propagate. conv_forward / maxpool_forward stop after forward.
    """
    a = _copies(inputs)
    s, p = cfg.stride, cfg.pad
    if task == "im2col":
        return {"col": module.im2col(a["x"], cfg.FH, cfg.FW, s, p)}
    if task == "col2im":
        return {"img": module.col2im(a["col"], a["x_shape"], cfg.FH, cfg.FW, s, p)}
    if task in ("conv_backward", "conv_forward", "conv_transpose"):
        cls = module.ConvTranspose if task == "conv_transpose" else module.Convolution
        layer = cls(a["W"], a["b"], s, p)
        out = {"out": layer.forward(a["x"])}
        if task == "conv_forward":
            return out
        out["dx"] = layer.backward(a["dout"])
        out["dW"] = getattr(layer, "dW", None)
        out["db"] = getattr(layer, "db", None)
        return out
    if task in ("maxpool_backward", "maxpool_forward", "avgpool_backward"):
        cls = module.AvgPool if task == "avgpool_backward" else module.MaxPool
        layer = cls(cfg.FH, cfg.FW, s, p)
        out = {"out": layer.forward(a["x"])}
        if task == "maxpool_forward":
            return out
        out["dx"] = layer.backward(a["dout"])
        return out
    if task == "relu_backward":
        layer = module.Relu()
        return {"out": layer.forward(a["x"]), "dx": layer.backward(a["dout"])}
    if task == "affine_backward":
        layer = module.Affine(a["W"], a["b"])
        out = {"out": layer.forward(a["x"]), "dx": layer.backward(a["dout"])}
        out["dW"] = getattr(layer, "dW", None)
        out["db"] = getattr(layer, "db", None)
        return out
    raise KeyError(task)


def naive_outputs(task: str, cfg: Cfg, inputs: dict) -> dict:
    """The same outputs as run_task, computed by tests/naive.py."""
    nv = naive()
    a = inputs
    s, p = cfg.stride, cfg.pad
    if task == "im2col":
        return {"col": nv.im2col(a["x"], cfg.FH, cfg.FW, s, p)}
    if task == "col2im":
        return {"img": nv.col2im(a["col"], a["x_shape"], cfg.FH, cfg.FW, s, p)}
    if task in ("conv_backward", "conv_forward"):
        out = {"out": nv.conv_forward(a["x"], a["W"], a["b"], s, p)}
        if task == "conv_forward":
            return out
        out["dx"], out["dW"], out["db"] = nv.conv_backward(a["x"], a["W"], a["dout"], s, p)
        return out
    if task in ("maxpool_backward", "maxpool_forward"):
        out = {"out": nv.maxpool_forward(a["x"], cfg.FH, cfg.FW, s, p)}
        if task == "maxpool_forward":
            return out
        out["dx"] = nv.maxpool_backward(a["x"], a["dout"], cfg.FH, cfg.FW, s, p)
        return out
    if task == "avgpool_backward":
        return {"out": nv.avgpool_forward(a["x"], cfg.FH, cfg.FW, s, p),
                "dx": nv.avgpool_backward(a["x"].shape, a["dout"], cfg.FH, cfg.FW, s, p)}
    if task == "conv_transpose":
        out = {"out": nv.conv_transpose_forward(a["x"], a["W"], a["b"], s, p)}
        out["dx"], out["dW"], out["db"] = nv.conv_transpose_backward(a["x"], a["W"], a["dout"], s, p)
        return out
    if task == "relu_backward":
        return {"out": nv.relu_forward(a["x"]), "dx": nv.relu_backward(a["x"], a["dout"])}
    if task == "affine_backward":
        out = {"out": nv.affine_forward(a["x"], a["W"], a["b"])}
        out["dx"], out["dW"], out["db"] = nv.affine_backward(a["x"], a["W"], a["dout"])
        return out
    raise KeyError(task)


def configs_for(task: str) -> list[Cfg]:
    return CONV_TRANSPOSE_CONFIGS if task == "conv_transpose" else CONV_CONFIGS


# ------------------------------------------------------------------------ comparing

RTOL, ATOL = 1e-7, 1e-9


def mismatch(actual, expected, rtol=RTOL, atol=ATOL) -> str | None:
    """None if ``actual`` equals ``expected`` (same shape, allclose), else a reason."""
    if actual is None:
        return "is None"
    try:
        arr = np.asarray(actual, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        return f"not numeric: {exc}"
    if arr.shape != np.shape(expected):
        return f"shape {arr.shape} != {np.shape(expected)}"
    if not np.allclose(arr, expected, rtol=rtol, atol=atol):
        err = float(np.max(np.abs(arr - expected)))
        return f"values differ (max abs error {err:.3g})"
    return None


def assert_same(actual: dict, expected: dict, names=None, where=""):
    for name in names or expected:
        problem = mismatch(actual.get(name), expected[name])
        assert problem is None, f"{where} {name}: {problem}"


def graded_mismatch(task: str, module, cfg: Cfg, inputs: dict) -> str | None:
    """Why ``module``'s graded outputs differ from the reference's on one case (or None)."""
    expected = run_task(task, reference(task), cfg, inputs)
    try:
        actual = run_task(task, module, cfg, inputs)
    except Exception as exc:  # a crash is a failure, as in the grader
        return f"raised {type(exc).__name__}: {exc}"
    for name in GRADED[task]:
        problem = mismatch(actual.get(name), expected[name])
        if problem:
            return f"{name} {problem}"
    return None
