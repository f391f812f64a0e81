"""Activation functions as sympy expressions, with the derivative identities the lecture uses.

Each activation gives `out` as an expression of `net` (built unevaluated, so it prints as written)
and its local derivative in the form a teacher writes (sigmoid: out(1-out)). `check_identities`
proves, with sympy, that each written form equals sympy's own derivative.
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


@cache
def check_identities(names: tuple[str, ...] = ACTIVATIONS) -> None:
    """Prove that every written derivative equals sympy's derivative of the activation.

    Run once per process for the activations in use, before any derivation; a failed identity
    would be a bug.
    """
    net, n2, n3 = sp.symbols("net n2 n3", real=True)
    o = sp.Symbol("o")
    for name in names:
        act = Activation(name)
        if name in ("sigmoid", "tanh", "linear"):
            out_expr = act.out(net).doit()
            written = act.derivative(net, o).subs(o, out_expr)
            if sp.simplify(sp.diff(out_expr, net) - written) != 0:
                raise AssertionError(f"{name}: written derivative differs from sympy's")
        elif name == "relu":
            sympy_relu = sp.diff(act.out(net).doit(), net)  # Heaviside(net)
            for value in (-2, -0.5, 0.5, 3):
                if sympy_relu.subs(net, value) != act.derivative(net, o).subs(net, value):
                    raise AssertionError("relu: written derivative differs from sympy's")
        else:
            nets = [net, n2, n3]
            outs = [act.out(n, nets).doit() for n in nets]
            om, ok = sp.symbols("om ok")
            for m in range(3):
                for k in range(3):
                    written = Activation.softmax_derivative(om, ok, m == k).subs({om: outs[m], ok: outs[k]})
                    if sp.simplify(sp.diff(outs[m], nets[k]) - written) != 0:
                        raise AssertionError("softmax: written Jacobian differs from sympy's")
