#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (Ubuntu 22.04 base),
# with the zip unpacked in /autograder/source (deploy/gradescope/build.sh says what it holds):
# Python 3.11, bubblewrap, and the grader in /autograder/venv with its runtime dependencies at
# the pinned versions (the container's, the ones the tests ran). The task files (references
# included) stay readable by root only: student code never runs as root (see docs/platform.md).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends python3.11 python3.11-venv bubblewrap util-linux
python3.11 -m venv /autograder/venv
/autograder/venv/bin/pip install --no-cache-dir -q --no-deps -r /autograder/source/deploy/requirements.txt
/autograder/venv/bin/pip install --no-cache-dir -q --no-deps /autograder/source
chmod -R go-rwx /autograder/source
chmod +x /autograder/run_autograder 2>/dev/null || true
