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
    # Each broadcasts against (rows, cols); one that happens to equal it (a single row or
    # column of output) is not wrong, so it is never returned.
    wrong = [shape for shape in ((1, cols), (rows, 1), (1, rows, cols)) if shape != (rows, cols)]
    return np.zeros(wrong[(N + C + H + W) % len(wrong)])
