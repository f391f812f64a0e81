"""Shared fixtures: the lecture's spec, a spec dict written out as TOML, random networks.

The TOML writer is tiny on purpose (no dependency): it knows exactly the values a spec holds.
"""
from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
LECTURE = ROOT / "examples" / "lecture.toml"

# The lecture's spec as a dict in the TOML schema (the same numbers as examples/lecture.toml).
LECTURE_DICT = {
    "title": "Lecture 18: one round of forward and backward computation",
    "network": {"layers": [2, 2, 2], "activation": "sigmoid", "loss": "half_sse", "naming": "auto"},
    "data": {"inputs": [0.05, 0.10], "targets": [0.01, 0.99]},
    "parameters": {"weights": [[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]],
                   "biases": [0.35, 0.60]},
    "training": {"learning_rate": 0.5, "update_biases": False, "iterations": 1},
}


def toml_value(value) -> str:
    """One TOML value: bool, int, float (nan and inf included), string or (nested) list."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML for {value!r}")


def toml_text(spec: dict) -> str:
    """A spec dict (top-level keys, then one level of sections) as TOML text."""
    lines = [f"{k} = {toml_value(v)}" for k, v in spec.items() if not isinstance(v, dict)]
    for section, fields in spec.items():
        if isinstance(fields, dict):
            lines.append(f"\n[{section}]")
            lines.extend(f"{k} = {toml_value(v)}" for k, v in fields.items())
    return "\n".join(lines) + "\n"


@pytest.fixture
def lecture_path() -> Path:
    return LECTURE


@pytest.fixture
def lecture_dict() -> dict:
    """A fresh copy of the lecture's spec dict, free to modify."""
    return copy.deepcopy(LECTURE_DICT)


@pytest.fixture
def write_spec(tmp_path):
    """write_spec(dict or text, name="spec.toml") -> path of the TOML file in a temporary folder."""
    def write(spec: dict | str, name: str = "spec.toml") -> Path:
        path = tmp_path / name
        path.write_text(spec if isinstance(spec, str) else toml_text(spec), encoding="utf-8")
        return path
    return write


def random_spec(seed: int, layers, activation="sigmoid", loss="half_sse", samples: int = 1,
                reduction="sum", biases="shared", update_biases=False, naming="auto") -> dict:
    """A random network in the TOML schema, with weights small enough that nothing saturates.

    biases: "shared" (one number per layer), "per_neuron" (a list per layer) or "mixed".
    Targets lie in (0, 1), or are one-hot for softmax with cross-entropy.
    """
    rng = np.random.default_rng(seed)
    depth = len(layers) - 1
    weights = [rng.uniform(-1, 1, (layers[l + 1], layers[l])).round(6).tolist() for l in range(depth)]
    bias_list = []
    for l in range(depth):
        per_neuron = biases == "per_neuron" or (biases == "mixed" and l % 2 == 1)
        bias_list.append(rng.uniform(-0.5, 0.5, layers[l + 1]).round(6).tolist() if per_neuron
                         else round(float(rng.uniform(-0.5, 0.5)), 6))
    x = rng.uniform(-1, 1, (samples, layers[0])).round(6).tolist()
    if loss == "cross_entropy" and (activation[-1] if isinstance(activation, list) else activation) == "softmax":
        t = np.eye(layers[-1])[rng.integers(0, layers[-1], samples)].tolist()
    else:
        t = rng.uniform(0.05, 0.95, (samples, layers[-1])).round(6).tolist()
    return {
        "title": f"random network {seed}",
        "network": {"layers": list(layers), "activation": activation, "loss": loss, "naming": naming},
        "data": {"inputs": x[0] if samples == 1 else x, "targets": t[0] if samples == 1 else t,
                 "reduction": reduction},
        "parameters": {"weights": weights, "biases": bias_list},
        "training": {"learning_rate": 0.3, "update_biases": update_biases, "iterations": 1},
    }


HIDDEN_ACTIVATIONS = ("sigmoid", "tanh", "relu", "linear")
# (loss, output activation): every loss, every activation that the loss allows at the output.
OUTPUTS = (("half_sse", "sigmoid"), ("mse", "tanh"), ("cross_entropy", "softmax"),
           ("binary_cross_entropy", "sigmoid"), ("half_sse", "linear"), ("mse", "relu"),
           ("cross_entropy", "sigmoid"), ("half_sse", "softmax"))


def matrix_spec(i: int) -> dict:
    """The i-th spec of the page matrix: 1-3 hidden layers, widths 1-6, every activation and loss,
    shared, per-neuron and mixed biases, 1-3 samples, regularisation on every fourth."""
    rng = np.random.default_rng(1000 + i)
    hidden = 1 + i % 3
    loss, output = OUTPUTS[i % len(OUTPUTS)]
    widths = [int(rng.integers(1, 7)) for _ in range(hidden)]
    n_out = int(rng.integers(2, 4)) if output == "softmax" else int(rng.integers(1, 4))
    layers = [int(rng.integers(1, 5))] + widths + [n_out]
    activations = [HIDDEN_ACTIVATIONS[(i + l) % 4] for l in range(hidden)] + [output]
    spec = random_spec(2000 + i, layers, activation=activations, loss=loss, samples=1 + (i // 3) % 3,
                       biases=("shared", "per_neuron", "mixed")[(i // 2) % 3], update_biases=i % 2 == 0)
    spec["title"] = f"Page matrix spec {i}"
    if i % 4 == 1:
        spec["regularization"] = {"penalty": "l2" if i % 8 == 1 else "l1", "lambda": 0.01,
                                  "include_biases": False}
    return spec


# The whole TeX matrix (every part in every document class) runs with --run-slow (`make test-all`);
# `make test` runs a sample of it.
def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", default=False,
                     help="also run the tests marked slow (the whole TeX matrix)")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a long test (many TeX runs); runs with --run-slow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow (make test-all)")
    for item in items:
        if "slow" in item.keywords or "full" in item.keywords:
            item.add_marker(skip)
