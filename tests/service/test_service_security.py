"""The whole red-team list through the service: the security harness with the service as its entry point.

The harness of tests/security grades an attack, checks everything around it (the verdict its
header expects, the feedback's schema, no file, process or connection left, no leak) and then
grades a correct submission of the same task on the same service, which must pass (the
innocent after the hostile). Here ``grade_with`` is a running `grader serve` (bwrap, the
harness's tight limits) run as an ordinary uid, as the image runs it (`grader grade` and
`grader batch` go through the list as root too, in tests/security and tests/platform), which
holds a secret in its environment that must never reach an answer, and must outlive every attack.

One service for the module, and the attacks graded over HTTP a few at a time (each attack and
then its correct submission in one thread, ``CLIENTS`` threads against ``WORKERS`` gradings at
once), so that the list costs about its slowest attacks rather than their sum; each attack's
result is then its own test. The expectations are the attacks' own headers (one copy, read by
tests/security/attacklist.py); an attack a mode cannot stop says so there (``xfail[bwrap]``).
With a warm engine, the correct submissions after the attacks land on workers that graded
attacks before: the final round grades ``2 * WORKERS`` correct files at once, so that every
worker grades one after the whole list.
"""

from __future__ import annotations

import os
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from service_support import REPO, Server, grade_with_service, new_folder

SERVICE_SECRET = "service-secret-0f1e2d3c4b5a"
WORKERS = 4
CLIENTS = 6

pytestmark = pytest.mark.heavy


attacklist = sys.modules["cnn_security_attacklist"]  # (loaded by tests/conftest.py)
harness = sys.modules["cnn_security_harness"]
ATTACKS = {attack.name: attack for attack in attacklist.load()}
MODE = "bwrap-unprivileged"  # the image's user is not root


@pytest.fixture(scope="module")
def red_team_service():
    problem = harness.mode_problem(MODE)
    if problem:
        pytest.skip(f"{MODE} cannot run here: {problem}")
    folder = new_folder("redteam")
    os.chown(folder, harness.UNPRIVILEGED_UID, harness.UNPRIVILEGED_UID)  # its database
    config = folder / "grader.yaml"
    tasks = sorted({attack.task for attack in ATTACKS.values()})
    config.write_text(harness.config_file(MODE).read_text() + f"tasks_root: {REPO}\n"
                      + f"service:\n  tasks: {tasks}\n  database: {folder / 'service.sqlite3'}\n"
                      + "  queue_limit: 64\n")
    server = Server(folder, config, env={harness.SECRET_NAME: SERVICE_SECRET, **harness.cache_of(MODE)},
                    workers=WORKERS, prefix=harness.command_prefix(MODE))
    try:
        yield server.start()
    finally:
        if server.process is not None and server.process.poll() is None:
            assert server.stop() == 0, server.log_text()[-3000:]
            assert "Traceback" not in server.log_text()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def graded_attacks(red_team_service):
    """{attack name: Graded} for the whole list, graded through the service CLIENTS at a time,
    each followed by a correct submission; then what the list left behind."""
    grade_with = grade_with_service(red_team_service, None, SERVICE_SECRET)
    before = harness.checkout_snapshot()

    def one(attack):
        canary = harness.correct_example(attack.task)
        return attack.name, harness.run_attack(attack, MODE, attacklist, canary, grade_with=grade_with)

    with ThreadPoolExecutor(CLIENTS) as pool:
        results = dict(pool.map(one, ATTACKS.values()))
        tasks = sorted({attack.task for attack in ATTACKS.values()})
        last_round = list(pool.map(lambda n: (tasks[n % len(tasks)], grade_with(MODE, tasks[n % len(tasks)],
                                                                                harness.correct_example(
                                                                                    tasks[n % len(tasks)]))),
                                   range(2 * WORKERS)))
    results["__last_round__"] = [f"{task}: {graded.problems or (graded.feedback or {}).get('status')}"
                                 for task, graded in last_round
                                 if graded.problems or (graded.feedback or {}).get("status") != "passed"]
    results["__sandbox_uid_leftovers__"] = harness.settled(harness.leftover_sandbox_processes)
    after = harness.checkout_snapshot()
    results["__checkout_changed__"] = sorted(name for name in set(before) | set(after)
                                             if before.get(name) != after.get(name))
    return results


def _params():
    for attack in ATTACKS.values():
        marks = []
        if MODE in attack.xfail:
            marks.append(pytest.mark.xfail(reason=f"documented limitation of {MODE}: {attack.xfail[MODE]}",
                                           strict=True))
        yield pytest.param(attack.name, id=attack.name, marks=marks)


@pytest.mark.parametrize("name", list(_params()))
def test_an_attack_through_the_service_is_judged_and_the_next_correct_grading_passes(graded_attacks, name):
    graded = graded_attacks[name]
    attack = ATTACKS[name]
    assert not graded.problems, f"{name} ({attack.why}) through the service:\n" + "\n".join(graded.problems)


def test_after_the_whole_list_the_service_is_alive_ready_and_every_worker_grades_right(red_team_service,
                                                                                      graded_attacks):
    assert graded_attacks["__last_round__"] == []
    assert red_team_service.process.poll() is None, "the service died"
    assert os.stat(f"/proc/{red_team_service.process.pid}").st_uid == harness.UNPRIVILEGED_UID, "not the image's mode"
    with red_team_service.client() as client:
        assert client.get("/readyz").json()["ready"] is True


def test_the_list_leaves_no_process_of_a_sandbox_uid_and_the_checkout_unchanged(graded_attacks):
    assert graded_attacks["__sandbox_uid_leftovers__"] == []
    assert graded_attacks["__checkout_changed__"] == []
