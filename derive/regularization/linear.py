"""The one-layer linear model with squared loss, solved exactly: θ(λ) by Cramer's rule, λ* as a root.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from ..errors import DeriveError
from ..limits import MAX_SOLVER_ITERATIONS
from ..model.unevaluated import add as _add
from ..model.unevaluated import mul as _mul
from ..numeric import optimize
from ..spec import Spec
from .problem import NUMERIC_TOLERANCE, Problem, Quadratic, norm_value, tolerance_text
from .result import FORMULA_UP_TO, LinearSolution, rational
from .section import Regularization
from .symbolic import SymbolicRegularization


def linear_model(spec: Spec, sym: SymbolicRegularization, problem: Problem, config: Regularization):
    """E(θ) with the data's numbers; θ(λ) from the linear stationarity equations; λ* by bracketing.

    Returns θ*, λ*, how they were found, the `LinearSolution` record and E's quadratic form.
    """
    m = sym.model
    variables = sym.variables
    fixed = {p: rational(v) for p, v in zip(problem.params, problem.start) if p not in set(variables)}
    terms = []
    for x, t in zip(spec.inputs, spec.targets):
        data = {s: rational(v) for s, v in zip(m.inputs, x)} | fixed
        for k in range(spec.layers[-1]):
            out = m.net_expr(1, k).doit().xreplace(data)
            terms.append(m.term_expr(k).doit().xreplace({m.targets[k]: rational(t[k]), m.out[1][k]: out}))
    loss_expr = sp.expand(sp.Add(*terms) / (len(spec.inputs) if spec.reduction == "mean" else 1))
    n = len(variables)
    zero = {v: 0 for v in variables}
    H = sp.Matrix(n, n, lambda i, j: sp.diff(loss_expr, variables[i], variables[j]))
    c = sp.Matrix([-sp.diff(loss_expr, v).xreplace(zero) for v in variables])
    mask = problem.mask
    l1 = config.penalty == "l1"
    lam = sym.lam
    D = sp.diag(*[1 if f else 0 for f in mask])
    stationarity = H * sp.Matrix(variables) - c
    equations = []
    for i, v in enumerate(variables):
        lhs = _add(stationarity[i], sp.diff(_mul(lam, sym.penalty_expr).doit(), v)) if mask[i] \
            else stationarity[i]
        equations.append(sp.Eq(lhs, 0, evaluate=False))
    Hf = np.array(H.tolist(), dtype=float)
    cf = np.array(c.tolist(), dtype=float).ravel()
    Df = np.diag(mask.astype(float))
    determined = H.rank() == n
    r = config.radius

    formula = None
    if not l1 and n <= FORMULA_UP_TO:
        A = H + 2 * lam * D          # Cramer's rule: θ(λ) = adj(A) c / det(A), polynomials in λ
        det = sp.expand(A.det(method="berkowitz"))
        numerators = A.adjugate(method="berkowitz") * c
        formula = {v: sp.factor(sp.cancel(sp.expand(e) / det)) for v, e in zip(variables, numerators)}
        functions = [sp.lambdify(lam, formula[v], "math") for v in variables]

        def theta_fn(value):
            try:
                return np.array([float(f(value)) for f in functions])
            except (OverflowError, ZeroDivisionError):   # the formula's polynomials exceed floats
                return np.linalg.solve(Hf + 2 * value * Df, cf)
    else:
        def theta_fn(value):
            return np.linalg.solve(Hf + 2 * value * Df, cf)

    if determined:
        origin = np.linalg.solve(Hf, cf) if formula is None else theta_fn(0.0)
    else:
        origin = _smallest_minimiser(Hf, cf, mask)
    origin_norm = norm_value(origin, mask, l1)
    norm_equation = None
    if formula is not None:
        norm_equation = sp.Eq(sp.Add(*[formula[v] ** 2 for v, f in zip(variables, mask) if f]),
                              sym.radius ** 2, evaluate=False)
    record = LinearSolution(variables, loss_expr, equations, formula, norm_equation, bool(determined),
                            dict(zip(variables, map(float, origin))), origin_norm)
    quadratic = Quadratic(Hf, cf)
    if l1 and not determined:
        raise DeriveError(f"the hard constraint does not determine θ: the data fix only {H.rank()} of "
                          f"the {n} unknowns, and inside an L1 ball the least-squares minimiser need not "
                          "be unique; add samples or use penalty = \"l2\"", file=spec.source,
                          field="[regularization] radius")
    if origin_norm <= r:
        if not determined:
            raise DeriveError(_undetermined(H.rank(), n, r, origin_norm, float(np.abs(origin).max())),
                              file=spec.source, field="[regularization] radius")
        return (origin, 0.0, "exact: the unconstrained least-squares solution lies inside the ball, "
                "so λ* = 0", record, quadratic)
    if not l1:
        scale = max(float(np.trace(Hf)) / n, 1e-12)
        lam_star = optimize.decreasing_root(lambda value: norm_value(theta_fn(value), mask, False) - r, scale)
        how = "θ(λ) solved symbolically" if formula is not None else "θ(λ) = (H + 2λD)⁻¹c"
        return (theta_fn(lam_star), lam_star, f"exact: {how} from the stationarity equations, λ* the "
                "root of |θ(λ)|₂ = r by bracketing and bisection to full precision", record, quadratic)
    x, lam_star = _l1_linear(quadratic, mask, r, origin)
    return (x, lam_star, "projected gradient onto the L1 ball (Barzilai-Borwein steps) to "
            f"gradient-mapping norm {tolerance_text(NUMERIC_TOLERANCE)}, then the KKT system solved exactly on the "
            "face it identifies (the signs of the non-zero θ_i)", record, quadratic)


def _undetermined(rank: int, n: int, r: float, smallest: float, scale: float) -> str:
    """Why a linear model's hard constraint has no single solution."""
    family = "line" if n - rank == 1 else "family"
    start = (f"the hard constraint does not determine θ: the data fix only {rank} of the {n} unknowns, "
             f"so the least-squares minimisers form an unbounded {family}")
    if smallest <= 1e-12 * max(1.0, scale):
        return (start + ", and the parameters the penalty leaves out fit the data on their own (θ = 0 "
                "is among the minimisers), so no radius picks one of them; set include_biases = true "
                "or add samples")
    return (start + f", and the radius {r:g} does not cut it to one point (its smallest member has "
            f"norm {smallest:.6g}); choose radius < {smallest:.6g} or add samples")


def _smallest_minimiser(H: np.ndarray, c: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Among the minimisers of ½θᵀHθ − cᵀθ (H singular), the one with the smallest |θ[mask]|."""
    particular = np.linalg.lstsq(H, c, rcond=None)[0]
    _, s, vt = np.linalg.svd(H)
    null = vt[s <= s.max(initial=0.0) * 1e-12].T if s.size else np.eye(len(c))
    if null.size == 0:
        return particular
    z = np.linalg.lstsq(null[mask], -particular[mask], rcond=None)[0]
    return particular + null @ z


def _l1_linear(quadratic: Quadratic, mask, r, start):
    """min ½θᵀHθ − cᵀθ subject to |θ[mask]|₁ ≤ r: projected gradient, then the exact KKT solve."""
    result = optimize.proximal_descent(quadratic, lambda v, t: optimize.project_l1(v, mask, r),
                                       start, NUMERIC_TOLERANCE, MAX_SOLVER_ITERATIONS)
    x = result.x
    polished = l1_face(quadratic, mask, x, radius=r)
    if polished is not None:
        return polished
    g = quadratic(x)[1]
    support = mask & (x != 0)
    lam = max(0.0, float(-(g[support] @ np.sign(x[support])) / max(1, support.sum())))
    return x, lam


def l1_face(quadratic: Quadratic, mask, x, radius=None, lam=None):
    """Solve the KKT equations on the face of x (its signs); None if the result breaks a condition.

    With `radius`: unknowns θ (off the zeros) and λ, the constraint Σ s_i θ_i = r. With `lam`: the
    soft problem's stationarity at that λ.
    """
    H, c = quadratic.H, quadratic.c
    zero = mask & (np.abs(x) <= 1e-12)
    keep = ~zero
    s = np.where(mask & keep, np.sign(x), 0.0)
    idx = np.nonzero(keep)[0]
    k = len(idx)
    Hk, ck, sk = H[np.ix_(idx, idx)], c[idx], s[idx]
    if radius is not None:
        A = np.zeros((k + 1, k + 1))
        A[:k, :k], A[:k, k], A[k, :k] = Hk, sk, sk
        b = np.concatenate([ck, [radius]])
    else:
        A, b = Hk, ck - lam * sk
    try:
        sol = np.linalg.solve(A, b)
    except np.linalg.LinAlgError:
        return None
    y = np.zeros_like(x)
    y[idx] = sol[:k]
    mult = float(sol[k]) if radius is not None else lam
    g = H @ y - c
    if (mult < 0 or np.any(np.sign(y[mask & keep]) != s[mask & keep])
            or np.any(np.abs(g[zero]) > mult * (1 + 1e-9) + 1e-12)):
        return None
    return (y, mult) if radius is not None else y
