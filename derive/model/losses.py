"""Loss functions: one term per output neuron, the total their sum, and each term's derivative.

The derivative is written as a teacher writes it (half_sse: -(target - out)); `check_identities`
proves with sympy that the written form is sympy's derivative of the term.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sympy as sp

from ..choices import LOSSES
from .unevaluated import minus as _minus
from .unevaluated import neg as _neg

_ONE = sp.Integer(1)


@dataclass(frozen=True)
class Loss:
    name: str
    n_out: int

    def term(self, target: sp.Symbol, out: sp.Symbol) -> sp.Expr:
        """The loss's term for one output neuron."""
        if self.name == "half_sse":
            return sp.Mul(sp.Rational(1, 2), sp.Pow(_minus(target, out), 2, evaluate=False),
                          evaluate=False)
        if self.name == "mse":
            return sp.Mul(sp.Rational(1, self.n_out), sp.Pow(_minus(target, out), 2, evaluate=False),
                          evaluate=False)
        if self.name == "cross_entropy":
            return _neg(sp.Mul(target, sp.log(out, evaluate=False), evaluate=False))
        return _neg(sp.Add(sp.Mul(target, sp.log(out, evaluate=False), evaluate=False),
                           sp.Mul(_minus(_ONE, target), sp.log(_minus(_ONE, out), evaluate=False),
                                  evaluate=False), evaluate=False))

    def derivative(self, target: sp.Symbol, out: sp.Symbol) -> sp.Expr:
        """d term / d out, as a teacher writes it."""
        if self.name == "half_sse":
            return _neg(_minus(target, out))
        if self.name == "mse":
            return sp.Mul(sp.Rational(-2, self.n_out), _minus(target, out), evaluate=False)
        if self.name == "cross_entropy":
            return _neg(sp.Mul(target, sp.Pow(out, -1, evaluate=False), evaluate=False))
        return _neg(_minus(sp.Mul(target, sp.Pow(out, -1, evaluate=False), evaluate=False),
                           sp.Mul(_minus(_ONE, target),
                                  sp.Pow(_minus(_ONE, out), -1, evaluate=False), evaluate=False)))


@cache
def check_identities(n_out: int, names: tuple[str, ...] = LOSSES) -> None:
    """Prove that every written derivative equals sympy's derivative of its term."""
    t, o = sp.symbols("t o", real=True)
    for name in names:
        loss = Loss(name, n_out)
        if sp.simplify(sp.diff(loss.term(t, o).doit(), o) - loss.derivative(t, o).doit()) != 0:
            raise AssertionError(f"{name}: written derivative differs from sympy's")
