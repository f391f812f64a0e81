"""Numbers at a point for `derive chain` / `derive jacobian`: accurate, real, or a clear refusal.

The expression tree is walked in mpmath at 30 significant digits and again at 60 (more while they
disagree), so that cancellation (1 - tanh(u)^2 at large u) and periodic functions of large
arguments (sin(1e9)) come out right to double precision. Every intermediate value must be real and
below 1.7e308: an overflow (exp(exp(exp(exp(10))))) or a value outside a function's domain
(log(-3), sqrt(-1)) is a user error naming the quantity, and nothing astronomically large is ever
computed.
"""
from __future__ import annotations

from typing import Mapping

import mpmath
import sympy as sp

from ...errors import DeriveError

DIGITS = (30, 60, 120, 240)   # the mpmath precisions tried, until two agree to AGREE
AGREE = 1e-15
ZERO = 1e-12                  # a value this close to an exact symbolic 0 is that 0


def _short(what: str) -> str:
    return what if len(what) <= 80 else what[:77] + "..."


class _Undefined(Exception):
    """Raised inside the tree walk: the reason, reported with the quantity's name."""


LARGEST = mpmath.mpf("1.7e308")
_MP = {sp.sin: mpmath.sin, sp.cos: mpmath.cos, sp.tan: mpmath.tan, sp.asin: mpmath.asin,
       sp.acos: mpmath.acos, sp.atan: mpmath.atan, sp.sinh: mpmath.sinh, sp.cosh: mpmath.cosh,
       sp.tanh: mpmath.tanh}


def _walk(expr: sp.Basic, values: Mapping[sp.Symbol, float], memo: dict):
    """expr in mpmath at the working precision; every intermediate value real and below 1.7e308."""
    if expr in memo:
        return memo[expr]
    if isinstance(expr, sp.Symbol):
        result = mpmath.mpf(values[expr])
    elif isinstance(expr, sp.Rational):
        result = mpmath.mpf(expr.p) / expr.q
    elif isinstance(expr, sp.Float):
        result = mpmath.mpf(expr)
    elif isinstance(expr, sp.NumberSymbol):
        result = mpmath.pi if expr == sp.pi else mpmath.e if expr == sp.E else mpmath.mpf(expr.evalf(60))
    else:
        args = [_walk(a, values, memo) for a in expr.args] if not isinstance(expr, sp.Piecewise) else []
        result = _apply(expr, args, values, memo)
    if isinstance(result, mpmath.mpc):
        if result.imag != 0:
            raise _Undefined("is not a real number at the point (outside the domain of a function)")
        result = result.real
    if not mpmath.isfinite(result) or abs(result) > LARGEST:
        raise _Undefined("overflows at the point: a value beyond the float range (about 1.8e308) "
                         "is needed")
    memo[expr] = result
    return result


def _apply(expr, args, values, memo):
    if isinstance(expr, sp.Add):
        return mpmath.fsum(args)
    if isinstance(expr, sp.Mul):
        result = mpmath.mpf(1)
        for a in args:
            result *= a
        return result
    if isinstance(expr, sp.Pow):
        base, exp = args
        if base == 0 and exp < 0:
            raise _Undefined("is undefined at the point (division by zero)")
        if base < 0 and not mpmath.isint(exp):
            raise _Undefined("is not a real number at the point (a root of a negative number)")
        if base != 0 and exp * mpmath.log(abs(base)) > 710:
            raise _Undefined("overflows at the point: a value beyond the float range (about 1.8e308) "
                             "is needed")
        return mpmath.power(base, exp)
    if isinstance(expr, sp.exp):
        if args[0] > 710:
            raise _Undefined("overflows at the point: a value beyond the float range (about 1.8e308) "
                             "is needed")
        return mpmath.exp(args[0])
    if isinstance(expr, sp.log):
        if args[0] <= 0:
            raise _Undefined("is undefined or not a real number at the point (the logarithm of a "
                             "number that is not positive)")
        return mpmath.log(args[0]) if len(args) == 1 else mpmath.log(args[0]) / mpmath.log(args[1])
    if isinstance(expr, (sp.asin, sp.acos)) and abs(args[0]) > 1:
        raise _Undefined("is not a real number at the point (arcsin/arccos of a number beyond 1)")
    if isinstance(expr, (sp.sinh, sp.cosh)) and abs(args[0]) > 710:
        raise _Undefined("overflows at the point: a value beyond the float range (about 1.8e308) "
                         "is needed")
    if isinstance(expr, sp.tan) and mpmath.cos(args[0]) == 0:
        raise _Undefined("is undefined at the point (tan at an odd multiple of pi/2)")
    for kind, function in _MP.items():
        if isinstance(expr, kind):
            return function(args[0])
    if type(expr).__name__ == "sigmoid":
        return 1 / (1 + mpmath.exp(-args[0])) if args[0] > -700 else mpmath.exp(args[0])
    if isinstance(expr, sp.Abs):
        return abs(args[0])
    if isinstance(expr, sp.sign):
        return mpmath.sign(args[0])
    if isinstance(expr, sp.Heaviside):
        h0 = args[1] if len(args) > 1 else mpmath.mpf(0.5)
        return mpmath.mpf(1) if args[0] > 0 else (h0 if args[0] == 0 else mpmath.mpf(0))
    if isinstance(expr, sp.Max):
        return max(args)
    if isinstance(expr, sp.Min):
        return min(args)
    if isinstance(expr, sp.Piecewise):
        for piece, condition in expr.args:
            if condition is sp.true or bool(condition.xreplace(
                    {s: sp.Float(values[s], 30) for s in condition.free_symbols})):
                return _walk(piece, values, memo)
        raise _Undefined("is undefined at the point")
    raise _Undefined(f"cannot be evaluated ({type(expr).__name__})")


def value(expr: sp.Expr, values: Mapping[sp.Symbol, float], what: str) -> float:
    """expr at the point, to double precision; a DeriveError if undefined, complex or overflowing.

    mpmath at 30 significant digits, then 60, 120, 240 until two agree to 1e-15 (cancellation
    such as 1 - tanh(u)^2 is caught this way); every intermediate value must be real and below
    1.7e308, so nothing astronomically large is ever computed."""
    expr = sp.sympify(expr)
    missing = [s for s in expr.free_symbols if s not in values]
    if missing:
        names = ", ".join(sorted(str(s) for s in missing))
        raise DeriveError(f"--at gives no value for {_short(names)}", field="--at")
    if expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise DeriveError(f"{_short(what)} is undefined at the point (division by zero?)", field="--at")
    previous = None
    for digits in DIGITS:
        with mpmath.workdps(digits):
            try:
                current = _walk(expr, values, {})
            except _Undefined as exc:
                raise DeriveError(f"{_short(what)} {exc}", field="--at") from None
            except ZeroDivisionError:
                raise DeriveError(f"{_short(what)} is undefined at the point (division by zero)",
                                  field="--at") from None
        if previous is not None and abs(current - previous) <= AGREE * abs(current):
            break
        previous = current
    result = float(current)
    if result != 0 and abs(result) < ZERO and exact_zero(expr):
        return 0.0
    return 0.0 if result == 0 else result


def try_value(expr: sp.Expr, values: Mapping[sp.Symbol, float], digits: int):
    """expr at the point in mpmath at `digits` digits, or None where undefined, complex or too large."""
    with mpmath.workdps(digits):
        try:
            return _walk(expr, values, {})
        except (_Undefined, ZeroDivisionError):
            return None


MODEST = 1e6   # sympy's simplify may work with powers of numbers: only numbers this size go to it


def modest(expr: sp.Expr, operations: int) -> bool:
    """Small enough for sympy's simplify: at most `operations` operations, numbers within 1e-6..1e6."""
    for number in expr.atoms(sp.Number):
        size = abs(float(number))
        if size > MODEST or (size != 0 and size < 1 / MODEST):
            return False
    return sp.count_ops(expr) <= operations


def exact_zero(expr: sp.Expr) -> bool:
    """expr is identically 0 (only small expressions are simplified to find out)."""
    if expr == 0:
        return True
    if modest(expr, 40):
        return sp.simplify(expr) == 0
    return False
