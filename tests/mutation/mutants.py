"""Realistic wrong answers to every task, written as edits of a textbook solution.

Each task has a textbook solution (the blanks of its template filled with the code a course's
answer key would give: those of examples/<task>/correct.py) and mutants of it: one edit each,
the mistakes students make (a tie rule, .squeeze(), an off-by-one in a size, a forgotten
stride or padding, axis orders, keepdims, = for +=, a mean for a sum...). A mutant is (task, id, edits) where each edit is
(old, new) and ``old`` occurs exactly once in the textbook file. Every mutant is wrong on
some valid case of the task (checked against the reference by tests/mutation); the correct
variants (examples/*/correct*.py, the references, the textbook files) are right on all.

Used by tests/mutation/test_mutants.py (a few seeds) and bench/mutation.py (many seeds,
the kill rate of this grader or of another checkout's).
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BEGIN, END = "########## Begin ##########", "########## End ##########"
SEED_TASKS = ["im2col", "col2im", "conv_backward", "maxpool_backward"]
TASKS = SEED_TASKS + ["affine_backward", "avgpool_backward", "conv_forward", "conv_transpose",
                      "maxpool_forward", "relu_backward"]


def _blanks(path: Path) -> list[str]:
    """The code of each blank of a filled-in template, dedented."""
    blocks, inside = [], None
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line.strip() == BEGIN:
            inside = []
        elif line.strip() == END:
            blocks.append(textwrap.dedent("\n".join(inside)).strip("\n") + "\n")
            inside = None
        elif inside is not None:
            inside.append(line)
    return blocks


# The code of each blank, as an answer key gives it: the task's correct example.
TEXTBOOK = {task: _blanks(REPO / "examples" / task / "correct.py") for task in TASKS}


def fill(template: str, blocks: list[str]) -> str:
    """The template with the code between each pair of markers replaced by the next block."""
    lines, out, remaining = template.split("\n"), [], list(blocks)
    inside = False
    for line in lines:
        if line.strip() == BEGIN:
            indent = line[: len(line) - len(line.lstrip())]
            out.append(line)
            out += [indent + code if code else "" for code in remaining.pop(0).rstrip("\n").split("\n")]
            inside = True
        elif line.strip() == END:
            out.append(line)
            inside = False
        elif not inside:
            out.append(line)
    assert not remaining, "more blocks than blanks"
    return "\n".join(out)


def textbook(task: str) -> str:
    return fill((REPO / "student_template" / f"{task}.py").read_text(encoding="utf-8"), TEXTBOOK[task])


@dataclass(frozen=True)
class Mutant:
    task: str
    id: str
    edits: tuple[tuple[str, str], ...]
    why: str

    @property
    def name(self) -> str:
        return f"{self.task}:{self.id}"

    def source(self) -> str:
        text = textbook(self.task)
        for old, new in self.edits:
            count = text.count(old)
            assert count == 1, f"{self.name}: {old!r} occurs {count} times in the textbook file"
            text = text.replace(old, new)
        return text


def _m(task: str, id: str, why: str, *edits: tuple[str, str]) -> Mutant:
    return Mutant(task, id, tuple(edits), why)


# A rewrite of the maxpool backward block: the gradient goes to every position equal to its window's max.
_EVERY_TIED_MAX = ("dmax[np.arange(self.arg_max.size), self.arg_max.flatten()] = dout.flatten()",
                   "col = im2col(self.x, self.pool_h, self.pool_w, self.stride, self.pad).reshape(-1, pool_size)\n"
                   "        dmax = (col == col.max(axis=1, keepdims=True)) * dout.reshape(-1, 1)")
_LAST_MAX = ("dmax[np.arange(self.arg_max.size), self.arg_max.flatten()] = dout.flatten()",
             "col = im2col(self.x, self.pool_h, self.pool_w, self.stride, self.pad).reshape(-1, pool_size)\n"
             "        last = pool_size - 1 - np.argmax(col[:, ::-1], axis=1)\n"
             "        dmax[np.arange(last.size), last] = dout.flatten()")
_MAX_WITHOUT_PADDING = ("dmax[np.arange(self.arg_max.size), self.arg_max.flatten()] = dout.flatten()",
                        "p = self.pad\n"
                        "        x_pad = np.pad(self.x, [(0, 0), (0, 0), (p, p), (p, p)], constant_values=-np.inf)\n"
                        "        col = im2col(x_pad, self.pool_h, self.pool_w, self.stride, 0).reshape(-1, pool_size)\n"
                        "        dmax[np.arange(dout.size), np.argmax(col, axis=1)] = dout.flatten()")

_FOLD = "dx = col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride, self.pad)"
_NOT_CROPPED = (_FOLD, "N, C, H, W = self.x.shape\n"
                       "        dx = col2im(dcol, (N, C, H + 2 * self.pad, W + 2 * self.pad), self.pool_h, self.pool_w, self.stride, 0)")
_ASSIGN_OVERLAPS = (_FOLD, "N, C, H, W = self.x.shape\n"
                           "        p, s, ph, pw = self.pad, self.stride, self.pool_h, self.pool_w\n"
                           "        padded = np.zeros((N, C, H + 2 * p, W + 2 * p))\n"
                           "        windows = dcol.reshape(N, dout.shape[1], dout.shape[2], C, ph, pw)\n"
                           "        for i in range(dout.shape[1]):\n"
                           "            for j in range(dout.shape[2]):\n"
                           "                padded[:, :, i * s:i * s + ph, j * s:j * s + pw] = windows[:, i, j]\n"
                           "        dx = padded[:, :, p:p + H, p:p + W]")

MUTANTS = [
    # im2col
    _m("im2col", "squeeze", "the result squeezed: wrong where it has one row or one column",
       ("    return col\n", "    return col.squeeze()\n")),
    _m("im2col", "no_padding", "the padding forgotten", ("[(0, 0), (0, 0), (pad, pad), (pad, pad)]", "[(0, 0), (0, 0), (0, 0), (0, 0)]")),
    _m("im2col", "pad_one_side", "padded on one side only", ("[(0, 0), (0, 0), (pad, pad), (pad, pad)]", "[(0, 0), (0, 0), (0, pad), (0, pad)]")),
    _m("im2col", "edge_padding", "the border repeated instead of zeros", ("(pad, pad)], 'constant')", "(pad, pad)], 'edge')")),
    _m("im2col", "stride_ignored", "windows taken at every position", ("img[:, :, y:y_max:stride, x:x_max:stride]", "img[:, :, y:y_max, x:x_max]")),
    _m("im2col", "out_h_off_by_one", "out_h without the + 1", ("out_h = (H + 2 * pad - filter_h) // stride + 1", "out_h = (H + 2 * pad - filter_h) // stride")),
    _m("im2col", "out_w_ceil", "out_w rounded up", ("out_w = (W + 2 * pad - filter_w) // stride + 1", "out_w = -(-(W + 2 * pad - filter_w) // stride) + 1")),
    _m("im2col", "out_w_from_h", "out_w computed from H", ("out_w = (W + 2 * pad - filter_w)", "out_w = (H + 2 * pad - filter_w)")),
    _m("im2col", "columns_khkwc", "columns ordered (kh, kw, c)", ("col.transpose(0, 4, 5, 1, 2, 3)", "col.transpose(0, 4, 5, 2, 3, 1)")),
    _m("im2col", "rows_ow_oh", "rows ordered (n, ow, oh)", ("col.transpose(0, 4, 5, 1, 2, 3)", "col.transpose(0, 5, 4, 1, 2, 3)")),
    _m("im2col", "no_transpose", "reshaped without the transpose", ("col.transpose(0, 4, 5, 1, 2, 3).reshape", "col.reshape")),
    _m("im2col", "transposed", "the transpose of the result", ("    return col\n", "    return col.T\n")),
    _m("im2col", "int_buffer", "an integer buffer", ("col = np.zeros((N, C, filter_h, filter_w, out_h, out_w))",
                                                     "col = np.zeros((N, C, filter_h, filter_w, out_h, out_w), dtype=int)")),
    _m("im2col", "rows_per_image", "one row per image", (".reshape(N * out_h * out_w, -1)", ".reshape(N, -1)")),
    # col2im
    _m("col2im", "assign_overlaps", "= instead of +=", ("+= col[:, :, y, x, :, :]", "= col[:, :, y, x, :, :]")),
    _m("col2im", "not_cropped", "the padding not cropped", ("return img[:, :, pad:H + pad, pad:W + pad]", "return img")),
    _m("col2im", "cropped_from_zero", "cropped at the wrong offset", ("return img[:, :, pad:H + pad, pad:W + pad]", "return img[:, :, :H, :W]")),
    _m("col2im", "no_transpose", "reshaped straight to (N, C, FH, FW, OH, OW)",
       ("col.reshape(N, out_h, out_w, C, filter_h, filter_w).transpose(0, 3, 4, 5, 1, 2)", "col.reshape(N, C, filter_h, filter_w, out_h, out_w)")),
    _m("col2im", "kh_kw_swapped", "kh and kw swapped", (".transpose(0, 3, 4, 5, 1, 2)", ".transpose(0, 3, 5, 4, 1, 2)")),
    _m("col2im", "out_h_off_by_one", "out_h without the + 1", ("out_h = (H + 2 * pad - filter_h) // stride + 1", "out_h = (H + 2 * pad - filter_h) // stride")),
    _m("col2im", "stride_ignored", "every position filled", ("img[:, :, y:y_max:stride, x:x_max:stride]", "img[:, :, y:y_max, x:x_max]")),
    _m("col2im", "squeeze", "the result squeezed", ("return img[:, :, pad:H + pad, pad:W + pad]", "return img[:, :, pad:H + pad, pad:W + pad].squeeze()")),
    _m("col2im", "averaged", "overlaps averaged", ("return img[:, :, pad:H + pad, pad:W + pad]",
                                                   "return (img / np.maximum(1, filter_h * filter_w // stride ** 2))[:, :, pad:H + pad, pad:W + pad]")),
    _m("col2im", "h_w_swapped_crop", "H and W swapped in the crop", ("return img[:, :, pad:H + pad, pad:W + pad]", "return img[:, :, pad:W + pad, pad:H + pad]")),
    # conv_backward
    _m("conv_backward", "db_keepdims", "db keeps the summed axis", ("np.sum(dout, axis=0)", "np.sum(dout, axis=0, keepdims=True)")),
    _m("conv_backward", "db_axis_1", "db summed over the wrong axis", ("np.sum(dout, axis=0)", "np.sum(dout, axis=1)")),
    _m("conv_backward", "db_mean", "db averaged", ("np.sum(dout, axis=0)", "np.mean(dout, axis=0)")),
    _m("conv_backward", "db_squeeze", "db squeezed: 0-d when FN = 1", ("np.sum(dout, axis=0)", "np.sum(dout, axis=0).squeeze()")),
    _m("conv_backward", "dw_no_transpose", "dW reshaped without the transpose", ("self.dW.transpose(1, 0).reshape", "self.dW.reshape")),
    _m("conv_backward", "dw_fh_fw_swapped", "dW reshaped (FN, C, FW, FH)", ("reshape(FN, C, FH, FW)", "reshape(FN, C, FW, FH)")),
    _m("conv_backward", "dw_over_batch", "dW divided by the batch size", ("self.dW = np.dot(self.col.T, dout)", "self.dW = np.dot(self.col.T, dout) / self.x.shape[0]")),
    _m("conv_backward", "dout_not_nhwc", "dout flattened without the transpose", ("dout.transpose(0, 2, 3, 1).reshape(-1, FN)", "dout.reshape(-1, FN)")),
    _m("conv_backward", "col2im_no_stride_pad", "col2im without stride and pad",
       ("col2im(dcol, self.x.shape, FH, FW, self.stride, self.pad)", "col2im(dcol, self.x.shape, FH, FW)")),
    _m("conv_backward", "col2im_no_pad", "col2im without pad", ("col2im(dcol, self.x.shape, FH, FW, self.stride, self.pad)", "col2im(dcol, self.x.shape, FH, FW, self.stride)")),
    _m("conv_backward", "dx_not_folded", "dx left in im2col's layout", ("        return dx\n", "        return dcol\n")),
    _m("conv_backward", "dx_squeeze", "dx squeezed", ("        return dx\n", "        return dx.squeeze()\n")),
    _m("conv_backward", "dcol_without_transpose", "dcol from col_W itself", ("np.dot(dout, self.col_W.T)", "np.dot(dout, self.col_W.reshape(FN, -1))")),
    # maxpool_backward
    _m("maxpool_backward", "every_tied_max", "the gradient to every tied maximum", _EVERY_TIED_MAX),
    _m("maxpool_backward", "last_max", "the gradient to the last maximum", _LAST_MAX),
    _m("maxpool_backward", "max_without_padding", "the max taken without the padding zeros", _MAX_WITHOUT_PADDING),
    _m("maxpool_backward", "dout_not_nhwc", "dout flattened without the transpose", ("dout = dout.transpose(0, 2, 3, 1)\n", "dout = dout\n")),
    _m("maxpool_backward", "average_rule", "the gradient spread over the window",
       ("dmax[np.arange(self.arg_max.size), self.arg_max.flatten()] = dout.flatten()", "dmax[:] = dout.reshape(-1, 1) / pool_size")),
    _m("maxpool_backward", "scaled_by_pool", "the gradient divided by the window size",
       ("self.arg_max.flatten()] = dout.flatten()", "self.arg_max.flatten()] = dout.flatten() / pool_size")),
    _m("maxpool_backward", "col2im_no_pad", "col2im without pad",
       ("col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride, self.pad)", "col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride)")),
    _m("maxpool_backward", "pool_h_w_swapped", "pool_h and pool_w swapped in col2im",
       ("col2im(dcol, self.x.shape, self.pool_h, self.pool_w,", "col2im(dcol, self.x.shape, self.pool_w, self.pool_h,")),
    _m("maxpool_backward", "squeeze", "dx squeezed", ("        return dx\n", "        return dx.squeeze()\n")),
    _m("maxpool_backward", "not_cropped", "the padding not cropped", _NOT_CROPPED),
    _m("maxpool_backward", "assign_overlaps", "= instead of += where windows overlap", _ASSIGN_OVERLAPS),
    # affine_backward
    _m("affine_backward", "dx_not_reshaped", "dx left flat", ("dx = dx.reshape(*self.original_x_shape)", "dx = dx")),
    _m("affine_backward", "dw_transposed", "dW = dout.T @ x", ("np.dot(self.x.T, dout)", "np.dot(dout.T, self.x)")),
    _m("affine_backward", "db_keepdims", "db keeps the summed axis", ("np.sum(dout, axis=0)", "np.sum(dout, axis=0, keepdims=True)")),
    _m("affine_backward", "db_axis_1", "db summed over the wrong axis", ("np.sum(dout, axis=0)", "np.sum(dout, axis=1)")),
    _m("affine_backward", "db_squeeze", "db squeezed: 0-d when M = 1", ("np.sum(dout, axis=0)", "np.sum(dout, axis=0).squeeze()")),
    _m("affine_backward", "dx_with_w", "dx = dout @ W", ("np.dot(dout, self.W.T)", "np.dot(dout, self.W)")),
    _m("affine_backward", "dw_over_batch", "dW divided by the batch size", ("np.dot(self.x.T, dout)", "np.dot(self.x.T, dout) / dout.shape[0]")),
    _m("affine_backward", "dx_squeeze", "dx squeezed", ("dx = dx.reshape(*self.original_x_shape)", "dx = dx.reshape(*self.original_x_shape).squeeze()")),
    # avgpool_backward
    _m("avgpool_backward", "not_divided", "dout not divided by the window size", ("dout.reshape(-1, 1) / pool_size", "dout.reshape(-1, 1)")),
    _m("avgpool_backward", "dout_not_nhwc", "dout flattened without the transpose", ("dout = dout.transpose(0, 2, 3, 1)\n", "dout = dout\n")),
    _m("avgpool_backward", "col2im_no_pad", "col2im without pad",
       ("col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride, self.pad)", "col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride)")),
    _m("avgpool_backward", "pool_h_w_swapped", "pool_h and pool_w swapped in col2im",
       ("col2im(dcol, self.x.shape, self.pool_h, self.pool_w,", "col2im(dcol, self.x.shape, self.pool_w, self.pool_h,")),
    _m("avgpool_backward", "squeeze", "dx squeezed", ("        return dx\n", "        return dx.squeeze()\n")),
    _m("avgpool_backward", "divided_by_pool_h", "divided by pool_h only", ("/ pool_size, pool_size", "/ self.pool_h, pool_size")),
    # conv_forward
    _m("conv_forward", "bias_missing", "the bias forgotten", ("np.dot(col, col_W) + self.b", "np.dot(col, col_W)")),
    _m("conv_forward", "no_transpose", "reshaped straight to (N, FN, OH, OW)",
       ("out.reshape(N, out_h, out_w, -1).transpose(0, 3, 1, 2)", "out.reshape(N, -1, out_h, out_w)")),
    _m("conv_forward", "weight_reshaped_wrong", "W reshaped (-1, FN)", ("self.W.reshape(FN, -1).T", "self.W.reshape(-1, FN)")),
    _m("conv_forward", "kernel_flipped", "a true convolution (the kernel flipped)", ("self.W.reshape(FN, -1).T", "self.W[:, :, ::-1, ::-1].reshape(FN, -1).T")),
    _m("conv_forward", "spatial_swapped", "out_h and out_w swapped", (".transpose(0, 3, 1, 2)", ".transpose(0, 3, 2, 1)")),
    _m("conv_forward", "no_pad_in_im2col", "im2col without pad", ("im2col(x, FH, FW, self.stride, self.pad)", "im2col(x, FH, FW, self.stride)")),
    _m("conv_forward", "squeeze", "out squeezed", ("        return out\n", "        return out.squeeze()\n")),
    _m("conv_forward", "out_h_off_by_one", "out_h without the + 1", ("out_h = (H + 2 * self.pad - FH) // self.stride + 1", "out_h = (H + 2 * self.pad - FH) // self.stride")),
    # conv_transpose
    _m("conv_transpose", "bias_missing", "the bias forgotten", ("out = out + self.b.reshape(1, C_out, 1, 1)", "out = out")),
    _m("conv_transpose", "not_cropped", "col2im without pad", ("out_h, out_w), FH, FW, self.stride, self.pad)", "out_h, out_w), FH, FW, self.stride)")),
    _m("conv_transpose", "x_not_nhwc", "x flattened without the transpose", ("x_row = x.transpose(0, 2, 3, 1).reshape(-1, C_in)", "x_row = x.reshape(-1, C_in)")),
    _m("conv_transpose", "db_batch_only", "db summed over the batch only", ("np.sum(dout, axis=(0, 2, 3))", "np.sum(dout, axis=0)")),
    _m("conv_transpose", "db_keepdims", "db keeps the summed axes", ("np.sum(dout, axis=(0, 2, 3))", "np.sum(dout, axis=(0, 2, 3), keepdims=True)")),
    _m("conv_transpose", "dw_transposed", "dW from dcol.T @ x", ("np.dot(x_rows.T, dcol).reshape", "np.dot(dcol.T, x_rows).reshape")),
    _m("conv_transpose", "dx_not_transposed", "dx reshaped straight to (N, C_in, H, W)",
       ("dx_row.reshape(N, H, W, C_in).transpose(0, 3, 1, 2)", "dx_row.reshape(N, C_in, H, W)")),
    _m("conv_transpose", "dx_squeeze", "dx squeezed", ("return dx_row.reshape(N, H, W, C_in).transpose(0, 3, 1, 2)",
                                                       "return dx_row.reshape(N, H, W, C_in).transpose(0, 3, 1, 2).squeeze()")),
    _m("conv_transpose", "out_h_plus_pad", "the crop added instead of taken", ("out_h = (H - 1) * self.stride - 2 * self.pad + FH",
                                                                           "out_h = (H - 1) * self.stride + 2 * self.pad + FH")),
    # maxpool_forward
    _m("maxpool_forward", "mean", "the mean of each window", ("out = np.max(col, axis=1)", "out = np.mean(col, axis=1)")),
    _m("maxpool_forward", "no_transpose", "reshaped straight to (N, C, OH, OW)",
       ("out.reshape(N, out_h, out_w, C).transpose(0, 3, 1, 2)", "out.reshape(N, C, out_h, out_w)")),
    _m("maxpool_forward", "spatial_swapped", "out_h and out_w swapped", (".transpose(0, 3, 1, 2)", ".transpose(0, 3, 2, 1)")),
    _m("maxpool_forward", "tied_maxima_summed", "the max as a masked sum: ties counted twice",
       ("out = np.max(col, axis=1)", "out = np.sum(col * (col == np.max(col, axis=1, keepdims=True)), axis=1)")),
    _m("maxpool_forward", "largest_magnitude", "the value of largest magnitude", ("out = np.max(col, axis=1)", "out = col[np.arange(col.shape[0]), np.argmax(np.abs(col), axis=1)]")),
    _m("maxpool_forward", "padding_ignored", "the padding zeros left out of the max",
       ("col = im2col(x, self.pool_h, self.pool_w, self.stride, self.pad)",
        "p = self.pad\n        x_pad = np.pad(x, [(0, 0), (0, 0), (p, p), (p, p)], constant_values=-np.inf)\n"
        "        col = im2col(x_pad, self.pool_h, self.pool_w, self.stride, 0)")),
    _m("maxpool_forward", "squeeze", "out squeezed", ("        return out\n", "        return out.squeeze()\n")),
    _m("maxpool_forward", "out_w_off_by_one", "out_w without the + 1", ("out_w = (W + 2 * self.pad - self.pool_w) // self.stride + 1",
                                                                      "out_w = (W + 2 * self.pad - self.pool_w) // self.stride")),
    # relu_backward
    _m("relu_backward", "mask_inverted", "the gradient kept where x <= 0", ("dout[self.mask] = 0", "dout[~self.mask] = 0")),
    _m("relu_backward", "mask_ignored", "dout returned as it is", ("        dout[self.mask] = 0\n", "")),
    _m("relu_backward", "relu_of_dout", "ReLU applied to dout", ("dout[self.mask] = 0", "dout = np.maximum(dout, 0)")),
    _m("relu_backward", "gradient_at_zero", "the gradient let through at x == 0 (mask x < 0)",
       ("self.mask = (x <= 0)", "self.mask = (x < 0)")),
    _m("relu_backward", "local_derivative_only", "(x > 0) without dout", ("dx = dout\n", "dx = (~self.mask).astype(float)\n")),
    _m("relu_backward", "mask_from_dout", "the mask taken from dout", ("dout[self.mask] = 0", "dout[dout <= 0] = 0")),
]


def correct_variants(task: str) -> dict[str, str]:
    """{name: source} of every correct answer to ``task`` bundled here."""
    found = {f"{task}:textbook": textbook(task), f"{task}:reference": (REPO / "reference" / f"{task}.py").read_text(encoding="utf-8")}
    for path in sorted((REPO / "examples" / task).glob("correct*.py")) if (REPO / "examples" / task).is_dir() else []:
        found[f"{task}:{path.stem}"] = path.read_text(encoding="utf-8")
    return found


def file_name(name: str) -> str:
    """A submission's file name for a mutant or variant name (task:id)."""
    return re.sub(r"[^a-z0-9_]", "_", name.split(":", 1)[1]) + ".py"
