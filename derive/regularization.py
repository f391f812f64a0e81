"""Regularisation as a soft constraint, a hard constraint and a Lagrangian: derived, solved, compared.

The lecture's second half as worked mathematics:

* soft:  E_R(θ) = E(θ) + λR(θ), R = Σθ² (l2) or Σ|θ| (l1). sympy differentiates λR for every
  penalised parameter (its own step, 2λw or λ·sign(w)); the regularised update and its
  weight-decay form w⁺ = (1 − 2ηλ)w − η ∂E/∂w are both derived and proved equal. Derived once per
  shape, compiled once, then only called with numbers (as `numeric` does for the core steps).
* hard:  min E(θ) subject to R(θ) ≤ r² (l2) or |θ|₁ ≤ r (l1); the Lagrangian
  𝓛(θ, λ) = E + λ[R − r²], its KKT conditions, and their solution θ*, λ*: exact for a one-layer
  linear model with squared loss (stationarity is linear in θ; sympy solves it as θ(λ) and λ* is
  the root of |θ(λ)| = r), numerical otherwise (`optimize.proximal_descent`).
* equivalence: the soft problem at λ = λ* solved on its own, compared with θ*, and the
  regularisation path |θ_soft(λ)| around λ*.

The `[regularization]` section of a spec is validated here too (`parse_section`, called by `spec.parse`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import sympy as sp

from .unevaluated import add as _add, mul as _mul, neg as _neg

from . import numeric, optimize
from .derivation import Derivation, Step, derive as derive_shape
from .errors import DeriveError
from .model import Model, Shape
from .naming import Name
from .numeric import Compiled, Values
from .spec import Spec, _Reader, _show

PENALTIES = ("l2", "l1")
FIELDS = ("penalty", "lambda", "include_biases", "radius")

NUMERIC_TOLERANCE = 1e-10     # KKT residual (gradient-mapping norm) at which the numerical solvers stop
ACCEPTED_TOLERANCE = 1e-8     # a network's KKT residual still accepted when the step budget runs out
MAX_SOLVER_ITERATIONS = 20_000
FIRST_PHASE = 2_000           # projected-gradient steps before Newton's method may finish the job
NEWTON_UP_TO = 300            # unknowns for which a Hessian by differences is affordable
PATH_ITERATIONS = 2_000       # per point of the regularisation path (a network)
FORMULA_UP_TO = 3             # θ(λ) is kept as a formula in λ for at most this many unknowns
PATH_POINTS = 21              # λ* · 10^(-1 .. 1), geometric; the middle point is λ* itself


# -- the spec section -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Regularization:
    """A validated `[regularization]` section."""

    penalty: str                  # "l2": R = Σθ² | "l1": R = Σ|θ|
    lam: float | None             # λ of the soft constraint (None: no soft part)
    include_biases: bool = False  # θ holds the biases too
    radius: float | None = None   # r of the hard constraint (None: no hard part)

    @property
    def strength(self) -> float:
        """λ for the key's soft numbers: 0 when only a radius is given."""
        return self.lam or 0.0


def parse_section(raw: Any, source: str, update_biases: bool) -> Regularization:
    """Validate `[regularization]`; every problem is one DeriveError naming file and field."""
    r = _Reader(source)
    if not isinstance(raw, dict):
        raise r.fail("regularization", "expected a section [regularization]")
    for key in raw:
        if key not in FIELDS:
            raise r.fail(f"[regularization] {key}", "unknown field; expected one of: "
                         + ", ".join(sorted(FIELDS)))
    penalty = raw.get("penalty", "l2")
    if penalty == "none":
        given = "radius" if "radius" in raw else "lambda" if "lambda" in raw else "penalty"
        what = "a radius bounds" if given == "radius" else "lambda weighs"
        raise r.fail(f"[regularization] {given}", f"{what} the penalty R(θ), but penalty = \"none\" "
                     "has none; choose penalty = \"l2\" or \"l1\"")
    penalty = r.choice(penalty, "[regularization] penalty", PENALTIES)
    lam = radius = None
    if "lambda" in raw:
        lam = _nonnegative(r, raw["lambda"], "[regularization] lambda", ">= 0", strict=False)
    if "radius" in raw:
        radius = _nonnegative(r, raw["radius"], "[regularization] radius", "> 0", strict=True)
    include = r.boolean(raw.get("include_biases", False), "[regularization] include_biases")
    if lam is None and radius is None:
        raise r.fail("[regularization]", "expected lambda (soft constraint), radius (hard constraint) "
                     "or both")
    if radius is not None and include and not update_biases:
        raise r.fail("[regularization] include_biases", "the hard constraint would bound biases that "
                     "[training] update_biases = false keeps fixed; set update_biases = true or "
                     "include_biases = false")
    return Regularization(penalty, lam, include, radius)


def _nonnegative(r: _Reader, value: Any, where: str, expected: str, strict: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise r.fail(where, f"expected a number {expected}, got {_show(value)}")
    number = r.number(value, where)
    if number < 0 or (strict and number == 0):
        raise r.fail(where, f"expected a number {expected}, got {number:g}")
    return number


# -- the symbolic derivation (once per shape, penalty and include_biases) -------------------------

@dataclass
class SymbolicRegularization:
    """Every regularisation formula of one shape, in symbols; `compiled` evaluates the soft steps."""

    model: Model
    penalty: str
    theta: list[sp.Symbol]                 # the penalised parameters
    variables: list[sp.Symbol]             # the trained parameters (the hard problem's unknowns)
    lam: sp.Symbol                         # λ
    lambda_star: sp.Symbol                 # λ*
    radius: sp.Symbol                      # r
    penalty_symbol: sp.Symbol              # R
    penalty_expr: sp.Expr                  # Σθ² or Σ|θ|
    objective: sp.Symbol                   # E_R
    term: sp.Symbol                        # Ω = λR, the penalty term sympy differentiates
    soft_steps: list[Step]
    gradient: dict[sp.Symbol, sp.Symbol]   # parameter -> ∂E_R/∂parameter (every parameter)
    updated: dict[sp.Symbol, sp.Symbol]    # parameter -> its regularised update's symbol
    lagrangian: tuple[sp.Symbol, sp.Expr]  # (𝓛, E + λ(R − r²))
    bound: sp.Expr                         # r² (l2) or r (l1)
    kkt: dict[str, list[sp.Basic]]         # condition name -> relations (stationarity: one per unknown)
    compiled: Compiled                     # leaves: parameters, η, λ, E, ∂E/∂p -> soft step values
    leaves: list[sp.Symbol]


def penalized(model: Model, include_biases: bool) -> list[sp.Symbol]:
    """θ: the weights, and the biases when include_biases."""
    weights = [w for matrix in model.weights for row in matrix for w in row]
    if not include_biases:
        return weights
    return weights + [p for p in model.parameters() if p not in set(weights)]


@lru_cache(maxsize=32)
def derive_regularization(shape: Shape, penalty: str, include_biases: bool) -> SymbolicRegularization:
    """Soft-constraint steps, the Lagrangian and the KKT conditions of a shape, in symbols."""
    d = derive_shape(shape)
    m = d.model
    names = m.names
    params = m.parameters()
    theta = penalized(m, include_biases)
    in_theta = set(theta)
    weights = {w for matrix in m.weights for row in matrix for w in row}
    variables = [p for p in params if p in weights or shape.update_biases]
    lam = names.symbol(Name("lambda"))
    lambda_star = names.symbol(Name("lambda", sup="*"))
    radius = names.symbol(Name("r"))
    R = names.symbol(Name("R"))
    E_R = names.symbol(Name("E", "R"))
    Omega = names.symbol(Name("Omega"))
    l1 = penalty == "l1"
    squares = [sp.Abs(p, evaluate=False) if l1 else sp.Pow(p, 2, evaluate=False) for p in theta]
    R_expr = _add(*squares)
    l1_note = "|w| has no derivative at w = 0: we use the subgradient sign(w), which is 0 there"

    steps = [Step(R, R_expr, "penalty",
                  note="sum of |θ| over the weights" if l1 else "sum of θ² over the weights")]
    if include_biases:
        steps[0] = Step(R, R_expr, "penalty", note="θ holds the weights and the biases")
    steps.append(Step(E_R, _add(d.loss, _mul(lam, R)), "objective"))
    term_partial: dict[sp.Symbol, sp.Symbol] = {}
    penalty_term = _mul(lam, R_expr)
    for p in theta:
        sym = names.partial(Omega, p)
        derivative = sp.diff(penalty_term.doit(), p)       # sympy's: 2λw or λ·sign(w)
        steps.append(Step(sym, derivative, "penalty_derivative", definition=(Omega, penalty_term),
                          note=l1_note if l1 else None))
        term_partial[p] = sym
    gradient: dict[sp.Symbol, sp.Symbol] = {}
    for p in params:
        sym = names.partial(E_R, p)
        if p in in_theta:
            steps.append(Step(sym, _add(d.gradient[p], term_partial[p]), "regularized_gradient"))
        else:
            steps.append(Step(sym, d.gradient[p], "regularized_gradient",
                              note="biases are not penalised (include_biases = false)"))
        gradient[p] = sym
    eta = m.eta
    updated: dict[sp.Symbol, sp.Symbol] = {}
    decay_forms = []
    for p in params:
        if p not in d.updated:
            continue
        name = names.of[p]
        plus = names.symbol(Name(name.base, name.sub, name.sup, "+R"))
        steps.append(Step(plus, _add(p, _neg(_mul(eta, gradient[p]))), "regularized_update"))
        updated[p] = plus
        if p in in_theta:
            decay = _weight_decay(p, eta, lam, d.gradient[p], l1)
            steps.append(Step(plus, decay, "weight_decay",
                              note="L1: every step moves w by ηλ towards 0" if l1 else
                              "weight decay: every step first shrinks w by the factor 1 − 2ηλ"))
            decay_forms.append((p, plus, decay))
    # The two forms of each update are the same expression: proved here, for every shape.
    for p, plus, decay in decay_forms:
        update = _add(p, _neg(_mul(eta, _add(d.gradient[p], sp.diff(penalty_term.doit(), p)))))
        if sp.expand(update.doit() - decay.doit()) != 0:
            raise AssertionError(f"{p}: weight-decay form differs from the regularised update")

    leaves = params + [eta, lam, d.loss] + [d.gradient[p] for p in params]
    compiled = Compiled(leaves, [(s.name, s.expr) for s in steps], "regularized")

    bound = sp.Pow(radius, 2, evaluate=False) if not l1 else radius
    lagrangian = names.symbol(Name("Lagrangian"))
    lagrangian_expr = _add(d.loss, _mul(lam, _add(R, _neg(bound))))
    constraint = _mul(lam, _add(R_expr, _neg(bound)))
    stationarity = []
    for p in variables:
        if p in in_theta:
            lhs = _add(d.gradient[p], sp.diff(constraint.doit(), p))
        else:
            lhs = d.gradient[p]
        stationarity.append(sp.Eq(lhs, 0, evaluate=False))
    kkt = {
        "stationarity": stationarity,
        "primal_feasibility": [sp.Le(R, bound, evaluate=False)],
        "dual_feasibility": [sp.Ge(lam, 0, evaluate=False)],
        "complementary_slackness": [sp.Eq(_mul(lam, _add(R, _neg(bound))), 0, evaluate=False)],
    }
    return SymbolicRegularization(m, penalty, theta, variables, lam, lambda_star, radius, R, R_expr,
                                  E_R, Omega, steps, gradient, updated, (lagrangian, lagrangian_expr),
                                  bound, kkt, compiled, leaves)


def _weight_decay(p, eta, lam, grad, l1: bool) -> sp.Expr:
    """(1 − 2ηλ)w − η ∂E/∂w (l2) or w − ηλ·sign(w) − η ∂E/∂w (l1)."""
    if l1:
        return _add(p, _neg(_mul(eta, lam, sp.sign(p))), _neg(_mul(eta, grad)))
    factor = _add(sp.Integer(1), _neg(_mul(sp.Integer(2), eta, lam)))
    return _add(_mul(factor, p), _neg(_mul(eta, grad)))


# -- results: plain records for the key and the renderer ------------------------------------------

@dataclass(frozen=True)
class TableRow:
    """One parameter of the side-by-side table: the numbers without and with λ."""

    parameter: sp.Symbol
    value: float
    penalized: bool
    gradient: float                 # ∂E/∂p
    regularized_gradient: float     # ∂E_R/∂p
    updated: float | None           # p⁺ without λ (None: the parameter is not trained)
    regularized_updated: float | None


@dataclass
class SoftResult:
    """The soft constraint at the spec's parameters, λ = `lam`."""

    lam: float
    steps: list[Step]
    step_values: list[float]             # one per step (the two update forms share a name)
    values: dict[sp.Symbol, float]       # every leaf and step value, for substituted printing
    loss: float                          # E
    penalty: float                       # R(θ)
    objective: float                     # E + λR
    gradient: dict[sp.Symbol, float]     # ∂E_R/∂p, every parameter
    updated: dict[sp.Symbol, float]      # after one step on E_R (untrained parameters unchanged)
    table: list[TableRow]
    history: list[float] | None = None   # E_R before each step and after the last (iterations > 1)
    final: dict[sp.Symbol, float] | None = None


@dataclass(frozen=True)
class Condition:
    """One KKT condition: its relations in symbols and its largest violation at (θ*, λ*)."""

    name: str                      # stationarity | primal_feasibility | dual_feasibility | complementary_slackness
    relations: list[sp.Basic]
    residual: float
    note: str | None = None


@dataclass
class LinearSolution:
    """The exact solution of a one-layer linear model with squared loss.

    `loss_expr` is E(θ) with the data's numbers (exact rationals); stationarity (H + 2λD)θ = c is
    linear in θ, with H the Hessian of E, c = −∂E/∂θ at θ = 0 and D marking the penalised unknowns.
    """

    variables: list[sp.Symbol]
    loss_expr: sp.Expr
    equations: list[sp.Basic]                      # stationarity with numbers, in θ and λ
    theta_of_lambda: dict[sp.Symbol, sp.Expr] | None   # θ(λ) as formulas (at most FORMULA_UP_TO unknowns)
    norm_equation: sp.Basic | None                 # R(θ(λ)) = r² (l2, with the formula)
    determined: bool                               # H is invertible: the data fix θ without a penalty
    unconstrained: dict[sp.Symbol, float] | None   # θ(0) (determined) or the limit θ(0+) (its smallest R)
    unconstrained_norm: float                      # |θ(0+)| in the penalty's norm

    def rounded_formula(self, digits: int = 6) -> dict[sp.Symbol, sp.Expr] | None:
        """θ(λ) with its (exact, often long) rational coefficients shown as decimals."""
        if self.theta_of_lambda is None:
            return None
        return {v: e.evalf(digits) for v, e in self.theta_of_lambda.items()}


@dataclass
class Equivalence:
    """The soft problem at λ = λ* solved on its own, against θ* of the hard problem."""

    lam: float
    hard: dict[sp.Symbol, float]
    soft: dict[sp.Symbol, float]
    difference: dict[sp.Symbol, float]   # soft − hard
    max_difference: float
    method: str
    hard_objective: float                # E + λ*R at θ*
    soft_objective: float                # E + λ*R at θ_soft
    converged: bool
    note: str | None = None              # why θ_soft and θ* differ, when they do


@dataclass
class RegularizationPath:
    """|θ_soft(λ)| over a grid of λ (for a figure), with r and λ* to mark."""

    norm: str                              # "l2": |θ|_2, "l1": |θ|_1
    points: list[tuple[float, float]]      # (λ, |θ_soft(λ)|), λ increasing
    radius: float
    lambda_star: float
    method: str


@dataclass
class HardResult:
    """min E(θ) subject to R(θ) ≤ r² (l2) or |θ|₁ ≤ r (l1), solved."""

    radius: float
    lagrangian: tuple[sp.Symbol, sp.Expr]
    conditions: list[Condition]
    values: dict[sp.Symbol, float]        # θ*, λ → λ*, r, E(θ*), R(θ*), ∂E/∂p at θ*
    theta: dict[sp.Symbol, float]         # θ*: every parameter (untrained ones as given)
    lambda_star: float
    loss: float                           # E(θ*)
    penalty: float                        # R(θ*)
    active: bool                          # the constraint holds with equality (λ* > 0)
    kkt_residual: float                   # the largest residual of the four conditions
    method: str                           # how θ* was found, with its tolerance
    iterations: int
    linear: LinearSolution | None
    equivalence: Equivalence
    path: RegularizationPath


@dataclass
class RegularizationResult:
    """Everything the key and the solutions PDF need about `[regularization]`."""

    config: Regularization
    symbolic: SymbolicRegularization
    soft: SoftResult                 # at λ = config.lam (0 when only a radius is given)
    hard: HardResult | None          # when a radius is given

    @property
    def has_soft(self) -> bool:
        return self.config.lam is not None

    def key(self, parameters) -> dict:
        """key.json's `regularization` entry; `parameters(value)` shapes numbers per parameter."""
        soft = self.soft
        entry: dict = {"penalty": soft.penalty, "objective": soft.objective,
                       "gradients": parameters(lambda p: soft.gradient[p]),
                       "updated": parameters(lambda p: soft.updated[p])}
        if self.hard is not None:
            h = self.hard
            theta = parameters(lambda p: h.theta[p])
            entry["constraint"] = {"radius": h.radius, "lambda_star": h.lambda_star,
                                   "weights": theta["weights"], "biases": theta["biases"],
                                   "loss": h.loss, "active": h.active, "kkt_residual": h.kkt_residual}
        return entry


# -- solving ----------------------------------------------------------------------------------------

def solve_regularization(spec: Spec, derivation: Derivation, values: Values) -> RegularizationResult:
    """The soft and hard constraint of `spec` with numbers (spec.regularization must be set)."""
    config = spec.regularization
    assert config is not None
    sym = derive_regularization(Shape.of(spec), config.penalty, config.include_biases)
    soft = _soft(spec, sym, derivation, values, config.strength)
    hard = _hard(spec, sym, derivation, config) if config.radius is not None else None
    return RegularizationResult(config, sym, soft, hard)


def _soft(spec: Spec, sym: SymbolicRegularization, d: Derivation, values: Values,
          lam: float) -> SoftResult:
    ev = numeric.evaluator(d)
    params = ev.params
    totals = values.totals
    leaves = _leaves(params, [totals[p] for p in params], spec.learning_rate, lam, totals, d)
    out = sym.compiled(leaves)
    named = dict(zip(sym.leaves, leaves)) | dict(zip(sym.compiled.names, out))
    regularized = {p: named[sym.updated[p]] if p in sym.updated else totals[p] for p in params}
    # The weight-decay form is evaluated separately: each pair must agree (to rounding).
    parameter_of = {plus: p for p, plus in sym.updated.items()}
    for i, step in enumerate(sym.soft_steps):
        if step.kind == "weight_decay":
            first = next(j for j, s in enumerate(sym.soft_steps) if s.name == step.name)
            p = parameter_of[step.name]
            scale = abs(totals[p]) + spec.learning_rate * abs(named[sym.gradient[p]])
            if abs(out[first] - out[i]) > 1e-12 * scale + 1e-300:
                raise AssertionError(f"{step.name}: {out[first]!r} vs weight-decay form {out[i]!r}")
            named[step.name] = out[first]
    in_theta = set(sym.theta)
    table = [TableRow(p, totals[p], p in in_theta, totals[d.gradient[p]], named[sym.gradient[p]],
                      totals[d.updated[p]] if p in d.updated else None,
                      regularized[p] if p in sym.updated else None) for p in params]
    result = SoftResult(lam, sym.soft_steps, out, named, totals[d.loss], named[sym.penalty_symbol],
                        named[sym.objective], {p: named[sym.gradient[p]] for p in params},
                        regularized, table)
    if spec.iterations > 1 and spec.regularization.lam is not None:
        result.history, result.final = _iterate(spec, sym, d, ev, lam)
    return result


def _leaves(params, current, eta, lam, totals, d) -> list[float]:
    """The compiled soft steps' inputs: parameters, η, λ, E and ∂E/∂p (in `sym.leaves` order)."""
    return list(current) + [eta, lam, totals[d.loss]] + [totals[d.gradient[p]] for p in params]


def _iterate(spec, sym, d, ev, lam):
    """Gradient descent on E_R: E_R before each step and after the last, and the final parameters."""
    params = ev.params
    current = ev.parameter_values(spec)
    index = {s: i for i, s in enumerate(sym.compiled.names)}
    objective = index[sym.objective]
    update = [index[sym.updated[p]] if p in sym.updated else None for p in params]
    history = []
    try:
        for _ in range(spec.iterations + 1):
            loss, gradient = ev.loss_and_gradient(current, spec)
            out = sym.compiled(current + [spec.learning_rate, lam, loss] + gradient)
            history.append(out[objective])
            if len(history) > spec.iterations:
                break
            current = [out[i] if i is not None else v for i, v in zip(update, current)]
        finite = all(map(math.isfinite, history + current))
    except (OverflowError, ValueError, ZeroDivisionError):
        finite = False
    if not finite:
        raise DeriveError("gradient descent on the regularised objective diverged (it is no longer "
                          "finite); choose a smaller learning_rate or lambda", file=spec.source,
                          field="[training] learning_rate")
    return history, dict(zip(params, current))


class _Problem:
    """E as a function of the trained parameters (a flat vector), through the compiled steps."""

    def __init__(self, spec: Spec, d: Derivation, sym: SymbolicRegularization):
        self.spec = spec
        self.d = d
        self.ev = numeric.evaluator(d)
        self.params = self.ev.params
        self.start = np.array(self.ev.parameter_values(spec), dtype=float)
        position = {p: i for i, p in enumerate(self.params)}
        self.variables = sym.variables
        self.index = np.array([position[p] for p in self.variables], dtype=int)
        in_theta = set(sym.theta)
        self.mask = np.array([p in in_theta for p in self.variables], dtype=bool)
        self.fixed_theta = [position[p] for p in sym.theta if p not in set(self.variables)]

    def full(self, x: np.ndarray) -> np.ndarray:
        v = self.start.copy()
        v[self.index] = x
        return v

    def __call__(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        try:
            loss, grad = self.ev.loss_and_gradient(self.full(x).tolist(), self.spec)
        except (OverflowError, ValueError, ZeroDivisionError):   # a saturated neuron: off limits
            return math.inf, np.zeros(len(x))
        return loss, np.array(grad)[self.index]

    def hessian(self, x: np.ndarray) -> np.ndarray:
        """∇²E by central differences of the compiled (exact) gradient, symmetrised."""
        n = len(x)
        H = np.empty((n, n))
        for j in range(n):
            h = 1e-5 * max(1.0, abs(x[j]))
            e = np.zeros(n)
            e[j] = h
            H[:, j] = (self(x + e)[1] - self(x - e)[1]) / (2 * h)
        return 0.5 * (H + H.T)

    def theta_dict(self, x: np.ndarray) -> dict[sp.Symbol, float]:
        return dict(zip(self.params, map(float, self.full(x))))


def _penalty(x: np.ndarray, mask: np.ndarray, l1: bool) -> float:
    part = x[mask]
    return float(np.abs(part).sum()) if l1 else float(part @ part)


def _norm(x: np.ndarray, mask: np.ndarray, l1: bool) -> float:
    part = x[mask]
    return float(np.abs(part).sum()) if l1 else float(np.linalg.norm(part))


def _hard(spec: Spec, sym: SymbolicRegularization, d: Derivation, config: Regularization) -> HardResult:
    problem = _Problem(spec, d, sym)
    l1 = config.penalty == "l1"
    r = config.radius
    bound = r if l1 else r * r
    linear = _is_linear(spec)
    if linear:
        x, lam_star, method, linear_solution, quadratic = _linear_model(spec, sym, problem, config)
        iterations = 0
    else:
        reason = _runaway_bias(spec, config)
        if reason:
            raise DeriveError(reason, file=spec.source, field="[regularization] radius")
        x, lam_star, method, iterations = _numeric_hard(spec, problem, config)
        linear_solution = None
        quadratic = None

    loss, grad = problem(x)
    R = _penalty(x, problem.mask, l1)
    active = lam_star > 0 or _norm(x, problem.mask, l1) >= r * (1 - 1e-9)
    conditions = _conditions(sym, x, grad, lam_star, R, bound, problem.mask, l1)
    kkt = max(c.residual for c in conditions)
    theta = problem.theta_dict(x)
    values = dict(theta) | {sym.lam: lam_star, sym.lambda_star: lam_star, sym.radius: r,
                            d.loss: loss, sym.penalty_symbol: R}
    values |= {d.gradient[p]: float(g) for p, g in zip(problem.variables, grad)}
    equivalence = _equivalence(spec, problem, config, x, lam_star, quadratic)
    path = _path(spec, problem, config, x, lam_star, quadratic)
    return HardResult(r, sym.lagrangian, conditions, values, theta, float(lam_star), float(loss), R,
                      bool(active), float(kkt), method, iterations, linear_solution, equivalence, path)


def _conditions(sym, x, grad, lam_star, R, bound, mask, l1) -> list[Condition]:
    station = _stationarity(x, grad, lam_star, mask, l1)
    note = "at θ_i = 0 the subgradient condition |∂E/∂θ_i| ≤ λ* replaces the equation" if l1 else None
    return [
        Condition("stationarity", sym.kkt["stationarity"], float(np.abs(station).max(initial=0.0)), note),
        Condition("primal_feasibility", sym.kkt["primal_feasibility"], max(0.0, R - bound)),
        Condition("dual_feasibility", sym.kkt["dual_feasibility"], max(0.0, -lam_star)),
        Condition("complementary_slackness", sym.kkt["complementary_slackness"],
                  abs(lam_star * (R - bound))),
    ]


# -- the one-layer linear model with squared loss: exact ------------------------------------------

def _is_linear(spec: Spec) -> bool:
    return (len(spec.layers) == 2 and spec.activations == ("linear",)
            and spec.loss in ("half_sse", "mse"))


def _rational(x: float) -> sp.Rational:
    return sp.Rational(repr(float(x)))


@dataclass(frozen=True)
class _Quadratic:
    """E(θ) = ½θᵀHθ − cᵀθ + const over the unknowns, as floats."""

    H: np.ndarray
    c: np.ndarray

    def __call__(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        g = self.H @ x - self.c
        return float(0.5 * x @ self.H @ x - self.c @ x), g


def _linear_model(spec: Spec, sym: SymbolicRegularization, problem: _Problem, config: Regularization):
    """E(θ) with the data's numbers; θ(λ) from the linear stationarity equations; λ* by bracketing.

    Returns θ*, λ*, how they were found, the `LinearSolution` record and E's quadratic form.
    """
    m = sym.model
    variables = sym.variables
    fixed = {p: _rational(v) for p, v in zip(problem.params, problem.start) if p not in set(variables)}
    terms = []
    for x, t in zip(spec.inputs, spec.targets):
        data = {s: _rational(v) for s, v in zip(m.inputs, x)} | fixed
        for k in range(spec.layers[-1]):
            out = m.net_expr(1, k).doit().xreplace(data)
            terms.append(m.term_expr(k).doit().xreplace({m.targets[k]: _rational(t[k]), m.out[1][k]: out}))
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
    theta_fn = None
    if not l1 and n <= FORMULA_UP_TO:
        A = H + 2 * lam * D          # Cramer's rule: θ(λ) = adj(A) c / det(A), polynomials in λ
        det = sp.expand(A.det(method="berkowitz"))
        numerators = A.adjugate(method="berkowitz") * c
        formula = {v: sp.factor(sp.cancel(sp.expand(e) / det)) for v, e in zip(variables, numerators)}
        functions = [sp.lambdify(lam, formula[v], "math") for v in variables]
        theta_fn = lambda value: np.array([float(f(value)) for f in functions])  # noqa: E731
    if theta_fn is None:
        theta_fn = lambda value: np.linalg.solve(Hf + 2 * value * Df, cf)  # noqa: E731

    if determined:
        origin = np.linalg.solve(Hf, cf) if formula is None else theta_fn(0.0)
    else:
        origin = _smallest_minimiser(Hf, cf, mask)
    origin_norm = _norm(origin, mask, l1)
    norm_equation = None
    if formula is not None:
        norm_equation = sp.Eq(sp.Add(*[formula[v] ** 2 for v, f in zip(variables, mask) if f]),
                              sym.radius ** 2, evaluate=False)
    record = LinearSolution(variables, loss_expr, equations, formula, norm_equation, bool(determined),
                            dict(zip(variables, map(float, origin))), origin_norm)
    quadratic = _Quadratic(Hf, cf)
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
        lam_star = optimize.decreasing_root(lambda value: _norm(theta_fn(value), mask, False) - r, scale)
        how = "sympy's θ(λ)" if formula is not None else "θ(λ) = (H + 2λD)⁻¹c"
        return (theta_fn(lam_star), lam_star, f"exact: {how} from the stationarity equations, λ* the "
                "root of |θ(λ)|₂ = r by bracketing and bisection to full precision", record, quadratic)
    x, lam_star = _l1_linear(quadratic, mask, r, origin)
    return (x, lam_star, "projected gradient onto the L1 ball (Barzilai-Borwein steps) to "
            f"gradient-mapping norm {NUMERIC_TOLERANCE:g}, then the KKT system solved exactly on the "
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


def _l1_linear(quadratic: _Quadratic, mask, r, start):
    """min ½θᵀHθ − cᵀθ subject to |θ[mask]|₁ ≤ r: projected gradient, then the exact KKT solve."""
    result = optimize.proximal_descent(quadratic, lambda v, t: optimize.project_l1(v, mask, r),
                                       start, NUMERIC_TOLERANCE, MAX_SOLVER_ITERATIONS)
    x = result.x
    polished = _l1_face(quadratic, mask, x, radius=r)
    if polished is not None:
        return polished
    g = quadratic(x)[1]
    support = mask & (x != 0)
    lam = max(0.0, float(-(g[support] @ np.sign(x[support])) / max(1, support.sum())))
    return x, lam


def _l1_face(quadratic: _Quadratic, mask, x, radius=None, lam=None):
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


# -- a network: numerical -----------------------------------------------------------------------------

def _numeric_hard(spec, problem: _Problem, config: Regularization):
    """Projected gradient descent from the spec's parameters; near the end Newton on the KKT equations."""
    l1 = config.penalty == "l1"
    r = config.radius
    mask = problem.mask
    project = optimize.project_l1 if l1 else optimize.project_l2
    x0 = problem.start[problem.index]
    measure = lambda x, g: _kkt_point(x, g, mask, l1, r)[1]  # noqa: E731
    x, steps, polished = x0, 0, False
    for budget in (FIRST_PHASE, MAX_SOLVER_ITERATIONS - FIRST_PHASE):
        try:
            result = optimize.proximal_descent(problem, lambda v, t: project(v, mask, r), x,
                                               NUMERIC_TOLERANCE, budget, free=~mask, measure=measure)
        except optimize.Runaway as exc:
            raise DeriveError(_runaway_message(problem, exc.x, None), file=spec.source,
                              field="[regularization] radius") from None
        x, steps = result.x, steps + result.iterations
        if result.converged:
            break
        if not l1 and len(x) <= NEWTON_UP_TO:
            x, residual, polished = _polish_ball(problem, x, r)
            if residual <= NUMERIC_TOLERANCE:
                break
    else:
        growing = _growing_free(problem, x, x0)
        if growing is not None:
            raise DeriveError(_runaway_message(problem, x, growing, steps), file=spec.source,
                              field="[regularization] radius")
        residual = measure(x, problem(x)[1])
        if residual > ACCEPTED_TOLERANCE:
            why = ("the minimiser may sit on a ReLU kink, where the gradient jumps"
                   if "relu" in spec.activations else "the loss is too flat here or has no minimiser")
            raise DeriveError(f"projected gradient descent did not reach the tolerance "
                              f"{ACCEPTED_TOLERANCE:g} in {steps} steps (KKT residual {residual:.3g}): "
                              f"{why}", file=spec.source, field="[regularization] radius")
    growing = _growing_free(problem, x, x0)
    if growing is not None:     # "converged" only because a saturated neuron's gradient vanished
        raise DeriveError(_runaway_message(problem, x, growing, steps), file=spec.source,
                          field="[regularization] radius")
    _, g = problem(x)
    lam_star = _kkt_point(x, g, mask, l1, r)[0]
    ball = "L1 ball" if l1 else "ball"
    newton = (" and Newton's method on the KKT equations (Hessian by central differences of the "
              "compiled gradient) to finish" if polished else "")
    return x, lam_star, (f"projected gradient descent onto the {ball} from the spec's parameters "
                         f"(Barzilai-Borwein steps with backtracking){newton}, until the stationarity "
                         f"residual |∇E + λ*∇R|∞ ≤ {NUMERIC_TOLERANCE:g} (or ≤ {ACCEPTED_TOLERANCE:g} "
                         f"after {MAX_SOLVER_ITERATIONS} steps), with λ* the least-squares "
                         f"solution of ∇E + λ∇R = 0 over the penalised parameters (0 inside the ball)"), steps


def _polish_ball(problem: _Problem, x: np.ndarray, r: float) -> tuple[np.ndarray, float, bool]:
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
        return _kkt_point(y, g, mask, False, r)[1] if math.isfinite(value) else math.inf

    g = problem(x)[1]
    lam, before = _kkt_point(x, g, mask, False, r)
    if lam > 0:
        def F(z):
            y, lam_ = z[:n], z[n]
            return np.concatenate([problem(y)[1] + 2 * lam_ * D * y, [0.5 * (y[mask] @ y[mask] - r * r)]])

        def J(z):
            y, lam_ = z[:n], z[n]
            top = np.column_stack([problem.hessian(y) + 2 * lam_ * np.diag(D), 2 * D * y])
            return np.vstack([top, np.concatenate([D * y, [0.0]])])
        z = optimize.newton(F, J, np.concatenate([x, [lam]]), residual, NUMERIC_TOLERANCE)
    else:
        z = optimize.newton(lambda y: problem(y)[1], problem.hessian, x, residual, NUMERIC_TOLERANCE)
    y = optimize.project_l2(z[:n], mask, r)
    after = residual(z)
    if after < before and problem(y)[0] <= problem(x)[0] + 1e-12 * abs(problem(x)[0]) \
            and _second_order(problem, y, r):
        return y, after, True
    return x, before, False


def _second_order(problem: _Problem, x: np.ndarray, r: float) -> bool:
    """The Lagrangian's Hessian is positive semidefinite on the tangent space of the active ball."""
    mask = problem.mask
    D = mask.astype(float)
    lam, _ = _kkt_point(x, problem(x)[1], mask, False, r)
    H = problem.hessian(x) + 2 * lam * np.diag(D)
    if lam > 0:
        normal = D * x / np.linalg.norm(D * x)
        P = np.eye(len(x)) - np.outer(normal, normal)
        H = P @ H @ P
    eigenvalues = np.linalg.eigvalsh(H)
    return eigenvalues.min() >= -1e-6 * max(1.0, float(np.abs(eigenvalues).max()))


def _kkt_point(x, g, mask, l1, r) -> tuple[float, float]:
    """λ* for θ = x (least squares on the boundary, 0 inside) and the stationarity residual there."""
    lam = _multiplier(x, g, mask, l1) if _norm(x, mask, l1) >= r * (1 - 1e-9) else 0.0
    return lam, float(np.abs(_stationarity(x, g, lam, mask, l1)).max(initial=0.0))


def _stationarity(x, g, lam, mask, l1) -> np.ndarray:
    """∇E + λ∇R per unknown; L1 at θ_i = 0: how far |∂E/∂θ_i| exceeds λ (the subgradient condition)."""
    if not l1:
        return g + lam * np.where(mask, 2 * x, 0.0)
    station = np.where(mask & (x != 0), g + lam * np.sign(x), g)
    return np.where(mask & (x == 0), np.maximum(np.abs(g) - lam, 0.0), station)


def _growing_free(problem: _Problem, x: np.ndarray, x0: np.ndarray) -> int | None:
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


def _runaway_message(problem: _Problem, x: np.ndarray, i: int | None, steps: int | None = None) -> str:
    free = np.nonzero(~problem.mask)[0]
    if i is None:
        i = max(free, key=lambda j: abs(x[j]))
    name = problem.variables[i].name
    when = f" after {steps} steps" if steps else ""
    return (f"the hard constraint leaves {name} free (include_biases = false), and {name} keeps "
            f"growing ({name} = {x[i]:.4g}{when}) while the loss keeps falling: the loss reaches its "
            f"lowest value only as {name} goes to {'+' if x[i] > 0 else '-'}infinity (a neuron "
            f"saturates), so the problem has no minimiser; set include_biases = true")


def _multiplier(x, g, mask, l1) -> float:
    """λ* from stationarity: the least-squares λ of ∇E + λ∇R = 0 over the penalised parameters."""
    if l1:
        on = mask & (x != 0)
        q = np.sign(x[on])
        g = g[on]
    else:
        q = 2 * x[mask]
        g = g[mask]
    qq = float(q @ q)
    return max(0.0, float(-(g @ q) / qq)) if qq > 0 else 0.0


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


# -- equivalence and the regularisation path ------------------------------------------------------

def _soft_minimum(problem, config, lam, start, quadratic, tolerance=NUMERIC_TOLERANCE,
                  budget=MAX_SOLVER_ITERATIONS) -> tuple[np.ndarray, bool]:
    """argmin E + λR from `start` (a network, the L1 linear model) or exactly (the L2 linear model).

    Returns the point and whether it meets `tolerance` (NaNs if free parameters ran away).
    A network's L2 problem gets Newton's method on ∇E + 2λDθ = 0 when gradient descent is slow.
    """
    mask = problem.mask
    D = mask.astype(float)
    if quadratic is not None and config.penalty == "l2":
        return np.linalg.solve(quadratic.H + 2 * lam * np.diag(D), quadratic.c), True
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
        except optimize.Runaway:
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
    if quadratic is not None:
        polished = _l1_face(quadratic, mask, x, lam=lam)
        if polished is not None:
            return polished, True
    return x, converged


def _equivalence(spec, problem, config, x_star, lam_star, quadratic) -> Equivalence:
    l1 = config.penalty == "l1"
    start = problem.start[problem.index]
    soft, converged = _soft_minimum(problem, config, lam_star, start, quadratic)
    if quadratic is not None and not l1:
        method = "the soft problem's normal equations (H + 2λ*D)θ = c solved with numpy"
    elif quadratic is not None:
        method = "proximal gradient (soft thresholding) on E + λ*|θ|₁, then exact on its face"
    else:
        step = "proximal gradient (soft thresholding)" if l1 else "gradient descent"
        method = (f"{step} with Barzilai-Borwein steps on E + λ*R from the spec's parameters, "
                  f"to gradient-mapping norm {NUMERIC_TOLERANCE:g}")
    hard_d = problem.theta_dict(x_star)
    soft_d = problem.theta_dict(soft)
    diff = {p: soft_d[p] - hard_d[p] for p in problem.params}
    objective = [_objective_value(problem, y, lam_star, l1) for y in (x_star, soft)]
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


def _objective_value(problem: _Problem, x, lam, l1) -> float:
    """E + λR at x."""
    loss = problem(x)[0]
    return float(loss + lam * _penalty(x, problem.mask, l1))


def _path(spec, problem, config, x_star, lam_star, quadratic) -> RegularizationPath:
    l1 = config.penalty == "l1"
    reference = lam_star if lam_star > 0 else (config.lam or 0.0)
    if reference <= 0:
        reference = 1e-3
    grid = reference * np.logspace(-1, 1, PATH_POINTS)
    middle = PATH_POINTS // 2
    grid[middle] = reference
    norms: list[float] = [math.nan] * PATH_POINTS
    start = x_star if lam_star > 0 else problem.start[problem.index]
    # Warm starts outward from λ*: each solve begins at its neighbour's solution.
    for order in (range(middle, PATH_POINTS), range(middle - 1, -1, -1)):
        current = start
        for i in order:
            solution, converged = _soft_minimum(problem, config, float(grid[i]), current, quadratic,
                                                tolerance=1e-9, budget=PATH_ITERATIONS)
            if converged:
                current = solution
                norms[i] = _norm(solution, problem.mask, l1)
    points = [(float(lam), float(norm)) for lam, norm in zip(grid, norms) if math.isfinite(norm)]
    if quadratic is not None and not l1:
        method = "exact (normal equations) at each λ"
    else:
        method = "each point a numerical soft solve, warm-started from its neighbour towards λ*"
    return RegularizationPath("l1" if l1 else "l2", points, float(config.radius), float(lam_star), method)
