#!/usr/bin/env bash
# Sets up, then grades every bundled example submission (examples/<task>/) and prints one line
# per file: correct*.py must pass, wrong_<misconception>.py must fail and be diagnosed as that
# misconception (scripts/example_lines.py says what each name promises). Exit status 1 when one
# does not. One `grader batch` per task, all on the same seed: bash scripts/demo.sh [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
seed=${1:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
feedback=$(mktemp -d)
trap 'rm -rf "$feedback"' EXIT
echo "demo: seed $seed (to grade on the same cases again: bash scripts/demo.sh $seed)"
for task_dir in examples/*/; do
  task=$(basename "$task_dir")
  # A grader error leaves its submissions without feedback: example_lines.py reports them.
  if ! .venv/bin/grader batch --task "$task" --seed "$seed" --lang en --out "$feedback/$task.jsonl" \
         --feedback-dir "$feedback/$task" "$task_dir" >/dev/null 2>"$feedback/$task.log"; then
    echo "demo: grader batch --task $task failed:" >&2
    tail -n 5 "$feedback/$task.log" >&2
  fi
done
.venv/bin/python scripts/example_lines.py examples "$feedback"
