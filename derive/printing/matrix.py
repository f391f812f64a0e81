"""Names and products of the matrix form of backpropagation, and of the regularisation's optimum.

delta^(l), W^(l), f_l'(z^(l)), a ⊙ b, R(θ*), ||θ||₂: the pieces that `layout.vector` and the
regularisation layout place.
"""
from __future__ import annotations

_MATRIX_SYMBOLS = {
    "delta": r"\delta^{{({l})}}",
    "grad_a E": r"\nabla_{{a^{{({l})}}}} E",
    "act'": r"f_{{{l}}}'\left(z^{{({l})}}\right)",
    "jacobian^T": r"\left(\frac{{\partial a^{{({l})}}}}{{\partial z^{{({l})}}}}\right)^{{\top}}",
    "W^T": r"\left(W^{{({l})}}\right)^{{\top}}",
    "dE/dW": r"\frac{{\partial E}}{{\partial W^{{({l})}}}}",
    "a^T": r"\left(a^{{({l})}}\right)^{{\top}}",
}


def matrix_symbol(kind: str, layer: int) -> str:
    """Names of the matrix form: delta^(l), W^(l), the activation's derivative f_l'(z^(l)), ..."""
    return _MATRIX_SYMBOLS[kind].format(l=layer)


def hadamard(*parts: str) -> str:
    """Elementwise product of printed vectors: a ⊙ b."""
    return r" \odot ".join(parts)


def product(*parts: str) -> str:
    """Matrix product of printed factors, side by side."""
    return " ".join(parts)


def at_optimum(name: str) -> str:
    """A quantity evaluated at the constrained optimum: R(θ*)."""
    return name + r"\left(\theta^{*}\right)"


def norm_name(penalty: str) -> str:
    """The norm the constraint bounds: ||θ||₂ or ||θ||₁."""
    return r"\|\theta\|_2" if penalty == "l2" else r"\|\theta\|_1"
