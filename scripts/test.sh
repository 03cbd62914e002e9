#!/usr/bin/env bash
# Sets up, then runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# A venv with the grader for every other Python 3.11-3.13 on the machine (reused while unchanged),
# for the smoke grading of tests/platform/test_interpreters.py; one that cannot be made is skipped there.
.venv/bin/python scripts/interpreters.py
exec .venv/bin/python -m pytest "$@"
