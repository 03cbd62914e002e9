# task: im2col
# family: steal
# expect: failed
# codes: WRONG_VALUES
# why: search every object the garbage collector knows for the expected array
import gc

import numpy as np


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_data.shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    shape = (N * out_h * out_w, C * filter_h * filter_w)
    for obj in gc.get_objects():
        candidates = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, (list, tuple)) else [obj]
        for item in list(candidates):
            if isinstance(item, np.ndarray) and item.shape == shape and item is not input_data:
                return item.copy()
    return np.full(shape, 0.5)
