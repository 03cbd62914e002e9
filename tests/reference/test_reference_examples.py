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

import numpy as np
import pytest

REQUIRED = {
    "im2col": ["wrong_im2col_column_order_khkwc", "wrong_im2col_padding_ignored", "wrong_im2col_transposed", "wrong_im2col_stride_ignored"],
    "col2im": ["wrong_col2im_assign_overlaps", "wrong_col2im_average_overlaps", "wrong_col2im_padding_not_cropped",
               "wrong_col2im_reshape_without_transpose"],
    "conv_backward": ["wrong_conv_dw_without_transpose", "wrong_conv_db_keepdims", "wrong_conv_db_wrong_axis",
                      "wrong_conv_dout_not_nhwc", "wrong_conv_dx_not_folded"],
    "maxpool_backward": ["wrong_maxpool_average_rule", "wrong_maxpool_overwrite_overlaps", "wrong_maxpool_max_ignores_padding",
                         "wrong_maxpool_padding_not_cropped", "wrong_maxpool_dout_not_nhwc"],
}


def _files(task, prefix):
    return sorted(p for p in (H.EXAMPLES_DIR / task).glob(f"{prefix}*.py") if p.name != "correct_block.py")


WHOLE_CORRECT = [(t, p) for t in H.SEED_TASKS for p in _files(t, "correct")]
WRONG = [(t, p) for t in H.SEED_TASKS for p in _files(t, "wrong_")]


def _extract_blocks(source):
    lines = source.splitlines(keepends=True)
    return ["".join(lines[b + 1:e]) for b, e in H.blank_ranges(lines)]


def _variants(task, path):
    """The example as a whole file, and its block(s) spliced into the pristine template."""
    source = path.read_text(encoding="utf-8")
    whole = H.load_student(path)
    spliced = H.load_student_source(H.splice(H.template_source(task), _extract_blocks(source)),
                                    f"{path.name} spliced")
    return {"whole": whole, "spliced": spliced}


def _grid(task):
    cases = [(cfg, H.make_inputs(task, cfg, seed=1)) for cfg in H.configs_for(task)]
    if task == "maxpool_backward":  # ties: the first maximum must win
        cases += [(cfg, H.make_inputs(task, cfg, seed=2, ties=True)) for cfg in H.CONV_CONFIGS[:8]]
    return cases


@pytest.mark.parametrize("task", H.SEED_TASKS)
def test_required_examples_exist(task):
    names = {p.stem for p in (H.EXAMPLES_DIR / task).glob("*.py")}
    assert {"correct", "correct_block", "correct_loops"} <= names
    assert set(REQUIRED[task]) <= names
    assert len([n for n in names if n.startswith("wrong_")]) >= 4


@pytest.mark.parametrize("task,path", WHOLE_CORRECT, ids=[f"{t}/{p.name}" for t, p in WHOLE_CORRECT])
def test_correct_examples_match_reference(task, path):
    for how, module in _variants(task, path).items():
        for cfg, inputs in _grid(task):
            problem = H.graded_mismatch(task, module, cfg, inputs)
            assert problem is None, f"{path.name} ({how}) on {cfg}: {problem}"


@pytest.mark.parametrize("task", H.SEED_TASKS)
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


# Mistakes in the tie rule (which of two equal maxima gets the gradient): wrong only where values tie.
TIE_MISTAKES = {"wrong_maxpool_grad_to_every_tied_max.py", "wrong_maxpool_grad_to_last_max.py"}


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


@pytest.mark.parametrize("task", H.SEED_TASKS)
def test_examples_only_change_the_blank(task):
    """Outside the Begin/End blank every example is the template, line for line
    (wrong ones have one extra comment line at the top)."""
    template = H.template_source(task).splitlines()
    t_ranges = H.blank_ranges(template)
    for path in _files(task, "correct") + _files(task, "wrong_"):
        lines = path.read_text(encoding="utf-8").splitlines()
        if path.name.startswith("wrong_"):
            lines = lines[1:]
        ranges = H.blank_ranges(lines)
        assert len(ranges) == len(t_ranges)
        outside = lambda ls, rs: ls[: rs[0][0] + 1] + ls[rs[-1][1]:]
        assert outside(lines, ranges) == outside(template, t_ranges), path.name
