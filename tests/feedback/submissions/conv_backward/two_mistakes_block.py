# WRONG twice: dW reshaped without the transpose, and db kept as (1, FN, 1, 1).
FN, C, FH, FW = self.W.shape
self.db = np.sum(dout, axis=(0, 2, 3), keepdims=True)
dout = dout.transpose(0, 2, 3, 1).reshape(-1, FN)
self.dW = np.dot(self.col.T, dout).reshape(FN, C, FH, FW)
dcol = np.dot(dout, self.col_W.T)
return col2im(dcol, self.x.shape, FH, FW, self.stride, self.pad)
