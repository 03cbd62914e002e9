#!/usr/bin/env bash
# Builds a Gradescope autograder zip for one task: setup.sh and run_autograder at the root of
# the archive (as Gradescope requires), the task id and feedback language beside them, and the
# grader's source (this commit's tracked files) that setup.sh installs.
#   bash deploy/gradescope/build.sh TASK [LANG] [OUT.zip]
set -euo pipefail
task=${1:?usage: build.sh TASK [LANG] [OUT.zip]}
lang=${2:-en}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=$(realpath -m "${3:-autograder-$task.zip}")
[ -f "$repo/tasks/$task.yaml" ] || { echo "build.sh: unknown task $task" >&2; exit 2; }
staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
git -C "$repo" archive HEAD | tar -x -C "$staging"
cp "$here/setup.sh" "$here/run_autograder" "$staging/"
printf '%s\n' "$task" > "$staging/task"
printf '%s\n' "$lang" > "$staging/lang"
rm -f "$out"
(cd "$staging" && python3 -m zipfile -c "$out" .)
echo "build.sh: wrote $out (upload it as the assignment's autograder)"
