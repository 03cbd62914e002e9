"""The student templates: they compile, have their Begin/End blanks, import only what
they may, fail as shipped, and the utils.py they ship agrees with the references."""

import importlib.util
import sys
from pathlib import Path


def _load_helpers():
    name = "_cnn_reference_test_helpers"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("_helpers.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


H = _load_helpers()

import ast

import numpy as np
import pytest


@pytest.mark.parametrize("task", H.TASKS)
def test_template_compiles_and_has_its_blanks(task):
    src = H.template_source(task)
    compile(src, f"{task}.py", "exec")
    lines = src.splitlines()
    n = H.BLANKS[task]
    assert sum(l.strip() == H.BEGIN for l in lines) == n
    assert sum(l.strip() == H.END for l in lines) == n
    # the markers appear only as whole lines (exactly as written)
    assert src.count(H.BEGIN) == n and src.count(H.END) == n
    for b, e in H.blank_ranges(lines):
        assert lines[b].replace(H.BEGIN, "") == lines[e].replace(H.END, ""), "markers indented alike"
        body = [l.strip() for l in lines[b + 1:e] if l.strip()]
        assert body[-1] == "pass" and all(l.startswith("#") for l in body[:-1]) and len(body) == 2


@pytest.mark.parametrize("task", H.TASKS)
def test_template_imports(task):
    tree = ast.parse(H.template_source(task))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module)
    expected = {"numpy", "utils"} if task in H.USES_UTILS else {"numpy"}
    assert imported == expected


@pytest.mark.parametrize("task", H.TASKS)
def test_template_docstrings_are_bilingual(task):
    tree = ast.parse(H.template_source(task))
    doc = ast.get_docstring(tree)
    assert doc and any("\u4e00" <= ch <= "\u9fff" for ch in doc) and "Task" in doc and "Shapes" in doc
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name != "__init__":
            d = ast.get_docstring(node)
            assert d and any("\u4e00" <= ch <= "\u9fff" for ch in d), node.name
            assert "shape" in d.lower() or "形状" in d, node.name


@pytest.mark.parametrize("task", H.TASKS)
def test_reference_imports_only_numpy(task):
    tree = ast.parse((H.REFERENCE_DIR / f"{task}.py").read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module)
    assert imported == {"numpy"}


@pytest.mark.parametrize("task", H.TASKS)
def test_template_as_shipped_fails(task):
    module = H.load_student(H.TEMPLATE_DIR / f"{task}.py")
    cfg = H.CONV_CONFIGS[0]
    try:
        outputs = H.run_task(task, module, cfg, H.make_inputs(task, cfg))
    except Exception:
        return  # e.g. conv_transpose.backward finds no self.x: a failure, as wanted
    assert any(outputs.get(name) is None for name in H.GRADED[task])


@pytest.mark.parametrize("task", H.TASKS)
def test_reference_defines_the_template_names(task):
    def top_names(path):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        return {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))
                and not n.name.startswith("_")}

    def methods(path):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        return {(c.name, f.name) for c in tree.body if isinstance(c, ast.ClassDef)
                for f in c.body if isinstance(f, ast.FunctionDef)}

    tpl, ref = H.TEMPLATE_DIR / f"{task}.py", H.REFERENCE_DIR / f"{task}.py"
    assert top_names(tpl) <= top_names(ref)
    assert methods(tpl) <= methods(ref)


@pytest.mark.parametrize("cfg", H.CONV_CONFIGS, ids=H.ids(H.CONV_CONFIGS))
def test_student_utils_agree_with_references(cfg):
    utils = H.student_utils()
    x = H.make_inputs("im2col", cfg)["x"]
    col_in = H.make_inputs("col2im", cfg)["col"]
    args = (cfg.FH, cfg.FW, cfg.stride, cfg.pad)
    np.testing.assert_array_equal(utils.im2col(x, *args), H.reference("im2col").im2col(x, *args))
    np.testing.assert_allclose(utils.col2im(col_in, x.shape, *args),
                               H.reference("col2im").col2im(col_in, x.shape, *args), rtol=1e-12, atol=1e-12)


def test_student_utils_imports_only_numpy():
    tree = ast.parse((H.TEMPLATE_DIR / "utils.py").read_text(encoding="utf-8"))
    imports = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert [a.name for n in imports for a in n.names] == ["numpy"]


def test_splice_accepts_dedented_and_indented_blocks():
    src = H.template_source("relu_backward")
    block = "dx = dout.copy()\ndx[self.mask] = 0\nreturn dx\n"
    indented = "".join("        " + l + "\n" for l in block.splitlines())
    for b in (block, indented):
        module = H.load_student_source(H.splice(src, [b]))
        layer = module.Relu()
        layer.forward(np.array([-1.0, 2.0]))
        np.testing.assert_array_equal(layer.backward(np.array([3.0, 4.0])), [0.0, 4.0])


# Textbook-style answers for the tasks without examples/: each template must be
# completable (its given code and blanks fit together) into something the grader accepts.
TEXTBOOK_BLOCKS = {
    "conv_forward": ["""
FN, C, FH, FW = self.W.shape
N, C, H, W = x.shape
out_h = (H + 2 * self.pad - FH) // self.stride + 1
out_w = (W + 2 * self.pad - FW) // self.stride + 1

col = im2col(x, FH, FW, self.stride, self.pad)
col_W = self.W.reshape(FN, -1).T
out = np.dot(col, col_W) + self.b
out = out.reshape(N, out_h, out_w, -1).transpose(0, 3, 1, 2)

self.x = x
self.col = col
self.col_W = col_W
return out
"""],
    "maxpool_forward": ["""
N, C, H, W = x.shape
out_h = (H + 2 * self.pad - self.pool_h) // self.stride + 1
out_w = (W + 2 * self.pad - self.pool_w) // self.stride + 1

col = im2col(x, self.pool_h, self.pool_w, self.stride, self.pad)
col = col.reshape(-1, self.pool_h * self.pool_w)

arg_max = np.argmax(col, axis=1)
out = np.max(col, axis=1)
out = out.reshape(N, out_h, out_w, C).transpose(0, 3, 1, 2)

self.x = x
self.arg_max = arg_max
return out
"""],
    "avgpool_backward": ["""
dout = dout.transpose(0, 2, 3, 1)
pool_size = self.pool_h * self.pool_w
dcol = np.repeat(dout.reshape(-1, 1) / pool_size, pool_size, axis=1)
dcol = dcol.reshape(-1, self.x.shape[1] * pool_size)
dx = col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride, self.pad)
return dx
"""],
    "conv_transpose": ["""
C_in, C_out, FH, FW = self.W.shape
N, _, H, W = x.shape
out_h = (H - 1) * self.stride - 2 * self.pad + FH
out_w = (W - 1) * self.stride - 2 * self.pad + FW

col = np.dot(x.transpose(0, 2, 3, 1).reshape(-1, C_in), self.W.reshape(C_in, -1))
out = col2im(col, (N, C_out, out_h, out_w), FH, FW, self.stride, self.pad)
out = out + self.b.reshape(1, -1, 1, 1)

self.x = x
return out
""", """
C_in, C_out, FH, FW = self.W.shape
N, _, H, W = self.x.shape
dcol = im2col(dout, FH, FW, self.stride, self.pad)
x_row = self.x.transpose(0, 2, 3, 1).reshape(-1, C_in)

self.db = np.sum(dout, axis=(0, 2, 3))
self.dW = np.dot(x_row.T, dcol).reshape(C_in, C_out, FH, FW)
dx = np.dot(dcol, self.W.reshape(C_in, -1).T)
return dx.reshape(N, H, W, C_in).transpose(0, 3, 1, 2)
"""],
    "relu_backward": ["""
dx = dout.copy()
dx[self.mask] = 0
return dx
"""],
    "affine_backward": ["""
dx = np.dot(dout, self.W.T)
self.dW = np.dot(self.x.T, dout)
self.db = np.sum(dout, axis=0)

dx = dx.reshape(*self.original_x_shape)
return dx
"""],
}


@pytest.mark.parametrize("task", sorted(TEXTBOOK_BLOCKS))
def test_template_completed_with_a_textbook_answer_passes(task):
    module = H.load_student_source(H.splice(H.template_source(task), TEXTBOOK_BLOCKS[task]), task)
    for cfg in H.configs_for(task):
        problem = H.graded_mismatch(task, module, cfg, H.make_inputs(task, cfg, seed=4))
        assert problem is None, f"{task} on {cfg}: {problem}"
