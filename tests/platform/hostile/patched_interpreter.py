"""Monkeypatches numpy, builtins, sys.modules, sys.path, the environment and the runner itself."""
import builtins
import gc
import os
import sys
import types

import numpy

numpy.dot = lambda *args, **kwargs: 0
numpy.sum = lambda *args, **kwargs: 0
numpy.ndarray.__hostile__ = True if hasattr(numpy.ndarray, "__dict__") and False else None
numpy._hostile_marker = True
builtins.open = lambda *args, **kwargs: None
builtins.__import__ = builtins.__import__
fake = types.ModuleType("utils")
fake.im2col = fake.col2im = lambda *args, **kwargs: None
sys.modules["utils"] = fake
sys.path.insert(0, "/tmp/evil")
os.environ["HOSTILE"] = "1"
for function in [o for o in gc.get_objects() if isinstance(o, types.FunctionType)]:
    if function.__name__ in ("serve", "serialise", "read_frame", "become_runner", "main", "clean_up"):
        function.__code__ = (lambda *args, **kwargs: None).__code__


class Convolution:
    pass
