"""The hard constraint min E(θ) subject to R(θ) ≤ bound: θ*, λ* and the KKT conditions (exact for the
linear model, numerical for a network), and the problems that have no solution (a runaway free bias).
"""
from __future__ import annotations

import math

import numpy as np

from ..derivation import Derivation
from ..errors import DeriveError
from ..limits import FIRST_PHASE, MAX_SOLVER_ITERATIONS, NEWTON_UP_TO
from ..numeric import optimize
from ..spec import Spec
from .compare import regularization_path, soft_at_lambda_star
from .linear import linear_model
from .problem import (ACCEPTED_TOLERANCE, NUMERIC_TOLERANCE, POLISH_TOLERANCE, Problem, gradient_scale,
                      is_linear, kkt_point, norm_value, penalty_value, stationarity_residual, tolerance_text)
from .result import Condition, HardResult
from .section import Regularization
from .symbolic import SymbolicRegularization


def hard_part(spec: Spec, sym: SymbolicRegularization, d: Derivation, config: Regularization) -> HardResult:
    problem = Problem(spec, d, sym)
    l1 = config.penalty == "l1"
    r = config.radius
    bound = r if l1 else r * r
    linear = is_linear(spec)
    if linear:
        x, lam_star, method, linear_solution, quadratic = linear_model(spec, sym, problem, config)
        iterations = 0
    else:
        reason = _runaway_bias(spec, config)
        if reason:
            raise DeriveError(reason, file=spec.source, field="[regularization] radius")
        x, lam_star, method, iterations = _numeric_hard(spec, problem, config)
        linear_solution = None
        quadratic = None

    loss, grad = problem(x)
    if not (np.all(np.isfinite(x)) and math.isfinite(lam_star) and math.isfinite(loss)):
        raise DeriveError("the constrained solution overflows: θ*, λ* or E(θ*) exceed the largest "
                          "floating-point number (inputs or targets far larger than the radius allows); "
                          "choose smaller inputs or a larger radius", file=spec.source,
                          field="[regularization] radius")
    R = penalty_value(x, problem.mask, l1)
    active = lam_star > 0 or norm_value(x, problem.mask, l1) >= r * (1 - 1e-9)
    conditions = _conditions(sym, x, grad, lam_star, R, bound, problem.mask, l1)
    kkt = max(c.residual for c in conditions)
    theta = problem.theta_dict(x)
    values = dict(theta) | {sym.lam: lam_star, sym.lambda_star: lam_star, sym.radius: r,
                            d.loss: loss, sym.penalty_symbol: R}
    values |= {d.gradient[p]: float(g) for p, g in zip(problem.variables, grad)}
    equivalence = soft_at_lambda_star(spec, problem, config, x, lam_star, quadratic)
    path = regularization_path(spec, problem, config, x, lam_star, quadratic)
    return HardResult(r, sym.lagrangian, conditions, values, theta, float(lam_star), float(loss), R,
                      bool(active), float(kkt), method, iterations, linear_solution, equivalence, path)


def _conditions(sym, x, grad, lam_star, R, bound, mask, l1) -> list[Condition]:
    station = stationarity_residual(x, grad, lam_star, mask, l1)
    note = "at θ_i = 0 the subgradient condition |∂E/∂θ_i| ≤ λ* replaces the equation" if l1 else None
    return [
        Condition("stationarity", sym.kkt["stationarity"], float(np.abs(station).max(initial=0.0)), note),
        Condition("primal_feasibility", sym.kkt["primal_feasibility"], max(0.0, R - bound)),
        Condition("dual_feasibility", sym.kkt["dual_feasibility"], max(0.0, -lam_star)),
        Condition("complementary_slackness", sym.kkt["complementary_slackness"],
                  abs(lam_star * (R - bound))),
    ]


def _numeric_hard(spec, problem: Problem, config: Regularization):
    """Projected gradient descent from the spec's parameters; near the end Newton on the KKT equations."""
    l1 = config.penalty == "l1"
    r = config.radius
    mask = problem.mask
    project = optimize.project_l1 if l1 else optimize.project_l2
    x0 = problem.start[problem.index]
    measure = lambda x, g: kkt_point(x, g, mask, l1, r)[1]  # noqa: E731
    # The residual is judged relative to the loss's gradient (targets of 10^20 give gradients of
    # 10^19, whose rounding alone exceeds any absolute tolerance).
    scale = gradient_scale(problem(x0)[1])
    tolerance, accepted = NUMERIC_TOLERANCE * scale, ACCEPTED_TOLERANCE * scale
    x, steps, polished = x0, 0, False
    for budget in (FIRST_PHASE, MAX_SOLVER_ITERATIONS - FIRST_PHASE):
        try:
            result = optimize.proximal_descent(problem, lambda v, t: project(v, mask, r), x,
                                               tolerance, budget, free=~mask, measure=measure)
        except optimize.Runaway as exc:
            raise DeriveError(_runaway_message(problem, exc.x, None), file=spec.source,
                              field="[regularization] radius") from None
        except FloatingPointError:
            raise DeriveError("the constrained problem cannot start: on the ball of radius r the "
                              "numbers overflow (a neuron's net input is so large that exp() exceeds "
                              "the largest floating-point number); choose smaller inputs or weights",
                              file=spec.source, field="[regularization] radius") from None
        x, steps = result.x, steps + result.iterations
        if result.converged:
            break
        if not l1 and len(x) <= NEWTON_UP_TO:
            x, residual, polished = _polish_ball(problem, x, r, tolerance)
            if residual <= tolerance:
                break
    else:
        growing = _growing_free(problem, x, x0)
        if growing is not None:
            raise DeriveError(_runaway_message(problem, x, growing, steps), file=spec.source,
                              field="[regularization] radius")
        residual = measure(x, problem(x)[1])
        if residual > accepted:
            why = ("the minimiser may sit on a ReLU kink, where the gradient jumps"
                   if "relu" in spec.activations else "the loss is too flat here or has no minimiser")
            raise DeriveError(f"projected gradient descent did not reach the tolerance "
                              f"{accepted:g} in {steps} steps (KKT residual {residual:.3g}): "
                              f"{why}", file=spec.source, field="[regularization] radius")
    growing = _growing_free(problem, x, x0)
    if growing is not None:     # "converged" only because a saturated neuron's gradient vanished
        raise DeriveError(_runaway_message(problem, x, growing, steps), file=spec.source,
                          field="[regularization] radius")
    if not l1 and len(x) <= NEWTON_UP_TO:
        # Gradient steps stop at a residual of about 1e-10, which leaves noise in the 9th decimal
        # (w5* = -0.510602732 beside w6* = -0.510602733, equal by symmetry): Newton finishes the job.
        x, _, finished = _polish_ball(problem, x, r, POLISH_TOLERANCE)
        polished = polished or finished
    _, g = problem(x)
    lam_star = kkt_point(x, g, mask, l1, r)[0]
    ball = "L1 ball" if l1 else "ball"
    newton = (" and Newton's method on the KKT equations (Hessian by central differences of the "
              "compiled gradient) to finish" if polished else "")
    return x, lam_star, (f"projected gradient descent onto the {ball} from the spec's parameters "
                         f"(Barzilai-Borwein steps with backtracking){newton}, until the stationarity "
                         f"residual |∇E + λ*∇R|∞ ≤ {tolerance_text(tolerance)} (or ≤ {tolerance_text(accepted)} "
                         f"after {MAX_SOLVER_ITERATIONS} steps), with λ* the least-squares "
                         f"solution of ∇E + λ∇R = 0 over the penalised parameters (0 inside the ball)"), steps


def _polish_ball(problem: Problem, x: np.ndarray, r: float,
                 tolerance: float = NUMERIC_TOLERANCE) -> tuple[np.ndarray, float, bool]:
    """Newton on the KKT equations of the L2 ball from x (on the sphere: with λ as an unknown).

    The Newton point replaces x only if its KKT residual is smaller, E did not rise and it is a
    minimum, not a saddle (the Lagrangian's Hessian on the sphere's tangent space is >= 0).
    Returns the point, its KKT residual and whether Newton's point was taken.
    """
    mask = problem.mask
    D = mask.astype(float)
    n = len(x)

    def residual(z):
        y = optimize.project_l2(z[:n], mask, r)
        value, g = problem(y)
        return kkt_point(y, g, mask, False, r)[1] if math.isfinite(value) else math.inf

    g = problem(x)[1]
    lam, before = kkt_point(x, g, mask, False, r)
    if lam > 0:
        def F(z):
            y, lam_ = z[:n], z[n]
            return np.concatenate([problem(y)[1] + 2 * lam_ * D * y, [0.5 * (y[mask] @ y[mask] - r * r)]])

        def J(z):
            y, lam_ = z[:n], z[n]
            top = np.column_stack([problem.hessian(y) + 2 * lam_ * np.diag(D), 2 * D * y])
            return np.vstack([top, np.concatenate([D * y, [0.0]])])
        z = optimize.newton(F, J, np.concatenate([x, [lam]]), residual, tolerance)
    else:
        z = optimize.newton(lambda y: problem(y)[1], problem.hessian, x, residual, tolerance)
    y = optimize.project_l2(z[:n], mask, r)
    after = residual(z)
    if after < before and problem(y)[0] <= problem(x)[0] + 1e-12 * abs(problem(x)[0]) \
            and _second_order(problem, y, r):
        return y, after, True
    return x, before, False


def _second_order(problem: Problem, x: np.ndarray, r: float) -> bool:
    """The Lagrangian's Hessian is positive semidefinite on the tangent space of the active ball."""
    mask = problem.mask
    D = mask.astype(float)
    lam, _ = kkt_point(x, problem(x)[1], mask, False, r)
    H = problem.hessian(x) + 2 * lam * np.diag(D)
    if lam > 0:
        normal = D * x / np.linalg.norm(D * x)
        P = np.eye(len(x)) - np.outer(normal, normal)
        H = P @ H @ P
    eigenvalues = np.linalg.eigvalsh(H)
    return eigenvalues.min() >= -1e-6 * max(1.0, float(np.abs(eigenvalues).max()))


def _growing_free(problem: Problem, x: np.ndarray, x0: np.ndarray) -> int | None:
    """A parameter the constraint leaves free that ran far from its start, along which E still falls.

    Probes E at 1, 2, 4 and 8 further along the way it went: a loss that falls at every probe has
    its infimum at infinity (a saturating neuron), not at x. At a minimum the first probe rises.
    """
    loss = problem(x)[0]
    running = []
    for i in np.nonzero(~problem.mask)[0]:
        if abs(x[i] - x0[i]) <= 3:
            continue
        way, previous = math.copysign(1.0, x[i] - x0[i]), loss
        for distance in (1, 2, 4, 8):
            y = x.copy()
            y[i] += way * distance
            value = problem(y)[0]
            if not value < previous:
                break
            previous = value
        else:
            running.append(i)
    return max(running, key=lambda i: abs(x[i])) if running else None


def _runaway_message(problem: Problem, x: np.ndarray, i: int | None, steps: int | None = None) -> str:
    free = np.nonzero(~problem.mask)[0]
    if i is None:
        i = max(free, key=lambda j: abs(x[j]))
    name = problem.variables[i].name
    when = f" after {steps} steps" if steps else ""
    return (f"the hard constraint leaves {name} free (include_biases = false), and {name} keeps "
            f"growing ({name} = {x[i]:.4g}{when}) while the loss keeps falling: the loss reaches its "
            f"lowest value only as {name} goes to {'+' if x[i] > 0 else '-'}infinity (a neuron "
            f"saturates), so the problem has no minimiser; set include_biases = true")


def _runaway_bias(spec: Spec, config: Regularization) -> str | None:
    """Why the hard problem has no minimiser when a free output bias can lower the loss for ever."""
    if config.include_biases or not spec.update_biases:
        return None
    act, loss = spec.activations[-1], spec.loss
    n_out = spec.layers[-1]
    shared = spec.shared_biases[-1]
    groups = [list(range(n_out))] if shared else [[k] for k in range(n_out)]
    if act in ("sigmoid", "tanh"):
        low, high = (0.0, 1.0) if act == "sigmoid" else (-1.0, 1.0)

        def direction(t: float):   # +1: the term falls as out rises over the whole range; 0: flat
            if loss in ("half_sse", "mse"):
                return 1 if t >= high else -1 if t <= low else None
            if loss == "cross_entropy":
                return 1 if t > 0 else 0
            return 1 if t == 1 else -1 if t == 0 else None

        for group in groups:
            signs = {direction(t[k]) for t in spec.targets for k in group} - {0}
            if len(signs) == 1 and None not in signs:
                way = "grows" if signs == {1} else "falls"
                edge = high if signs == {1} else low
                which = "the output layer's shared bias" if shared else f"the bias of output {group[0] + 1}"
                return (f"the hard constraint does not bound {which} (include_biases = false), and the "
                        f"loss falls for ever as it {way}: the {act} output approaches {edge:g} but "
                        f"never reaches it, so the problem has no minimiser; set include_biases = true")
    if act == "softmax" and loss == "cross_entropy" and not shared:
        for k in range(n_out):
            if all(t[k] == 0 for t in spec.targets) and any(sum(t) > 0 for t in spec.targets):
                return (f"the hard constraint does not bound the bias of output {k + 1} "
                        f"(include_biases = false); its target is 0 in every sample, and the loss falls "
                        f"for ever as that bias falls (softmax output {k + 1} approaches 0 but never "
                        f"reaches it), so the problem has no minimiser; set include_biases = true")
    return None
