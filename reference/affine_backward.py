"""Reference solution: Affine (fully connected) layer backward (hidden from students).

Affine(W, b)
    W: (D, M), b: (M,)
    forward(x):     x (N, ...) with D = product of the non-batch dimensions (e.g. a 4-D
                    image batch (N, C, H, W) with D = C*H*W) -> out (N, M) = x.reshape(N, D) @ W + b
    backward(dout): dout (N, M) -> dx in the ORIGINAL shape of x;
                    sets self.dW (D, M) and self.db (M,)
Self-contained (numpy only); inputs are never modified.
"""

import numpy as np


class Affine:
    def __init__(self, W, b):
        self.W = np.asarray(W, dtype=np.float64)
        self.b = np.asarray(b, dtype=np.float64)
        self.x = None
        self.original_x_shape = None
        self.dW = None
        self.db = None

    def forward(self, x):
        x = np.asarray(x, dtype=np.float64)
        self.original_x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        return self.x @ self.W + self.b

    def backward(self, dout):
        dout = np.asarray(dout, dtype=np.float64)
        dx = dout @ self.W.T
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dx.reshape(self.original_x_shape)
