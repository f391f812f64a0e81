"""Backpropagation in matrix form equals the per-weight results."""
from __future__ import annotations

import numpy as np
import pytest

import derive
from derive.errors import VerificationError
from derive.layout.vector import _values, vector_sections


@pytest.mark.parametrize("example", ["lecture", "tanh", "softmax", "deep"])
def test_matrix_form_equals_the_per_weight_gradients(example):
    solution = derive.derive(f"examples/{example}.toml")
    m, L, a, W, grad_out, derivs, deltas, grads = _values(solution, 0)
    # Recompute independently: delta^(L) then (W^(l+1))^T delta^(l+1) (.) f'(z^(l)).
    delta = grad_out * derivs[L] if derivs[L].ndim == 1 else derivs[L].T @ grad_out
    for l in range(L, 0, -1):
        np.testing.assert_allclose(np.outer(delta, a[l - 1]), grads[l - 1], rtol=1e-12, atol=1e-15)
        if l > 1:
            delta = (W[l - 1].T @ delta) * derivs[l - 1]
    sections = vector_sections(solution)
    equations = [line for line in sections[0].blocks[0].lines if line.lhs]   # wide ones wrap
    assert len(equations) == 2 * L


def test_lecture_output_delta_is_0_138498562():
    solution = derive.derive("examples/lecture.toml")
    line = vector_sections(solution)[0].blocks[0].lines[0]
    assert line.lhs == r"\delta^{(2)}"
    assert "0.138498562" in line.rhs[-1] and "-0.038098237" in line.rhs[-1]


def test_a_disagreement_is_an_error(monkeypatch):
    solution = derive.derive("examples/lecture.toml")
    sym = solution.derivation.model.names.by_plain["dE_o1/dnet_o1"]
    sample = dict(solution.values.samples[0])
    sample[sym] += 1e-6
    monkeypatch.setattr(solution.values, "samples", [sample])
    with pytest.raises(VerificationError):
        vector_sections(solution)
