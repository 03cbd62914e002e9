# task: im2col
# family: forge
# expect: failed
# codes: RUNTIME_ERROR
# why: KeyboardInterrupt and SIGINT from inside the graded call, as if the grader was interrupted
import os
import signal


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    if input_data.shape[0] % 2:
        raise KeyboardInterrupt
    os.kill(os.getpid(), signal.SIGINT)
    raise KeyboardInterrupt
