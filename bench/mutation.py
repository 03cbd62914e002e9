"""Kill rate: how many of the realistic wrong answers of tests/mutation/mutants.py fail under a
grader on every seed, and whether every correct variant passes on every seed.

    .venv/bin/python bench/mutation.py [--seeds 10] [--first-seed 1] [--checkout DIR] [--tasks im2col ...]

Each task's mutants and correct variants are graded by `grader batch` once per seed. With
--checkout, the grader and the tasks of another checkout are measured (its own .venv, e.g. a
clone of main at the commit before a change) on the very same submissions, so that two
figures taken side by side in the same hour compare the graders, not the mutants. Prints,
per task and in all, the mutants killed on every seed, those that survived some seed (with
the seeds), and the correct variants that failed (there must be none).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "mutation"))

from mutants import MUTANTS, TASKS, correct_variants, file_name  # noqa: E402


def grade_batch(checkout: Path, task: str, seed: int, folder: Path, jobs: int) -> dict[str, dict]:
    submissions = folder / "submissions"
    submissions.mkdir()
    for mutant in (m for m in MUTANTS if m.task == task):
        (submissions / f"wrong_{file_name(mutant.name)}").write_text(mutant.source(), encoding="utf-8")
    for name, source in correct_variants(task).items():
        (submissions / f"correct_{file_name(name)}").write_text(source, encoding="utf-8")
    out = folder / "results.jsonl"
    python = checkout / ".venv" / "bin" / "python"
    command = [str(python), "-m", "grader", "--root", str(checkout), "batch", "--task", task, str(submissions),
               "--seed", str(seed), "--out", str(out), "--jobs", str(jobs), "--lang", "en"]
    done = subprocess.run(command, capture_output=True, cwd=checkout, timeout=1800)
    if done.returncode != 0:
        raise SystemExit(
            f"grader batch failed for {task} seed {seed}:\n{done.stderr.decode('utf-8', 'replace')[-2000:]}"
        )
    return {line["file"]: line for line in map(json.loads, out.read_text(encoding="utf-8").splitlines())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds per task (default %(default)s)")
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument(
        "--checkout", type=Path, default=REPO, help="the grader checkout to measure (default: this one)"
    )
    parser.add_argument("--tasks", nargs="*", default=TASKS)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    started = time.monotonic()
    survived: dict[str, list[int]] = {}  # mutant file -> seeds it passed on
    rejected: dict[str, list[int]] = {}
    totals = {"mutants": 0, "killed": 0}
    print(f"grader: {args.checkout}  seeds: {seeds[0]}..{seeds[-1]}")
    for task in args.tasks:
        for seed in seeds:
            with tempfile.TemporaryDirectory(prefix="cnn-mutation-") as folder:
                lines = grade_batch(args.checkout.resolve(), task, seed, Path(folder), args.jobs)
            for name, line in lines.items():
                key = f"{task}/{name}"
                if name.startswith("wrong_") and line["status"] != "failed":
                    survived.setdefault(key, []).append(seed)
                if name.startswith("correct_") and line["status"] != "passed":
                    rejected.setdefault(key, []).append(seed)
        count = sum(1 for m in MUTANTS if m.task == task)
        alive = [key for key in survived if key.startswith(f"{task}/")]
        totals["mutants"] += count
        totals["killed"] += count - len(alive)
        escaped = ", ".join(f"{key.split('/', 1)[1]} on seeds {survived[key]}" for key in alive)
        print(
            f"{task:18} {count - len(alive):3}/{count:<3} killed on every seed"
            + (f"; survived: {escaped}" if alive else "")
        )
    rate = totals["killed"] / totals["mutants"] if totals["mutants"] else 0.0
    print(
        f"all                {totals['killed']:3}/{totals['mutants']:<3} killed on every seed ({rate:.1%}); "
        f"{len(rejected)} correct variants failed{': ' + str(rejected) if rejected else ''}; "
        f"{time.monotonic() - started:.0f} s"
    )
    return 0 if not rejected else 1


if __name__ == "__main__":
    sys.exit(main())
