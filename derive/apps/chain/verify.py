"""Trust, but verify, for `derive chain` and `derive jacobian`: finite differences of the function itself."""
from __future__ import annotations

import sympy as sp

from ...errors import VerificationError


def check_partials(function, variables, point: dict, partials: dict, where: str) -> None:
    """Central finite differences of `function` (a sympy expression in `variables`) at `point`
    must agree with each derived partial value in `partials` (variable -> value).

    A variable at a kink (the one-sided differences disagree: |x| at 0, max, relu) is not checked.
    """
    f = sp.lambdify(variables, function, modules="math")
    base = [float(point[v]) for v in variables]
    errors = []
    for i, v in enumerate(variables):
        if v not in partials or partials[v] is None:
            continue
        h = 1e-6 * max(1.0, abs(base[i]))

        def at(shift: float) -> float:
            x = list(base)
            x[i] += shift
            return float(f(*x))
        try:
            f0, up, down = at(0.0), at(h), at(-h)
        except (ValueError, ZeroDivisionError, OverflowError):
            continue   # the function is not defined on both sides of the point
        right, left = (up - f0) / h, (f0 - down) / h
        if abs(right - left) > 1e-3 * max(1.0, abs(right), abs(left)):
            continue   # a kink: no derivative to compare with
        fd, g = (up - down) / (2 * h), float(partials[v])
        if abs(fd - g) > 1e-5 * max(1.0, abs(g)):
            errors.append(f"d/d{v}: derived {g!r}, finite differences {fd!r}")
    if errors:
        raise VerificationError(f"internal check failed for {where}: " + "; ".join(errors[:3]))
