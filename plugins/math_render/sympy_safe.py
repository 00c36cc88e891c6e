"""Untrusted formulas (from users and LLMs) read without ``eval``: Python syntax checked against a whitelist with
``ast``, then built into SymPy expressions, or evaluated numerically with mpmath (scalars and square matrices)."""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable

import mpmath
import sympy

MAX_EXPRESSION_LENGTH = 500
MAX_EXPONENT = 1000
MAX_NODES = 300
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,19}")

CONSTANTS = {"pi": sympy.pi, "E": sympy.E, "I": sympy.I, "oo": sympy.oo}
SCALAR_FUNCTIONS = {
    "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan, "asin": sympy.asin, "acos": sympy.acos,
    "atan": sympy.atan, "sinh": sympy.sinh, "cosh": sympy.cosh, "tanh": sympy.tanh, "exp": sympy.exp,
    "log": sympy.log, "sqrt": sympy.sqrt, "abs": sympy.Abs, "Abs": sympy.Abs, "sign": sympy.sign,
    "floor": sympy.floor, "ceiling": sympy.ceiling, "factorial": sympy.factorial, "gamma": sympy.gamma,
    "erf": sympy.erf, "re": sympy.re, "im": sympy.im, "conjugate": sympy.conjugate, "binomial": sympy.binomial,
    "Min": sympy.Min, "Max": sympy.Max,
}
MATRIX_FUNCTIONS = {"det": sympy.det, "trace": sympy.trace, "tr": sympy.trace, "inv": lambda m: m.inverse(),
                    "transpose": sympy.transpose}
FUNCTIONS = {**SCALAR_FUNCTIONS, **MATRIX_FUNCTIONS}

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.Pow: operator.pow, ast.MatMult: operator.mul}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}


class ExpressionError(ValueError):
    """The formula is not allowed or cannot be read; the message says why."""


def parse(text: str) -> ast.expr:
    """The syntax tree of ``text`` (``^`` read as power) once every node passes the whitelist."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("the expression is empty")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(f"the expression is {len(text)} characters long (at most {MAX_EXPRESSION_LENGTH})")
    try:
        tree = ast.parse(text.strip().replace("^", "**"), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"not a formula in Python syntax: {exc.msg}") from None
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise ExpressionError(f"the expression has {len(nodes)} parts (at most {MAX_NODES})")
    for node in nodes:
        _check(node)
    return tree.body


def _check(node: ast.AST) -> None:
    if isinstance(node, ast.Expression | ast.Load) or type(node) in _BINARY or type(node) in _UNARY:
        return
    if isinstance(node, ast.BinOp | ast.UnaryOp):
        if type(node.op) not in _BINARY and type(node.op) not in _UNARY:
            raise ExpressionError(f"operator {type(node.op).__name__} is not allowed")
        exponent = node.right if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow) else None
        if isinstance(exponent, ast.Constant) and abs(exponent.value) > MAX_EXPONENT:
            raise ExpressionError(f"exponent {exponent.value} is too large (at most {MAX_EXPONENT})")
        return
    if isinstance(node, ast.Constant):
        if type(node.value) not in (int, float, complex):
            raise ExpressionError(f"only numbers are allowed as constants, not {type(node.value).__name__}")
        return
    if isinstance(node, ast.Name):
        if not NAME.fullmatch(node.id):
            raise ExpressionError(f"name {node.id!r} is not allowed (letters, digits and '_', starting with a letter)")
        return
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
            raise ExpressionError(f"function {name!r} is not allowed; allowed: {', '.join(sorted(FUNCTIONS))}")
        if node.keywords or not node.args or any(isinstance(a, ast.Starred) for a in node.args):
            raise ExpressionError(f"{node.func.id}() takes plain positional arguments")
        return
    raise ExpressionError(f"{type(node).__name__} is not allowed in a formula")


def _walk(node: ast.expr, name: Callable, number: Callable, call: Callable):
    """Evaluate a checked tree bottom-up with the given leaves and calls."""
    if isinstance(node, ast.Constant):
        return number(node.value)
    if isinstance(node, ast.Name):
        return name(node.id)
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_walk(node.operand, name, number, call))
    if isinstance(node, ast.BinOp):
        left, right = _walk(node.left, name, number, call), _walk(node.right, name, number, call)
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.Call):
        return call(node.func.id, [_walk(a, name, number, call) for a in node.args])
    raise ExpressionError(f"{type(node).__name__} is not allowed in a formula")


def to_sympy(tree: ast.expr, matrices: dict[str, int] | None = None):
    """A SymPy expression: names become symbols (``matrices`` names n×n matrix symbols), numbers exact."""
    matrices = matrices or {}

    def name(identifier: str):
        if identifier in matrices:
            return sympy.MatrixSymbol(identifier, matrices[identifier], matrices[identifier])
        return CONSTANTS.get(identifier) or sympy.Symbol(identifier)

    def number(value):
        return sympy.nsimplify(value) if isinstance(value, float) else sympy.sympify(value)

    return _walk(tree, name, number, lambda f, args: FUNCTIONS[f](*args))


_NUMERIC_SCALAR = {"abs": abs, "Abs": abs, "conjugate": mpmath.conj, "ceiling": mpmath.ceil, "Min": min, "Max": max,
                   "binomial": mpmath.binomial, "asin": mpmath.asin, "acos": mpmath.acos, "atan": mpmath.atan}
_NUMERIC_MATRIX = {"exp": mpmath.expm, "log": mpmath.logm, "sqrt": mpmath.sqrtm, "sin": mpmath.sinm,
                   "cos": mpmath.cosm, "det": mpmath.det, "inv": lambda m: m ** -1, "transpose": lambda m: m.T,
                   "trace": lambda m: mpmath.fsum(m[i, i] for i in range(m.rows)),
                   "tr": lambda m: mpmath.fsum(m[i, i] for i in range(m.rows))}


def _numeric_call(function: str, args: list):
    if isinstance(args[0], mpmath.matrix) and function in _NUMERIC_MATRIX:
        return _NUMERIC_MATRIX[function](*args)
    if function in _NUMERIC_SCALAR:
        return _NUMERIC_SCALAR[function](*args)
    if hasattr(mpmath, function):
        return getattr(mpmath, function)(*args)
    raise ExpressionError(f"{function}() cannot be evaluated numerically")


def evaluate(tree: ast.expr, values: dict[str, object]):
    """The numeric value (mpmath number or matrix) of a checked tree with ``values`` for its names."""
    numeric_constants = {"pi": mpmath.pi, "E": mpmath.e, "I": mpmath.j, "oo": mpmath.inf}

    def name(identifier: str):
        if identifier in values:
            return values[identifier]
        if identifier in numeric_constants:
            return +numeric_constants[identifier]
        raise ExpressionError(f"no value for {identifier!r}")

    return _walk(tree, name, mpmath.mpmathify, _numeric_call)


def names_in(tree: ast.expr) -> set[str]:
    """The free names of a checked tree (function names and constants excluded)."""
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id not in FUNCTIONS
            and n.id not in CONSTANTS}
