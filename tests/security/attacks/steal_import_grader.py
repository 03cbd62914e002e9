# task: im2col
# family: steal
# expect: failed
# codes: WRONG_VALUES
# why: import the grader package (from any site-packages or the checkout) and use its reference
import glob
import sys

import numpy as np

LEAK = "LEAKED-" + "@@MARKER@@"
reference = None
candidates = ["@@CHECKOUT@@"] + glob.glob("/work/*") + glob.glob("/usr/lib/python3*/site-packages") \
    + glob.glob("/usr/local/lib/python3*/site-packages") + glob.glob("@@CHECKOUT@@/.venv/lib/python3*/site-packages") \
    + glob.glob("/opt/*/lib/python3*/site-packages") + glob.glob("/root/.pyenv/versions/*/lib/python3*/site-packages")
sys.path[:0] = candidates
try:
    import grader.spec.config
    import grader.spec.taskspec

    task = grader.spec.taskspec.load("im2col", grader.spec.config.load().root)
    reference = task.reference()
    print(LEAK, "imported the grader")
except Exception:
    pass


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    if reference is not None:
        return reference.im2col(input_data, filter_h, filter_w, stride, pad)
    N, C, H, W = input_data.shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    return np.zeros((N * out_h * out_w, C * filter_h * filter_w))
