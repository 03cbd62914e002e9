import pytest

from grader.spec import expressions
from grader.spec.expressions import ExpressionError


@pytest.mark.parametrize("text, env, value", [
    ("(H + 2*pad - FH) // stride + 1", {"H": 7, "pad": 1, "FH": 3, "stride": 2}, 4),
    ("N*OH*OW", {"N": 2, "OH": 3, "OW": 4}, 24),
    ("H + 2*pad >= FH", {"H": 3, "pad": 1, "FH": 5}, True),
    ("H + 2*pad >= FH", {"H": 2, "pad": 1, "FH": 5}, False),
    ("min(H, W) > 1 and stride < 3", {"H": 2, "W": 5, "stride": 2}, True),
    ("max(1, H - 4)", {"H": 3}, 1),
    (7, {}, 7),
])
def test_evaluates_integer_arithmetic(text, env, value):
    assert expressions.evaluate(text, env) == value


@pytest.mark.parametrize("text", [
    "__import__('os').system('true')",
    "open('/etc/passwd')",
    "H.__class__",
    "[H for H in range(3)]",
    "lambda: 1",
    "1.5 * H",
    "'a' * 3",
    "H[0]",
])
def test_refuses_anything_but_integer_arithmetic(text):
    with pytest.raises(ExpressionError):
        expressions.evaluate(text, {"H": 3})


def test_unknown_names_and_division_by_zero_are_errors():
    assert expressions.names("(H + 2*pad - FH) // stride + 1") == {"H", "pad", "FH", "stride"}
    with pytest.raises(ExpressionError, match="unknown name"):
        expressions.evaluate("H + Q", {"H": 1})
    with pytest.raises(ExpressionError, match="division by zero"):
        expressions.evaluate("H // stride", {"H": 1, "stride": 0})
