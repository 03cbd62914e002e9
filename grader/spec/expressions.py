"""Safe evaluation of the small integer expressions in task specs.

Shapes, derived sizes and constraints are written as text such as
``(H + 2*pad - FH) // stride + 1``. They are parsed with :mod:`ast` and only
integer arithmetic, comparisons, boolean logic and ``min``/``max``/``abs`` are
allowed, so a spec can never execute code on the trusted side.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from functools import lru_cache

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


@lru_cache(maxsize=None, typed=True)
def _names(text: str | int) -> frozenset[str]:
    return frozenset(node.id for node in ast.walk(parse(text)) if isinstance(node, ast.Name)) - set(_FUNCTIONS)


def names(text: str | int) -> set[str]:
    """The variable names an expression refers to."""
    return set(_names(text))


def evaluate(text: str | int, env: Mapping[str, int]):
    return _compiled(text)(env)


@lru_cache(maxsize=None, typed=True)
def _compiled(text: str | int) -> Callable[[Mapping[str, int]], object]:
    """The checked tree turned once into nested closures: a draw evaluates the same few
    expressions thousands of times, and walking the tree each time was most of its cost."""
    return _closure(parse(text), str(text))


def _check(node: ast.AST, text: str) -> None:
    allowed = (ast.Constant, ast.Name, ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp, ast.Call, ast.IfExp)
    for child in ast.walk(node):
        if isinstance(child, ast.expr) and not isinstance(child, allowed):
            raise ExpressionError(f"{type(child).__name__} is not allowed in expression {text!r}")
        if isinstance(child, ast.Constant) and (isinstance(child.value, bool) or not isinstance(child.value, int)):
            raise ExpressionError(f"only integer constants are allowed in expression {text!r}")
        if isinstance(child, ast.Call) and not (
            isinstance(child.func, ast.Name) and child.func.id in _FUNCTIONS and not child.keywords
        ):
            raise ExpressionError(f"only min(), max() and abs() may be called in expression {text!r}")
        if isinstance(child, ast.BinOp) and type(child.op) not in _BINARY:
            raise ExpressionError(f"operator {type(child.op).__name__} is not allowed in expression {text!r}")


def _closure(node: ast.expr, text: str) -> Callable[[Mapping[str, int]], object]:
    if isinstance(node, ast.Constant):
        value = node.value
        return lambda env: value
    if isinstance(node, ast.Name):
        name = node.id

        def lookup(env):
            try:
                return env[name]
            except KeyError:
                raise ExpressionError(f"unknown name {name!r} in expression {text!r}") from None
        return lookup
    if isinstance(node, ast.BinOp):
        left, right, operation = _closure(node.left, text), _closure(node.right, text), _BINARY[type(node.op)]
        if isinstance(node.op, (ast.FloorDiv, ast.Mod)):
            def divide(env):
                divisor = right(env)
                if divisor == 0:
                    raise ExpressionError(f"division by zero in expression {text!r}")
                return operation(left(env), divisor)
            return divide
        if isinstance(node.op, ast.Pow):
            def power(env):
                base, exponent = left(env), right(env)
                if exponent < 0 or exponent > 64:
                    raise ExpressionError(f"exponent out of range in expression {text!r}")
                return operation(base, exponent)
            return power
        return lambda env: operation(left(env), right(env))
    if isinstance(node, ast.UnaryOp):
        operand = _closure(node.operand, text)
        if isinstance(node.op, ast.USub):
            return lambda env: -operand(env)
        if isinstance(node.op, ast.UAdd):
            return lambda env: +operand(env)
        if isinstance(node.op, ast.Not):
            return lambda env: not operand(env)
        raise ExpressionError(f"operator {type(node.op).__name__} is not allowed in expression {text!r}")
    if isinstance(node, ast.Compare):
        for op in node.ops:
            if type(op) not in _COMPARE:
                raise ExpressionError(f"comparison {type(op).__name__} is not allowed in expression {text!r}")
        first = _closure(node.left, text)
        chain = [(_COMPARE[type(op)], _closure(comparator, text)) for op, comparator in zip(node.ops, node.comparators)]

        def compare(env):
            left = first(env)
            for operation, comparator in chain:
                right = comparator(env)
                if not operation(left, right):
                    return False
                left = right
            return True
        return compare
    if isinstance(node, ast.BoolOp):
        values = [_closure(value, text) for value in node.values]
        if isinstance(node.op, ast.And):
            return lambda env: all(value(env) for value in values)
        return lambda env: any(value(env) for value in values)
    if isinstance(node, ast.IfExp):
        test, body, orelse = _closure(node.test, text), _closure(node.body, text), _closure(node.orelse, text)
        return lambda env: body(env) if test(env) else orelse(env)
    if isinstance(node, ast.Call):
        function, arguments = _FUNCTIONS[node.func.id], [_closure(arg, text) for arg in node.args]
        return lambda env: function(*(argument(env) for argument in arguments))
    raise ExpressionError(f"{type(node).__name__} is not allowed in expression {text!r}")
