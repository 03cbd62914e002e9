# task: im2col
# family: fool
# expect: failed
# codes: WRONG_TYPE
# why: an ndarray subclass whose comparisons, ufuncs and reductions all say "equal"
import numpy as np


class Agreeable(np.ndarray):
    def __eq__(self, other):
        return True

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return np.zeros(self.shape)

    def __array_function__(self, func, types, args, kwargs):
        return True

    def __reduce__(self):
        return (print, ("unpickled on the trusted side",))


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_data.shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    return np.zeros((N * out_h * out_w, C * filter_h * filter_w)).view(Agreeable)
