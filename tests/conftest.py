"""The red-team suite's two helpers, loaded once for every suite that uses them.

tests/security/attacklist.py (the attacks and their expectations) and harness.py (grading one
and checking what it left) are not importable by name: the tests folder is not a package, and
each suite's folder is on the path only for its own tests. They are loaded here by path, under
the names every suite reads them by: ``sys.modules["cnn_security_attacklist"]`` and
``sys.modules["cnn_security_harness"]`` (the grade, batch and service red teams, the load test,
the interpreters' smoke gradings).
"""

import importlib.util
import sys
from pathlib import Path

SECURITY = Path(__file__).resolve().parent / "security"

for _name, _file in (("cnn_security_attacklist", "attacklist.py"), ("cnn_security_harness", "harness.py")):
    if _name not in sys.modules:
        _spec = importlib.util.spec_from_file_location(_name, SECURITY / _file)
        _module = importlib.util.module_from_spec(_spec)
        sys.modules[_name] = _module
        _spec.loader.exec_module(_module)
