"""Regularisation as soft constraint, hard constraint and Lagrangian: the numbers, the checks, bad input.

The forward pass and the constrained least-squares solves below are the test's own (plain numpy
from the spec dict), so these tests do not merely trust derive.verify or derive.regularization.
"""
from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import sympy as sp

import derive
from derive.derivation import derive as derive_shape
from derive import cli
from derive.errors import DeriveError, VerificationError
from derive.regularization.section import Regularization
from derive.solution import verify_key

from conftest import LECTURE_DICT, ROOT, toml_text
from helpers import run_cli, run_console

H = 1e-6    # central difference step


def lecture(**regularization) -> dict:
    raw = copy.deepcopy(LECTURE_DICT)
    raw["regularization"] = regularization or {"penalty": "l2", "lambda": 0.001, "radius": 0.8}
    return raw


def linear(**regularization) -> dict:
    """y = w1 x1 + w2 x2 + b1 on five samples (unconstrained least squares: |w| ≈ 1.22)."""
    return {
        "title": "linear",
        "network": {"layers": [2, 1], "activation": "linear", "loss": "half_sse"},
        "data": {"inputs": [[1.0, 2.0], [2.0, 1.0], [3.0, 4.0], [4.0, 3.0], [0.5, 1.5]],
                 "targets": [[2.0], [2.5], [5.5], [6.0], [1.5]]},
        "parameters": {"weights": [[[0.1, 0.2]]], "biases": [0.0]},
        "training": {"learning_rate": 0.02, "update_biases": True},
        "regularization": regularization or {"penalty": "l2", "lambda": 0.1, "radius": 1.0},
    }


# -- the test's own numpy: a dense network with half_sse, and the linear model's normal equations --

def _act(name, z):
    return 1 / (1 + np.exp(-z)) if name == "sigmoid" else z


def _loss(raw: dict, theta: np.ndarray) -> float:
    """E_total of a network with shared biases, parameters flat: weights row by row, then biases."""
    layers = raw["network"]["layers"]
    act = raw["network"]["activation"]
    Ws, at = [], 0
    for l in range(len(layers) - 1):
        n = layers[l] * layers[l + 1]
        Ws.append(theta[at:at + n].reshape(layers[l + 1], layers[l]))
        at += n
    bs = theta[at:]
    xs, ts = raw["data"]["inputs"], raw["data"]["targets"]
    if not isinstance(xs[0], list):
        xs, ts = [xs], [ts]
    total = 0.0
    for x, t in zip(xs, ts):
        out = np.array(x, dtype=float)
        for W, b in zip(Ws, bs):
            out = _act(act, W @ out + b)
        total += 0.5 * float(np.sum((np.array(t) - out) ** 2))
    return total


def _flat(parameters: dict) -> np.ndarray:
    return np.array([v for m in parameters["weights"] for row in m for v in row] + list(parameters["biases"]))


def _normal_equations(raw: dict):
    """E(w, b) = ½ Σ (t − w·x − b)² as ½ θᵀHθ − cᵀθ over θ = (w1, w2, b1)."""
    X = np.array(raw["data"]["inputs"], dtype=float)
    A = np.column_stack([X, np.ones(len(X))])
    t = np.array(raw["data"]["targets"], dtype=float).ravel()
    return A.T @ A, A.T @ t


def _ball_solve(H, c, mask, r):
    """The test's dense KKT solve: bisection on λ of |θ(λ)[mask]| = r with θ(λ) = (H + 2λD)⁻¹c."""
    D = np.diag(mask.astype(float))
    theta = lambda lam: np.linalg.solve(H + 2 * lam * D, c)  # noqa: E731
    if np.linalg.norm(theta(0.0)[mask]) <= r:
        return theta(0.0), 0.0
    lo, hi = 0.0, 1.0
    while np.linalg.norm(theta(hi)[mask]) > r:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if np.linalg.norm(theta(mid)[mask]) > r else (lo, mid)
    return theta(hi), hi


def _l1_projected_gradient(H, c, mask, r, steps=100_000):
    """The test's projected gradient onto {|θ[mask]|₁ <= r}, by bisection on the threshold."""
    def project(v):
        part = v[mask]
        if np.abs(part).sum() <= r:
            return v
        lo, hi = 0.0, np.abs(part).max()
        for _ in range(200):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if np.maximum(np.abs(part) - mid, 0).sum() > r else (lo, mid)
        out = v.copy()
        out[mask] = np.sign(part) * np.maximum(np.abs(part) - hi, 0)
        return out
    step = 1 / np.linalg.eigvalsh(H).max()
    x = np.zeros(len(c))
    for _ in range(steps):
        new = project(x - step * (H @ x - c))
        if np.abs(new - x).max() < 1e-15:
            break
        x = new
    return x


# -- the soft constraint on the lecture network ----------------------------------------------------

def test_the_lectures_soft_numbers_side_by_side():
    s = derive.derive(lecture())
    soft = s.regularization.soft
    assert soft.penalty == pytest.approx(1.13, rel=1e-15)        # 0.15² + 0.20² + ... + 0.55²
    assert soft.objective == pytest.approx(0.298371109 + 0.001 * 1.13, abs=1e-9)
    w5 = s.derivation.model.names.by_plain["w5"]
    row = next(r for r in soft.table if r.parameter == w5)
    assert round(row.gradient, 9) == 0.082167041                  # the lecture's ∂E_total/∂w5
    assert round(row.regularized_gradient, 9) == 0.082967041      # + 2λw5 = + 0.0008
    assert round(row.updated, 8) == 0.35891648                    # the lecture's w5⁺
    assert round(row.regularized_updated, 9) == 0.35851648
    b1 = s.derivation.model.names.by_plain["b1"]
    row = next(r for r in soft.table if r.parameter == b1)
    assert not row.penalized and row.regularized_gradient == row.gradient and row.updated is None


def test_the_2_lambda_w_term_is_sympys_derivative_and_its_own_step():
    s = derive.derive(lecture())
    sym = s.regularization.symbolic
    steps = {(st.kind, st.name.name): st for st in sym.soft_steps}
    w5 = s.derivation.model.names.by_plain["w5"]
    term = steps["penalty_derivative", "dOmega/dw5"]
    assert term.expr == 2 * sym.lam * w5
    assert term.definition[0] == sym.term
    assert sp.diff(term.definition[1].doit(), w5) == term.expr
    gradient = steps["regularized_gradient", "dE_R/dw5"]
    assert set(gradient.expr.args) == {s.derivation.gradient[w5], term.name}
    assert s.regularization.soft.values[term.name] == pytest.approx(0.0008, rel=1e-15)


def test_the_weight_decay_form_is_derived_and_equals_the_update():
    s = derive.derive(lecture())
    sym = s.regularization.symbolic
    soft = s.regularization.soft
    d = s.derivation
    for p in sym.updated:
        forms = [(st, v) for st, v in zip(soft.steps, soft.step_values) if st.name == sym.updated[p]]
        assert [st.kind for st, _ in forms] == ["regularized_update", "weight_decay"]
        (update, a), (decay, b) = forms
        assert a == pytest.approx(b, rel=1e-14)
        # (1 − 2ηλ) w − η ∂E/∂w, and the same as w − η(∂E/∂w + 2λw) in sympy's algebra
        eta, lam = d.model.eta, sym.lam
        assert sp.expand(decay.expr.doit() - ((1 - 2 * eta * lam) * p - eta * d.gradient[p])) == 0


def test_soft_gradients_agree_with_finite_differences_of_the_objective():
    raw = lecture(penalty="l2", **{"lambda": 0.05})
    key = derive.derive(raw).key["regularization"]
    theta = _flat(LECTURE_DICT["parameters"])
    mask = np.arange(len(theta)) < 8
    objective = lambda v: _loss(raw, v) + 0.05 * float(np.sum(v[mask] ** 2))  # noqa: E731
    gradients = _flat(key["gradients"])
    for i in range(len(theta)):
        e = np.eye(len(theta))[i] * H
        fd = (objective(theta + e) - objective(theta - e)) / (2 * H)
        assert fd == pytest.approx(gradients[i], abs=1e-8)
    assert key["objective"] == pytest.approx(objective(theta), rel=1e-12)


def test_include_biases_penalises_the_biases_too():
    raw = lecture(penalty="l2", include_biases=True, **{"lambda": 0.01})
    raw["training"]["update_biases"] = True
    s = derive.derive(raw)
    key = s.key["regularization"]
    assert key["penalty"] == pytest.approx(1.13 + 0.35 ** 2 + 0.6 ** 2, rel=1e-14)
    assert key["gradients"]["biases"][1] == pytest.approx(s.key["gradients"]["biases"][1] + 2 * 0.01 * 0.6,
                                                          rel=1e-14)
    assert key["updated"]["biases"][1] == pytest.approx(0.6 - 0.5 * key["gradients"]["biases"][1], rel=1e-14)


def test_l1_uses_the_subgradient_sign_which_is_0_at_0():
    raw = lecture(penalty="l1", **{"lambda": 0.01})
    raw["parameters"]["weights"][1][0][1] = 0.0          # w6 = 0: |w| has no derivative there
    s = derive.derive(raw)
    soft = s.regularization.soft
    names = s.derivation.model.names.by_plain
    assert soft.penalty == pytest.approx(0.15 + 0.2 + 0.25 + 0.3 + 0.4 + 0 + 0.5 + 0.55, rel=1e-14)
    assert soft.values[names["dOmega/dw5"]] == 0.01
    assert soft.values[names["dOmega/dw6"]] == 0.0
    step = next(st for st in soft.steps if st.name == names["dOmega/dw5"])
    assert step.expr == names["lambda"] * sp.sign(names["w5"])
    assert "subgradient" in step.note and "0 there" in step.note
    decay = [st for st in soft.steps if st.kind == "weight_decay"]
    assert decay and all("ηλ" in st.note for st in decay)


def test_iterating_records_the_regularised_objective():
    raw = lecture(penalty="l2", **{"lambda": 0.01})
    raw["training"]["iterations"] = 30
    key = derive.derive(raw).key
    history = key["history"]["loss"]
    assert len(history) == 31 and history[0] == key["regularization"]["objective"]
    assert all(a > b for a, b in zip(history, history[1:]))
    w = _flat(key["final"])[:8]
    assert history[-1] == pytest.approx(_loss(raw, _flat(key["final"])) + 0.01 * float(w @ w), rel=1e-10)


def test_derived_once_per_shape():
    first = derive.derive(lecture())
    other = lecture()
    other["parameters"]["weights"][0][0][0] = 0.9
    other["regularization"]["radius"] = 0.7
    second = derive.derive(other)
    assert first.regularization.symbolic is second.regularization.symbolic
    # (kept with the shape's derivation, not in an lru_cache of its own: see the test below)
    assert list(second.derivation.extensions.values()).count(second.regularization.symbolic) == 1


# -- the hard constraint ----------------------------------------------------------------------------

def test_lagrangian_and_kkt_conditions_are_written_out():
    s = derive.derive(lecture())
    hard = s.regularization.hard
    sym = s.regularization.symbolic
    name, expr = hard.lagrangian
    assert expr.doit() == s.derivation.loss + sym.lam * (sym.penalty_symbol - sym.radius ** 2)
    conditions = {c.name: c for c in hard.conditions}
    assert list(conditions) == ["stationarity", "primal_feasibility", "dual_feasibility",
                                "complementary_slackness"]
    w5 = s.derivation.model.names.by_plain["w5"]
    assert sp.Eq(s.derivation.gradient[w5] + 2 * sym.lam * w5, 0) in [
        sp.Eq(r.lhs.doit(), r.rhs) for r in conditions["stationarity"].relations]
    assert len(conditions["stationarity"].relations) == 8        # biases are not trained
    assert conditions["primal_feasibility"].relations[0] == sp.Le(sym.penalty_symbol, sym.radius ** 2)
    assert all(c.residual <= 1e-9 for c in hard.conditions)


def test_the_lecture_network_in_a_ball_is_solved_with_kkt_residuals_and_equivalence():
    s = derive.derive(lecture())
    hard = s.regularization.hard
    constraint = s.key["regularization"]["constraint"]
    theta = _flat({"weights": constraint["weights"], "biases": constraint["biases"]})
    assert np.linalg.norm(theta[:8]) == pytest.approx(0.8, rel=1e-12)
    assert constraint["active"] is True and constraint["lambda_star"] > 0
    assert constraint["loss"] == pytest.approx(_loss(LECTURE_DICT, theta), rel=1e-12)
    assert constraint["loss"] < 0.298371109 and constraint["kkt_residual"] <= 1e-9
    assert "tolerance" in hard.method or "≤ 0.0000000001" in hard.method
    # The soft problem at λ* lands on θ*.
    assert hard.equivalence.max_difference < 1e-6 and hard.equivalence.converged
    # The path falls with λ and passes through r at λ*.
    lams, norms = zip(*hard.path.points)
    assert list(lams) == sorted(lams) and all(a > b for a, b in zip(norms, norms[1:]))
    assert dict(hard.path.points)[hard.lambda_star] == pytest.approx(0.8, rel=1e-6)


def test_a_ball_that_does_not_bind_has_lambda_star_0():
    s = derive.derive(linear(penalty="l2", radius=5.0))
    c = s.key["regularization"]["constraint"]
    assert c["lambda_star"] == 0.0 and c["active"] is False
    H_, c_ = _normal_equations(linear())
    assert _flat(c) == pytest.approx(np.linalg.solve(H_, c_), abs=1e-12)


def test_the_linear_model_is_exact_and_matches_an_independent_kkt_solve():
    raw = linear()
    s = derive.derive(raw)
    hard = s.regularization.hard
    c = s.key["regularization"]["constraint"]
    H_, c_ = _normal_equations(raw)
    mask = np.array([True, True, False])
    theta, lam = _ball_solve(H_, c_, mask, 1.0)
    assert _flat(c) == pytest.approx(theta, abs=1e-8)
    assert c["lambda_star"] == pytest.approx(lam, abs=1e-8)
    w = _flat(c)[:2]
    assert c["lambda_star"] * (float(w @ w) - 1.0) == pytest.approx(0, abs=1e-12)   # slackness
    assert c["active"] is True and c["kkt_residual"] < 1e-12
    # θ(λ) is a formula in λ alone, and |θ(λ*)| = r.
    lam_sym = s.regularization.symbolic.lam
    formula = hard.linear.theta_of_lambda
    assert len(formula) == 3 and all(e.free_symbols == {lam_sym} for e in formula.values())
    values = [float(e.subs(lam_sym, c["lambda_star"])) for e in formula.values()]
    assert values == pytest.approx(_flat(c), abs=1e-12)
    # The soft problem at λ* is θ* again.
    soft = np.linalg.solve(H_ + 2 * c["lambda_star"] * np.diag(mask.astype(float)), c_)
    assert soft == pytest.approx(theta, abs=1e-8)
    assert hard.equivalence.max_difference < 1e-12


def test_theta_of_lambda_is_exact_and_has_a_rounded_display_form():
    s = derive.derive(linear())
    lam = s.regularization.symbolic.lam
    w1 = s.derivation.model.names.by_plain["w1"]
    linear_solution = s.regularization.hard.linear
    exact = linear_solution.theta_of_lambda[w1]
    assert sp.simplify(exact - sp.Rational(23, 4) * (5 * lam + 6) / (5 * lam ** 2 + 35 * lam + 33)) == 0
    shown = linear_solution.rounded_formula(4)[w1]
    assert float(shown.subs(lam, 1.0)) == pytest.approx(float(exact.subs(lam, 1)), rel=1e-4)
    assert linear_solution.determined and linear_solution.unconstrained_norm > 1.0


def test_the_linear_model_with_l1_matches_an_independent_projected_gradient():
    raw = linear(penalty="l1", radius=1.0, include_biases=True)
    s = derive.derive(raw)
    c = s.key["regularization"]["constraint"]
    H_, c_ = _normal_equations(raw)
    mask = np.ones(3, dtype=bool)
    theta = _l1_projected_gradient(H_, c_, mask, 1.0)
    assert _flat(c) == pytest.approx(theta, abs=1e-8)
    assert np.abs(_flat(c)).sum() == pytest.approx(1.0, abs=1e-12)
    g = H_ @ _flat(c) - c_
    on = _flat(c) != 0
    assert g[on] + c["lambda_star"] * np.sign(_flat(c)[on]) == pytest.approx(0, abs=1e-10)
    assert np.all(np.abs(g[~on]) <= c["lambda_star"] + 1e-10)
    assert s.regularization.hard.equivalence.max_difference < 1e-10


def test_the_key_gains_exactly_the_issues_names():
    key = derive.derive(lecture()).key
    assert list(key) == ["forward", "loss", "gradients", "updated", "regularization"]
    reg = key["regularization"]
    assert list(reg) == ["penalty", "objective", "gradients", "updated", "constraint"]
    assert list(reg["gradients"]) == list(reg["updated"]) == ["weights", "biases"]
    assert list(reg["constraint"]) == ["radius", "lambda_star", "weights", "biases", "loss", "active",
                                       "kkt_residual"]
    assert isinstance(reg["constraint"]["active"], bool)
    numbers = [reg["penalty"], reg["objective"], *_leaves(reg["gradients"]), *_leaves(reg["updated"]),
               *_leaves({k: v for k, v in reg["constraint"].items() if k != "active"})]
    assert all(type(v) is float for v in numbers)
    assert "constraint" not in derive.derive(lecture(penalty="l2", **{"lambda": 0.1})).key["regularization"]
    only_radius = derive.derive(lecture(penalty="l2", radius=0.8)).key
    assert only_radius["regularization"]["objective"] == only_radius["loss"]["total"]


def _leaves(nested) -> list:
    if isinstance(nested, dict):
        return [v for item in nested.values() for v in _leaves(item)]
    if isinstance(nested, list):
        return [v for item in nested for v in _leaves(item)]
    return [nested]


def test_a_wrong_regularisation_number_is_refused():
    s = derive.derive(lecture())
    for path in (("penalty",), ("constraint", "lambda_star"), ("constraint", "loss")):
        key = copy.deepcopy(s.key)
        entry = key["regularization"]
        for part in path[:-1]:
            entry = entry[part]
        entry[path[-1]] *= 1.001
        with pytest.raises(VerificationError):
            verify_key(s.spec, key)
    key = copy.deepcopy(s.key)
    key["regularization"]["constraint"]["weights"][0][0][0] += 1e-4     # off θ*: KKT fails
    with pytest.raises(VerificationError):
        verify_key(s.spec, key)


def test_the_section_reads_back_and_is_a_frozen_record():
    spec = derive.parse(lecture())
    assert spec.regularization == Regularization("l2", 0.001, False, 0.8)
    assert derive.parse(spec.to_dict()) == spec
    with pytest.raises(AttributeError):
        spec.regularization.lam = 1.0


@pytest.mark.parametrize("name", ["regularization.toml", "linear_constrained.toml"])
def test_the_examples_run_through_the_cli(name):
    result = run_cli("key", ROOT / "examples" / name)
    assert result.returncode == 0, result.stderr
    constraint = json.loads(result.stdout)["regularization"]["constraint"]
    assert constraint["active"] is True and constraint["lambda_star"] > 0


# -- bad input: one line naming file and field, exit 2, nothing written ----------------------------

def _regularized(reg: dict, base=None, **training) -> dict:
    raw = copy.deepcopy(base or LECTURE_DICT)
    raw["regularization"] = reg
    raw["training"].update(training)
    return raw


BAD = {
    "negative lambda": (_regularized({"penalty": "l2", "lambda": -1}),
                        "[regularization] lambda: expected a number >= 0, got -1"),
    "negative radius": (_regularized({"penalty": "l2", "radius": -0.5}),
                        "[regularization] radius: expected a number > 0, got -0.5"),
    "zero radius": (_regularized({"penalty": "l2", "radius": 0}), "[regularization] radius: expected a number > 0"),
    "lambda not a number": (_regularized({"lambda": "0.1"}), "[regularization] lambda: expected a number >= 0, got '0.1'"),
    "radius with no penalty": (_regularized({"penalty": "none", "radius": 1.0}),
                               "[regularization] radius: a radius bounds the penalty R(θ), but penalty = \"none\""),
    "unknown penalty": (_regularized({"penalty": "l3", "lambda": 0.1}), "[regularization] penalty: unknown value 'l3'"),
    "include_biases not a boolean": (_regularized({"lambda": 0.1, "include_biases": "yes"}),
                                     "[regularization] include_biases: expected true or false, got 'yes'"),
    "neither lambda nor radius": (_regularized({"penalty": "l2"}), "[regularization]: expected lambda"),
    "unknown field": (_regularized({"lambda": 0.1, "alpha": 2}), "[regularization] alpha: unknown field"),
    "fixed biases in the ball": (_regularized({"radius": 1.0, "include_biases": True}),
                                 "[regularization] include_biases: the hard constraint would bound biases"),
    "unbounded: a free output bias": (
        _regularized({"radius": 0.8}, {**LECTURE_DICT, "data": {"inputs": [0.05, 0.1], "targets": [1.0, 1.0]}},
                     update_biases=True),
        "no minimiser"),
    "unbounded: softmax with a class that never occurs": (
        _regularized({"radius": 0.8}, {**LECTURE_DICT, "network": {"layers": [2, 2, 2], "loss": "cross_entropy",
                                                                  "activation": ["sigmoid", "softmax"]},
                                       "parameters": {"weights": LECTURE_DICT["parameters"]["weights"],
                                                      "biases": [0.35, [0.6, 0.6]]},
                                       "data": {"inputs": [0.05, 0.1], "targets": [0.0, 1.0]}},
                     update_biases=True),
        "its target is 0 in every sample"),
    "gradient descent on E + λR diverges": (
        _regularized({"lambda": 10.0}, iterations=50), "[training] learning_rate: gradient descent on the regularised"),
    "unbounded: the data cannot determine θ": (
        _regularized({"radius": 50.0}, {**linear(), "data": {"inputs": [[1, 2], [2, 4], [3, 6]],
                                                          "targets": [[1], [2], [3.5]]}}),
        "[regularization] radius: the hard constraint does not determine θ: the data fix only 2 of the 3"),
}


@pytest.mark.parametrize("name", BAD)
def test_bad_regularization_is_one_line_exit_2_and_no_file(name, tmp_path, capsys):
    raw, words = BAD[name]
    spec = tmp_path / "bad.toml"
    spec.write_text(toml_text(raw), encoding="utf-8")
    assert cli.main(["key", str(spec), "-o", str(tmp_path / "key.json")]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1
    assert err.startswith(f"derive: {spec}: ") and words in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


def test_unbounded_hidden_bias_found_numerically(tmp_path):
    """A free hidden bias that saturates its neuron: the loss falls for ever as it grows."""
    raw = _regularized({"radius": 0.8}, update_biases=True)
    with pytest.raises(DeriveError) as caught:
        derive.derive(raw)
    assert "b1 keeps growing" in caught.value.message and "no minimiser" in caught.value.message
    assert caught.value.field == "[regularization] radius"


def test_bad_regularization_through_the_command(tmp_path):
    spec = tmp_path / "bad.toml"
    spec.write_text(toml_text(BAD["negative lambda"][0]), encoding="utf-8")
    result = run_console("key", spec, "-o", tmp_path / "key.json")     # as a process: the console script
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == f"derive: {spec}: [regularization] lambda: expected a number >= 0, got -1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


def test_the_penalty_steps_stay_with_the_model_that_names_them():
    """A shape's derivation dropped from its cache and derived again: the regularised solution still
    prints (λ's name lives in the new model too); in a long process this was a KeyError: lambda."""
    first = derive.derive("examples/linear_constrained.toml")
    derive_shape.cache_clear()
    second = derive.derive("examples/linear_constrained.toml")
    assert second.derivation is not first.derivation
    assert second.regularization.symbolic.lam in second.derivation.model.names.of
    assert run_cli("snippet", "examples/linear_constrained.toml", "--part", "regularization").returncode == 0
