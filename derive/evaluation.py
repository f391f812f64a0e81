"""Numbers at a point for `derive chain` / `derive jacobian`: accurate, real, or a clear refusal.

An expression is evaluated twice. First in double precision with every floating-point exception
raised: an overflow (exp(exp(exp(exp(10))))) or a value outside the domain (log(-3), sqrt(-1)) is
reported as a user error before anything costly runs, and it bounds the magnitudes the second pass
meets. Then with mpmath at 30 significant digits and again at 60 (more while they disagree), so that
cancellation (1 - tanh(u)^2 at large u) and periodic functions of large arguments (sin(1e9)) come
out right to double precision.
"""
from __future__ import annotations

import math
from typing import Callable, Mapping

import mpmath
import numpy as np
import sympy as sp

from .errors import DeriveError

DIGITS = (30, 60, 120, 240)   # the mpmath precisions tried, until two agree to AGREE
AGREE = 1e-15
ZERO = 1e-12                  # a value this close to an exact symbolic 0 is that 0


def _float_sigmoid(a):
    a = np.float64(a)
    if a >= 0:
        return 1.0 / (1.0 + np.exp(-a))
    e = np.exp(a)
    return e / (1.0 + e)


def _mp_sigmoid(a):
    return 1 / (1 + mpmath.exp(-a))


FLOAT_FUNCTIONS = {"sigmoid": _float_sigmoid}
MP_FUNCTIONS = {"sigmoid": _mp_sigmoid}
_COMPILED: dict = {}


def compiled(expr: sp.Expr, variables: tuple[sp.Symbol, ...]) -> tuple[Callable, Callable]:
    """The expression as a double-precision function and as an mpmath function of `variables`."""
    key = (expr, variables)
    if key not in _COMPILED:
        _COMPILED[key] = (sp.lambdify(variables, expr, modules=[FLOAT_FUNCTIONS, "numpy"]),
                          sp.lambdify(variables, expr, modules=[MP_FUNCTIONS, "mpmath"]))
    return _COMPILED[key]


def _short(what: str) -> str:
    return what if len(what) <= 80 else what[:77] + "..."


def float_value(function: Callable, args: list[float], what: str) -> float:
    """Double precision with every floating-point exception raised, as a DeriveError naming `what`."""
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            result = complex(function(*[np.float64(a) for a in args]))
    except FloatingPointError as exc:
        if "overflow" in str(exc):
            raise DeriveError(f"{_short(what)} overflows at the point: a value beyond the float range "
                              "(about 1.8e308) is needed", field="--at") from None
        if "divide" in str(exc):
            raise DeriveError(f"{_short(what)} is undefined at the point (division by zero)",
                              field="--at") from None
        raise DeriveError(f"{_short(what)} is not a real number at the point (outside the domain of "
                          "a function)", field="--at") from None
    except (ZeroDivisionError, ValueError, TypeError, OverflowError):
        raise DeriveError(f"{_short(what)} is undefined or not a real number at the point", field="--at") from None
    if result.imag != 0:
        raise DeriveError(f"{_short(what)} is not a real number at the point", field="--at")
    if not math.isfinite(result.real):
        raise DeriveError(f"{_short(what)} is undefined at the point (division by zero or overflow)",
                          field="--at")
    return result.real


def mp_value(function: Callable, args: list[float], digits: int):
    """The mpmath value at `digits` significant digits (an mpf), or None where undefined or complex."""
    with mpmath.workdps(digits):
        try:
            result = function(*[mpmath.mpf(a) for a in args])
        except (ZeroDivisionError, ValueError, TypeError, OverflowError):
            return None
        if isinstance(result, mpmath.mpc):
            if result.imag != 0:
                return None
            result = result.real
        if isinstance(result, (int, float)):
            result = mpmath.mpf(result)
        if not isinstance(result, mpmath.mpf) or not mpmath.isfinite(result):
            return None
        return +result


def value(expr: sp.Expr, values: Mapping[sp.Symbol, float], what: str) -> float:
    """expr at the point, to double precision; a DeriveError if undefined, complex or overflowing."""
    expr = sp.sympify(expr)
    missing = [s for s in expr.free_symbols if s not in values]
    if missing:
        names = ", ".join(sorted(str(s) for s in missing))
        raise DeriveError(f"--at gives no value for {names}", field="--at")
    variables = tuple(sorted(expr.free_symbols, key=str))
    if expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise DeriveError(f"{_short(what)} is undefined at the point (division by zero?)", field="--at")
    args = [float(values[s]) for s in variables]
    as_float, as_mp = compiled(expr, variables)
    float_value(as_float, args, what)
    previous = None
    for digits in DIGITS:
        current = mp_value(as_mp, args, digits)
        if current is None:
            raise DeriveError(f"{_short(what)} is undefined or not a real number at the point", field="--at")
        if previous is not None and abs(current - previous) <= AGREE * abs(current):
            break
        previous = current
    result = float(current)
    if result != 0 and abs(result) < ZERO and exact_zero(expr):
        return 0.0
    if not math.isfinite(result):
        raise DeriveError(f"{_short(what)} overflows at the point: beyond the float range (about 1.8e308)",
                          field="--at")
    return 0.0 if result == 0 else result


def exact_zero(expr: sp.Expr) -> bool:
    """expr is identically 0 (small expressions are simplified; larger ones only expanded)."""
    if expr == 0:
        return True
    if sp.count_ops(expr) <= 40:
        return sp.simplify(expr) == 0
    return sp.expand(expr) == 0
