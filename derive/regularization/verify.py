"""The `regularization` entry of a key, checked without the symbolic engine or its solvers.

Plain numpy on `verify.NumpyNet`: the penalty and objective recomputed, the soft gradients against
numpy backpropagation plus the penalty's gradient and against central finite differences of
E + λR, the update and the history rerun. For the hard constraint: feasibility, E(θ*), the four
KKT conditions; for the one-layer linear model also an independent solve (L2: eigenvalues of the
Hessian and the secular equation |θ(λ)| = r; L1: accelerated projected gradient) to 1e-8, and the
soft problem at λ* solved by its normal equations, which must give θ* again.
"""
from __future__ import annotations

import numpy as np

from ..numeric.verify import (EPS, FD_STEP, SUM_ROUNDING, NumpyNet, ParameterVector, check_trajectory, compare,
                              fd_check, flatten, near_relu_kink, shown)

LINEAR_TOLERANCE = 1e-8     # θ*, λ* of the linear model against the independent solve
KKT_TOLERANCE = {True: 1e-8, False: 1e-7}   # the largest KKT residual allowed (linear model, network)


class _Flat(ParameterVector):
    """The parameter vector with the penalty's mask (which entries θ holds)."""

    def __init__(self, spec, net: NumpyNet):
        super().__init__(spec, net)
        self.mask = np.zeros(len(self.trained), dtype=bool)
        self.mask[:self.n_weights] = True
        self.mask[self.n_weights:] = spec.regularization.include_biases

    def loss(self, x: np.ndarray, smooth: bool = False) -> float:
        return float(self.net.loss(*self.unpack(x), smooth=smooth))

    def gradient_sizes(self, x: np.ndarray) -> np.ndarray:
        sW, sb = self.net.gradient_sizes(*self.unpack(x))
        return np.array([v for g in sW for v in g.ravel()] + flatten(self.net.pack_biases(sb)))

    def gradient(self, x: np.ndarray) -> np.ndarray:
        gW, gb = self.net.gradients(*self.unpack(x))
        return np.array([v for g in gW for v in g.ravel()] + flatten(self.net.pack_biases(gb)))


def owns_history(spec) -> bool:
    """With a lambda and iterations > 1, the key's history is the regularised objective's."""
    config = spec.regularization
    return config is not None and config.lam is not None and spec.iterations > 1


def check(spec, key: dict, net: NumpyNet, errors: list[str], trajectory: np.ndarray | None = None) -> int:
    """Append every disagreement to `errors`; return how many numbers were checked."""
    config = spec.regularization
    if config is None or "regularization" not in key:
        errors.append("regularization: the spec and the key disagree on whether there is one")
        return 0
    entry = key["regularization"]
    flat = _Flat(spec, net)
    l1 = config.penalty == "l1"
    lam = config.lam or 0.0

    def penalty(x):
        part = x[flat.mask]
        return float(np.abs(part).sum()) if l1 else float(part @ part)

    def penalty_gradient(x):
        with np.errstate(over="ignore"):     # 2w beyond the float range: inf, judged by the compare
            return np.where(flat.mask, np.sign(x) if l1 else 2 * x, 0.0)

    x0 = flat.vector(spec.weights, spec.biases)
    g0 = flat.gradient(x0) + lam * penalty_gradient(x0)
    compare("regularization.penalty", entry["penalty"], penalty(x0), errors)
    compare("regularization.objective", entry["objective"], flat.loss(x0) + lam * penalty(x0), errors)
    gradients = entry["gradients"]
    # Rounding of sums with cancellation: a few eps times the size of the terms (E's and λR's).
    floor = np.nan_to_num(SUM_ROUNDING * EPS * (flat.gradient_sizes(x0) + np.abs(lam * penalty_gradient(x0))),
                          nan=np.inf)
    compare("regularization.gradients", flatten(gradients["weights"]) + flatten(gradients["biases"]), g0, errors,
            floor=floor)
    checked = 2 + len(x0)

    if not near_relu_kink(net, *flat.unpack(x0)):
        scale = float(np.abs(g0).max(initial=0.0))
        derived = flatten(gradients["weights"]) + flatten(gradients["biases"])
        sizes = flat.gradient_sizes(x0) + np.abs(lam * penalty_gradient(x0))
        objective = flat.loss(x0) + lam * penalty(x0)
        for i in range(len(x0)):
            if l1 and flat.mask[i] and abs(x0[i]) < 1e3 * FD_STEP * max(1.0, abs(x0[i])):
                continue    # |w| has a kink at 0
            fd, allowed = fd_check(lambda h: _objective(flat, x0, i, h, lam, penalty), x0[i], derived[i], scale,
                                   float(sizes[i]), objective)
            if not (fd == derived[i] or abs(fd - derived[i]) <= allowed + floor[i]):
                errors.append(f"regularization.gradients[{i}]: derived {shown(derived[i])}, "
                              f"finite differences {shown(fd)}")

    with np.errstate(over="ignore"):
        step = np.where(flat.trained, x0 - spec.learning_rate * g0, x0)
    updated = entry["updated"]
    with np.errstate(over="ignore"):
        step_floor = np.where(flat.trained, spec.learning_rate * floor, 0.0)
    compare("regularization.updated", flatten(updated["weights"]) + flatten(updated["biases"]), step, errors,
            floor=step_floor)
    checked += len(x0)

    if owns_history(spec) and trajectory is not None:
        def descent(x):
            return (flat.loss(x) + lam * penalty(x), flat.gradient(x) + lam * penalty_gradient(x), flat.trained,
                    flat.gradient_sizes(x) + np.abs(lam * penalty_gradient(x)))
        final = key["final"]
        check_trajectory(" (regularised)", key["history"]["loss"],
                         flatten(final["weights"]) + flatten(final["biases"]), x0, trajectory,
                         spec.learning_rate, descent, errors)
        checked += len(trajectory) * (1 + len(x0))
    elif owns_history(spec):
        x, history = x0, []
        for _ in range(spec.iterations):
            history.append(flat.loss(x) + lam * penalty(x))
            g = flat.gradient(x) + lam * penalty_gradient(x)
            x = np.where(flat.trained, x - spec.learning_rate * g, x)
        history.append(flat.loss(x) + lam * penalty(x))
        compare("history.loss (regularised)", key["history"]["loss"], history, errors, rel=1e-7)
        final = key["final"]
        compare("final (regularised)", flatten(final["weights"]) + flatten(final["biases"]), x, errors, rel=1e-7)
        checked += len(history) + len(x)

    if config.radius is not None:
        checked += _check_constraint(spec, entry, flat, x0, penalty, penalty_gradient, errors)
    elif "constraint" in entry:
        errors.append("regularization.constraint: present without a radius")
    return checked


def _objective(flat, x0, i, h, lam, penalty) -> float:
    x = x0.copy()
    x[i] += h
    return flat.loss(x, smooth=True) + lam * penalty(x)


def _check_constraint(spec, entry, flat: _Flat, x0, penalty, penalty_gradient, errors) -> int:
    config = spec.regularization
    l1 = config.penalty == "l1"
    r = config.radius
    bound = r if l1 else r * r
    if "constraint" not in entry:
        errors.append("regularization.constraint: missing although a radius is given")
        return 0
    c = entry["constraint"]
    x = flat.vector(c["weights"], c["biases"])
    lam = float(c["lambda_star"])
    compare("regularization.constraint.radius", c["radius"], r, errors)
    if np.any(x[~flat.trained] != x0[~flat.trained]):
        errors.append("regularization.constraint: a parameter that is not trained moved")
    compare("regularization.constraint.loss", c["loss"], flat.loss(x), errors)
    R = penalty(x)
    if R > bound * (1 + 1e-9) + 1e-15:
        errors.append(f"regularization.constraint: θ* violates R(θ*) <= {shown(bound)}: R = {shown(R)}")
    if lam < 0:
        errors.append(f"regularization.constraint.lambda_star: negative ({shown(lam)})")
    norm = float(np.abs(x[flat.mask]).sum()) if l1 else float(np.linalg.norm(x[flat.mask]))
    on_boundary = abs(norm - r) <= 1e-9 * r
    if c["active"] != (lam > 0 or on_boundary) or (c["active"] and not on_boundary):
        errors.append(f"regularization.constraint.active: {c['active']} but |θ*| = {shown(norm)}, r = {shown(r)}, "
                      f"λ* = {shown(lam)}")
    if abs(lam * (R - bound)) > 1e-10 * max(1.0, lam):
        errors.append(f"regularization.constraint: complementary slackness fails: λ*(R - bound) = "
                      f"{shown(lam * (R - bound))}")

    g = flat.gradient(x)
    t = flat.trained
    if l1:
        on = flat.mask & (x != 0)
        zero = flat.mask & (x == 0)
        station = np.where(on, g + lam * np.sign(x), np.where(zero, np.maximum(np.abs(g) - lam, 0), g))
    else:
        station = g + lam * penalty_gradient(x)
    residual = max(float(np.abs(station[t]).max(initial=0.0)), max(0.0, R - bound), max(0.0, -lam),
                   abs(lam * (R - bound)))
    linear = _is_linear(spec)
    # Relative to the loss's gradient at the spec's parameters (huge targets, huge gradients).
    scale = flat.gradient(x0)[t]
    scale = max(1.0, float(np.abs(scale).max(initial=0.0))) if np.all(np.isfinite(scale)) else 1.0
    if residual > KKT_TOLERANCE[linear] * scale:
        errors.append(f"regularization.constraint: KKT residual {shown(residual)} above "
                      f"{shown(KKT_TOLERANCE[linear] * scale)}")
    if abs(residual - c["kkt_residual"]) > 1e-8 * scale:
        errors.append(f"regularization.constraint.kkt_residual: derived {shown(c['kkt_residual'])}, numpy {shown(residual)}")
    checked = 5 + len(x)
    if linear:
        checked += _check_linear(flat, x, lam, l1, r, errors)
    return checked


def _is_linear(spec) -> bool:
    return len(spec.layers) == 2 and spec.activations == ("linear",) and spec.loss in ("half_sse", "mse")


def _check_linear(flat: _Flat, x, lam, l1, r, errors) -> int:
    """An independent solve of the linear model's constrained least squares; θ* must match to 1e-8."""
    t = flat.trained
    base = x.copy()

    def grad(v):
        y = base.copy()
        y[t] = v
        return flat.gradient(y)[t]

    n = int(t.sum())
    g_origin = grad(np.zeros(n))
    H = np.column_stack([grad(np.eye(n)[i]) - g_origin for i in range(n)])   # E is quadratic
    H = 0.5 * (H + H.T)
    c = -g_origin
    mask = flat.mask[t]
    theta = x[t]
    if l1:
        other = _l1_projected_gradient(H, c, mask, r)
        reference = _close_enough(other, theta)
        if reference:
            errors.append(f"regularization.constraint: θ* differs from projected gradient: {reference}")
        return n
    other_theta, other_lam = _l2_secular(H, c, mask, r)
    problem = _close_enough(other_theta, theta)
    if problem:
        errors.append(f"regularization.constraint: θ* differs from the eigenvalue solve: {problem}")
    if abs(other_lam - lam) > LINEAR_TOLERANCE * max(1.0, abs(other_lam)):
        errors.append(f"regularization.constraint.lambda_star: derived {shown(lam)}, eigenvalue solve {shown(other_lam)}")
    soft = np.linalg.solve(H + 2 * lam * np.diag(mask.astype(float)), c)
    problem = _close_enough(soft, theta)
    if problem:
        errors.append(f"regularization.constraint: the soft problem at λ* gives another θ: {problem}")
    return 2 * n + 1


def _close_enough(a, b) -> str | None:
    worst = float(np.abs(a - b).max(initial=0.0))
    scale = max(1.0, float(np.abs(b).max(initial=0.0)))
    return None if worst <= LINEAR_TOLERANCE * scale else f"largest difference {shown(worst)}"


def _l2_secular(H, c, mask, r):
    """min ½θᵀHθ − cᵀθ s.t. |θ[mask]|₂ ≤ r: eliminate the free unknowns, then the secular equation."""
    m, f = mask, ~mask
    Hmm, Hmf, Hff = H[np.ix_(m, m)], H[np.ix_(m, f)], H[np.ix_(f, f)]
    if f.any():
        solve_f = np.linalg.solve(Hff, np.column_stack([Hmf.T, c[f]]))
        Hs = Hmm - Hmf @ solve_f[:, :-1]
        cs = c[m] - Hmf @ solve_f[:, -1]
    else:
        Hs, cs = Hmm, c[m]
    mu, V = np.linalg.eigh(Hs)
    a = V.T @ cs

    def norm(lam):
        return float(np.sqrt(np.sum((a / (mu + 2 * lam)) ** 2)))

    if mu.min() > 1e-12 * max(1.0, mu.max()) and norm(0.0) <= r:
        lam = 0.0
    else:
        lo, hi = 0.0, max(1.0, float(np.abs(mu).max()))
        while norm(hi) > r:
            hi *= 2
        for _ in range(2000):
            mid = 0.5 * (lo + hi)
            if not lo < mid < hi:
                break
            lo, hi = (mid, hi) if norm(mid) > r else (lo, mid)
        lam = hi
    theta_m = V @ (a / (mu + 2 * lam))
    theta = np.zeros(len(c))
    theta[m] = theta_m
    if f.any():
        theta[f] = np.linalg.solve(Hff, c[f] - Hmf.T @ theta_m)
    return theta, lam


def _project_l1(v, mask, r):
    part = v[mask]
    if np.abs(part).sum() <= r:
        return v
    u = np.sort(np.abs(part))[::-1]
    css = np.cumsum(u)
    k = np.nonzero(u * np.arange(1, len(u) + 1) > css - r)[0][-1]
    out = v.copy()
    out[mask] = np.sign(part) * np.maximum(np.abs(part) - (css[k] - r) / (k + 1), 0)
    return out


def _l1_projected_gradient(H, c, mask, r, iterations=200_000):
    """FISTA with a fixed step 1/L on min ½θᵀHθ − cᵀθ s.t. |θ[mask]|₁ ≤ r."""
    step = 1.0 / max(float(np.linalg.eigvalsh(H).max()), 1e-300)
    x = y = _project_l1(np.zeros(len(c)), mask, r)
    s = 1.0
    for _ in range(iterations):
        x_new = _project_l1(y - step * (H @ y - c), mask, r)
        s_new = 0.5 * (1 + np.sqrt(1 + 4 * s * s))
        y = x_new + ((s - 1) / s_new) * (x_new - x)
        if np.abs(x_new - x).max() <= 1e-15 * max(1.0, np.abs(x_new).max()):
            return x_new
        x, s = x_new, s_new
    return x
