"""Every gradient agrees with central finite differences computed here, and a wrong key is refused.

The forward pass below is the test's own (plain numpy from the spec dict), so these tests do not
merely trust derive.verify.
"""
from __future__ import annotations

import copy

import numpy as np
import pytest

import derive
from derive.errors import VerificationError
from derive.solution import verify_key

from conftest import random_spec

H = 1e-6          # central difference step
TOLERANCE = 1e-7  # |fd - gradient| <= TOLERANCE * max(1, |gradient|)


def _activate(name: str, z: np.ndarray) -> np.ndarray:
    if name == "sigmoid":
        return 1 / (1 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.where(z > 0, z, 0.0)
    if name == "linear":
        return z
    assert name == "softmax"
    e = np.exp(z)
    return e / e.sum()


def _terms(loss: str, t: np.ndarray, o: np.ndarray) -> np.ndarray:
    if loss == "half_sse":
        return 0.5 * (t - o) ** 2
    if loss == "mse":
        return (t - o) ** 2 / len(o)
    if loss == "cross_entropy":
        return -t * np.log(o)
    assert loss == "binary_cross_entropy"
    return -(t * np.log(o) + (1 - t) * np.log(1 - o))


def _samples(raw: dict, name: str) -> list:
    value = raw["data"][name]
    return value if isinstance(value[0], list) else [value]


def forward(raw: dict, weights, biases, x):
    """Per layer (net, out) of one sample; biases are given per neuron."""
    layers = raw["network"]["layers"]
    act = raw["network"]["activation"]
    acts = act if isinstance(act, list) else [act] * (len(layers) - 1)
    out, trace = np.array(x, dtype=float), []
    for W, b, a in zip(weights, biases, acts):
        net = np.array(W) @ out + b
        out = _activate(a, net)
        trace.append((net, out))
    return trace


def per_neuron(raw: dict, biases) -> list[np.ndarray]:
    return [np.full(raw["network"]["layers"][l + 1], b) if not isinstance(b, list) else np.array(b)
            for l, b in enumerate(biases)]


def loss(raw: dict, weights, biases) -> float:
    total = 0.0
    xs, ts = _samples(raw, "inputs"), _samples(raw, "targets")
    for x, t in zip(xs, ts):
        out = forward(raw, weights, per_neuron(raw, biases), x)[-1][1]
        total += _terms(raw["network"]["loss"], np.array(t, dtype=float), out).sum()
    return total / len(xs) if raw["data"].get("reduction", "sum") == "mean" else total


def finite_differences(raw: dict) -> dict:
    """Central differences of the loss for every weight and bias, in the spec's shapes."""
    weights = [np.array(W, dtype=float) for W in raw["parameters"]["weights"]]
    biases = copy.deepcopy(raw["parameters"]["biases"])

    def central(shift) -> float:
        return (shift(H) - shift(-H)) / (2 * H)

    def weight_fd(l, idx):
        def shift(h):
            moved = [W.copy() for W in weights]
            moved[l][idx] += h
            return loss(raw, moved, biases)
        return central(shift)

    def bias_fd(l, j):
        def shift(h):
            moved = copy.deepcopy(biases)
            if j is None:
                moved[l] += h
            else:
                moved[l][j] += h
            return loss(raw, weights, moved)
        return central(shift)

    grad_w = [[[weight_fd(l, (j, k)) for k in range(W.shape[1])] for j in range(W.shape[0])]
              for l, W in enumerate(weights)]
    grad_b = [bias_fd(l, None) if not isinstance(b, list) else [bias_fd(l, j) for j in range(len(b))]
              for l, b in enumerate(biases)]
    return {"weights": grad_w, "biases": grad_b}


def _flat(nested) -> list[float]:
    if isinstance(nested, (list, tuple)):
        return [v for item in nested for v in _flat(item)]
    return [float(nested)]


def _assert_close(ours, theirs, tolerance):
    a, b = _flat(ours), _flat(theirs)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert abs(x - y) <= tolerance * max(1.0, abs(x)), (x, y)


NETWORKS = {
    "sigmoid-half_sse": dict(layers=[2, 3, 2]),
    "tanh-mse": dict(layers=[3, 4, 2], activation="tanh", loss="mse"),
    "relu-linear-half_sse": dict(layers=[3, 5, 2], activation=["relu", "linear"]),
    "linear-mse-per-neuron-biases": dict(layers=[2, 3, 3], activation="linear", loss="mse", biases="per_neuron"),
    "sigmoid-cross_entropy": dict(layers=[2, 3, 2], loss="cross_entropy"),
    "sigmoid-binary_cross_entropy": dict(layers=[3, 3, 1], loss="binary_cross_entropy"),
    "softmax-cross_entropy-one-hot": dict(layers=[2, 4, 3], activation=["tanh", "softmax"], loss="cross_entropy"),
    "softmax-half_sse-full-jacobian": dict(layers=[3, 3, 3], activation=["sigmoid", "softmax"]),
    "softmax-binary_cross_entropy": dict(layers=[2, 3, 2], activation=["relu", "softmax"],
                                         loss="binary_cross_entropy"),
    "samples-sum": dict(layers=[2, 3, 2], activation="tanh", samples=4, reduction="sum"),
    "samples-mean-update-biases": dict(layers=[2, 3, 2], samples=3, reduction="mean", biases="mixed",
                                       update_biases=True),
    "softmax-samples-mean": dict(layers=[3, 4, 3], activation=["relu", "softmax"], loss="cross_entropy",
                                 samples=5, reduction="mean", biases="per_neuron", update_biases=True),
    "3-hidden-indexed": dict(layers=[3, 4, 3, 4, 2], activation=["tanh", "relu", "sigmoid", "sigmoid"],
                             loss="binary_cross_entropy", samples=2, biases="mixed", update_biases=True,
                             naming="indexed"),
    "3-hidden-lecture-naming-auto": dict(layers=[2, 3, 3, 3, 2], activation=["sigmoid", "tanh", "linear", "softmax"],
                                         loss="cross_entropy", biases="per_neuron"),
    "one-hidden-indexed-names": dict(layers=[2, 2, 2], naming="indexed", update_biases=True),
}


def _usable(raw: dict) -> bool:
    """No ReLU pre-activation within reach of the finite-difference step of its kink."""
    act = raw["network"]["activation"]
    acts = act if isinstance(act, list) else [act] * (len(raw["network"]["layers"]) - 1)
    biases = per_neuron(raw, raw["parameters"]["biases"])
    for x in _samples(raw, "inputs"):
        for a, (net, _) in zip(acts, forward(raw, raw["parameters"]["weights"], biases, x)):
            if a == "relu" and np.min(np.abs(net)) < 1e-3:
                return False
    return True


def _network(name: str, seed: int) -> dict:
    while True:
        raw = random_spec(seed, **NETWORKS[name])
        if _usable(raw):
            return raw
        seed += 1000


@pytest.mark.parametrize("name", NETWORKS)
@pytest.mark.parametrize("seed", [1, 2])
def test_gradients_agree_with_finite_differences(name, seed):
    raw = _network(name, seed)
    solution = derive.derive(raw)
    key = solution.key
    fd = finite_differences(raw)
    _assert_close(key["gradients"]["weights"], fd["weights"], TOLERANCE)
    _assert_close(key["gradients"]["biases"], fd["biases"], TOLERANCE)
    assert solution.report["finite_differences"]


@pytest.mark.parametrize("name", NETWORKS)
def test_forward_loss_and_update_agree_with_the_tests_own_network(name):
    raw = _network(name, 7)
    key = derive.derive(raw).key
    several = isinstance(raw["data"]["inputs"][0], list)
    forwards = key["forward"] if several else [key["forward"]]
    per_output = key["loss"]["per_output"] if several else [key["loss"]["per_output"]]
    biases = per_neuron(raw, raw["parameters"]["biases"])
    for s, (x, t) in enumerate(zip(_samples(raw, "inputs"), _samples(raw, "targets"))):
        trace = forward(raw, raw["parameters"]["weights"], biases, x)
        for layer, (net, out) in zip(forwards[s], trace):
            _assert_close(layer["net"], net.tolist(), 1e-12)
            _assert_close(layer["out"], out.tolist(), 1e-12)
        _assert_close(per_output[s], _terms(raw["network"]["loss"], np.array(t), trace[-1][1]).tolist(), 1e-12)
    _assert_close(key["loss"]["total"], loss(raw, raw["parameters"]["weights"], raw["parameters"]["biases"]), 1e-12)
    # One gradient-descent step with the finite-difference gradients.
    fd, eta = finite_differences(raw), raw["training"]["learning_rate"]
    stepped_w = [p - eta * g for p, g in zip(_flat(raw["parameters"]["weights"]), _flat(fd["weights"]))]
    _assert_close(key["updated"]["weights"], stepped_w, TOLERANCE)
    if raw["training"]["update_biases"]:
        stepped_b = [p - eta * g for p, g in zip(_flat(raw["parameters"]["biases"]), _flat(fd["biases"]))]
        _assert_close(key["updated"]["biases"], stepped_b, TOLERANCE)
    else:
        assert key["updated"]["biases"] == raw["parameters"]["biases"]


def test_iterations_follow_the_tests_own_gradient_descent():
    raw = _network("samples-mean-update-biases", 3)
    raw["training"]["iterations"] = 4
    key = derive.derive(raw).key
    eta = raw["training"]["learning_rate"]
    current = copy.deepcopy(raw)
    history = []
    for _ in range(4):
        params = current["parameters"]
        history.append(loss(current, params["weights"], params["biases"]))
        fd = finite_differences(current)
        params["weights"] = [(np.array(W) - eta * np.array(g)).tolist()
                             for W, g in zip(params["weights"], fd["weights"])]
        params["biases"] = [(np.array(b) - eta * np.array(g)).tolist()
                            for b, g in zip(params["biases"], fd["biases"])]
    history.append(loss(current, current["parameters"]["weights"], current["parameters"]["biases"]))
    _assert_close(key["history"]["loss"], history, 1e-8)
    _assert_close(key["final"]["weights"], current["parameters"]["weights"], 1e-7)
    _assert_close(key["final"]["biases"], current["parameters"]["biases"], 1e-7)


# -- the check is real: a wrong number is refused -----------------------------------------------

@pytest.fixture(scope="module")
def lecture_solution():
    return derive.derive("examples/lecture.toml")


@pytest.mark.parametrize("path", [
    ("forward", 0, "out", 1),
    ("loss", "per_output", 0),
    ("loss", "total"),
    ("gradients", "weights", 1, 0, 0),
    ("gradients", "biases", 0),
    ("updated", "weights", 0, 1, 1),
])
def test_a_corrupted_key_value_is_refused(lecture_solution, path):
    key = copy.deepcopy(lecture_solution.key)
    holder = key
    for part in path[:-1]:
        holder = holder[part]
    holder[path[-1]] *= 1 + 1e-7
    with pytest.raises(VerificationError, match="internal check failed"):
        verify_key(lecture_solution.spec, key)


def test_a_corrupted_history_is_refused(lecture_dict):
    lecture_dict["training"]["iterations"] = 3
    solution = derive.derive(lecture_dict)
    key = copy.deepcopy(solution.key)
    key["history"]["loss"][2] += 1e-6
    with pytest.raises(VerificationError):
        verify_key(solution.spec, key)


def test_a_gradient_that_numpy_shares_but_finite_differences_do_not_is_refused(lecture_solution, monkeypatch):
    # If the independent backward pass had the same mistake, finite differences still catch it.
    from derive.numeric import verify
    key = copy.deepcopy(lecture_solution.key)
    key["gradients"]["weights"][0][0][0] += 1e-4
    real = verify.NumpyNet.gradients

    def same_mistake(self, W, b):
        gW, gb = real(self, W, b)
        gW[0][0, 0] += 1e-4
        return gW, gb

    monkeypatch.setattr(verify.NumpyNet, "gradients", same_mistake)
    with pytest.raises(VerificationError, match="finite differences"):
        verify_key(lecture_solution.spec, key)


def test_the_untouched_key_passes(lecture_solution):
    report = verify_key(lecture_solution.spec, copy.deepcopy(lecture_solution.key))
    assert report["finite_differences"] and report["fd_max_deviation"] < 1e-8
