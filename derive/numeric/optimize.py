"""Numerical minimisation for the regularisation part: proximal gradient, projections, a root finder.

Plain numpy on flat parameter vectors; nothing here knows about networks or sympy. One method
serves every numeric problem: the soft constraint (prox of lambda R), the hard constraint (prox is
the projection onto the ball) and the L1 variants (soft thresholding, projection onto the L1 ball).
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
import math
from typing import Callable

import numpy as np

FunctionAndGradient = Callable[[np.ndarray], tuple[float, np.ndarray]]
Prox = Callable[[np.ndarray, float], np.ndarray]   # prox(v, step) -> argmin h(x) + |x - v|^2 / (2 step)


class Runaway(Exception):
    """Parameters that the constraint does not bound grow without limit while the loss keeps falling."""

    def __init__(self, x: np.ndarray):
        super().__init__("a free coordinate passed the runaway bound")
        self.x = x


@dataclass
class Minimum:
    x: np.ndarray
    value: float            # f(x) (the smooth part only)
    iterations: int
    residual: float         # |x - prox(x - t grad f(x), t)|_inf / t: 0 exactly at a stationary point
    converged: bool


def proximal_descent(fg: FunctionAndGradient, prox: Prox, x0: np.ndarray, tolerance: float,
                     max_iterations: int, free: np.ndarray | None = None, runaway: float = 1e6,
                     measure: Callable[[np.ndarray, np.ndarray], float] | None = None) -> Minimum:
    """Minimise f + h by proximal gradient steps with Barzilai-Borwein step sizes and backtracking.

    A step x+ = prox(x - t grad f(x), t) is accepted when f(x+) <= f(x) + grad f(x).(x+ - x)
    + |x+ - x|^2 / (2t) (so f + h never increases); t halves until it is. The method stops when the
    gradient mapping |x - x+|_inf / t, or `measure(x, grad f(x))` when given (a KKT residual), falls
    to `tolerance`. `free` marks coordinates h leaves unbounded: if one of them passes `runaway`,
    `Runaway` is raised.
    """
    x = prox(np.asarray(x0, dtype=float), 1.0)
    fx, gx = fg(x)
    if not math.isfinite(fx):
        raise FloatingPointError("the objective is not finite at the start")
    # The first step moves the largest coordinate by at most 1; the step's floors are relative to
    # it, so that a loss of 10^39 (gradients of 10^19) is minimised as well as one of 0.3.
    largest = float(np.abs(gx).max(initial=0.0))
    t = min(1.0 / largest, 1.0) if largest > 1.0 else 1.0
    unit = t
    residual = math.inf
    for it in range(1, max_iterations + 1):
        while True:
            x_new = prox(x - t * gx, t)
            step = x_new - x
            f_new, g_new = fg(x_new)
            bound = fx + float(gx @ step) + float(step @ step) / (2 * t)
            if math.isfinite(f_new) and f_new <= bound + 1e-15 * abs(fx):
                break
            t /= 2
            if t < 1e-20 * unit or t == 0.0:
                return Minimum(x, fx, it, residual, False)
        residual = (float(np.abs(step).max(initial=0.0)) / t if measure is None
                    else measure(x_new, g_new))
        if free is not None and np.any(np.abs(x_new[free]) > runaway):
            raise Runaway(x_new)
        y = g_new - gx
        x, fx, gx = x_new, f_new, g_new
        if residual <= tolerance:
            return Minimum(x, fx, it, residual, True)
        sy = float(step @ y)
        t = float(step @ step) / sy if sy > 0 else 2 * t     # Barzilai-Borwein (BB1)
        t = min(max(t, 1e-12 * unit), 1e12)
    return Minimum(x, fx, max_iterations, residual, False)


def project_l2(v: np.ndarray, mask: np.ndarray, radius: float) -> np.ndarray:
    """Nearest point with |v[mask]|_2 <= radius (the other coordinates unchanged)."""
    out = v.copy()
    norm = float(np.linalg.norm(v[mask]))
    if norm > radius:
        out[mask] = v[mask] * (radius / norm)
    return out


def project_l1(v: np.ndarray, mask: np.ndarray, radius: float) -> np.ndarray:
    """Nearest point with |v[mask]|_1 <= radius (Duchi et al. 2008: sort, then one threshold).

    When the coordinates differ so much in size that the threshold's subtraction loses the small
    ones (|v| = 1e200 beside 0.5), the threshold and the shrunk values are computed exactly, in
    rationals: floats are rationals, and the result is representable.
    """
    out = v.copy()
    part = v[mask]
    if np.abs(part).sum() <= radius:
        return out
    u = np.sort(np.abs(part))[::-1]
    css = np.cumsum(u)
    ks = np.arange(1, len(u) + 1)
    found = np.nonzero(u * ks > css - radius)[0]
    shrunk = None
    if len(found) and np.isfinite(css[-1]):
        rho = int(found[-1])
        threshold = (css[rho] - radius) / (rho + 1)
        shrunk = np.sign(part) * np.maximum(np.abs(part) - threshold, 0.0)
        total = np.abs(shrunk).sum()
        if total > radius:     # rounding in css - radius when |v| is large: land on the ball exactly
            shrunk *= radius / total
        if not total >= radius * (1 - 1e-12):
            shrunk = None      # the small coordinates were lost to rounding
    if shrunk is None:
        shrunk = _project_l1_exact(part, radius)
    out[mask] = shrunk
    return out


def _project_l1_exact(part: np.ndarray, radius: float) -> np.ndarray:
    """The L1 projection's threshold and shrunk values in exact rational arithmetic."""
    sizes = sorted((Fraction(abs(float(x))) for x in part), reverse=True)
    r = Fraction(radius)
    total, threshold = Fraction(0), Fraction(0)
    for k, u in enumerate(sizes, start=1):
        total += u
        if u * k > total - r:
            threshold = (total - r) / k
    return np.array([math.copysign(float(max(Fraction(abs(float(x))) - threshold, Fraction(0))), float(x))
                     if x != 0 else 0.0 for x in part])


def soft_threshold(v: np.ndarray, mask: np.ndarray, lam: float, t: float) -> np.ndarray:
    """prox of lam |x[mask]|_1: every masked coordinate moves t lam towards 0, stopping at 0."""
    out = v.copy()
    out[mask] = np.sign(v[mask]) * np.maximum(np.abs(v[mask]) - t * lam, 0.0)
    return out


def newton(F: Callable[[np.ndarray], np.ndarray], J: Callable[[np.ndarray], np.ndarray],
           z0: np.ndarray, residual: Callable[[np.ndarray], float], tolerance: float,
           max_steps: int = 30) -> np.ndarray:
    """Newton's method on F(z) = 0 (least-squares steps, halved until `residual` falls).

    Returns the best point found; the caller judges it by `residual`.
    """
    z, best = z0, residual(z0)
    for _ in range(max_steps):
        if best <= tolerance:
            break
        try:
            step = np.linalg.lstsq(J(z), -F(z), rcond=None)[0]
        except np.linalg.LinAlgError:
            break
        for _ in range(30):
            candidate = z + step
            value = residual(candidate)
            if value < best:
                z, best = candidate, value
                break
            step = step / 2
        else:
            break
    return z


def decreasing_root(f: Callable[[float], float], scale: float) -> float:
    """The root of a non-increasing f on (0, inf) with f(0+) > 0 > f(large), to full precision.

    Brackets the root by factors of 4 from `scale`, then bisects until the bracket stops shrinking.
    """
    hi = scale if scale > 0 else 1.0
    for _ in range(600):
        if f(hi) <= 0:
            break
        hi *= 4
    else:
        raise ArithmeticError("no sign change: the function stays positive")
    lo = hi / 4
    while f(lo) <= 0:
        hi, lo = lo, lo / 4
        if lo < 1e-300:
            return 0.0
    while True:
        mid = 0.5 * (lo + hi)
        if not lo < mid < hi:
            break
        value = f(mid)
        if value == 0:
            return mid
        if value > 0:
            lo = mid
        else:
            hi = mid
    return hi if abs(f(hi)) <= abs(f(lo)) else lo
