"""Every attack in tests/security/attacks/, graded through the real CLI under every mode, among
correct gradings of the same uid.

For each: the verdict the header expects, one schema-valid JSON answer (exit 0, never
status "error") within the hang limit, and the post-conditions checked by the harness.
Where a mode cannot stop an attack, the attack's header says so (``xfail[MODE]``) and
the test is a strict expected failure: it fails loudly the day the limitation goes away.
"""

import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

attacklist = sys.modules["cnn_security_attacklist"]
harness = sys.modules["cnn_security_harness"]

ATTACKS = attacklist.load()


def _params():
    for mode in attacklist.MODES:
        for attack in ATTACKS:
            marks = []
            if mode in attack.xfail:
                marks.append(pytest.mark.xfail(reason=f"documented limitation of {mode}: {attack.xfail[mode]}", strict=True))
            yield pytest.param(mode, attack, id=f"{mode}-{attack.name}", marks=marks)


@pytest.mark.parametrize(("mode", "attack"), list(_params()))
def test_attack_is_contained(mode, attack, graded_attacks):
    graded = graded_attacks(mode)[attack.name]
    assert not graded.problems, f"{attack.name} ({attack.why}) under {mode}:\n" + "\n".join(graded.problems)


# The grader started with descriptors 3-299 open, as a busy one holds them (a batch's concurrent
# process-backend sandboxes: 256 Landlock rule descriptors each until their child has started):
# its pipes are then numbered above 255.
BUSY_GRADER = (sys.executable, "-c", "import os, sys\nnull = os.open('/dev/null', os.O_RDONLY)\n"
               "for fd in range(3, 300):\n    os.dup2(null, fd)\nos.execvp(sys.argv[1], sys.argv[1:])\n")
REACHING_THE_CHANNEL = ("forge_junk_frames", "forge_records_on_every_fd", "steal_inherited_descriptors")


@pytest.mark.parametrize("mode", attacklist.MODES)
def test_the_result_channel_is_on_the_same_descriptor_however_many_the_grader_holds(mode):
    # The forging attacks write on descriptors 0-255: in a busy batch the channel was above them
    # and they failed with their own results' codes instead of PROTOCOL_ERROR.
    problem = harness.mode_problem(mode)
    if problem:
        pytest.skip(f"mode {mode} cannot run here: {problem}")

    def busy(mode, task, data, env_extra):
        return harness.grade(mode, task, data, env_extra, wrapper=BUSY_GRADER)

    attacks = [attack for attack in ATTACKS if attack.name in REACHING_THE_CHANNEL]
    assert len(attacks) == len(REACHING_THE_CHANNEL)
    with ThreadPoolExecutor(max_workers=len(attacks)) as pool:
        graded = list(pool.map(lambda attack: harness.run_attack(attack, mode, attacklist, grade_with=busy), attacks))
    problems = [f"{attack.name}: {problem}" for attack, result in zip(attacks, graded) for problem in result.problems]
    assert problems == []


@pytest.mark.parametrize("mode", attacklist.MODES)
def test_checkout_unchanged_by_the_attacks(mode, graded_attacks):
    assert graded_attacks(mode)["__checkout_changed__"] == []


@pytest.mark.parametrize("mode", attacklist.MODES)
def test_no_process_of_the_sandbox_uid_range_survives_the_attacks(mode, graded_attacks):
    assert graded_attacks(mode)["__sandbox_uid_leftovers__"] == []


@pytest.mark.parametrize("mode", attacklist.MODES)
def test_no_process_of_the_unprivileged_grader_survives_the_attacks(mode, graded_attacks):
    assert graded_attacks(mode)["__grader_uid_leftovers__"] == []


@pytest.mark.parametrize("mode", attacklist.MODES)
def test_correct_gradings_among_the_attacks_keep_their_verdicts(mode, graded_attacks):
    # Graded at the same time and by the same uid as the attacks (concurrent `grader grade`s).
    assert graded_attacks(mode)["__neighbours__"] == []


def test_the_list_covers_every_family_and_both_verdicts():
    families = {attack.family for attack in ATTACKS}
    assert families == set(attacklist.FAMILIES)
    assert len(ATTACKS) >= 30
    assert {attack.expect for attack in ATTACKS} == {"passed", "failed"}
    for attack in ATTACKS:
        assert attack.task in {"im2col", "col2im", "conv_backward", "maxpool_backward"}, attack.name
