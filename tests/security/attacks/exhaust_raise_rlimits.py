# task: im2col
# family: exhaust
# expect: failed
# codes: TIMEOUT
# why: raise its own CPU, memory, process and file limits, then spin
import resource

for limit in (resource.RLIMIT_CPU, resource.RLIMIT_AS, resource.RLIMIT_NPROC, resource.RLIMIT_FSIZE, resource.RLIMIT_NOFILE):
    for value in ((resource.RLIM_INFINITY, resource.RLIM_INFINITY), (10 ** 9, 10 ** 9)):
        try:
            resource.setrlimit(limit, value)
        except (ValueError, OSError):
            pass
try:
    import os

    os.nice(-20)
except OSError:
    pass


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    while True:
        pass
