# task: im2col
# family: escape
# expect: failed
# codes: CRASHED
# why: kill(-1, SIGKILL): every process the sandbox uid may signal (the grader too, when it shares the uid)
import os
import signal


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    try:
        os.kill(-1, signal.SIGKILL)
    except OSError:
        pass
    os.kill(os.getpid(), signal.SIGKILL)
