"""The network as sympy symbols and local expressions; it depends on the shape only, not on numbers.

net_j = sum_k w_jk out_k + b_j * 1 and out_j = act(net_j) per neuron, one loss term per output and
E_total their sum: each built unevaluated, so it prints in the lecture's order.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .activations import Activation
from .losses import Loss
from .naming import Name, Names, Scheme


@dataclass(frozen=True)
class Shape:
    """Everything the symbolic derivation depends on: two specs with one shape share one derivation."""

    layers: tuple[int, ...]
    activations: tuple[str, ...]
    loss: str
    naming: str
    shared_biases: tuple[bool, ...]
    n_samples: int
    reduction: str
    update_biases: bool

    @classmethod
    def of(cls, spec) -> "Shape":
        return cls(spec.layers, spec.activations, spec.loss, spec.naming, spec.shared_biases,
                   len(spec.inputs), spec.reduction, spec.update_biases)

    @property
    def depth(self) -> int:
        """Number of layers after the inputs."""
        return len(self.layers) - 1


class Model:
    """Symbols of one network shape and the local expression of every node."""

    def __init__(self, shape: Shape):
        self.shape = shape
        self.names = names = Names()
        scheme = Scheme(shape.naming, shape.layers)
        L = shape.depth
        self.inputs = [names.symbol(scheme.input(j)) for j in range(shape.layers[0])]
        self.targets = [names.symbol(scheme.target(k)) for k in range(shape.layers[-1])]
        self.eta = names.symbol(scheme.learning_rate())
        self.weights: list[list[list[sp.Symbol]]] = []
        number = 0
        for l in range(1, L + 1):
            matrix = []
            for j in range(shape.layers[l]):
                row = []
                for k in range(shape.layers[l - 1]):
                    number += 1
                    row.append(names.symbol(scheme.weight(l, j, k, number)))
                matrix.append(row)
            self.weights.append(matrix)
        self.biases: list[sp.Symbol | list[sp.Symbol]] = []
        number = 0
        for l in range(1, L + 1):
            if shape.shared_biases[l - 1]:
                number += 1
                self.biases.append(names.symbol(scheme.bias(l, None, number)))
            else:
                row = []
                for j in range(shape.layers[l]):
                    number += 1
                    row.append(names.symbol(scheme.bias(l, j, number)))
                self.biases.append(row)
        # net[l][j], out[l][j] for l = 1..L; out[0] are the inputs; net[0] is empty.
        self.net: list[list[sp.Symbol]] = [[]]
        self.out: list[list[sp.Symbol]] = [self.inputs]
        for l in range(1, L + 1):
            self.net.append([names.symbol(scheme.net(l, j)) for j in range(shape.layers[l])])
            self.out.append([names.symbol(scheme.out(l, j)) for j in range(shape.layers[l])])
        # Diagram labels of the neurons; structured names, not symbols of the derivation.
        self.neuron_names = [[scheme.neuron(l, j) for j in range(n)] for l, n in enumerate(shape.layers)]
        self.loss_terms = [names.symbol(scheme.loss_term(k)) for k in range(shape.layers[-1])]
        self.loss_total = names.symbol(scheme.loss_total())
        self.activation = [None] + [Activation(a) for a in shape.activations]
        self.loss = Loss(shape.loss, shape.layers[-1])

    # -- parameters -----------------------------------------------------------------------------
    def bias(self, l: int, j: int) -> sp.Symbol:
        """The bias symbol that neuron j of layer l (1-based layer) adds."""
        b = self.biases[l - 1]
        return b if isinstance(b, sp.Symbol) else b[j]

    def parameters(self) -> list[sp.Symbol]:
        """Every parameter in a fixed order: weights layer by layer, row by row, then biases."""
        params = [w for matrix in self.weights for row in matrix for w in row]
        for b in self.biases:
            params.extend([b] if isinstance(b, sp.Symbol) else b)
        return params

    def given(self) -> list[sp.Symbol]:
        """The problem's data: inputs, targets, parameters, learning rate. Their values print as
        written in the spec; everything else is computed and prints at the spec's decimals."""
        return self.inputs + self.targets + self.parameters() + [self.eta]

    # -- local expressions ----------------------------------------------------------------------
    def net_expr(self, l: int, j: int) -> sp.Expr:
        terms = [sp.Mul(w, o, evaluate=False) for w, o in zip(self.weights[l - 1][j], self.out[l - 1])]
        terms.append(sp.Mul(self.bias(l, j), sp.Integer(1), evaluate=False))
        return sp.Add(*terms, evaluate=False)

    def out_expr(self, l: int, j: int) -> sp.Expr:
        return self.activation[l].out(self.net[l][j], self.net[l])

    def term_expr(self, k: int) -> sp.Expr:
        return self.loss.term(self.targets[k], self.out[-1][k])

    def total_expr(self) -> sp.Expr:
        if len(self.loss_terms) == 1:
            return self.loss_terms[0]
        return sp.Add(*self.loss_terms, evaluate=False)

    def name(self, sym: sp.Symbol) -> Name:
        return self.names.of[sym]
