"""Backpropagation in matrix form, with the numbers of one sample.

delta^(L) = grad_a E (.) sigma'(z^(L)), delta^(l) = (W^(l+1))^T delta^(l+1) (.) sigma'(z^(l)),
dE/dW^(l) = delta^(l) (a^(l-1))^T. The vectors are read off the per-neuron steps; the matrix
products are recomputed with numpy and must equal the per-weight gradients, or it is an error.
"""
from __future__ import annotations

import numpy as np

from ..errors import VerificationError
from ..printing.latex import Printer
from ..printing.matrix import hadamard, matrix_symbol, product
from ..solution import Solution
from .blocks import Block, Line, Section


def _values(solution: Solution, sample: int):
    d = solution.derivation
    m = d.model
    vals = solution.values.samples[sample] | solution.values.totals
    P = m.names.partial
    L = len(m.shape.layers) - 1
    a = [np.array([vals[s] for s in m.out[l]]) for l in range(L + 1)]
    W = [np.array([[vals[w] for w in row] for row in matrix]) for matrix in m.weights]
    grad_out = np.array([vals[P(m.loss_total, o)] for o in m.out[L]])
    derivs, deltas = {}, {}
    for l in range(1, L + 1):
        if m.activation[l].elementwise:
            derivs[l] = np.array([vals[P(o, z)] for o, z in zip(m.out[l], m.net[l])])
        else:
            derivs[l] = np.array([[vals[P(o, z)] for z in m.net[l]] for o in m.out[l]])
        deltas[l] = np.array([vals[s.name] for s in d.sample_steps if s.kind == "delta" and s.layer == l])
    grads = [np.array([[vals[d.sample_gradient[w]] for w in row] for row in matrix]) for matrix in m.weights]
    return m, L, a, W, grad_out, derivs, deltas, grads


def vector_sections(solution: Solution, sample: int = 0) -> list[Section]:
    m, L, a, W, grad_out, derivs, deltas, grads = _values(solution, sample)
    p = Printer(m.names.of, solution.spec.decimals, given=solution.derivation.given())
    lines: list[Line] = []
    errors = []
    for l in range(L, 0, -1):
        delta_name = matrix_symbol("delta", l)
        elementwise = m.activation[l].elementwise
        if l == L:
            if elementwise:
                computed = grad_out * derivs[l]
                lines.append(Line(delta_name, [
                    hadamard(matrix_symbol("grad_a E", l), matrix_symbol("act'", l)),
                    hadamard(p.number_vector(grad_out), p.number_vector(derivs[l])),
                    p.number_vector(computed)]))
            else:
                computed = derivs[l].T @ grad_out
                lines.append(Line(delta_name, [
                    product(matrix_symbol("jacobian^T", l), matrix_symbol("grad_a E", l)),
                    product(p.number_matrix(derivs[l].T), p.number_vector(grad_out)),
                    p.number_vector(computed)]))
        else:
            back = W[l].T @ deltas[l + 1]
            computed = back * derivs[l]
            lines.append(Line(delta_name, [
                hadamard(product(matrix_symbol("W^T", l + 1), matrix_symbol("delta", l + 1)),
                         matrix_symbol("act'", l)),
                hadamard(product(p.number_matrix(W[l].T, given=True), p.number_vector(deltas[l + 1])),
                         p.number_vector(derivs[l])),
                p.number_vector(computed)]))
        if not np.allclose(computed, deltas[l], rtol=1e-12, atol=1e-15):
            errors.append(f"delta of layer {l}")
        gradient = np.outer(deltas[l], a[l - 1])
        lines.append(Line(matrix_symbol("dE/dW", l), [
            product(matrix_symbol("delta", l), matrix_symbol("a^T", l - 1)),
            product(p.number_vector(deltas[l]), p.number_matrix(a[l - 1][None, :], given=l == 1)),
            p.number_matrix(gradient)]))
        if not np.allclose(gradient, grads[l - 1], rtol=1e-12, atol=1e-15):
            errors.append(f"weight gradient of layer {l}")
    if errors:
        raise VerificationError("internal check failed: the matrix form disagrees with the per-weight "
                                "gradients (" + ", ".join(errors) + ")", file=solution.spec.source)
    text = ("Backpropagation in matrix form: each layer's error signal is a vector, each weight gradient an "
            "outer product. The entries equal the per-weight results above.")
    if len(solution.spec.inputs) > 1:
        text += f" Shown for sample {sample + 1}."
    return [Section("Backpropagation in matrix form", [Block(text, lines)])]
