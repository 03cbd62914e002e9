#!/usr/bin/env bash
# Builds a Gradescope autograder zip for one task, holding only what the autograder needs:
# setup.sh and run_autograder at the root of the archive (as Gradescope requires), the task id
# and feedback language beside them, the grader's package (this checkout's tracked files of
# grader/, with pyproject.toml and README.md) and its pinned runtime dependencies
# (deploy/requirements.txt), which setup.sh installs, grader.yaml, and the files the task's spec
# names (spec, template, reference, support modules). Nothing else: no tests, no examples (their
# correct answers), no bench, docs or scripts, no other task's reference.
#   bash deploy/gradescope/build.sh TASK [LANG] [OUT.zip]
# OUT defaults to dist/gradescope/autograder-TASK.zip in the checkout (git ignores dist/).
set -euo pipefail
task=${1:?usage: build.sh TASK [LANG] [OUT.zip]}
lang=${2:-en}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=$(realpath -m "${3:-$repo/dist/gradescope/autograder-$task.zip}")
[ -f "$repo/tasks/$task.yaml" ] || { echo "build.sh: unknown task $task" >&2; exit 2; }
case $lang in zh | en) ;; *) echo "build.sh: the feedback language is zh or en, not $lang" >&2; exit 2 ;; esac
python=${PYTHON:-$repo/.venv/bin/python}
[ -x "$python" ] || { echo "build.sh: $python not found (run bash scripts/setup.sh first)" >&2; exit 2; }

# The task's files, as its spec names them (paths relative to the tasks root).
task_files=$("$python" - "$repo" "$task" <<'PY'
import sys
from pathlib import Path

import yaml

repo, task = Path(sys.argv[1]), sys.argv[2]
files = yaml.safe_load((repo / "tasks" / f"{task}.yaml").read_text(encoding="utf-8"))["files"]
print("\n".join([f"tasks/{task}.yaml", files["template"], files["reference"], *files.get("support", [])]))
PY
)
package=$(git -C "$repo" ls-files -- grader)
[ -n "$package" ] || { echo "build.sh: $repo is not a git checkout of the grader" >&2; exit 2; }

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
while IFS= read -r path; do
  mkdir -p "$staging/$(dirname "$path")"
  cp -p "$repo/$path" "$staging/$path"
done <<< "$(printf '%s\n' pyproject.toml README.md grader.yaml deploy/requirements.txt "$package" "$task_files")"
cp -p "$here/setup.sh" "$here/run_autograder" "$staging/"
printf '%s\n' "$task" > "$staging/task"
printf '%s\n' "$lang" > "$staging/lang"
mkdir -p "$(dirname "$out")"
rm -f "$out"
(cd "$staging" && "$python" -m zipfile -c "$out" .)
echo "build.sh: wrote $out (upload it as the assignment's autograder)"
