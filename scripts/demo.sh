#!/usr/bin/env bash
# Sets up, then grades every bundled example submission and prints one line per file.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
status=0
for task_dir in examples/*/; do
  task=$(basename "$task_dir")
  for submission in "$task_dir"*.py; do
    line=$(.venv/bin/grader grade --task "$task" --lang en "$submission" | .venv/bin/python scripts/feedback_line.py) || status=1
    printf '%-17s %-42s %s\n' "$task" "$(basename "$submission")" "$line"
  done
done
exit $status
