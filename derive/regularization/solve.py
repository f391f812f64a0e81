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
"""
from __future__ import annotations

from ..derivation import Derivation
from ..model.network import Shape
from ..numeric.compiled import Values
from ..spec import Spec
from .hard import hard_part
from .result import RegularizationResult
from .soft import soft_part
from .symbolic import derive_regularization


def solve_regularization(spec: Spec, derivation: Derivation, values: Values) -> RegularizationResult:
    """The soft and hard constraint of `spec` with numbers (spec.regularization must be set)."""
    config = spec.regularization
    assert config is not None
    sym = derive_regularization(Shape.of(spec), config.penalty, config.include_biases)
    soft = soft_part(spec, sym, derivation, values, config.strength)
    hard = hard_part(spec, sym, derivation, config) if config.radius is not None else None
    return RegularizationResult(config, sym, soft, hard)
