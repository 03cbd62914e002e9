# WRONG: does not compile: the loop body mixes a tab and spaces.
dout = dout.transpose(0, 2, 3, 1)
pool_size = self.pool_h * self.pool_w
for i in range(1):
	dmax = np.zeros((dout.size, pool_size))
        dmax[np.arange(self.arg_max.size), self.arg_max.flatten()] = dout.flatten()
return dmax
