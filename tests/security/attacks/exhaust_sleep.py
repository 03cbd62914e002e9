# task: im2col
# family: exhaust
# expect: failed
# codes: TIMEOUT
# why: sleep forever: no CPU used, only the wall clock can stop it
import time


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    time.sleep(10 ** 6)
