# task: im2col
# family: fool
# expect: failed
# codes: BAD_DTYPE
# why: a boolean array (True == 1 and ones broadcast everywhere)
import numpy as np


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_data.shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    return np.ones((N * out_h * out_w, C * filter_h * filter_w), dtype=bool)
