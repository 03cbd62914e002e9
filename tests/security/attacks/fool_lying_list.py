# task: im2col
# family: fool
# expect: failed
# codes: WRONG_TYPE
# why: a ragged list of objects that claim equality: cannot become a numeric array
import numpy as np


class Equal:
    def __eq__(self, other):
        return True


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    return [[Equal()], [Equal(), Equal()], "all good"]
