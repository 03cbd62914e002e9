# task: im2col
# family: crash
# expect: failed
# codes: RUNTIME_ERROR CRASHED MEMORY_LIMIT TIMEOUT
# why: unbounded recursion with the recursion limit lifted: the C stack overflows
import sys

sys.setrecursionlimit(10 ** 7)


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    return im2col(input_data, filter_h, filter_w, stride, pad) + 1
