#!/usr/bin/env bash
# Prints the Python that scripts/setup.sh makes .venv with: the first of python3.11, python3.12,
# python3.13 and python3 on PATH that runs and is 3.11, 3.12 or 3.13. 3.11 comes first because
# the container image ships it (python:3.11-slim); 3.12 and 3.13 are supported too, and the test
# suite grades under every one it finds (tests/platform/test_interpreters.py). Exit 1, with the
# versions it saw, when there is none.
set -euo pipefail
seen=()
for candidate in python3.11 python3.12 python3.13 python3; do
  command -v "$candidate" >/dev/null 2>&1 || continue
  # A pyenv shim for a version that is not selected fails here, and is passed over.
  version=$("$candidate" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || continue
  case $version in
    3.11|3.12|3.13)
      if [ "$version" != 3.11 ]; then
        echo "setup: using $candidate (Python $version); Python 3.11, the image's, is preferred when it is on PATH" >&2
      fi
      command -v "$candidate"
      exit 0 ;;
    *) seen+=("$candidate is $version") ;;
  esac
done
echo "setup: Python 3.11, 3.12 or 3.13 is required (3.11 preferred): none on PATH${seen:+ (${seen[*]})}" >&2
exit 1
