# WRONG: does not compile: the bracket of the last line is never closed.
N, C, H, W = input_shape
out_h = (H + 2 * pad - filter_h) // stride + 1
out_w = (W + 2 * pad - filter_w) // stride + 1
img = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
return img[:, :, pad:H + pad, pad:W + pad
