"""Every realistic wrong answer of tests/mutation/mutants.py fails under the grader, and every
correct variant passes: graded through `grader batch` (warm sandboxes, one batch per task, each
task with a seed of its own). bench/mutation.py runs the same list on many seeds per task and
prints the kill rate.

Each mutant is also checked to be wrong at all: on the cases of a run it must differ from the
reference somewhere, on the trusted side (our own code, run in-process).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from grader.grading import diagnostics, reference
from grader.spec import cases, config, taskspec
from mutants import MUTANTS, REPO, TASKS, correct_variants, file_name

GRADER = Path(sys.executable).with_name("grader")
FIRST_SEED = 11  # task i is graded with seed FIRST_SEED + i: ten seeds in all, one batch a task


def _batch(task: str, seed: int, folder: Path) -> dict[str, dict]:
    """{file: results line} of one batch of every mutant and correct variant of ``task``."""
    submissions = folder / "submissions"
    submissions.mkdir()
    for mutant in (m for m in MUTANTS if m.task == task):
        (submissions / f"wrong_{file_name(mutant.name)}").write_text(mutant.source(), encoding="utf-8")
    for name, source in correct_variants(task).items():
        (submissions / f"correct_{file_name(name)}").write_text(source, encoding="utf-8")
    out = folder / "results.jsonl"
    command = [str(GRADER) if GRADER.exists() else sys.executable, *([] if GRADER.exists() else ["-m", "grader"]),
               "--root", str(REPO), "batch", "--task", task, str(submissions), "--seed", str(seed), "--out", str(out),
               "--jobs", "2", "--lang", "en"]
    done = subprocess.run(command, capture_output=True, timeout=600, cwd=REPO)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-2000:]
    return {line["file"]: line for line in map(json.loads, out.read_text(encoding="utf-8").splitlines())}


@pytest.mark.parametrize("task", TASKS)
def test_every_mutant_fails_and_every_correct_variant_passes(task, tmp_path):
    seed = FIRST_SEED + TASKS.index(task)
    lines = _batch(task, seed, tmp_path)
    survivors = sorted(name for name, line in lines.items() if name.startswith("wrong_") and line["status"] != "failed")
    rejected = sorted(f"{name}: {line['codes']}" for name, line in lines.items() if name.startswith("correct_") and line["status"] != "passed")
    assert not rejected, f"correct answers failed on seed {seed}: {rejected}"
    assert not survivors, f"wrong answers passed on seed {seed}: {survivors}"
    assert len(lines) == sum(1 for m in MUTANTS if m.task == task) + len(correct_variants(task))


def test_the_list_covers_every_task_and_the_seed_tasks_most():
    per_task = {task: sum(1 for m in MUTANTS if m.task == task) for task in TASKS}
    assert all(count >= 6 for count in per_task.values()), per_task
    assert all(per_task[task] >= 10 for task in TASKS[:4]), per_task
    assert len({m.name for m in MUTANTS}) == len(MUTANTS)


@pytest.mark.parametrize("task", TASKS)
def test_every_mutant_is_wrong_somewhere_and_the_textbook_is_right(task, tmp_path, monkeypatch):
    """On the trusted side: each mutant's outputs differ from the reference's on some case of a run
    (an equivalent mutant would make the kill rate lie), and the textbook answer's never do."""
    task_spec = taskspec.load(task, REPO)
    settings = config.load()
    run = cases.generate(task_spec, 3, 30)
    expected = reference.expected_outputs(task_spec, run)
    tolerances = task_spec.tolerances(settings.values["tolerance"])
    monkeypatch.syspath_prepend(str(REPO / "student_template"))  # utils, as the sandbox gives it
    entry = task_spec.entry_name
    sources = {m.name: m.source() for m in MUTANTS if m.task == task}
    sources["textbook"] = correct_variants(task)[f"{task}:textbook"]
    wrong_somewhere = {}
    for name, source in sources.items():
        namespace: dict = {"__name__": f"mutant_{task}"}
        exec(compile(source, name, "exec"), namespace)
        differs = False
        for case in run:
            try:
                got = reference.invoke(task_spec.entry, {entry: namespace[entry]}, case)
            except Exception:
                differs = True
                break
            if any(n not in got or not diagnostics.close(got[n], expected[case.index][n], tolerances[n])
                   for n in task_spec.output_names):
                differs = True
                break
        wrong_somewhere[name] = differs
    assert not wrong_somewhere.pop("textbook")
    assert all(wrong_somewhere.values()), [name for name, wrong in wrong_somewhere.items() if not wrong]
