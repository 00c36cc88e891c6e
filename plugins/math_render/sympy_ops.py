"""The computations behind the ``math`` tool, run as ``python -m plugins.math_render.sympy_ops`` with a JSON
request on stdin and a JSON answer on stdout, under a memory limit (the caller enforces the time limit)."""

from __future__ import annotations

import json
import random
import resource
import sys

import mpmath
import sympy

from plugins.math_render.sympy_safe import NAME, ExpressionError, evaluate, names_in, parse, to_sympy

OPERATIONS = ("simplify", "solve", "check_identity", "differentiate", "integrate")
MEMORY_LIMIT_BYTES = 1 << 30
MAX_MATRIX_SIZE = 8
MAX_TRIALS = 20
MAX_RESULT_CHARS = 2000
TOLERANCE = 1e-9


def _shown(value) -> str:
    text = sympy.sstr(value)
    return text if len(text) <= MAX_RESULT_CHARS else text[:MAX_RESULT_CHARS] + "…"


def _the_variable(expr, variable: str | None):
    if variable:
        if not NAME.fullmatch(variable):
            raise ExpressionError(f"variable {variable!r} is not a name")
        return sympy.Symbol(variable)
    free = sorted(expr.free_symbols, key=str)
    if len(free) != 1:
        raise ExpressionError(f"say which variable: the expression has {len(free)} free symbols "
                              f"({', '.join(map(str, free)) or 'none'})")
    return free[0]


def _equation(expression: str):
    """``lhs = rhs`` (or ``==``) as lhs - rhs; a plain expression as it is."""
    parts = expression.replace("==", "=").split("=")
    if len(parts) == 2 and not parts[0].endswith(("<", ">", "!")):
        return to_sympy(parse(parts[0])) - to_sympy(parse(parts[1]))
    if len(parts) > 2:
        raise ExpressionError("an equation has one '='")
    return to_sympy(parse(expression))


def _random_value(size: int | None, rng: random.Random):
    if size is None:
        return mpmath.mpf(rng.uniform(0.5, 2.0))
    return mpmath.matrix([[rng.gauss(0, 1) / size ** 0.5 for _ in range(size)] for _ in range(size)])


def _check_identity(lhs: str, rhs: str, matrices: dict, trials: int) -> dict:
    left, right = parse(lhs), parse(rhs)
    sizes = {}
    for name, size in (matrices or {}).items():
        if not isinstance(size, int) or not 1 <= size <= MAX_MATRIX_SIZE:
            raise ExpressionError(f"matrix {name!r}: size must be an integer from 1 to {MAX_MATRIX_SIZE}")
        sizes[str(name)] = size
    rng, worst = random.Random(0), mpmath.mpf(0)
    for trial in range(1, trials + 1):
        values = {name: _random_value(sizes.get(name), rng) for name in names_in(left) | names_in(right)}
        a, b = evaluate(left, values), evaluate(right, values)
        if isinstance(a, mpmath.matrix) != isinstance(b, mpmath.matrix):
            raise ExpressionError("one side is a matrix and the other a number")
        diff = mpmath.mnorm(a - b, 1) if isinstance(a, mpmath.matrix) else abs(a - b)
        scale = max(mpmath.mpf(1), mpmath.mnorm(a, 1) if isinstance(a, mpmath.matrix) else abs(a))
        worst = max(worst, diff / scale)
        if diff / scale > TOLERANCE:
            shown = {name: mpmath.nstr(v, 6) for name, v in values.items()}
            return {"holds": False, "trials": trial, "max_relative_difference": float(diff / scale),
                    "counterexample": shown, "lhs_value": mpmath.nstr(a, 8), "rhs_value": mpmath.nstr(b, 8)}
    return {"holds": True, "trials": trials, "max_relative_difference": float(worst)}


def compute(operation: str, expression: str, rhs: str | None = None, variable: str | None = None,
            matrices: dict | None = None, trials: int = 5) -> dict:
    """Do one operation (in this process, no time limit); returns a JSON-ready dict or raises ExpressionError."""
    if operation == "check_identity":
        if not rhs:
            raise ExpressionError("check_identity needs 'rhs', the right-hand side")
        with mpmath.workdps(30):
            return _check_identity(expression, rhs, matrices or {}, max(1, min(trials, MAX_TRIALS)))
    if operation == "simplify":
        result = sympy.simplify(to_sympy(parse(expression), matrices))
        return {"result": _shown(result), "latex": sympy.latex(result)}
    if operation == "solve":
        expr = _equation(expression)
        solutions = sympy.solve(expr, _the_variable(expr, variable), dict=False)
        return {"solutions": [_shown(s) for s in solutions], "latex": [sympy.latex(s) for s in solutions]}
    if operation in ("differentiate", "integrate"):
        expr = to_sympy(parse(expression))
        var = _the_variable(expr, variable)
        result = sympy.diff(expr, var) if operation == "differentiate" else sympy.integrate(expr, var)
        return {"result": _shown(result), "latex": sympy.latex(result)}
    raise ExpressionError(f"unknown operation {operation!r}; one of {', '.join(OPERATIONS)}")


def main() -> None:
    """Answer one request: {"status": "ok", "result": {...}} or {"status": "invalid"|"error", "message": ...}."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))
    try:
        answer = {"status": "ok", "result": compute(**json.load(sys.stdin))}
    except ExpressionError as exc:
        answer = {"status": "invalid", "message": str(exc)}
    except MemoryError:
        answer = {"status": "error", "message": "ran out of memory"}
    except Exception as exc:  # sympy's own failures are answers for the caller
        answer = {"status": "error", "message": f"{type(exc).__name__}: {exc}"}
    json.dump(answer, sys.stdout)


if __name__ == "__main__":
    main()
