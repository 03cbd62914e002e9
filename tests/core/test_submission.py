"""Decoding and the two submission modes, with line numbers mapped back to the student's."""

import codecs

import pytest

from grader.grading.submission import MAX_BYTES, blanks, prepare
from grader.spec.taskspec import BEGIN_MARKER, END_MARKER

TEMPLATE = f'''import numpy as np


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    """docstring"""
    {BEGIN_MARKER}
    pass
    {END_MARKER}
'''


def test_a_file_with_markers_is_used_whole():
    source = TEMPLATE.replace("    pass\n", "    return 1\n")
    submission = prepare(source.encode(), TEMPLATE, "im2col", "im2col.py")
    assert submission.mode == "whole" and submission.source == source
    assert submission.student_line(7) == 7


def test_a_file_that_defines_the_entry_is_used_whole():
    source = "import numpy as np\n\ndef im2col(x, fh, fw, stride=1, pad=0):\n    return x\n"
    submission = prepare(source.encode(), TEMPLATE, "im2col", "im2col.py")
    assert submission.mode == "whole" and submission.notes == ["WHOLE_BY_DEFINITION"]


def test_a_block_is_dedented_reindented_and_spliced_between_the_markers():
    block = "        N, C, H, W = input_data.shape\n        if N:\n            return N\n"
    submission = prepare(block.encode(), TEMPLATE, "im2col", "im2col.py")
    assert submission.mode == "block"
    lines = submission.source.split("\n")
    begin = lines.index(f"    {BEGIN_MARKER}")
    assert lines[begin + 1 : begin + 5] == ["    N, C, H, W = input_data.shape", "    if N:", "        return N", f"    {END_MARKER}"]
    compile(submission.source, "solution.py", "exec")
    assert submission.student_line(begin + 2) == 1
    assert submission.student_line(begin + 4) == 3
    assert submission.student_line(1) is None


def test_a_tab_indented_block_joins_a_space_indented_template():
    block = "x = 1\nif x:\n\treturn x\n"
    submission = prepare(block.encode(), TEMPLATE, "im2col", "im2col.py")
    compile(submission.source, "solution.py", "exec")
    assert "        return x" in submission.source


def test_an_empty_block_still_compiles():
    submission = prepare(b"\n\n", TEMPLATE, "im2col", "im2col.py")
    compile(submission.source, "solution.py", "exec")


def test_block_mode_needs_exactly_one_blank():
    two_blanks = TEMPLATE + f"\n\ndef g():\n    {BEGIN_MARKER}\n    pass\n    {END_MARKER}\n"
    assert len(blanks(two_blanks)) == 2
    submission = prepare(b"return 1\n", two_blanks, "im2col", "im2col.py")
    assert submission.source is None and submission.problem == {"code": "BLOCK_MODE_UNAVAILABLE", "blanks": 2}


def test_bom_crlf_and_a_gbk_declaration_are_decoded():
    source = TEMPLATE.replace("pass", "return '卷积'")
    with_bom = codecs.BOM_UTF8 + source.replace("\n", "\r\n").encode("utf-8")
    submission = prepare(with_bom, TEMPLATE, "im2col", "im2col.py")
    assert submission.source == source
    assert set(submission.notes) == {"BOM_REMOVED", "NEWLINES_NORMALISED"}
    gbk = ("# -*- coding: gbk -*-\n" + source).encode("gbk")
    submission = prepare(gbk, TEMPLATE, "im2col", "im2col.py")
    assert "return '卷积'" in submission.source and submission.encoding == "gbk"
    assert "coding: gbk" not in submission.source
    compile(submission.source, "solution.py", "exec")


@pytest.mark.parametrize("data, code", [
    (b"def im2col(x):\n    return '\xff\xfe'\n", "ENCODING_ERROR"),
    (b"#" * (MAX_BYTES + 1), "SUBMISSION_TOO_LARGE"),
])
def test_undecodable_or_oversized_files_are_refused_with_a_code(data, code):
    submission = prepare(data, TEMPLATE, "im2col", "im2col.py")
    assert submission.source is None and submission.problem["code"] == code


@pytest.mark.parametrize("codec", ["no-such-codec", "undefined", "punycode", "rot13", "hex", "base64", "zlib_codec"])
def test_a_declaration_of_a_codec_python_refuses_is_the_students_compile_error(codec):
    # `undefined` and `punycode` raised a bare UnicodeError the grader did not catch: "error",
    # an uncounted attempt. Python says "SyntaxError: encoding problem" for all of them.
    data = f"# -*- coding: {codec} -*-\nx = 1\n".encode("ascii")
    submission = prepare(data, TEMPLATE, "im2col", "im2col.py")
    assert submission.source is None and submission.problem["code"] == "COMPILE_ERROR"
    error = submission.problem["error"]
    assert error["exception"] == "SyntaxError" and codec in error["message"] and error["line"] == 1


@pytest.mark.parametrize("source, exception", [
    ("def im2col(x):\n    return (\n", "SyntaxError"),
    ("def im2col(x):\n\treturn 1\n        pass\n", "TabError"),
    ("def im2col(x):\n    return 1\x00\n", None),
    ("x = " + "-" * 100000 + "1\n", None),  # nested too deeply for the parser
    ("x = 1" + "+1" * 50000 + "\n", "RecursionError"),  # too deeply for the compiler
])
def test_a_module_python_cannot_compile_is_established_on_the_trusted_side(source, exception):
    submission = prepare(source.encode(), TEMPLATE, "im2col", "im2col.py")
    assert submission.source is not None and submission.problem["code"] == "COMPILE_ERROR"
    if exception:
        assert submission.problem["error"]["exception"] == exception


def test_a_compile_error_carries_its_line_and_column_in_the_module():
    submission = prepare(b"def im2col(x):\n    return )\n", TEMPLATE, "im2col", "im2col.py")
    error = submission.problem["error"]
    assert (error["file"], error["line"], error["column"]) == ("im2col.py", 2, 12)
