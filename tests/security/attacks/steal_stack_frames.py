# task: im2col
# family: steal
# expect: failed
# codes: WRONG_VALUES SHAPE_MISMATCH
# why: walk every stack frame's locals and globals for an array of the output's shape
import sys

import numpy as np


def _search(shape):
    frame = sys._getframe(1)
    seen = []
    while frame is not None:
        for scope in (frame.f_locals, frame.f_globals):
            for value in list(scope.values()):
                stack = [value]
                while stack:
                    item = stack.pop()
                    if isinstance(item, np.ndarray) and item.shape == shape:
                        return item
                    if isinstance(item, dict) and len(seen) < 10000:
                        seen.append(item)
                        stack.extend(item.values())
                    elif isinstance(item, (list, tuple)) and len(seen) < 10000:
                        seen.append(item)
                        stack.extend(item)
        frame = frame.f_back
    return None


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_data.shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    shape = (N * out_h * out_w, C * filter_h * filter_w)
    found = _search(shape)
    return found if found is not None else np.ones(shape)
