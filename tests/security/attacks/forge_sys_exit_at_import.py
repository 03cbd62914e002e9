# task: im2col
# family: forge
# expect: failed
# codes: IMPORT_ERROR
# why: sys.exit(0) while the module is imported, before any output exists
import sys

sys.exit(0)


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    return None
