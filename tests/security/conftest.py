"""Fixtures of the red-team suite: the attack list, the modes, and the gradings run in parallel.

The helpers (attacklist.py, harness.py) are loaded by tests/conftest.py, for every suite.
The gradings of every mode run in one thread pool, all the selected attacks of all modes at
once, with correct submissions among them (their neighbours), the first time a test asks for a
result: the suite's wall time is then about that of its slowest attacks, not their sum.
"""

import itertools
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

WORKERS_PER_MODE = 3
NEIGHBOUR_EVERY = 8  # a correct grading among every so many attacks
NEIGHBOUR_TASKS = ("im2col", "col2im", "conv_backward", "maxpool_backward")

attacklist = sys.modules["cnn_security_attacklist"]  # (loaded by tests/conftest.py)
harness = sys.modules["cnn_security_harness"]

_selected: dict[str, list] = {}
_results: dict[str, dict] = {}
_graded: list[bool] = []  # once per session, whichever mode asks first


def pytest_collection_finish(session):
    # After -k and -m have deselected: a run of one attack grades that attack, not the whole list.
    # Only the tests that read this pool: a hook of a conftest sees the whole session's items, and
    # the batch red team (tests/platform) has "mode" and "attack" parameters of its own.
    for item in session.items:
        callspec = getattr(item, "callspec", None)
        if callspec and "graded_attacks" in item.fixturenames and {"attack", "mode"} <= set(callspec.params):
            _selected.setdefault(callspec.params["mode"], []).append(callspec.params["attack"])


@pytest.fixture(scope="session")
def graded_attacks():
    """mode -> {attack name: Graded}, computed for every selected attack of every runnable mode
    at once: the modes spend most of their time waiting on wall clocks, so they share one pool.
    Whatever must be left over by nobody (processes of the sandbox uids and of the ordinary uid,
    changes to the checkout) is checked once every mode is done, and reported to each mode: a
    leftover is the failure of every mode that ran, and its command line says whose it is."""

    def of_mode(mode: str) -> dict:
        if not _graded:
            _graded.append(True)
            _grade_every_mode()
        problem = harness.mode_problem(mode)
        if problem:
            pytest.skip(f"mode {mode} cannot run here: {problem}")
        return _results[mode]

    return of_mode


def _grade_every_mode() -> None:
    modes = [mode for mode in attacklist.MODES if mode in _selected and not harness.mode_problem(mode)]
    before = harness.checkout_snapshot()
    # Correct submissions graded among the attacks, at the same time and by the same uid: an
    # attack that reaches its neighbours makes one of them fail.
    of_mode = []
    for mode in modes:
        jobs = []
        for number, attack in enumerate(_selected[mode]):
            jobs.append((mode, attack))
            if number % NEIGHBOUR_EVERY == 0:
                jobs.append((mode, NEIGHBOUR_TASKS[(number // NEIGHBOUR_EVERY) % len(NEIGHBOUR_TASKS)]))
        of_mode.append(jobs)
    # Interleaved, so that every mode's slow attacks overlap the others' quick ones.
    jobs = [job for round_ in itertools.zip_longest(*of_mode) for job in round_ if job is not None]

    def one(mode_and_job):
        mode, job = mode_and_job
        if isinstance(job, str):
            graded = harness.grade(mode, job, harness.correct_example(job))
            status = (graded.feedback or {}).get("status")
            return mode, "__neighbour__", graded.problems + ([] if status == "passed" else [f"{job}: {status}"])
        canary = harness.correct_example(job.task) if "next" in job.post else None
        return mode, job.name, harness.run_attack(job, mode, attacklist, canary)

    with ThreadPoolExecutor(max_workers=WORKERS_PER_MODE * max(1, len(modes))) as pool:
        done = list(pool.map(one, jobs))
    sandbox_leftovers = harness.settled(harness.leftover_sandbox_processes)
    grader_leftovers = harness.settled(harness.processes_of_the_unprivileged_grader)
    after = harness.checkout_snapshot()
    changed = sorted(name for name in set(before) | set(after) if before.get(name) != after.get(name))
    for mode in modes:
        results = {name: graded for of, name, graded in done if of == mode and name != "__neighbour__"}
        results["__neighbours__"] = [problem for of, name, problems in done if of == mode and name == "__neighbour__"
                                     for problem in problems]
        results["__sandbox_uid_leftovers__"] = sandbox_leftovers
        results["__grader_uid_leftovers__"] = grader_leftovers if harness.unprivileged(mode) else []
        results["__checkout_changed__"] = changed
        _results[mode] = results
