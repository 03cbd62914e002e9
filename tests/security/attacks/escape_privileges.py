# task: im2col
# family: escape
# expect: passed
# why: become root: setuid(0), setuid binaries (su, mount, passwd, newuidmap), a user namespace of its own
import ctypes
import os
import subprocess

import numpy as np

LEAK = "LEAKED-" + "@@MARKER@@"
gained = []
for call in (lambda: os.setuid(0), lambda: os.setresuid(0, 0, 0), lambda: os.setgid(0), lambda: os.setgroups([0])):
    try:
        call()
    except OSError:
        pass
if os.geteuid() == 0 or os.getegid() == 0:
    gained.append("uid 0")
libc = ctypes.CDLL(None, use_errno=True)
for flags, name in ((0x10000000, "user namespace"), (0x20000000 | 0x10000000, "pid namespace"),
                    (0x00020000, "mount namespace"), (0x40000000, "network namespace")):
    if libc.unshare(flags) == 0:
        gained.append(name)
for binary in ("/usr/bin/su", "/bin/su", "/usr/bin/mount", "/usr/bin/passwd", "/usr/bin/newuidmap", "/usr/bin/sudo",
               "/usr/bin/unshare"):
    try:
        result = subprocess.run([binary, "-r", "id", "-u"] if binary.endswith("unshare") else [binary, "--help"],
                                capture_output=True, timeout=2, start_new_session=False)
        if binary.endswith("unshare") and result.stdout.strip() == b"0":
            gained.append("root in a namespace via " + binary)
    except (OSError, subprocess.SubprocessError):
        pass
if gained:
    print(LEAK, gained)


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
