# task: im2col
# family: steal
# expect: passed
# why: look for any descriptor the sandbox inherited beyond stdin, stdout, stderr and the result channel on 3 (whose number told how many the grader held: above 255 in a busy batch, out of the forging attacks' reach)
import os
import resource

import numpy as np


def open_descriptors():
    found = []
    for fd in range(max(resource.getrlimit(resource.RLIMIT_NOFILE)[1], 1 << 16)):
        try:
            os.fstat(fd)
            found.append(fd)
        except OSError:
            pass
    return found


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    seen = open_descriptors()
    if seen != [0, 1, 2, 3]:
        raise RuntimeError("LEAKED-@@MARKER@@ the sandbox holds the descriptors %s" % seen[:20])
    N, C, H, W = input_data.shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    img = np.pad(input_data, [(0, 0), (0, 0), (pad, pad), (pad, pad)])
    col = np.zeros((N, C, filter_h, filter_w, out_h, out_w))
    for y in range(filter_h):
        for x in range(filter_w):
            col[:, :, y, x] = img[:, :, y:y + stride * out_h:stride, x:x + stride * out_w:stride]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(N * out_h * out_w, -1)
