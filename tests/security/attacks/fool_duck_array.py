# task: im2col
# family: fool
# expect: failed
# codes: WRONG_TYPE
# why: an object posing as an array: __eq__, __array__, __array_ufunc__, __array_function__, shape, dtype
import numpy as np


class Duck:
    __array_priority__ = 1e9

    def __init__(self, shape):
        self.shape = shape
        self.dtype = np.dtype(float)
        self.ndim = len(shape)
        self.size = int(np.prod(shape))

    def __eq__(self, other):
        return True

    def __array__(self, dtype=None, copy=None):
        return np.zeros(self.shape)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return np.zeros(self.shape)

    def __array_function__(self, func, types, args, kwargs):
        return True

    def __sub__(self, other):
        return np.zeros(self.shape)

    __rsub__ = __sub__

    def __float__(self):
        return 0.0

    def __len__(self):
        return self.shape[0]


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_data.shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    return Duck((N * out_h * out_w, C * filter_h * filter_w))
