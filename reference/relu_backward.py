"""Reference solution: ReLU layer backward (hidden from students).

Relu()
    forward(x):     any shape; self.mask = (x <= 0); out = x with the masked entries set to 0
    backward(dout): dout (shape of x) -> dx = dout where x > 0, else 0 (dout is not modified)
Self-contained (numpy only); inputs are never modified.
"""

import numpy as np


class Relu:
    def __init__(self):
        self.mask = None

    def forward(self, x):
        x = np.asarray(x, dtype=np.float64)
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dx = np.array(dout, dtype=np.float64, copy=True)
        dx[self.mask] = 0
        return dx
