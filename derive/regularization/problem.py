"""The regularised problem as numbers: the flat parameter vector, the penalty and its norm, the
quadratic of a linear model, the KKT quantities and the solvers' tolerances.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
import math

import numpy as np
import sympy as sp

from ..derivation import Derivation
from ..numeric import compiled as numeric
from ..spec import Spec
from .symbolic import SymbolicRegularization

NUMERIC_TOLERANCE = 1e-10     # KKT residual (gradient-mapping norm) at which the numerical solvers stop
POLISH_TOLERANCE = 1e-14      # Newton's finish on an L2 problem: printed digits are then the true ones
ACCEPTED_TOLERANCE = 1e-8     # a network's KKT residual still accepted when the step budget runs out


def tolerance_text(tolerance: float) -> str:
    """A solver's tolerance as a student reads it in the method's description: 0.0000000001,
    not 1e-10 (fixed notation, all its digits)."""
    return format(Decimal(repr(tolerance)), "f")


class Problem:
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


def penalty_value(x: np.ndarray, mask: np.ndarray, l1: bool) -> float:
    part = x[mask]
    return float(np.abs(part).sum()) if l1 else float(part @ part)


def norm_value(x: np.ndarray, mask: np.ndarray, l1: bool) -> float:
    part = x[mask]
    return float(np.abs(part).sum()) if l1 else float(np.linalg.norm(part))


@dataclass(frozen=True)
class Quadratic:
    """E(θ) = ½θᵀHθ − cᵀθ + const over the unknowns, as floats."""

    H: np.ndarray
    c: np.ndarray

    def __call__(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        g = self.H @ x - self.c
        return float(0.5 * x @ self.H @ x - self.c @ x), g


def kkt_point(x, g, mask, l1, r) -> tuple[float, float]:
    """λ* for θ = x (least squares on the boundary, 0 inside) and the stationarity residual there."""
    lam = _multiplier(x, g, mask, l1) if norm_value(x, mask, l1) >= r * (1 - 1e-9) else 0.0
    return lam, float(np.abs(stationarity_residual(x, g, lam, mask, l1)).max(initial=0.0))


def stationarity_residual(x, g, lam, mask, l1) -> np.ndarray:
    """∇E + λ∇R per unknown; L1 at θ_i = 0: how far |∂E/∂θ_i| exceeds λ (the subgradient condition)."""
    if not l1:
        return g + lam * np.where(mask, 2 * x, 0.0)
    station = np.where(mask & (x != 0), g + lam * np.sign(x), g)
    return np.where(mask & (x == 0), np.maximum(np.abs(g) - lam, 0.0), station)


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


def gradient_scale(gradient) -> float:
    """max(1, |∇E|∞) at the spec's parameters: the unit of the KKT residual's tolerance."""
    largest = float(np.abs(np.asarray(gradient, dtype=float)).max(initial=0.0))
    return max(1.0, largest) if math.isfinite(largest) else 1.0


def objective_value(problem: Problem, x, lam, l1) -> float:
    """E + λR at x."""
    loss = problem(x)[0]
    return float(loss + lam * penalty_value(x, problem.mask, l1))


def is_linear(spec: Spec) -> bool:
    return (len(spec.layers) == 2 and spec.activations == ("linear",)
            and spec.loss in ("half_sse", "mse"))
