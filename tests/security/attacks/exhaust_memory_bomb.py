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
        # One page in 64 made resident: the limit is on address space, and writing every page
        # (half a GiB of page faults) took longer than the wall clock with six attacks at once
        # on two cores.
        hoard[-1][:: 512 * 64] = 1.0
