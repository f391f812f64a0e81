"""Loss functions: one term per output neuron, the total their sum, and each term's derivative.

The derivative is written as a teacher writes it (half_sse: -(target - out)); `check_identities`
checks at rational points (as the activations' are) that the written form is sympy's derivative of
the term, and `prove_identities` (run by the test suite) proves it with sympy.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sympy as sp

from ..choices import LOSSES
from .activations import differs
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


# (target, out) points: out strictly between 0 and 1, where every loss and its derivative exist.
POINTS = ((sp.Rational(1, 3), sp.Rational(5, 7)), (sp.Rational(3, 4), sp.Rational(2, 9)),
          (sp.Integer(1), sp.Rational(4, 11)))


@cache
def check_identities(n_out: int, names: tuple[str, ...] = LOSSES) -> None:
    """Check that every written derivative is sympy's derivative of its term: their difference
    vanishes at three rational points to 50 digits (see `activations.check_identities` for why)."""
    for name, difference, (t, o) in _differences(n_out, names):
        if any(differs(difference, {t: at_t, o: at_o}) for at_t, at_o in POINTS):
            raise AssertionError(f"{name}: written derivative differs from sympy's")


def prove_identities(n_out: int, names: tuple[str, ...] = LOSSES) -> None:
    """Prove with `simplify` that every written derivative equals sympy's derivative of its term."""
    for name, difference, _ in _differences(n_out, names):
        if sp.simplify(difference) != 0:
            raise AssertionError(f"{name}: written derivative differs from sympy's")


def _differences(n_out: int, names: tuple[str, ...]):
    """(name, sympy's derivative of the term minus the written one, the symbols (t, o))."""
    t, o = sp.symbols("t o", real=True)
    for name in names:
        loss = Loss(name, n_out)
        yield name, sp.diff(loss.term(t, o).doit(), o) - loss.derivative(t, o).doit(), (t, o)
