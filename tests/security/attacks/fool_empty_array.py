# task: im2col
# family: fool
# expect: failed
# codes: SHAPE_MISMATCH
# why: empty arrays: every "all elements agree" test is vacuously true
import numpy as np


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_data.shape
    return np.empty((0, C * filter_h * filter_w)) if N % 2 else np.empty((0,))
