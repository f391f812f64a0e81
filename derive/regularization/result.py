"""Plain records of the regularisation part, for the key and the renderer.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..derivation import Step
from .section import Regularization
from .symbolic import SymbolicRegularization

FORMULA_UP_TO = 3             # θ(λ) is kept as a formula in λ for at most this many unknowns


def rational(x: float) -> sp.Rational:
    return sp.Rational(repr(float(x)))


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
    trajectory: np.ndarray | None = None  # the parameters before each step and after the last


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
