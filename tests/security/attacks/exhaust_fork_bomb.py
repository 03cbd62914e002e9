# task: im2col
# family: exhaust
# expect: failed
# codes: WRONG_VALUES
# why: a bounded fork bomb: children that re-exec themselves and sleep, until fork fails
import os
import sys

import numpy as np

print("SANDBOX_UID=%d" % os.getuid())
children = 0
for _ in range(200):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        try:
            os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(600)", "@@MARKER@@"])
        finally:
            os._exit(0)
    children += 1
print("forked", children)


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_data.shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    return np.zeros((N * out_h * out_w, C * filter_h * filter_w))
