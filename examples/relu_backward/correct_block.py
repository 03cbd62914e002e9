dout = dout.copy()
dout[self.mask] = 0
dx = dout
return dx
