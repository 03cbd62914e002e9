"""The lint gate: ruff, as configured in pyproject.toml (pyflakes, import order, line length), finds nothing."""

from __future__ import annotations

import subprocess
import sys

from core_support import ROOT


def test_ruff_finds_nothing():
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", str(ROOT)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
