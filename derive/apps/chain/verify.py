"""Trust, but verify, for `derive chain` and `derive jacobian`: finite differences of the function itself."""
from __future__ import annotations

import math

import mpmath
import sympy as sp

from ...errors import VerificationError


def _mp_sigmoid(a):
    return 1 / (1 + mpmath.exp(-a))


FD_DIGITS = 50          # command-line partials: central differences in mpmath at 50 digits,
FD_RELATIVE_STEP = 1e-15   # a step relative to the variable's magnitude,
FD_AGREE = 1e-8         # and agreement to 1e-8 of the larger of the two magnitudes


def check_partials(function, variables, point: dict, partials: dict, where: str) -> None:
    """Central finite differences of `function` (a sympy expression in `variables`) at `point`
    must agree with each derived partial value in `partials` (variable -> value).

    The differences are taken in mpmath at 50 digits with a step of 1e-15 relative to the variable
    (1e-15 for a variable at 0), so periodic functions of large arguments (sin at 1e9) and values
    far from 1 are decided exactly where double precision cannot. A variable at a kink (the
    one-sided differences disagree: |x| at 0, max, relu) or where the function is not defined on
    both sides is not checked.
    """
    f = sp.lambdify(variables, function, modules=[{"sigmoid": _mp_sigmoid}, "mpmath"])
    # the largest magnitude in sight: a number of the function or a value of the point
    sizes = [abs(float(n)) for n in function.atoms(sp.Number)] + [abs(float(point[v])) for v in variables]
    largest = max([1.0] + [s for s in sizes if math.isfinite(s)])
    errors = []
    for i, v in enumerate(variables):
        if v not in partials or partials[v] is None:
            continue
        x, g = float(point[v]), float(partials[v])
        h = FD_RELATIVE_STEP * (abs(x) if x != 0 else 1)
        if g != 0:   # a function that varies fast (sin(1e295 x)) needs a step below its own scale
            with mpmath.workdps(FD_DIGITS):
                try:
                    f0 = abs(mpmath.mpf(complex(f(*[mpmath.mpf(float(point[u])) for u in variables])).real))
                except (ValueError, TypeError, ZeroDivisionError, OverflowError):
                    f0 = 1
            h = min(h, FD_RELATIVE_STEP * float(max(1, f0)) / abs(g))
        # enough digits that x + h differs from x in the last 35 of them, however small x is beside
        # the rest of the function (x + pi at x = 1e-235, x + 1e104 at 0); doubled while they disagree
        digits = FD_DIGITS + max(0, -math.floor(math.log10(h))) + math.ceil(math.log10(largest))
        for attempt in range(4):
            outcome = _central(f, variables, point, i, h, float(partials[v]), digits << attempt)
            if outcome is None or outcome is True:
                break
        if outcome not in (None, True):
            errors.append(f"d/d{v}: derived {float(partials[v]):.17g}, finite differences {outcome:.17g}")
    if errors:
        raise VerificationError(f"internal check failed for {where}: " + "; ".join(errors[:3]))


def _central(f, variables, point, i, h, g, digits):
    """True if the central difference at `digits` digits agrees with g; None where there is nothing
    to compare (not defined on both sides, or a kink); else the difference quotient."""
    with mpmath.workdps(digits):
        base = [mpmath.mpf(float(point[u])) for u in variables]

        def at(shift):
            moved = list(base)
            moved[i] += shift
            result = f(*moved)
            if isinstance(result, mpmath.mpc):
                if result.imag != 0:
                    raise ValueError("not real")
                result = result.real
            return mpmath.mpf(result)
        try:
            f0, up, down = at(0), at(mpmath.mpf(h)), at(-mpmath.mpf(h))
        except (ValueError, TypeError, ZeroDivisionError, OverflowError):
            return None   # the function is not defined on both sides of the point
        right, left = (up - f0) / h, (f0 - down) / h
        if abs(right - left) > 1e-6 * max(abs(right), abs(left)):
            return None   # a kink: no derivative to compare with
        fd = (up - down) / (2 * h)
        # relative agreement, and an absolute slack of a few steps: where the second derivative
        # jumps (y |y| at 0) the central difference is off by about h
        if abs(fd - g) <= FD_AGREE * max(abs(fd), abs(g)) + 10 * h * max(1, abs(g)):
            return True
        return float(fd)
