"""Fixtures of the red-team suite: the attack list, the modes, and the gradings run in parallel.

The helpers are loaded by path under names of their own (the tests folder is not a package).
Gradings of one mode run in a thread pool, all the selected attacks of that mode at once,
with correct submissions among them (their neighbours), the first time a test of that mode
asks for its result: the suite's wall time is then about that of its slowest attacks, not
their sum.
"""

import importlib.util
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
WORKERS = 6
NEIGHBOUR_EVERY = 8  # a correct grading among every so many attacks
NEIGHBOUR_TASKS = ("im2col", "col2im", "conv_backward", "maxpool_backward")


def _load(name: str, file: str):
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, HERE / file)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


attacklist = _load("cnn_security_attacklist", "attacklist.py")
harness = _load("cnn_security_harness", "harness.py")

_selected: dict[str, list] = {}
_results: dict[str, dict] = {}


def pytest_collection_modifyitems(config, items):
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec and "attack" in callspec.params and "mode" in callspec.params:
            _selected.setdefault(callspec.params["mode"], []).append(callspec.params["attack"])


@pytest.fixture(scope="session")
def graded_attacks():
    """mode -> {attack name: Graded}, computed for every selected attack of a mode at once."""

    def of_mode(mode: str) -> dict:
        if mode not in _results:
            problem = harness.mode_problem(mode)
            if problem:
                pytest.skip(f"mode {mode} cannot run here: {problem}")
            attacks = _selected.get(mode, [])
            before = harness.checkout_snapshot()
            # Correct submissions graded among the attacks, at the same time and by the same
            # uid: an attack that reaches its neighbours makes one of them fail.
            jobs = []
            for number, attack in enumerate(attacks):
                jobs.append(attack)
                if number % NEIGHBOUR_EVERY == 0:
                    jobs.append(NEIGHBOUR_TASKS[(number // NEIGHBOUR_EVERY) % len(NEIGHBOUR_TASKS)])

            def one(job):
                if isinstance(job, str):
                    graded = harness.grade(mode, job, harness.correct_example(job))
                    status = (graded.feedback or {}).get("status")
                    return ("__neighbour__", graded.problems + ([] if status == "passed" else [f"{job}: {status}"]))
                canary = harness.correct_example(job.task) if "next" in job.post else None
                return job.name, harness.run_attack(job, mode, attacklist, canary)

            with ThreadPoolExecutor(max_workers=WORKERS) as pool:
                done = list(pool.map(one, jobs))
            _results[mode] = {name: graded for name, graded in done if name != "__neighbour__"}
            _results[mode]["__neighbours__"] = [problem for name, problems in done if name == "__neighbour__"
                                                for problem in problems]
            _results[mode]["__sandbox_uid_leftovers__"] = harness.settled(harness.leftover_sandbox_processes)
            _results[mode]["__grader_uid_leftovers__"] = (harness.settled(harness.processes_of_the_unprivileged_grader)
                                                          if harness.unprivileged(mode) else [])
            after = harness.checkout_snapshot()
            _results[mode]["__checkout_changed__"] = sorted(
                name for name in set(before) | set(after) if before.get(name) != after.get(name))
        return _results[mode]

    return of_mode
