# task: im2col
# family: fool
# expect: failed
# codes: WRONG_VALUES
# why: make numpy's comparisons always agree (allclose, abs, max, isfinite, testing helpers)
import numpy as np
import numpy.testing

always = lambda *args, **kwargs: True
zero = lambda *args, **kwargs: 0.0
np.allclose = np.array_equal = np.array_equiv = np.isclose = always
np.abs = np.absolute = np.fabs = lambda x, *a, **k: np.zeros_like(np.asarray(x, dtype=float))
np.max = np.amax = np.nanmax = zero
np.isfinite = lambda x, *a, **k: np.ones(np.shape(x), dtype=bool)
np.testing.assert_allclose = np.testing.assert_array_almost_equal = np.testing.assert_array_equal = always
try:
    np.ndarray.__eq__ = always
except TypeError:
    pass


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_data.shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    return np.zeros((N * out_h * out_w, C * filter_h * filter_w))
