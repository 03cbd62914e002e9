"""Safe evaluation of the small integer expressions in task specs.

Shapes, derived sizes and constraints are written as text such as
``(H + 2*pad - FH) // stride + 1``. They are parsed with :mod:`ast` and only
integer arithmetic, comparisons, boolean logic and ``min``/``max``/``abs`` are
allowed, so a spec can never execute code on the trusted side.
"""

from __future__ import annotations

import ast
import operator
from functools import lru_cache
from collections.abc import Mapping

_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_COMPARE = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_FUNCTIONS = {"min": min, "max": max, "abs": abs}


class ExpressionError(ValueError):
    """An expression in a spec is malformed or uses something not allowed."""


# A run evaluates the same few expressions hundreds of times; the tree is never modified.
@lru_cache(maxsize=None, typed=True)
def parse(text: str | int) -> ast.expr:
    if isinstance(text, bool):
        raise ExpressionError(f"expected an integer expression, got {text!r}")
    if isinstance(text, int):
        return ast.Constant(text)
    try:
        tree = ast.parse(str(text), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"cannot parse expression {text!r}: {exc.msg}") from None
    _check(tree.body, str(text))
    return tree.body


def names(text: str | int) -> set[str]:
    """The variable names an expression refers to."""
    return {node.id for node in ast.walk(parse(text)) if isinstance(node, ast.Name)} - set(_FUNCTIONS)


def evaluate(text: str | int, env: Mapping[str, int]):
    return _eval(parse(text), env, str(text))


def _check(node: ast.AST, text: str) -> None:
    allowed = (ast.Constant, ast.Name, ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp, ast.Call, ast.IfExp)
    for child in ast.walk(node):
        if isinstance(child, ast.expr) and not isinstance(child, allowed):
            raise ExpressionError(f"{type(child).__name__} is not allowed in expression {text!r}")
        if isinstance(child, ast.Constant) and (isinstance(child.value, bool) or not isinstance(child.value, int)):
            raise ExpressionError(f"only integer constants are allowed in expression {text!r}")
        if isinstance(child, ast.Call) and not (isinstance(child.func, ast.Name) and child.func.id in _FUNCTIONS and not child.keywords):
            raise ExpressionError(f"only min(), max() and abs() may be called in expression {text!r}")
        if isinstance(child, ast.BinOp) and type(child.op) not in _BINARY:
            raise ExpressionError(f"operator {type(child.op).__name__} is not allowed in expression {text!r}")


def _eval(node: ast.expr, env: Mapping[str, int], text: str):
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in env:
            raise ExpressionError(f"unknown name {node.id!r} in expression {text!r}")
        return env[node.id]
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left, env, text), _eval(node.right, env, text)
        if isinstance(node.op, (ast.FloorDiv, ast.Mod)) and right == 0:
            raise ExpressionError(f"division by zero in expression {text!r}")
        if isinstance(node.op, ast.Pow) and (right < 0 or right > 64):
            raise ExpressionError(f"exponent out of range in expression {text!r}")
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp):
        value = _eval(node.operand, env, text)
        if isinstance(node.op, ast.USub):
            return -value
        if isinstance(node.op, ast.UAdd):
            return +value
        if isinstance(node.op, ast.Not):
            return not value
        raise ExpressionError(f"operator {type(node.op).__name__} is not allowed in expression {text!r}")
    if isinstance(node, ast.Compare):
        left = _eval(node.left, env, text)
        for op, comparator in zip(node.ops, node.comparators):
            if type(op) not in _COMPARE:
                raise ExpressionError(f"comparison {type(op).__name__} is not allowed in expression {text!r}")
            right = _eval(comparator, env, text)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.BoolOp):
        values = (_eval(value, env, text) for value in node.values)
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.IfExp):
        return _eval(node.body if _eval(node.test, env, text) else node.orelse, env, text)
    if isinstance(node, ast.Call):
        return _FUNCTIONS[node.func.id](*(_eval(arg, env, text) for arg in node.args))
    raise ExpressionError(f"{type(node).__name__} is not allowed in expression {text!r}")
