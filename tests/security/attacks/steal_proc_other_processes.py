# task: im2col
# family: steal
# expect: failed
# codes: WRONG_VALUES
# why: read /proc of other processes: the grader's command line, environment, memory, cwd
import os

import numpy as np

LEAK = "LEAKED-" + "@@MARKER@@"
me = os.getpid()
family = {me, os.getppid()}
seen = []
try:
    pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
except OSError:
    pids = []
for pid in pids:
    if pid == me:
        continue
    for part in ("cmdline", "environ", "cwd/reference/im2col.py", "root@@CHECKOUT@@/reference/im2col.py"):
        try:
            with open(f"/proc/{pid}/{part}", "rb") as handle:
                data = handle.read(4096)
        except OSError:
            continue
        if part == "cmdline" and (b"grader" not in data and b"pytest" not in data or b"bwrap" in data):
            continue  # the sandbox's own supervisor (bwrap's init) is no secret
        seen.append(f"{pid}/{part}: {data[:80]!r}")
    try:
        with open(f"/proc/{pid}/mem", "rb") as handle:
            handle.read(1)
        seen.append(f"{pid}/mem")
    except OSError:
        pass
if seen:
    print(LEAK, seen[:5])


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_data.shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    return np.zeros((N * out_h * out_w, C * filter_h * filter_w))
