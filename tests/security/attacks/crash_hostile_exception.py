# task: im2col
# family: crash
# expect: failed
# codes: RUNTIME_ERROR
# why: exceptions whose __str__ raises, whose messages hold lone surrogates, NULs, escapes and a megabyte
class Nasty(Exception):
    def __str__(self):
        raise Nasty("again")


class Loud(Exception):
    pass


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    if input_data.shape[0] % 2:
        raise Nasty()
    raise Loud("\ud800\udfff\x00\x1b[2J\x07 \u202e" + "z" * (1 << 20))
