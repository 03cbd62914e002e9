# task: im2col
# family: steal
# expect: failed
# codes: WRONG_VALUES
# why: look for another student's submission in other sandboxes' work folders and copy it
import glob
import importlib.util
import os

import numpy as np

LEAK = "LEAKED-" + "@@MARKER@@"
borrowed = None
here = os.path.realpath(os.getcwd())
for path in glob.glob("/tmp/*/work/*.py") + glob.glob("/tmp/*/*/*.py") + glob.glob("/tmp/*/*.py") + glob.glob("/tmp/*.py") \
        + glob.glob("/var/tmp/*/*.py") + glob.glob("/dev/shm/*/*.py"):
    if os.path.dirname(os.path.realpath(path)) == here:
        continue
    try:
        spec = importlib.util.spec_from_file_location("borrowed", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        borrowed = module.im2col
        print(LEAK, path)
        break
    except Exception:
        pass


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_data.shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    return np.zeros((N * out_h * out_w, C * filter_h * filter_w))
