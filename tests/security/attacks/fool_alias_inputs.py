# task: conv_backward
# family: fool
# expect: failed
# codes: WRONG_VALUES
# why: return aliases of the inputs (dout as dx, W as dW, b as db), hoping they share memory with the expected
import numpy as np


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
        self.dW = self.W
        self.db = self.b
        return self.x
