"""The example submissions in examples/<task>/ behave as named: every correct*.py
matches the reference on the whole grid, every wrong_*.py differs on at least one
configuration, both as a whole file and with its block spliced into the template."""

import importlib.util
import sys
from pathlib import Path


def _load_helpers():
    name = "_cnn_reference_test_helpers"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("_helpers.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


H = _load_helpers()

import pytest

# Examples whose mistake is in the code the template gives, not in a blank: graded as whole files only.
OUTSIDE_THE_BLANK = {"wrong_relu_gradient_at_zero.py"}  # the given forward masks x < 0 instead of x <= 0
# Mistakes in a tie rule (which of two equal maxima gets the gradient, the gradient at exactly 0):
# right on every float input, wrong only where values tie.
TIE_MISTAKES = {"wrong_maxpool_grad_to_every_tied_max.py", "wrong_maxpool_grad_to_last_max.py",
                "wrong_relu_gradient_at_zero.py"}


def _files(task, prefix):
    return sorted(p for p in (H.EXAMPLES_DIR / task).glob(f"{prefix}*.py") if p.name != "correct_block.py")


WHOLE_CORRECT = [(t, p) for t in H.TASKS for p in _files(t, "correct")]
WRONG = [(t, p) for t in H.TASKS for p in _files(t, "wrong_")]
BLOCK_TASKS = [t for t in H.TASKS if (H.EXAMPLES_DIR / t / "correct_block.py").is_file()]


def _extract_blocks(source):
    lines = source.splitlines(keepends=True)
    return ["".join(lines[b + 1:e]) for b, e in H.blank_ranges(lines)]


def _variants(task, path):
    """The example as a whole file, and its block(s) spliced into the pristine template."""
    source = path.read_text(encoding="utf-8")
    whole = H.load_student(path)
    if path.name in OUTSIDE_THE_BLANK:
        return {"whole": whole}
    spliced = H.load_student_source(H.splice(H.template_source(task), _extract_blocks(source)),
                                    f"{path.name} spliced")
    return {"whole": whole, "spliced": spliced}


def _grid(task):
    """Float inputs on every configuration, then small integers (ties, zeros) on the first eight."""
    cases = [(cfg, H.make_inputs(task, cfg, seed=1)) for cfg in H.configs_for(task)]
    return cases + [(cfg, H.make_inputs(task, cfg, seed=2, ties=True)) for cfg in H.configs_for(task)[:8]]


@pytest.mark.parametrize("task,path", WHOLE_CORRECT, ids=[f"{t}/{p.name}" for t, p in WHOLE_CORRECT])
def test_correct_examples_match_reference(task, path):
    for how, module in _variants(task, path).items():
        for cfg, inputs in _grid(task):
            problem = H.graded_mismatch(task, module, cfg, inputs)
            assert problem is None, f"{path.name} ({how}) on {cfg}: {problem}"


@pytest.mark.parametrize("task", BLOCK_TASKS)
def test_correct_block_dedented_and_indented(task):
    block = (H.EXAMPLES_DIR / task / "correct_block.py").read_text(encoding="utf-8")
    assert block.splitlines()[0] == block.splitlines()[0].lstrip(), "correct_block.py is dedented"
    assert H.BEGIN not in block and H.END not in block
    template = H.template_source(task)
    begin = next(l for l in template.splitlines() if l.strip() == H.BEGIN)
    indent = begin[: len(begin) - len(begin.lstrip())]
    indented = "".join((indent + l if l.strip() else l) + "\n" for l in block.splitlines())
    for text in (block, indented):
        module = H.load_student_source(H.splice(template, [text]), "correct_block.py")
        for cfg, inputs in _grid(task):
            problem = H.graded_mismatch(task, module, cfg, inputs)
            assert problem is None, f"correct_block.py on {cfg}: {problem}"


@pytest.mark.parametrize("task,path", WRONG, ids=[f"{t}/{p.name}" for t, p in WRONG])
def test_wrong_examples_fail(task, path):
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# WRONG: ") and len(first) > 20, "one-line comment naming the mistake"
    floats = len(H.configs_for(task))
    for how, module in _variants(task, path).items():
        # float inputs only: a wrong answer must be caught without relying on ties, but for a tie
        # rule, which is right on every float input and wrong on the inputs that tie
        failures = [(cfg, H.graded_mismatch(task, module, cfg, inputs)) for cfg, inputs in _grid(task)]
        on_floats = [(cfg, why) for cfg, why in failures[:floats] if why]
        if path.name in TIE_MISTAKES:
            assert not on_floats, f"{path.name} ({how}) is wrong without ties: {on_floats[:2]}"
            assert any(why for _, why in failures[floats:]), f"{path.name} ({how}) is right even where values tie"
            continue
        failures = on_floats
        assert failures, f"{path.name} ({how}) matches the reference on every configuration"
        # and it is not merely crashing everywhere: a realistic mistake gives wrong numbers
        # on at least one configuration or fails on only some of them
        assert len(failures) < len(H.configs_for(task)) or any(
            not why.startswith("raised") for _, why in failures), f"{path.name} crashes everywhere"


@pytest.mark.parametrize("task", H.TASKS)
def test_examples_only_change_the_blank(task):
    """Outside the Begin/End blanks every example is the template, line for line (wrong ones have
    one extra comment line at the top), but those whose mistake is in the given code."""
    template = H.template_source(task).splitlines()
    t_ranges = H.blank_ranges(template)

    def outside(lines, ranges):
        kept, start = [], 0
        for begin, end in ranges:
            kept += lines[start:begin + 1]
            start = end
        return kept + lines[start:]

    for path in _files(task, "correct") + _files(task, "wrong_"):
        lines = path.read_text(encoding="utf-8").splitlines()
        if path.name.startswith("wrong_"):
            lines = lines[1:]
        ranges = H.blank_ranges(lines)
        assert len(ranges) == len(t_ranges)
        assert (outside(lines, ranges) == outside(template, t_ranges)) == (path.name not in OUTSIDE_THE_BLANK), path.name
