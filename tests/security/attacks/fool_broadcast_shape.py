# task: im2col
# family: fool
# expect: failed
# codes: SHAPE_MISMATCH
# why: shapes that broadcast against the expected one: a single row, a single column, an extra axis
import numpy as np


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_data.shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    rows, cols = N * out_h * out_w, C * filter_h * filter_w
    choice = (N + C + H + W) % 3
    if choice == 0:
        return np.zeros((1, cols))
    if choice == 1:
        return np.zeros((rows, 1))
    return np.zeros((1, rows, cols))
