"""The `optimizer` entry of a key (and its `updated`, `loss.after_step`, `history`, `final`), checked
without the symbolic engine: each published update rule written again in numpy on `verify.NumpyNet`.

The rules as `torch.optim` documents them (SGD with momentum and Nesterov, RMSprop, Adam), on one
parameter vector (weights layer by layer, then each bias parameter once); the mini-batches are
recomputed from the spec's samples, in order.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from .verify import NumpyNet, ParameterVector, compare, flatten

SHOWN_STEPS = 3                # the steps a key holds in full (as numeric.optimizers writes them)
HISTORY_TOLERANCE = 1e-7       # many steps accumulate rounding differently in two implementations


def owns_history(spec) -> bool:
    return spec.optimizer is not None


class _Vector(ParameterVector):
    """The parameter vector over the spec's own network (a batch's gradient below)."""

    def __init__(self, spec):
        super().__init__(spec, NumpyNet(spec))

    def loss(self, x: np.ndarray) -> float:
        return float(self.net.loss(*self.unpack(x)))

    def gradient(self, x: np.ndarray, batch: list[int]) -> np.ndarray:
        """The spec's reduction over the samples of `batch` (indices from 0)."""
        spec = self.spec
        part = NumpyNet(replace(spec, inputs=tuple(spec.inputs[i] for i in batch),
                                targets=tuple(spec.targets[i] for i in batch)))
        gW, gb = part.gradients(*self.unpack(x))
        return np.array([v for g in gW for v in g.ravel()] + flatten(part.pack_biases(gb)))


def batch_of(n: int, size: int, step: int) -> list[int]:
    """Batches of `size` samples in order, a smaller last one per pass, then from the first again."""
    starts = list(range(0, n, size))
    start = starts[(step - 1) % len(starts)]
    return list(range(start, min(start + size, n)))


def train(spec, steps: int):
    """The published rule for `steps` steps: the loss before each and after the last, and per step
    (gradient, states, bias-corrected moments, parameters after it)."""
    vec = _Vector(spec)
    return published(spec.optimizer, spec.learning_rate, vec.vector(spec.weights, spec.biases), vec.trained,
                     vec.loss, vec.gradient, len(spec.inputs), steps)


def published(config, learning_rate: float, x: np.ndarray, mask: np.ndarray, loss, gradient, n_samples: int,
              steps: int):
    """The rule of `config` on one parameter vector `x` (`mask`: the coordinates it moves), with
    `loss(x)` and `gradient(x, batch)` of any network: (losses before each step and after the last,
    per step its record, the parameters after the last step)."""
    c = dict(config.constants)
    first = np.zeros_like(x)     # v (momentum, nesterov), s (rmsprop) or m (adam)
    second = np.zeros_like(x)    # v (adam)
    losses, records = [], []
    for t in range(1, steps + 1):
        losses.append(loss(x))
        g = gradient(x, batch_of(n_samples, config.batch_size, t))
        record = {"gradients": g.copy()}
        if config.name == "sgd":
            step = g
        elif config.name in ("momentum", "nesterov"):
            # torch.optim.SGD: buf = g on the first step, then buf = mu buf + g (dampening 0).
            first = g.copy() if t == 1 else c["momentum"] * first + g
            step = first if config.name == "momentum" else g + c["momentum"] * first
            record["v"] = first.copy()
        elif config.name == "rmsprop":
            first = c["alpha"] * first + (1 - c["alpha"]) * g * g
            step = g / (np.sqrt(first) + c["epsilon"])
            record["s"] = first.copy()
        else:
            first = c["beta1"] * first + (1 - c["beta1"]) * g
            second = c["beta2"] * second + (1 - c["beta2"]) * g * g
            m_hat = first / (1 - c["beta1"] ** t)
            v_hat = second / (1 - c["beta2"] ** t)
            step = m_hat / (np.sqrt(v_hat) + c["epsilon"])
            record.update({"m": first.copy(), "v": second.copy(), "m_hat": m_hat, "v_hat": v_hat})
        x = np.where(mask, x - learning_rate * step, x)
        for name in ("v", "s", "m", "m_hat", "v_hat"):
            if name in record:
                record[name] = np.where(mask, record[name], 0.0)
        record["updated"] = x.copy()
        records.append(record)
    losses.append(loss(x))
    return losses, records, x


def check(spec, key: dict, net: NumpyNet, errors: list[str], trajectory=None) -> int:
    """Compare the key's optimiser numbers with the published rules; returns how many were compared."""
    if spec.optimizer is None:
        errors.append("optimizer: the key has an optimizer entry but the spec names none")
        return 0
    entry = key.get("optimizer")
    if entry is None:
        errors.append("optimizer: missing from the key")
        return 0
    record = spec.optimizer.record()
    for name, value in record.items():
        if entry.get(name) != value:
            errors.append(f"optimizer.{name}: key {entry.get(name)!r}, spec {value!r}")
    losses, records, x = train(spec, spec.iterations)
    checked = 0
    for i, (ours, theirs) in enumerate(zip(entry["steps"], records)):
        step = i + 1
        if ours["batch"] != [s + 1 for s in batch_of(len(spec.inputs), spec.optimizer.batch_size, step)]:
            errors.append(f"optimizer.steps[{i}].batch: {ours['batch']!r}")
        compare(f"optimizer.steps[{i}].loss", ours["loss"], losses[i], errors)
        for name, value in theirs.items():
            if name not in ours:
                errors.append(f"optimizer.steps[{i}].{name}: missing")
                continue
            got = flatten(ours[name]["weights"]) + flatten(ours[name]["biases"])
            compare(f"optimizer.steps[{i}].{name}", got, value, errors)
            checked += len(got)
    if len(entry["steps"]) != min(SHOWN_STEPS, spec.iterations):
        errors.append(f"optimizer.steps: {len(entry['steps'])} steps, expected {min(SHOWN_STEPS, spec.iterations)}")
    updated = flatten(key["updated"]["weights"]) + flatten(key["updated"]["biases"])
    compare("updated", updated, records[0]["updated"], errors)
    compare("loss.after_step", key["loss"]["after_step"], losses[1], errors)
    checked += len(updated) + 1
    if spec.iterations > 1:
        compare("history.loss", key["history"]["loss"], losses, errors, rel=HISTORY_TOLERANCE)
        final = flatten(key["final"]["weights"]) + flatten(key["final"]["biases"])
        compare("final", final, x, errors, rel=HISTORY_TOLERANCE)
        checked += len(losses) + len(final)
    elif "history" in key:
        errors.append("history: present with one iteration")
    return checked
