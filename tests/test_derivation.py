"""The derivation reproduces Lecture 18 digit for digit, chains local derivatives, and is derived once per shape."""
from __future__ import annotations

import dataclasses
import math
import random

import pytest
import sympy as sp

import derive
from derive.model import activations
from derive.model import losses
from derive.numeric import compiled as numeric
from derive.derivation import derive as derive_shape
from derive.model.network import Shape

from conftest import random_spec


@pytest.fixture(scope="module")
def lecture():
    return derive.derive("examples/lecture.toml")


# Every number the lecture prints, to the digits it prints them.
LECTURE_NUMBERS = [
    ("net_h1", "0.3775"),
    ("out_h1", "0.593269992"),
    ("out_h2", "0.596884378"),
    ("net_o1", "1.105905967"),
    ("out_o1", "0.75136507"),          # the slides print 0.751366507 once: a typo
    ("out_o2", "0.772928465"),
    ("E_o1", "0.274811083"),
    ("E_o2", "0.023560026"),
    ("E_total", "0.298371109"),
    ("dE_total/dout_o1", "0.74136507"),
    ("dout_o1/dnet_o1", "0.186815602"),
    ("dnet_o1/dw5", "0.593269992"),
    ("dE_total/dw5", "0.082167041"),
    ("w5+", "0.35891648"),
    ("w6+", "0.408666186"),
    ("w7+", "0.511301270"),
    ("w8+", "0.561370121"),
]


@pytest.mark.parametrize("name, printed", LECTURE_NUMBERS, ids=[f"{n} is {v}" for n, v in LECTURE_NUMBERS])
def test_the_lecture_number(lecture, name, printed):
    digits = len(printed.split(".")[1])
    assert round(lecture.value(name), digits) == float(printed)


def test_w5_gradient_is_0_082167041(lecture):
    chain = lecture.value("dE_total/dout_o1") * lecture.value("dout_o1/dnet_o1") * lecture.value("dnet_o1/dw5")
    assert round(chain, 9) == round(lecture.value("dE_total/dw5"), 9) == 0.082167041


def test_the_w5_update_is_w5_minus_eta_times_its_gradient(lecture):
    assert lecture.value("w5+") == pytest.approx(0.40 - 0.5 * lecture.value("dE_total/dw5"), abs=1e-15)


def test_dE_total_dout_h1_sums_both_paths_0_055399425_and_minus_0_019049118(lecture):
    # Published worked solutions print -0.019049119, from rounded intermediates:
    # dE_o2/dnet_o2 * w7 = -0.0380982365 * 0.5 = -0.01904911826, which is -0.019049118.
    via_o1, via_o2 = lecture.value("dE_o1/dout_h1"), lecture.value("dE_o2/dout_h1")
    assert round(via_o1, 9) == 0.055399425
    assert round(via_o2, 9) == -0.019049118
    assert round(lecture.value("dE_total/dout_h1"), 9) == 0.036350306
    assert lecture.value("dE_total/dout_h1") == pytest.approx(via_o1 + via_o2, abs=1e-16)


def test_w1_gradient_is_0_000438568_and_w1_becomes_0_149780716(lecture):
    assert round(lecture.value("dout_h1/dnet_h1"), 9) == 0.241300709
    assert round(lecture.value("dnet_h1/dw1"), 9) == 0.05
    assert round(lecture.value("dE_total/dw1"), 9) == 0.000438568
    assert round(lecture.value("w1+"), 9) == 0.149780716


def test_w2_to_w4_updates_finish_the_lecture(lecture):
    assert round(lecture.value("w2+"), 9) == 0.199561432
    assert round(lecture.value("w3+"), 9) == 0.249751144
    assert round(lecture.value("w4+"), 9) == 0.299502287


def test_the_lecture_keeps_b1_and_b2_fixed(lecture):
    assert lecture.key["updated"]["biases"] == [0.35, 0.60]


def test_after_10000_iterations_the_loss_is_about_3_5e_05(lecture):
    spec = dataclasses.replace(derive.load("examples/lecture.toml"), iterations=10000)
    history = derive.solve(spec).key["history"]["loss"]
    assert len(history) == 10001
    assert round(history[0], 9) == 0.298371109
    assert history[-1] == pytest.approx(3.5e-05, rel=0.02)
    assert all(later < earlier for earlier, later in zip(history, history[1:]))


def test_E_total_after_one_step_falls(lecture):
    spec = dataclasses.replace(lecture.spec, iterations=2)
    history = derive.solve(spec).key["history"]["loss"]
    assert history[0] == lecture.value("E_total")
    assert history[1] < history[0]


# -- identities: each written derivative is sympy's derivative -----------------------------------

def test_the_activation_and_loss_identities_hold():
    activations.check_identities.__wrapped__()
    for n_out in (1, 2, 3):
        losses.check_identities.__wrapped__(n_out)


def test_the_activation_and_loss_identities_are_proved_by_sympy():
    """The symbolic proof each process used to run (simplify), now run here: the run-time check
    compares at rational points only."""
    activations.prove_identities()
    for n_out in (1, 2, 3):
        losses.prove_identities(n_out)


@pytest.mark.parametrize("kind", ["activation", "loss"])
def test_a_wrong_written_derivative_is_caught_at_the_points(kind, monkeypatch):
    """The cheap check is not a check that cannot fail: out(1 + out) for sigmoid's out(1 - out),
    +(target - out) for half_sse's -(target - out), are refused."""
    if kind == "activation":
        monkeypatch.setattr(activations.Activation, "derivative",
                            lambda self, net, out: out * (1 + out))
        with pytest.raises(AssertionError, match="sigmoid"):
            activations.check_identities.__wrapped__(("sigmoid",))
    else:
        monkeypatch.setattr(losses.Loss, "derivative", lambda self, t, o: t - o)
        with pytest.raises(AssertionError, match="half_sse"):
            losses.check_identities.__wrapped__(2, ("half_sse",))


def test_the_point_check_sees_a_difference_below_double_precision():
    """At 50 digits a difference of 1e-20 (invisible to floats) is still a difference."""
    x = sp.Symbol("x")
    assert activations.differs(x * sp.Rational(1, 10**20), {x: sp.Integer(1)})
    assert not activations.differs(sp.tanh(x) - (1 - sp.exp(-2 * x)) / (1 + sp.exp(-2 * x)), {x: sp.Rational(2, 5)})


IDENTITY_SHAPES = [
    Shape((2, 3, 2), ("sigmoid", "sigmoid"), "half_sse", "lecture", (True, True), 1, "sum", False),
    Shape((2, 3, 2), ("tanh", "linear"), "mse", "indexed", (False, True), 1, "sum", True),
    Shape((2, 3, 2), ("relu", "sigmoid"), "binary_cross_entropy", "indexed", (True, False), 1, "sum", False),
    Shape((2, 3, 3), ("tanh", "softmax"), "cross_entropy", "indexed", (True, True), 1, "sum", False),
    Shape((2, 2, 3), ("sigmoid", "softmax"), "half_sse", "lecture", (True, True), 2, "mean", False),
]


@pytest.mark.parametrize("shape", IDENTITY_SHAPES, ids=lambda s: "-".join(s.activations) + "-" + s.loss)
def test_every_written_derivative_equals_sympys_at_random_points(shape):
    d = derive_shape(shape)
    # Each out symbol stands for its forward expression (softmax's Jacobian names two outs).
    outs = {o for layer in d.model.out[1:] for o in layer}
    forward = {s.name: s.expr.doit() for s in d.sample_steps if s.name in outs}
    rng = random.Random(1)
    checked = 0
    for step in d.sample_steps:
        if step.kind not in ("activation_derivative", "loss_derivative"):
            continue
        out_sym, local = step.definition
        assert step.sympy_form is not None
        written = step.expr.doit()
        if step.kind == "activation_derivative":
            written = written.xreplace({s: forward[s] for s in written.free_symbols if s in forward})
            assert out_sym in forward and local == d.model.out_expr(step.layer, step.neuron)
        for _ in range(5):
            point = {}
            for s in written.free_symbols | step.sympy_form.free_symbols:
                plain = s.name
                if plain.startswith(("out", "a")):
                    point[s] = rng.uniform(0.05, 0.95)
                elif plain.startswith(("target", "t")):
                    point[s] = rng.uniform(0.0, 1.0)
                else:
                    point[s] = rng.choice([-1, 1]) * rng.uniform(0.1, 2.0)   # a net, never 0
            ours = float(written.xreplace(point).evalf())
            sympys = float(step.sympy_form.xreplace(point).evalf())
            assert ours == pytest.approx(sympys, rel=1e-12, abs=1e-14), step.name
            checked += 1
    assert checked >= 5 * 2 * shape.layers[-1]


def test_relu_states_its_derivative_at_zero():
    d = derive_shape(IDENTITY_SHAPES[2])
    relu_steps = [s for s in d.sample_steps if s.kind == "activation_derivative" and s.layer == 1]
    assert relu_steps and all("0" in s.note for s in relu_steps)
    written = relu_steps[0].expr
    net = relu_steps[0].definition[1].args[1]
    assert written.subs(net, 0) == 0 and written.subs(net, 1e-9) == 1


# -- structure: local derivatives chained, never the composed loss differentiated ------------------

STRUCTURE_SHAPES = [
    Shape((2, 2, 2), ("sigmoid", "sigmoid"), "half_sse", "lecture", (True, True), 1, "sum", False),
    Shape((3, 4, 4, 4, 2), ("tanh", "relu", "sigmoid", "softmax"), "cross_entropy", "indexed",
          (True, False, True, False), 3, "mean", True),
]


@pytest.mark.parametrize("shape", STRUCTURE_SHAPES, ids=["lecture", "3-hidden-softmax"])
def test_every_step_uses_only_earlier_steps_and_leaves(shape):
    d = derive_shape(shape)
    m = d.model
    known = set(m.parameters()) | set(m.inputs) | set(m.targets)
    for step in d.sample_steps:
        assert step.expr.free_symbols <= known, step.name
        assert step.name not in known, f"{step.name} defined twice"
        known.add(step.name)
    known |= {m.eta} | {total for total, _, _ in d.from_samples}
    for step in d.total_steps:
        assert step.expr.free_symbols <= known, step.name
        known.add(step.name)


@pytest.mark.parametrize("shape", STRUCTURE_SHAPES, ids=["lecture", "3-hidden-softmax"])
def test_no_step_is_the_composed_loss(shape):
    d = derive_shape(shape)
    width = max(shape.layers)
    for step in d.steps:
        if step.kind in ("forward", "loss"):
            continue
        # A chained step multiplies or sums a layer's worth of symbols: no exp, log or nesting.
        assert not step.expr.has(sp.exp, sp.log, sp.tanh), step.name
        assert sp.count_ops(step.expr) <= 4 * width + 4, step.name
    deepest = d.gradient[d.model.weights[0][0][0]]
    assert deepest in {s.name for s in d.steps}


def test_sympy_differentiates_only_local_expressions(monkeypatch):
    shape = Shape((3, 5, 5, 5, 2), ("sigmoid", "tanh", "sigmoid", "sigmoid"), "half_sse", "indexed",
                  (True, True, True, True), 1, "sum", False)
    seen = []
    real_diff = sp.diff

    def spy(expr, *args, **kwargs):
        seen.append(expr)
        return real_diff(expr, *args, **kwargs)

    monkeypatch.setattr(sp, "diff", spy)
    derive_shape.__wrapped__(shape)
    m = derive_shape(shape).model
    assert len(seen) >= len(m.parameters())
    for expr in seen:
        # The composed loss would hold the inputs and the targets at once, and be huge.
        assert not (expr.free_symbols & set(m.inputs) and expr.free_symbols & set(m.targets))
        assert sp.count_ops(expr) <= 4 * max(shape.layers) + 4


def test_the_derivation_is_derived_once_per_shape(lecture_dict):
    first = derive.derive(lecture_dict)
    lecture_dict["parameters"]["weights"][0][0] = [0.9, -0.3]
    lecture_dict["data"]["inputs"] = [1.0, 2.0]
    second = derive.derive(lecture_dict)
    assert second.derivation is first.derivation
    assert numeric.evaluator(second.derivation) is numeric.evaluator(first.derivation)
    assert second.value("out_o1") != first.value("out_o1")
    lecture_dict["training"]["update_biases"] = True
    assert derive.derive(lecture_dict).derivation is not first.derivation


def test_a_shared_bias_gradient_is_the_sum_of_its_neurons_partials(lecture):
    db1 = lecture.value("dE_total/dnet_h1") + lecture.value("dE_total/dnet_h2")
    assert lecture.value("dE_total/db1") == pytest.approx(db1, abs=1e-16)
    step = lecture.derivation.step("dE_total/db1")
    assert step.note and "add up" in step.note


def test_several_samples_reduce_by_mean(lecture_dict):
    spec = random_spec(3, [2, 3, 2], samples=3, reduction="mean")
    solution = derive.derive(spec)
    per_sample = [solution.value("E_total", s) for s in range(3)]
    assert solution.value("E") == pytest.approx(sum(per_sample) / 3, rel=1e-15)
    assert solution.key["loss"]["total"] == solution.value("E")
    assert math.isfinite(solution.key["loss"]["total"])
