"""Shared constants and helpers of the browser tests (fixtures are in conftest.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GRADER = Path(sys.executable).with_name("grader")
EXAMPLES = REPO / "examples"
HOSTILE_SUBMISSION = REPO / "tests" / "feedback" / "submissions" / "im2col" / "prints_markup.py"
SEED = 20240601
CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps trying to reach Google's hosts, and this
# machine's closed network refuses those connections.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


def graded(task: str, path: Path, lang: str) -> dict:
    """The feedback document of a real ``grader grade`` (the checkout's grader.yaml)."""
    done = subprocess.run([str(GRADER), "grade", "--task", task, "--seed", str(SEED), "--lang", lang, str(path)],
                          capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return json.loads(done.stdout)


def rgb(colour: str) -> str:
    """#rrggbb as a browser reports a computed colour."""
    return "rgb({}, {}, {})".format(*(int(colour[i:i + 2], 16) for i in (1, 3, 5)))


def service_support():
    """tests/service/service_support.py (a real `grader serve` on loopback, the practice page's labels),
    imported once under the name the service tests import it by."""
    import importlib.util

    if "service_support" not in sys.modules:
        path = REPO / "tests" / "service" / "service_support.py"
        spec = importlib.util.spec_from_file_location("service_support", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["service_support"] = module
        spec.loader.exec_module(module)
    return sys.modules["service_support"]
