"""Activation functions as sympy expressions, with the derivative identities the lecture uses.

Each activation gives `out` as an expression of `net` (built unevaluated, so it prints as written)
and its local derivative in the form a teacher writes (sigmoid: out(1-out)). `check_identities`
checks that each written form equals sympy's own derivative; `prove_identities` proves it.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sympy as sp

from ..choices import ACTIVATIONS
from .unevaluated import minus as _minus
from .unevaluated import neg as _neg

_ONE = sp.Integer(1)


@dataclass(frozen=True)
class Activation:
    name: str

    @property
    def elementwise(self) -> bool:
        return self.name != "softmax"

    def out(self, net: sp.Symbol, nets: list[sp.Symbol] | None = None) -> sp.Expr:
        """out as a function of net (softmax: of every net of the layer)."""
        if self.name == "sigmoid":
            return sp.Pow(sp.Add(_ONE, sp.exp(_neg(net), evaluate=False), evaluate=False), -1,
                          evaluate=False)
        if self.name == "tanh":
            return sp.tanh(net, evaluate=False)
        if self.name == "relu":
            return sp.Max(sp.Integer(0), net, evaluate=False)
        if self.name == "linear":
            return net
        assert nets is not None
        denominator = sp.Add(*[sp.exp(n, evaluate=False) for n in nets], evaluate=False)
        return sp.Mul(sp.exp(net, evaluate=False), sp.Pow(denominator, -1, evaluate=False),
                      evaluate=False)

    def derivative(self, net: sp.Symbol, out: sp.Symbol) -> sp.Expr:
        """d out / d net written as the lecture does, in terms of out (relu: of net)."""
        if self.name == "sigmoid":
            return sp.Mul(out, _minus(_ONE, out), evaluate=False)
        if self.name == "tanh":
            return _minus(_ONE, sp.Pow(out, 2, evaluate=False))
        if self.name == "relu":
            # ReLU is not differentiable at 0; we take the derivative there to be 0.
            return sp.Piecewise((_ONE, sp.StrictGreaterThan(net, 0)), (sp.Integer(0), True))
        if self.name == "linear":
            return _ONE
        raise ValueError("softmax has a Jacobian: use softmax_derivative")

    @staticmethod
    def softmax_derivative(out_m: sp.Symbol, out_k: sp.Symbol, same: bool) -> sp.Expr:
        """d out_m / d net_k for softmax: out_m (1 - out_m) when m = k, else -out_m out_k."""
        if same:
            return sp.Mul(out_m, _minus(_ONE, out_m), evaluate=False)
        return _neg(sp.Mul(out_m, out_k, evaluate=False))


# Points at which a written derivative is compared with sympy's, evaluated to DIGITS digits: exact
# rationals away from 0 (ReLU's kink) and from each other, so no two coincide by symmetry.
POINTS = (sp.Rational(-7, 3), sp.Rational(2, 5), sp.Rational(13, 4))
DIGITS = 50
ZERO = sp.Float("1e-40")      # "equal" at DIGITS digits: a true difference is far above it


def differs(difference: sp.Expr, at: dict) -> bool:
    """Whether `difference`, evaluated exactly at the rational point `at` to DIGITS digits, is not 0."""
    value = difference.subs(at).evalf(DIGITS)
    return not value.is_number or abs(value) > ZERO


@cache
def check_identities(names: tuple[str, ...] = ACTIVATIONS) -> None:
    """Check, once per process for the activations in use, that every written derivative is sympy's
    derivative of the activation: their difference vanishes at three rational points, to 50 digits.

    Why points and not a proof here: the proof by `simplify` took 0.35 s (and loaded 0.2 s more of
    sympy's modules) in every process, for code that does not change between runs. Two different
    analytic functions of net agree only at isolated points, so a wrong written form shows at these
    points; the symbolic proof (`prove_identities`) runs in the test suite.
    """
    for name, difference, points in _differences(names):
        if any(differs(difference, at) for at in points):
            raise AssertionError(f"{name}: written derivative differs from sympy's")


def prove_identities(names: tuple[str, ...] = ACTIVATIONS) -> None:
    """Prove with `simplify` that every written derivative equals sympy's derivative (the test
    suite's check; `check_identities` is the cheap one every process runs)."""
    for name, difference, _ in _differences(names):
        if sp.simplify(difference) != 0:
            raise AssertionError(f"{name}: written derivative differs from sympy's")


def _differences(names: tuple[str, ...]):
    """(name, sympy's derivative minus the written one, points to compare them at) for each identity
    of the named activations; ReLU's is checked here on either side of its kink."""
    net, n2, n3 = sp.symbols("net n2 n3", real=True)
    o = sp.Symbol("o")
    for name in names:
        act = Activation(name)
        if name in ("sigmoid", "tanh", "linear"):
            out_expr = act.out(net).doit()
            written = act.derivative(net, o).subs(o, out_expr)
            yield name, sp.diff(out_expr, net) - written, [{net: x} for x in POINTS]
        elif name == "relu":
            sympy_relu = sp.diff(act.out(net).doit(), net)  # Heaviside(net)
            for value in (-2, -0.5, 0.5, 3):
                if sympy_relu.subs(net, value) != act.derivative(net, o).subs(net, value):
                    raise AssertionError("relu: written derivative differs from sympy's")
        else:
            nets = [net, n2, n3]
            outs = [act.out(n, nets).doit() for n in nets]
            om, ok = sp.symbols("om ok")
            points = [dict(zip(nets, POINTS[i:] + POINTS[:i])) for i in range(len(POINTS))]
            for m in range(3):
                for k in range(3):
                    written = Activation.softmax_derivative(om, ok, m == k).subs({om: outs[m], ok: outs[k]})
                    yield f"softmax (d out_{m + 1} / d net_{k + 1})", sp.diff(outs[m], nets[k]) - written, points
