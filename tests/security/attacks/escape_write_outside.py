# task: im2col
# family: escape
# expect: passed
# why: write a marker file everywhere outside the work folder: host tmp folders, the checkout, numpy, the stdlib
import glob
import os

import numpy as np

targets = ["@@OUTSIDE@@", "/tmp", "/var/tmp", "/dev/shm", "/root", "@@CHECKOUT@@", "@@CHECKOUT@@/reference",
           "@@CHECKOUT@@/tasks", "@@CHECKOUT@@/student_template", "@@CHECKOUT@@/grader", os.path.dirname(np.__file__),
           os.path.dirname(os.__file__), "/tmp/cnn-grader-slots"] + glob.glob("/tmp/*")
for folder in targets:
    try:
        with open(os.path.join(folder, "planted-@@MARKER@@"), "w") as handle:
            handle.write("was here")
    except OSError:
        pass
    try:
        os.mkdir(os.path.join(folder, "dir-@@MARKER@@"))
    except OSError:
        pass


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
