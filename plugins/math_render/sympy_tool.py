"""The ``math`` tool: simplify, solve, differentiate, integrate, or check an identity at random points (square
matrices allowed, e.g. det(exp(A)) = exp(trace(A))). The input is checked here; SymPy runs in a child Python
process that is killed after a time limit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from plugins.math_render.sympy_ops import MAX_TRIALS, OPERATIONS
from plugins.math_render.sympy_safe import NAME, ExpressionError, parse
from plugins.tools import Tool, ToolResult

TIMEOUT_SECONDS = 15.0
PROJECT_ROOT = Path(__file__).resolve().parents[2]

PARAMETERS = {
    "type": "object",
    "properties": {
        "operation": {"type": "string", "enum": list(OPERATIONS), "description": "What to do with the expression."},
        "expression": {"type": "string", "description": (
            "A formula in Python/SymPy syntax (** or ^ for powers), e.g. 'sin(x)**2 + cos(x)**2'. For solve an "
            "equation 'x**2 = 4' or an expression equal to zero; for check_identity the left-hand side.")},
        "rhs": {"type": "string", "description": "check_identity: the right-hand side, e.g. 'exp(trace(A))'."},
        "variable": {"type": "string", "description": (
            "solve, differentiate, integrate: the variable (default: the expression's only free symbol).")},
        "matrices": {"type": "object", "description": (
            "check_identity: names that stand for random square matrices and their size, e.g. {\"A\": 3}; "
            "other names are random numbers.")},
        "trials": {"type": "integer", "description": f"check_identity: random points to try (default 5, "
                                                     f"at most {MAX_TRIALS})."},
    },
    "required": ["operation", "expression"],
    "additionalProperties": False,
}


def _check_input(expression: str, rhs: str | None, variable: str | None) -> None:
    """Raise ExpressionError unless every formula passes the whitelist (an equation's '=' allowed)."""
    for text in (expression, rhs):
        if text is not None:
            parse(text.replace("==", "=").replace("=", "-"))
    if variable is not None and not NAME.fullmatch(variable):
        raise ExpressionError(f"variable {variable!r} is not a name")


def run_limited(request: dict, timeout: float = TIMEOUT_SECONDS) -> dict:
    """``sympy_ops.compute(**request)`` in a child Python; its JSON answer, or status "timeout"/"error"."""
    try:
        done = subprocess.run([sys.executable, "-m", "plugins.math_render.sympy_ops"], input=json.dumps(request),
                              capture_output=True, text=True, timeout=timeout, cwd=PROJECT_ROOT)
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "message": f"gave up after {timeout:g} s"}
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError:
        reason = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        return {"status": "error", "message": f"the computation stopped without an answer ({reason[0]})"}


def _describe(request: dict, result: dict) -> str:
    expression = request["expression"]
    if request["operation"] == "check_identity":
        claim = f"{expression} = {request['rhs']}"
        if result["holds"]:
            return (f"{claim} holds at {result['trials']} random points (largest relative difference "
                    f"{result['max_relative_difference']:.1e}).")
        return (f"{claim} does NOT hold: at {result['counterexample']} the left side is {result['lhs_value']} "
                f"and the right side {result['rhs_value']}.")
    if request["operation"] == "solve":
        return f"solutions of {expression}: " + (", ".join(result["solutions"]) or "none found")
    return f"{request['operation']}({expression}) = {result['result']}"


def math_tool(operation: str, expression: str, rhs: str | None = None, variable: str | None = None,
              matrices: dict | None = None, trials: int = 5, timeout: float = TIMEOUT_SECONDS) -> ToolResult:
    """Check the input, compute in a child process with a time limit, and say what came out."""
    request = {"operation": operation, "expression": expression, "rhs": rhs, "variable": variable,
               "matrices": matrices, "trials": trials}
    try:
        _check_input(expression, rhs, variable)
    except ExpressionError as exc:
        return ToolResult(False, f"math: {exc}", {"error": str(exc), "status": "invalid"})
    answer = run_limited(request, timeout)
    if answer.get("status") != "ok":
        message = answer.get("message", "no answer")
        return ToolResult(False, f"math: {message}", {"error": message, "status": answer.get("status")})
    return ToolResult(True, _describe(request, answer["result"]), answer["result"])


MATH_TOOL = Tool("math", "Exact and numeric mathematics with SymPy: simplify, solve, differentiate, integrate, or "
                         "check an identity at random points (numbers or square matrices).", PARAMETERS, math_tool)
