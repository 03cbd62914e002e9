# task: conv_backward
# family: fool
# expect: failed
# codes: WRONG_VALUES
# why: zero every input in place, then return zeros: right if the expected were computed after
import numpy as np


class Convolution:
    def __init__(self, W, b, stride=1, pad=0):
        W[...] = 0
        b[...] = 0
        self.W, self.b, self.stride, self.pad = W, b, stride, pad
        self.dW = None
        self.db = None

    def forward(self, x):
        x[...] = 0
        self.x = x
        FN, C, FH, FW = self.W.shape
        N, C, H, W = x.shape
        out_h = (H + 2 * self.pad - FH) // self.stride + 1
        out_w = (W + 2 * self.pad - FW) // self.stride + 1
        return np.zeros((N, FN, out_h, out_w))

    def backward(self, dout):
        dout[...] = 0
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)
        return np.zeros_like(self.x)
