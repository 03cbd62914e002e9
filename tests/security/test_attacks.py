"""Every attack in tests/security/attacks/, graded through the real CLI under every mode, among
correct gradings of the same uid.

For each: the verdict the header expects, one schema-valid JSON answer (exit 0, never
status "error") within the hang limit, and the post-conditions checked by the harness.
Where a mode cannot stop an attack, the attack's header says so (``xfail[MODE]``) and
the test is a strict expected failure: it fails loudly the day the limitation goes away.
"""

import sys

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
