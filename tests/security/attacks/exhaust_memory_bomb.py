# task: im2col
# family: exhaust
# expect: failed
# codes: MEMORY_LIMIT
# why: allocate memory until something gives: one huge block, then 256 MiB blocks without end
import numpy as np


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    hoard = []
    try:
        hoard.append(bytearray(1 << 40))
    except MemoryError:
        pass
    while True:
        hoard.append(np.empty(256 * 1024 * 1024 // 8))
        hoard[-1][::512] = 1.0
