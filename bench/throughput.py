"""Batch throughput: `grader batch` with warm workers against one sandbox per submission.

Grades a class of copies of one submission (default: a correct conv_backward, the task's
default cases) with `grader batch`, once with warm workers and once with
`--sandbox-per-submission` (the process-per-submission baseline: every submission gets the
sandbox a single `grader grade` gets), alternating the two, and prints submissions per second
for each and their ratio. The time counted is the whole command (start-up, case draw,
reference, workers' start, every grading, the summary), so the rate is what a platform sees.

    .venv/bin/python bench/throughput.py [--submissions 300] [--baseline-submissions 40] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def rate(grader: Path, task: str, folder: Path, jobs: int, *extra: str) -> float:
    """Submissions per second of one `grader batch` over ``folder``."""
    with tempfile.TemporaryDirectory(prefix="bench-results-") as results:
        out = Path(results) / "results.jsonl"
        started = time.perf_counter()
        done = subprocess.run([str(grader), "batch", "--task", task, str(folder), "--out", str(out),
                               "--jobs", str(jobs), *extra], capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            sys.exit(f"bench: grader batch failed:\n{done.stderr[-2000:]}")
        graded = len(out.read_text().splitlines())
    return graded / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="conv_backward")
    parser.add_argument("--submission", type=Path, help="default: examples/TASK/correct.py")
    parser.add_argument("--submissions", type=int, default=300, help="class size for warm workers")
    parser.add_argument("--baseline-submissions", type=int, default=40, help="class size for the baseline (it is slow)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    submission = args.submission or REPO / "examples" / args.task / "correct.py"
    grader = Path(sys.executable).with_name("grader")
    if not grader.exists():
        sys.exit(f"bench: {grader} not found; run scripts/setup.sh first")

    with tempfile.TemporaryDirectory(prefix="bench-class-") as work:
        warm_class, baseline_class = Path(work) / "warm", Path(work) / "baseline"
        for folder, size in ((warm_class, args.submissions), (baseline_class, args.baseline_submissions)):
            folder.mkdir()
            for number in range(size):
                shutil.copy(submission, folder / f"student{number:04}.py")
        load_before = os.getloadavg()
        warm, baseline = [], []
        for _ in range(args.rounds):
            warm.append(rate(grader, args.task, warm_class, args.jobs))
            baseline.append(rate(grader, args.task, baseline_class, args.jobs, "--sandbox-per-submission"))
        load_after = os.getloadavg()

    best_warm, best_baseline = statistics.median(warm), statistics.median(baseline)
    print(f"task {args.task}, {submission.name}, default cases, --jobs {args.jobs}, {args.rounds} alternating rounds")
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} ({os.cpu_count()} cores)")
    print(f"warm workers:                  {best_warm:6.1f} submissions/s  ({args.submissions} per run; "
          f"runs: {', '.join(f'{r:.1f}' for r in warm)}; target >= 50)")
    print(f"one sandbox per submission:    {best_baseline:6.1f} submissions/s  ({args.baseline_submissions} per run; "
          f"runs: {', '.join(f'{r:.1f}' for r in baseline)})")
    print(f"ratio warm / baseline: {best_warm / best_baseline:.1f}")


if __name__ == "__main__":
    main()
