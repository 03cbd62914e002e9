"""Gives every Python 3.11, 3.12 and 3.13 on this machine a virtual environment with the grader,
for the smoke grading of tests/platform/test_interpreters.py. Part of the set-up
(scripts/test.sh runs it before pytest), never of a test.

    .venv/bin/python scripts/interpreters.py

Looks in every folder of PATH (python3.11, python3.12, python3.13, python3) and under pyenv
($PYENV_ROOT/versions/*/bin, default ~/.pyenv); an interpreter found several ways counts once
(by its real executable). The one this script runs on uses its own environment (.venv, made
by scripts/setup.sh, which has the grader); each other gets
.interpreters/<version>-<hash>/ (git-ignored), made with its own venv module, the grader
installed editable with the container's pins (deploy/requirements.txt as constraints, as
scripts/setup.sh does). A venv is reused while its interpreter, pyproject.toml and
deploy/requirements.txt are unchanged.

Writes .interpreters/interpreters.json: each interpreter, its version and its venv, or the
reason it has none. An interpreter whose venv cannot be made (no venv module, no network for
pip) does not fail the set-up: its line says why, and so does its smoke test when it skips.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]
FOLDER = CHECKOUT / ".interpreters"
MANIFEST = FOLDER / "interpreters.json"
SUPPORTED = ("3.11", "3.12", "3.13")
NAMES = [f"python{version}" for version in SUPPORTED] + ["python3"]
INSTALL_SECONDS = 900

_PROBE = "import os, platform, sys; print(platform.python_version()); print(os.path.realpath(sys.executable))"


def candidates() -> list[str]:
    """Every command or path that may be a supported Python, in the order they are tried."""
    found = [path for folder in os.environ.get("PATH", "").split(os.pathsep) if folder for name in NAMES
             if os.access(path := os.path.join(folder, name), os.X_OK) and not os.path.isdir(path)]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    for version in SUPPORTED:
        found += sorted(glob.glob(str(pyenv / "versions" / "*" / "bin" / f"python{version}")))
    return found


def probe(command: str) -> tuple[str, str] | None:
    """(full version, real executable) of a Python, or None when it does not run (a pyenv shim of
    a version that is not selected does not)."""
    try:
        done = subprocess.run([command, "-c", _PROBE], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = done.stdout.split()
    return (lines[0], lines[1]) if done.returncode == 0 and len(lines) == 2 else None


def _fingerprint(executable: str, version: str) -> str:
    digest = hashlib.sha256(f"{executable}\0{version}\0".encode())
    for name in ("pyproject.toml", "deploy/requirements.txt"):
        digest.update((CHECKOUT / name).read_bytes())
    return digest.hexdigest()


def _tail(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip() and not line.startswith("WARNING: Location")]
    return lines[-1].strip() if lines else "no message"


def make_venv(executable: str, version: str) -> tuple[Path | None, str]:
    """(venv, what was done) or (None, why there is none)."""
    venv = FOLDER / f"{version}-{hashlib.sha256(executable.encode()).hexdigest()[:8]}"
    stamp = venv / ".installed"
    fingerprint = _fingerprint(executable, version)
    if (venv / "bin" / "grader").exists() and stamp.is_file() and stamp.read_text() == fingerprint:
        return venv, "reused"
    shutil.rmtree(venv, ignore_errors=True)
    made = subprocess.run([executable, "-m", "venv", str(venv)], capture_output=True, text=True, timeout=300)
    if made.returncode != 0:
        shutil.rmtree(venv, ignore_errors=True)
        return None, f"{executable} -m venv failed: {_tail(made.stderr or made.stdout)}"
    try:
        installed = subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "-c", str(CHECKOUT / "deploy" / "requirements.txt"), "-e", str(CHECKOUT)],
            capture_output=True, text=True, timeout=INSTALL_SECONDS)
    except subprocess.TimeoutExpired:
        shutil.rmtree(venv, ignore_errors=True)
        return None, f"pip did not install the grader within {INSTALL_SECONDS} s"
    if installed.returncode != 0:
        shutil.rmtree(venv, ignore_errors=True)
        return None, f"pip could not install the grader: {_tail(installed.stderr)}"
    stamp.write_text(fingerprint)
    return venv, "made"


def main() -> int:
    FOLDER.mkdir(exist_ok=True)
    own_base = os.path.realpath(sys._base_executable)  # the interpreter .venv was made from
    entries, seen = [], set()
    for command in candidates():
        found = probe(command)
        if found is None or found[1] in seen:
            continue
        version, executable = found
        seen.add(executable)
        if ".".join(version.split(".")[:2]) not in SUPPORTED:
            continue
        if executable == own_base and (Path(sys.prefix) / "bin" / "grader").exists():
            venv, done = Path(sys.prefix), "the set-up's own .venv"
        else:
            venv, done = make_venv(executable, version)
        entry = {"python": executable, "version": version, "venv": str(venv) if venv else None,
                 "problem": None if venv else done}
        entries.append(entry)
        print(f"interpreters: Python {version} ({executable}): {venv or 'no venv'}, {done}", file=sys.stderr)
    MANIFEST.write_text(json.dumps({"interpreters": entries}, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
