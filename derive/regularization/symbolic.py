"""The penalty's symbolic steps, derived once per shape, penalty and include_biases: R(θ), E + λR,
its partials (2λw or λ·sign(w)), the regularised update and its weight-decay form, proved equal.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..derivation import Step
from ..derivation import derive as derive_shape
from ..model.naming import Name
from ..model.network import Model, Shape
from ..model.unevaluated import add as _add
from ..model.unevaluated import mul as _mul
from ..model.unevaluated import neg as _neg
from ..numeric.compiled import Compiled


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


def derive_regularization(shape: Shape, penalty: str, include_biases: bool) -> SymbolicRegularization:
    """Derived once per shape and penalty, kept with the shape's derivation (whose model
    holds the names it registers)."""
    return derive_shape(shape).derived(("regularization", penalty, include_biases),
                                       lambda: _derive_regularization(shape, penalty, include_biases))


def _derive_regularization(shape: Shape, penalty: str, include_biases: bool) -> SymbolicRegularization:
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
