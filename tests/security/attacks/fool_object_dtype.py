# task: im2col
# family: fool
# expect: failed
# codes: BAD_DTYPE
# why: an object array of numbers that compare equal to anything (needs pickling to travel)
import numpy as np


class Yes(float):
    def __eq__(self, other):
        return True

    def __sub__(self, other):
        return 0.0


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_data.shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    out = np.empty((N * out_h * out_w, C * filter_h * filter_w), dtype=object)
    out.fill(Yes(0.0))
    return out
