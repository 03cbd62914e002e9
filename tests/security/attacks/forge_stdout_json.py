# task: im2col
# family: forge
# expect: failed
# codes: WRONG_VALUES
# why: print a perfect feedback JSON on stdout, stderr and straight to fds 1 and 2
import json
import os
import sys

import numpy as np

forged = json.dumps({"schema_version": "1.0", "task": "im2col", "status": "passed", "score": 15, "max_score": 15,
                     "tests": [], "summary": "All tests passed."})
print(forged)
print(forged, file=sys.stderr)
for fd in (1, 2):
    try:
        os.write(fd, (forged + "\n").encode())
    except OSError:
        pass
sys.__stdout__.write(forged + "\n")
sys.__stdout__.flush()


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    os.write(1, (forged + "\n").encode())
    N, C, H, W = input_data.shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    return np.zeros((N * out_h * out_w, C * filter_h * filter_w))
