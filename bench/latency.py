"""Latency of one `grader grade` against its floor, measured side by side.

The floor is what any grading must pay: one bare `python -c` (the same interpreter, default
flags) that imports numpy, imports the same student file with the same support module, and
runs the task's entry on the very same inputs (the cases the grader draws for the same seed).
The two commands run interleaved, alternating which goes first, so that the load of a shared
machine falls on both alike; the medians and their ratio are printed.

    .venv/bin/python bench/latency.py [--task conv_backward] [--submission FILE] [--runs 15]

The grader's package is byte-compiled first, as an installed package is (this checkout may
run with PYTHONDONTWRITEBYTECODE=1, which would otherwise make it recompile every run). Both
commands run with one BLAS thread, as the grader runs numpy on both of its sides (on these
small arrays it is also the faster setting, so the floor is not made slower by it).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from grader.spec import cases, config, taskspec  # noqa: E402

SEED = 20240611

# The floor: everything a grading cannot avoid, and nothing else.
FLOOR_PROGRAM = """
import json, sys
import numpy as np
work = sys.argv[1]
sys.path.insert(0, work)
plan = json.load(open(work + "/plan.json"))
arrays = np.load(work + "/inputs.npz")
student = __import__(plan["module"])
entry = plan["entry"]
def args(names, values):
    return [tuple(values[n] for n in name) if isinstance(name, list) else values[name] for name in names]
for case in plan["cases"]:
    values = dict(case["params"])
    values.update({name: arrays[f"{case['index']}/{name}"] for name in case["arrays"]})
    if "function" in entry:
        getattr(student, entry["function"])(*args(entry["args"], values))
    else:
        instance = getattr(student, entry["class"])(*args(entry.get("init", []), values))
        for step in entry["steps"]:
            getattr(instance, step["call"])(*args(step.get("args", []), values))
        for attribute in entry.get("attributes", []):
            getattr(instance, attribute)
"""


def prepare_floor(task: taskspec.Task, settings: config.Settings, submission: Path, work: Path) -> None:
    """Write the student file, its support modules and the grader's inputs for SEED into ``work``."""
    drawn = cases.generate(task, SEED, cases.random_count(task, settings.values["cases"]))
    for name, source in task.support_files().items():
        (work / name).write_text(source, encoding="utf-8")
    shutil.copy(submission, work / f"{task.module_name}.py")
    np.savez(work / "inputs.npz", **{f"{c.index}/{name}": array for c in drawn for name, array in c.inputs.items()})
    plan = {"module": task.module_name, "entry": task.entry,
            "cases": [{"index": c.index, "params": c.params, "arrays": list(c.inputs)} for c in drawn]}
    (work / "plan.json").write_text(json.dumps(plan), encoding="utf-8")


SINGLE_THREADED = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def timed(command: list[str], check) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, env=SINGLE_THREADED)
    elapsed = time.perf_counter() - started
    check(done)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="conv_backward")
    parser.add_argument("--submission", type=Path, help="default: examples/TASK/correct.py")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    submission = args.submission or REPO / "examples" / args.task / "correct.py"
    settings = config.load()
    task = taskspec.load(args.task, settings.root)
    compileall.compile_dir(str(REPO / "grader"), quiet=1)
    grader = Path(sys.executable).with_name("grader")
    if not grader.exists():
        sys.exit(f"bench: {grader} not found; run scripts/setup.sh first")

    with tempfile.TemporaryDirectory(prefix="bench-latency-") as work_dir:
        work = Path(work_dir)
        prepare_floor(task, settings, submission, work)
        floor_command = [sys.executable, "-c", FLOOR_PROGRAM, str(work)]
        grade_command = [str(grader), "grade", "--task", args.task, "--seed", str(SEED), str(submission)]
        verdicts = []

        def floor_ok(done):
            if done.returncode != 0:
                sys.exit("bench: the floor program failed:\n" + done.stderr.decode(errors="replace"))

        def grade_ok(done):
            document = json.loads(done.stdout)
            verdicts.append((document["status"], document.get("sandbox", {}).get("backend")))
            if document["status"] != "passed":
                sys.exit(f"bench: the grading did not pass: {document.get('summary')}")

        timed(floor_command, floor_ok)  # warm the page cache for both
        timed(grade_command, grade_ok)
        load_before = os.getloadavg()
        floors, grades = [], []
        for run in range(args.runs):
            pair = [(floors, floor_command, floor_ok), (grades, grade_command, grade_ok)]
            for samples, command, check in pair if run % 2 == 0 else reversed(pair):
                samples.append(timed(command, check))
        load_after = os.getloadavg()

    floor, grade = statistics.median(floors), statistics.median(grades)
    ratios = sorted(g / f for g, f in zip(grades, floors))
    shown = submission.relative_to(REPO) if submission.is_relative_to(REPO) else submission
    print(
        f"task {args.task}, submission {shown}, "
        f"seed {SEED}, {args.runs} interleaved runs each, sandbox {verdicts[-1][1]}"
    )
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} ({os.cpu_count()} cores)")
    print(f"floor  (python -c: numpy + the same student code on the same inputs): median {floor * 1000:7.1f} ms")
    print(f"grader (grader grade, sandboxed, compared, JSON feedback):             median {grade * 1000:7.1f} ms")
    print(f"ratio grader/floor: {grade / floor:.2f} (per-pair ratios: min {ratios[0]:.2f}, "
          f"median {statistics.median(ratios):.2f}, max {ratios[-1]:.2f}; target <= 1.5)")


if __name__ == "__main__":
    main()
