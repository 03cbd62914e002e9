# task: im2col
# family: crash
# expect: failed
# codes: CRASHED
# why: dereference NULL through ctypes: the runner dies of SIGSEGV mid-case
import ctypes


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    ctypes.string_at(0)
