"""The soft constraint with numbers: E + λR, its gradients and update, and (iterations > 1) its descent.
"""
from __future__ import annotations

import math

import numpy as np
import sympy as sp

from ..derivation import Derivation
from ..errors import DeriveError
from ..numeric import compiled as numeric
from ..numeric.compiled import Values
from ..spec import Spec
from .result import SoftResult, TableRow
from .symbolic import SymbolicRegularization


def soft_part(spec: Spec, sym: SymbolicRegularization, d: Derivation, values: Values,
          lam: float) -> SoftResult:
    ev = numeric.evaluator(d)
    params = ev.params
    totals = values.totals
    leaves = _leaves(params, [totals[p] for p in params], spec.learning_rate, lam, totals, d)
    try:
        out = sym.compiled(leaves)
    except (OverflowError, ZeroDivisionError, ValueError):
        out = [math.inf]
    for i, step in enumerate(sym.soft_steps[:len(out)]):
        if step.kind != "weight_decay" and not math.isfinite(out[i]):
            raise _too_large(spec, step)
    if len(out) < len(sym.soft_steps):
        raise _too_large(spec, None)
    named = dict(zip(sym.leaves, leaves)) | dict(zip(sym.compiled.names, out))
    # The weight-decay form is evaluated separately: each pair must agree (to rounding).
    parameter_of = {plus: p for p, plus in sym.updated.items()}
    for i, step in enumerate(sym.soft_steps):
        if step.kind == "weight_decay":
            first = next(j for j, s in enumerate(sym.soft_steps) if s.name == step.name)
            p = parameter_of[step.name]
            scale = abs(totals[p]) + spec.learning_rate * abs(named[sym.gradient[p]])
            decay = out[i]
            if not math.isfinite(decay):
                # An intermediate of this form (2ηλ, say) overflows although the result does not:
                # the form is evaluated in exact rational arithmetic instead.
                decay = _exact(step.expr, named)
                out[i] = decay
            if not abs(out[first] - decay) <= 1e-12 * scale + 1e-300:
                raise AssertionError(f"{step.name}: {out[first]!r} vs weight-decay form {decay!r}")
            named[step.name] = out[first]
    regularized = {p: named[sym.updated[p]] if p in sym.updated else totals[p] for p in params}
    in_theta = set(sym.theta)
    table = [TableRow(p, totals[p], p in in_theta, totals[d.gradient[p]], named[sym.gradient[p]],
                      totals[d.updated[p]] if p in d.updated else None,
                      regularized[p] if p in sym.updated else None) for p in params]
    result = SoftResult(lam, sym.soft_steps, out, named, totals[d.loss], named[sym.penalty_symbol],
                        named[sym.objective], {p: named[sym.gradient[p]] for p in params},
                        regularized, table)
    if spec.iterations > 1 and spec.regularization.lam is not None:
        result.history, result.final, result.trajectory = _iterate(spec, sym, d, ev, lam)
    return result


def _exact(expr, named) -> float:
    """An expression of the soft steps' leaves evaluated with the leaves as exact rationals."""
    exact = expr.doit().xreplace({s: sp.Rational(repr(float(named[s]))) for s in expr.free_symbols})
    return float(exact)


ADVICE = {"[parameters] weights": "smaller weights", "[regularization] lambda": "a smaller lambda",
          "[training] learning_rate": "a smaller learning_rate"}


def _too_large(spec: Spec, step) -> DeriveError:
    """The regularised numbers exceed the largest float: which field makes them so.

    R overflows: the weights are too large for their squares (or sum); λR or ∂(λR)/∂w: λ is;
    an update w - η ∂E_R/∂w: the learning rate is."""
    kind = step.kind if step is not None else "penalty"
    field, cause = {
        "penalty": ("[parameters] weights", "R(θ), the penalty of the weights,"),
        "objective": ("[regularization] lambda", "E + λR"),
        "penalty_derivative": ("[regularization] lambda", "a penalty partial ∂(λR)/∂w"),
        "regularized_gradient": ("[regularization] lambda", "a regularised gradient ∂E_R/∂w"),
        "regularized_update": ("[training] learning_rate", "a regularised update w − η ∂E_R/∂w"),
    }.get(kind, ("[regularization] lambda", "a regularised value"))
    return DeriveError(f"the regularised numbers overflow: {cause} exceeds the largest floating-point "
                       f"number (about 1.8 × 10^308); choose {ADVICE[field]}",
                       file=spec.source, field=field)


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
    trajectory = np.empty((spec.iterations + 1, len(current)))
    try:
        for k in range(spec.iterations + 1):
            trajectory[k] = current
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
    return history, dict(zip(params, current)), trajectory
