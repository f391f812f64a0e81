"""Soft and hard compared: the soft problem at λ = λ* solved on its own, and the regularisation path.
"""
from __future__ import annotations

import math

import numpy as np

from ..limits import FIRST_PHASE, MAX_SOLVER_ITERATIONS, NEWTON_UP_TO, PATH_ITERATIONS, PATH_POINTS
from ..numeric import optimize
from .linear import l1_face
from .problem import (NUMERIC_TOLERANCE, POLISH_TOLERANCE, gradient_scale, norm_value, objective_value,
                      tolerance_text)
from .result import Equivalence, RegularizationPath


def _soft_minimum(problem, config, lam, start, quadratic, tolerance=NUMERIC_TOLERANCE,
                  budget=MAX_SOLVER_ITERATIONS, polish=False) -> tuple[np.ndarray, bool]:
    """argmin E + λR from `start` (a network, the L1 linear model) or exactly (the L2 linear model).

    Returns the point and whether it meets `tolerance` (NaNs if free parameters ran away).
    A network's L2 problem gets Newton's method on ∇E + 2λDθ = 0 when gradient descent is slow, and
    with `polish` after it converged too, so that its printed digits are the true ones.
    """
    mask = problem.mask
    D = mask.astype(float)
    if quadratic is not None and config.penalty == "l2":
        return np.linalg.solve(quadratic.H + 2 * lam * np.diag(D), quadratic.c), True
    if quadratic is None:   # relative to the loss's gradient, as the hard solve's (huge targets)
        tolerance *= gradient_scale(problem(problem.start[problem.index])[1])
    smooth = quadratic if quadratic is not None else problem
    if config.penalty == "l1":
        fg, prox = smooth, (lambda v, t: optimize.soft_threshold(v, mask, lam, t))
    else:
        def fg(x):
            f, g = smooth(x)
            return f + lam * float((D * x) @ x), g + 2 * lam * D * x
        prox = lambda v, t: v  # noqa: E731 (no constraint: plain gradient descent on E + λR)
    newton = quadratic is None and config.penalty == "l2" and len(start) <= NEWTON_UP_TO
    x, converged = start, False
    for phase in ((min(FIRST_PHASE, budget), budget - FIRST_PHASE) if newton else (budget,)):
        if phase <= 0:
            break
        try:
            result = optimize.proximal_descent(fg, prox, x, tolerance, phase,
                                               free=~mask if quadratic is None else None)
        except (optimize.Runaway, FloatingPointError):   # ran away, or starts where a neuron overflows
            return np.full(len(start), math.nan), False
        x, converged = result.x, result.converged
        if converged or not newton:
            break
        gradient_norm = lambda y: float(np.abs(fg(y)[1]).max())  # noqa: E731
        x = optimize.newton(lambda y: fg(y)[1], lambda y: problem.hessian(y) + 2 * lam * np.diag(D),
                            x, gradient_norm, tolerance)
        converged = gradient_norm(x) <= tolerance
        if converged:
            break
    if newton and polish and converged:
        x = optimize.newton(lambda y: fg(y)[1], lambda y: problem.hessian(y) + 2 * lam * np.diag(D),
                            x, lambda y: float(np.abs(fg(y)[1]).max()), POLISH_TOLERANCE)
    if quadratic is not None:
        polished = l1_face(quadratic, mask, x, lam=lam)
        if polished is not None:
            return polished, True
    return x, converged


def soft_at_lambda_star(spec, problem, config, x_star, lam_star, quadratic) -> Equivalence:
    l1 = config.penalty == "l1"
    start = problem.start[problem.index]
    soft, converged = _soft_minimum(problem, config, lam_star, start, quadratic, polish=True)
    if quadratic is not None and not l1:
        method = "the soft problem's normal equations (H + 2λ*D)θ = c, solved directly"
    elif quadratic is not None:
        method = "proximal gradient (soft thresholding) on E + λ*|θ|₁, then exact on its face"
    else:
        step = "proximal gradient (soft thresholding)" if l1 else "gradient descent"
        method = (f"{step} with Barzilai-Borwein steps on E + λ*R from the spec's parameters, "
                  f"to gradient-mapping norm {tolerance_text(NUMERIC_TOLERANCE)}")
    hard_d = problem.theta_dict(x_star)
    soft_d = problem.theta_dict(soft)
    diff = {p: soft_d[p] - hard_d[p] for p in problem.params}
    objective = [objective_value(problem, y, lam_star, l1) for y in (x_star, soft)]
    largest = max((abs(v) for v in diff.values()), default=0.0)
    note = None
    if not converged:
        note = "the soft solve did not reach its tolerance; the difference is not meaningful"
    elif largest > 1e-6 and abs(objective[0] - objective[1]) <= 1e-9 * max(1.0, abs(objective[0])):
        note = ("the two points differ but have the same E + λ*R: the minimiser is not unique "
                "(a flat direction of the loss along which R does not change)")
    elif largest > 1e-6:
        note = ("the soft solve from the spec's parameters found another stationary point: the "
                "network's loss is not convex, so the equivalence holds locally")
    return Equivalence(float(lam_star), hard_d, soft_d, diff, largest, method,
                       objective[0], objective[1], converged, note)


WIDEN_UP_TO = 3   # decades between λ* and the soft part's λ that the path still spans


def _path_grid(reference: float, lam: float | None) -> np.ndarray:
    """λ from reference/10 to 10·reference, geometric, widened to hold the soft part's λ (with a
    factor 2 of margin, so its mark is not at the plot's edge); reference and λ are points of it.
    A λ more than `WIDEN_UP_TO` decades from the reference is left off the plot (the page says so):
    the path would need points without bound and show nothing near λ*."""
    lo, hi = reference / 10, reference * 10
    marks = [reference]
    if lam is not None and lam > 0 and abs(math.log10(lam / reference)) <= WIDEN_UP_TO:
        lo, hi = min(lo, lam / 2), max(hi, lam * 2)
        marks.append(lam)
    per_decade = (PATH_POINTS - 1) / 2
    count = max(PATH_POINTS, int(math.ceil(math.log10(hi / lo) * per_decade)) + 1)
    step = math.log10(hi / lo) / (count - 1)
    even = [g for g in np.geomspace(lo, hi, count).tolist()
            if all(abs(math.log10(g / m)) > step / 3 for m in marks)]    # no point crowding a mark
    return np.array(sorted(set(even) | set(marks)))


def regularization_path(spec, problem, config, x_star, lam_star, quadratic) -> RegularizationPath:
    l1 = config.penalty == "l1"
    reference = lam_star if lam_star > 0 else (config.lam or 0.0)
    if reference <= 0:
        reference = 1e-3
    grid = _path_grid(reference, config.lam)
    middle = int(np.searchsorted(grid, reference))
    norms: list[float] = [math.nan] * len(grid)
    start = x_star if lam_star > 0 else problem.start[problem.index]
    # Warm starts outward from λ*: each solve begins at its neighbour's solution.
    for order in (range(middle, len(grid)), range(middle - 1, -1, -1)):
        current = start
        for i in order:
            solution, converged = _soft_minimum(problem, config, float(grid[i]), current, quadratic,
                                                tolerance=1e-9, budget=PATH_ITERATIONS)
            if converged:
                current = solution
                norms[i] = norm_value(solution, problem.mask, l1)
    points = [(float(lam), float(norm)) for lam, norm in zip(grid, norms) if math.isfinite(norm)]
    if quadratic is not None and not l1:
        method = "exact (normal equations) at each λ"
    else:
        method = "each point a numerical soft solve, warm-started from its neighbour towards λ*"
    return RegularizationPath("l1" if l1 else "l2", points, float(config.radius), float(lam_star), method)
