#!/usr/bin/env bash
# Creates .venv with the grader and its test tools, and makes sure bubblewrap (and, for the
# browser tests, chromium) is there.
# Safe to run again: it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v bwrap >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing bubblewrap" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null
  else
    echo "setup: bubblewrap is not installed and cannot be installed here (not root);" \
         "the grader will use its process backend (see docs/security.md)" >&2
  fi
fi

# Headless Chromium for the browser tests (tests/browser/), from Debian: Playwright drives this
# executable and never downloads a browser of its own. Optional: without it those tests skip.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing chromium (for the browser tests)" >&2
    # A CJK font, so that screenshots of Chinese feedback show its characters.
    if ! { apt-get update -qq >/dev/null &&
           DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; }; then
      echo "setup: chromium could not be installed; the browser tests will be skipped" >&2
    fi
  else
    echo "setup: chromium is not installed and cannot be installed here (not root);" \
         "the browser tests will be skipped" >&2
  fi
fi

python=$(bash scripts/python.sh)  # 3.11, 3.12 or 3.13; 3.11 first (scripts/python.sh says why)

# The runtime dependencies are installed at the versions the container pins
# (deploy/requirements.txt as constraints): the tests run what the image ships, and a new
# release on PyPI cannot change a fresh clone's environment.
stamp=.venv/.installed
if [ ! -x .venv/bin/python ] || [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] ||
   [ deploy/requirements.txt -nt "$stamp" ]; then
  echo "setup: creating .venv" >&2
  "$python" -m venv .venv
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q --disable-pip-version-check -c deploy/requirements.txt -e '.[test]'
  touch "$stamp"
fi

# Byte-compile the package as pip does for an installed one: with PYTHONDONTWRITEBYTECODE set
# (as on these machines) every `grader` run would otherwise compile its modules again, which
# costs about as much as the grader's own start-up. Only changed files are compiled.
.venv/bin/python -m compileall -q grader
