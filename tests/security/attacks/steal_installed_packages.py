# task: im2col
# family: steal
# expect: passed
# post: next
# why: import what is installed on the host beside numpy (the distribution's dist-packages: yaml, jwt, cryptography; any site-packages) and list the system's folders; the contract says no package but numpy
import glob
import os
import sys

import numpy as np

found = []
for pattern in ("/usr/lib/python3*/*-packages", "/usr/local/lib/python3*/*-packages", "/usr/lib/python3*/site-packages",
                "/usr/share/python3*", "/opt/*/lib/python3*/site-packages", "/root/.pyenv/versions/*/lib/python3*/site-packages",
                os.path.join(os.path.dirname(os.__file__), "site-packages")):
    for folder in glob.glob(pattern):
        if os.path.isdir(folder) and os.listdir(folder):
            found.append(folder)
            sys.path.append(folder)
for name in ("yaml", "jwt", "cryptography", "requests", "six", "pip", "setuptools", "grader", "apt"):
    try:
        __import__(name)
        found.append("imported " + name)
    except BaseException:
        pass
# Of the system's folders, only what the interpreter needs: itself (in /usr/bin for a
# distribution's Python), the loader's cache, and setpriv, with which bwrap as root drops to the
# sandbox uid.
for folder, needed in (("/usr/bin", {"setpriv", os.path.basename(os.path.realpath(sys.executable))}), ("/usr/sbin", set()), ("/etc", {"ld.so.cache"}),
                       ("/usr/share", set()), ("/home", set()), ("/var", set()), ("/usr/local", set())):
    try:
        found += [os.path.join(folder, name) for name in os.listdir(folder) if name not in needed]
    except OSError:
        pass
if found:
    print("LEAKED-@@MARKER@@", found[:12])


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
