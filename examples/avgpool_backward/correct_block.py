dout = dout.transpose(0, 2, 3, 1)
pool_size = self.pool_h * self.pool_w
dcol = np.repeat(dout.reshape(-1, 1) / pool_size, pool_size, axis=1)
dcol = dcol.reshape(-1, self.x.shape[1] * pool_size)
dx = col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride, self.pad)
return dx
