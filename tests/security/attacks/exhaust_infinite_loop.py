# task: im2col
# family: exhaust
# expect: failed
# codes: TIMEOUT
# why: an infinite loop in the graded call
def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    while True:
        pass
