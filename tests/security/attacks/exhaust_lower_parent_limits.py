# task: im2col
# family: exhaust
# expect: passed
# post: next
# why: lower its parent's memory limits (a warm worker: every later child of it fails the large case with MEMORY_LIMIT; the process backend's grader: a batch that hangs)
import os
import resource

import numpy as np

lowered = []
for which in (resource.RLIMIT_DATA, resource.RLIMIT_AS, resource.RLIMIT_STACK, resource.RLIMIT_MEMLOCK,
              resource.RLIMIT_NOFILE, resource.RLIMIT_SIGPENDING, resource.RLIMIT_MSGQUEUE):
    try:
        resource.prlimit(os.getppid(), which, (16, 16))
        lowered.append(which)
    except (OSError, ValueError):
        pass
try:
    os.setpriority(os.PRIO_PROCESS, os.getppid(), 19)
    lowered.append("nice")
except OSError:
    pass
if lowered:
    print("LEAKED-@@MARKER@@ lowered its parent's", lowered)


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_data.shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    img = np.pad(input_data, [(0, 0), (0, 0), (pad, pad), (pad, pad)])
    col = np.zeros((N, C, filter_h, filter_w, out_h, out_w))
    for y in range(filter_h):
        for x in range(filter_w):
            col[:, :, y, x] = img[:, :, y:y + stride * out_h:stride, x:x + stride * out_w:stride]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(N * out_h * out_w, -1)
