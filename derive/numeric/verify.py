"""Trust, but verify: an independent numpy forward/backward and finite differences check the key.

Nothing here shares code with the symbolic engine: activations, losses and backpropagation are
written again in matrix form. Every number of a key is compared before anything is written.
"""
from __future__ import annotations

import math
from typing import Protocol, Sequence

import numpy as np

from ..errors import VerificationError

RELATIVE = 1e-9        # numpy vs symbolic values
FD_STEP = 1e-6         # central finite differences: the step is FD_STEP * max(1, |parameter|)
FD_TOLERANCE = 1e-6    # |fd - gradient| <= FD_TOLERANCE * max(|gradient|, largest |gradient|) + error
FD_ROUNDING = 1e3      # the loss's rounding error, in units of eps * |loss|, that a difference may carry
FD_SHRINK = 6          # how many times the step may shrink tenfold when the curvature is too strong
STEP_TOLERANCE = 1e-9  # one descent step from the same state: |derived - numpy| <= this * (|θ| + η|g|)
FD_SAFETY = 4         # the error estimates are orders of magnitude: allow this multiple of them
SUM_ROUNDING = 1e4    # a gradient entry may differ by this many eps times the size of its terms
EPS = float(np.finfo(float).eps)


def _act(name: str, z: np.ndarray) -> np.ndarray:
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "linear":
        return z.copy()
    e = np.exp(z - z.max(axis=0))
    return e / e.sum(axis=0)


def _act_backward(name: str, z: np.ndarray, a: np.ndarray, grad_a: np.ndarray) -> np.ndarray:
    if name == "sigmoid":
        return grad_a * a * (1 - a)
    if name == "tanh":
        return grad_a * (1 - a * a)
    if name == "relu":
        return grad_a * (z > 0)
    if name == "linear":
        return grad_a
    return a * (grad_a - (grad_a * a).sum(axis=0))   # softmax: J^T g with J = diag(a) - a a^T


def _loss_terms(name: str, t: np.ndarray, o: np.ndarray) -> np.ndarray:
    if name == "half_sse":
        return 0.5 * (t - o) ** 2
    if name == "mse":
        return (t - o) ** 2 / o.shape[0]
    if name == "cross_entropy":
        return np.where(t == 0, 0.0, -t * np.log(o))
    return -(np.where(t == 0, 0.0, t * np.log(o)) + np.where(t == 1, 0.0, (1 - t) * np.log(1 - o)))


def _log_terms(name: str, act: str, t: np.ndarray, z: np.ndarray) -> np.ndarray | None:
    """Cross-entropy terms from the output's net input z, without forming 1 - o (which cancels
    when o is within 10^-10 of 1): log σ(z) = -log(1 + e^-z), log(1 - σ(z)) = -log(1 + e^z),
    log softmax = z - logsumexp(z). None where this form does not apply."""
    if name not in ("cross_entropy", "binary_cross_entropy") or act not in ("sigmoid", "softmax"):
        return None
    if act == "sigmoid":
        log_o, log_1mo = -np.logaddexp(0.0, -z), -np.logaddexp(0.0, z)
    else:
        top = z.max(axis=0)
        lse = top + np.log(np.exp(z - top).sum(axis=0))
        log_o = z - lse
        e = np.exp(z - top)
        others = np.stack([np.delete(e, k, axis=0).sum(axis=0) for k in range(z.shape[0])])
        log_1mo = np.log(others) + top - lse
    if name == "cross_entropy":
        return np.where(t == 0, 0.0, -t * log_o)
    return -(np.where(t == 0, 0.0, t * log_o) + np.where(t == 1, 0.0, (1 - t) * log_1mo))


def _loss_grad_size(name: str, t: np.ndarray, o: np.ndarray) -> np.ndarray:
    """The size of the terms that make up ∂E/∂o (for rounding bounds)."""
    if name == "half_sse":
        return np.abs(o) + np.abs(t)
    if name == "mse":
        return 2 * (np.abs(o) + np.abs(t)) / o.shape[0]
    if name == "cross_entropy":
        return np.abs(t / o)
    # 1 - o is formed from o: its rounding eps |o| weighs 1/(1 - o)^2 in (1 - t)/(1 - o).
    return np.abs(t / o) + np.abs((1 - t) / (1 - o)) * (1 + np.abs(o) / np.abs(1 - o))


def _loss_term_size(name: str, t: np.ndarray, o: np.ndarray) -> np.ndarray:
    """How much a loss term may carry from the rounding of o (|∂term/∂o| |o|, with 1 - o's)."""
    return _loss_grad_size(name, t, o) * (np.abs(o) + np.abs(t))


def _act_backward_size(name: str, z: np.ndarray, a: np.ndarray, size: np.ndarray) -> np.ndarray:
    """The size of the terms of the activation's backward step (for rounding bounds)."""
    if name == "sigmoid":     # 1 - a is formed from a: its rounding is eps |a|, however small 1 - a is
        return size * np.abs(a) * (np.abs(1 - a) + np.abs(a))
    if name == "tanh":
        return size * (1 + a * a)
    if name == "relu":
        return size * (z > 0)
    if name == "linear":
        return size
    return a * size + a * (size * a).sum(axis=0)


def _loss_grad(name: str, t: np.ndarray, o: np.ndarray) -> np.ndarray:
    if name == "half_sse":
        return o - t
    if name == "mse":
        return 2 * (o - t) / o.shape[0]
    if name == "cross_entropy":
        return -t / o
    return -t / o + (1 - t) / (1 - o)


class NumpyNet:
    """The spec's network in matrix form: W[l] (n_{l+1} x n_l), b[l] (n_{l+1}), with shared flags."""

    def __init__(self, spec):
        self.spec = spec
        self.shared = spec.shared_biases

    def unpack(self, weights, biases):
        W = [np.array(m, dtype=float) for m in weights]
        b = [np.full(W[l].shape[0], float(x)) if self.shared[l] else np.array(x, dtype=float)
             for l, x in enumerate(biases)]
        return W, b

    def forward(self, W, b, x):
        """net and out per layer of one sample x (a vector) or of every sample (columns of a matrix)."""
        zs, outs = [], [np.array(x, dtype=float)]
        for l, act in enumerate(self.spec.activations):
            z = W[l] @ outs[-1] + (b[l] if outs[-1].ndim == 1 else b[l][:, None])
            zs.append(z)
            outs.append(_act(act, z))
        return zs, outs

    @property
    def data(self):
        """Inputs and targets with one column per sample (computed once)."""
        if not hasattr(self, "_data"):
            self._data = (np.array(self.spec.inputs, dtype=float).T, np.array(self.spec.targets, dtype=float).T)
        return self._data

    def sample_loss(self, W, b, x, t):
        _, outs = self.forward(W, b, x)
        return _loss_terms(self.spec.loss, np.array(t, dtype=float), outs[-1])

    def loss(self, W, b, smooth: bool = False) -> float:
        """E at (W, b). `smooth`: cross-entropy from the output's net input (for finite
        differences, which need the loss accurate to its last bits, not equal to the key's)."""
        X, T = self.data
        with np.errstate(all="ignore"):   # an overflow shows as inf or nan, which the callers judge
            zs, outs = self.forward(W, b, X)
            terms = _log_terms(self.spec.loss, self.spec.activations[-1], T, zs[-1]) if smooth else None
            if terms is None:
                terms = _loss_terms(self.spec.loss, T, outs[-1])
            total = float(terms.sum(axis=0).sum())
        return total / len(self.spec.inputs) if self.spec.reduction == "mean" else total

    def gradient_sizes(self, W, b):
        """Backpropagation with every term by its absolute value: what each gradient entry is a sum
        of, so that its rounding error is at most a few eps times this (cancellation included)."""
        X, T = self.data
        sW, sb = [None] * len(W), [None] * len(b)
        with np.errstate(all="ignore"):
            zs, outs = self.forward(W, b, X)
            size = _loss_grad_size(self.spec.loss, T, outs[-1])
            for l in range(len(W) - 1, -1, -1):
                delta = _act_backward_size(self.spec.activations[l], zs[l], outs[l + 1], size)
                sW[l] = delta @ np.abs(outs[l]).T
                sb[l] = delta.sum(axis=1)
                size = np.abs(W[l]).T @ delta
        if self.spec.reduction == "mean":
            n = len(self.spec.inputs)
            sW = [g / n for g in sW]
            sb = [g / n for g in sb]
        return sW, sb

    def gradients(self, W, b):
        """Backpropagation over all samples at once (columns), summed (or averaged) over them."""
        X, T = self.data
        gW, gb = [None] * len(W), [None] * len(b)
        with np.errstate(all="ignore"):
            zs, outs = self.forward(W, b, X)
            g = _loss_grad(self.spec.loss, T, outs[-1])
            for l in range(len(W) - 1, -1, -1):
                delta = _act_backward(self.spec.activations[l], zs[l], outs[l + 1], g)
                gW[l] = delta @ outs[l].T
                gb[l] = delta.sum(axis=1)
                g = W[l].T @ delta
        if self.spec.reduction == "mean":
            n = len(self.spec.inputs)
            gW = [g / n for g in gW]
            gb = [g / n for g in gb]
        return gW, gb

    def pack_biases(self, gb):
        """Per-neuron bias gradients in the spec's shape: a shared bias gets their sum."""
        return [float(g.sum()) if self.shared[l] else g.tolist() for l, g in enumerate(gb)]

    def step(self, W, b, lr: float):
        gW, gb = self.gradients(W, b)
        W2 = [w - lr * g for w, g in zip(W, gW)]
        if not self.spec.update_biases:
            return W2, b
        b2 = []
        for l, (v, g) in enumerate(zip(b, gb)):
            b2.append(v - lr * (g.sum() if self.shared[l] else g))
        return W2, b2


class KeyCheck(Protocol):
    """The check of a key's entries that a slice adds (a module with these two functions).

    `trajectory` (when given) holds the parameters before each descent step and after the last, as
    the derivation computed them, for the slice that owns the history."""

    def owns_history(self, spec) -> bool: ...

    def check(self, spec, key: dict, net: "NumpyNet", errors: list[str],
              trajectory: np.ndarray | None = None) -> int: ...


def shown(value) -> str:
    """A number in an error line as Python writes a float (1e+308, 0.1), never np.float64(...)."""
    try:
        return repr(float(value))
    except (TypeError, ValueError):
        return repr(value)


def _close(a: float, b: float, rel: float = RELATIVE, floor: float = 0.0) -> bool:
    if a == b:
        return True
    if not (math.isfinite(a) and math.isfinite(b)):
        return False    # inf against a finite number (or nan) is never close, whatever the scale
    return abs(a - b) <= rel * max(abs(a), abs(b), 1e-300) or abs(a - b) <= max(1e-15, floor)


def compare(where: str, ours, theirs, errors: list[str], rel: float = RELATIVE, floor=0.0) -> None:
    """Entry by entry to `rel`, or within `floor` (per entry: the rounding a sum with cancellation
    may carry, from `NumpyNet.gradient_sizes`)."""
    ours_a = np.asarray(ours, dtype=float).ravel()
    theirs_a = np.asarray(theirs, dtype=float).ravel()
    if ours_a.shape != theirs_a.shape:
        errors.append(f"{where}: shape {ours_a.shape} vs {theirs_a.shape}")
        return
    floor = np.nan_to_num(np.asarray(floor, dtype=float), nan=math.inf)   # unbounded rounding: unknown
    floors = np.broadcast_to(np.asarray(floor, dtype=float).ravel() if np.ndim(floor) else floor, ours_a.shape)
    for i, (a, b) in enumerate(zip(ours_a, theirs_a)):
        if not _close(float(a), float(b), rel, float(floors[i])):
            errors.append(f"{where}[{i}]: derived {shown(a)}, numpy {shown(b)}")


def verify_key(spec, key: dict, extensions: Sequence[KeyCheck] = (),
               trajectory: np.ndarray | None = None) -> dict:
    """Check every number of `key` against numpy and finite differences; raise on any mismatch.

    `extensions` check the parts of the key that a slice adds (the regularisation entry); one that
    owns the training history checks it instead of the plain descent here. `trajectory`: the
    derivation's parameters before each step and after the last (flat, in the key's order); with
    it every step is checked from the same state, so that a chaotic descent (where two correct
    implementations part after some steps by rounding alone) is still checked to 1e-9 a step.
    Returns a short report (counts and the largest deviations) for the curious.
    """
    net = NumpyNet(spec)
    W, b = net.unpack(spec.weights, spec.biases)
    errors: list[str] = []
    forward = key["forward"] if not spec.single_sample else [key["forward"]]
    per_output = key["loss"]["per_output"] if not spec.single_sample else [key["loss"]["per_output"]]
    checked = 0
    loss_floor = 0.0
    for s, (x, t) in enumerate(zip(spec.inputs, spec.targets)):
        with np.errstate(all="ignore"):
            zs, outs = net.forward(W, b, x)
            terms = net.sample_loss(W, b, x, t)
            term_floor = SUM_ROUNDING * EPS * _loss_term_size(spec.loss, np.array(t, dtype=float), outs[-1])
        loss_floor += float(term_floor.sum())
        for l, layer in enumerate(forward[s]):
            compare(f"forward[{s}][{l}].net", layer["net"], zs[l], errors)
            compare(f"forward[{s}][{l}].out", layer["out"], outs[l + 1], errors)
            checked += 2 * len(zs[l])
        compare(f"loss.per_output[{s}]", per_output[s], terms, errors, floor=term_floor)
        checked += len(t)
    compare("loss.total", key["loss"]["total"], net.loss(W, b), errors,
            floor=loss_floor / (len(spec.inputs) if spec.reduction == "mean" else 1))
    gW, gb = net.gradients(W, b)
    sW, sb = net.gradient_sizes(W, b)
    floor_W = [np.nan_to_num(SUM_ROUNDING * EPS * w, nan=math.inf) for w in sW]
    floor_b = np.nan_to_num(SUM_ROUNDING * EPS * np.array(flatten(net.pack_biases(sb))), nan=math.inf)
    for l in range(len(W)):
        compare(f"gradients.weights[{l}]", key["gradients"]["weights"][l], gW[l], errors, floor=floor_W[l])
    compare("gradients.biases", flatten(key["gradients"]["biases"]), flatten(net.pack_biases(gb)), errors,
            floor=floor_b)
    checked += 1 + sum(w.size for w in W) + len(flatten(spec.biases))

    # Central finite differences of the loss, parameter by parameter.
    fd_max = 0.0
    near_kink = near_relu_kink(net, W, b)
    loss = net.loss(W, b)
    if not near_kink:
        scale = max([float(np.abs(g).max(initial=0.0)) for g in gW]
                    + [abs(float(v)) for v in flatten(net.pack_biases(gb))])
        for l in range(len(W)):
            for idx in np.ndindex(W[l].shape):
                g = key["gradients"]["weights"][l][idx[0]][idx[1]]
                fd, allowed = fd_check(lambda h: net.loss(*_shift_w(W, b, l, idx, h), smooth=True), W[l][idx], g,
                                       scale, float(sW[l][idx]), loss)
                fd_max = max(fd_max, abs(fd - g))
                if not (fd == g or abs(fd - g) <= allowed + floor_W[l][idx]):   # the derivation's own rounding too
                    errors.append(f"gradients.weights[{l}][{idx[0]}][{idx[1]}]: derived {shown(g)}, "
                                  f"finite differences {shown(fd)}")
        for l in range(len(b)):
            entries = [None] if net.shared[l] else range(len(b[l]))
            for j in entries:
                g = key["gradients"]["biases"][l] if j is None else key["gradients"]["biases"][l][j]
                at = b[l][0] if j is None else b[l][j]
                size = float(sb[l].sum() if j is None else sb[l][j])
                fd, allowed = fd_check(lambda h: net.loss(*_shift_b(W, b, l, j, h), smooth=True), at, g, scale,
                                       size, loss)
                fd_max = max(fd_max, abs(fd - g))
                if not (fd == g or abs(fd - g) <= allowed + SUM_ROUNDING * EPS * size):
                    errors.append(f"gradients.biases[{l}]{'' if j is None else f'[{j}]'}: derived "
                                  f"{shown(g)}, finite differences {shown(fd)}")

    if getattr(spec, "optimizer", None) is None:   # an optimiser's step: numeric.verify_optimizers
        with np.errstate(over="ignore"):     # η ∂E/∂w beyond the float range: inf, judged by the compare
            W1, b1 = net.step(W, b, spec.learning_rate)
            floor_W = [spec.learning_rate * f for f in floor_W]
            floor_b = spec.learning_rate * floor_b
        eta = 1.0    # the floors above are already η times the gradient's
        for l in range(len(W)):
            compare(f"updated.weights[{l}]", key["updated"]["weights"][l], W1[l], errors, floor=eta * floor_W[l])
        compare("updated.biases", flatten(key["updated"]["biases"]), flatten(_pack_values(net, b1)), errors,
                floor=eta * floor_b if spec.update_biases else 0.0)
        if "after_step" in key["loss"]:
            compare("loss.after_step", key["loss"]["after_step"], net.loss(W1, b1), errors)
            checked += 1

    if "history" in key and not any(e.owns_history(spec) for e in extensions):
        start = np.array(flatten(spec.weights) + flatten(spec.biases), dtype=float)
        final = np.array(flatten(key["final"]["weights"]) + flatten(key["final"]["biases"]), dtype=float)
        if trajectory is not None:
            check_trajectory("", key["history"]["loss"], final, start, trajectory, spec.learning_rate,
                             lambda x: _descent(net, x), errors)
        else:
            _rerun_history(spec, key, net, W, b, errors)

    for extension in extensions:
        checked += extension.check(spec, key, net, errors,
                                   trajectory if extension.owns_history(spec) else None)

    if errors:
        shown_errors = "; ".join(errors[:3]) + (f"; and {len(errors) - 3} more" if len(errors) > 3 else "")
        raise VerificationError(f"internal check failed, no output written: {shown_errors}", file=spec.source)
    return {"values_checked": checked, "finite_differences": not near_kink, "fd_max_deviation": float(fd_max)}


def _rerun_history(spec, key, net, W, b, errors) -> None:
    """Without the derivation's trajectory: numpy's own descent, compared step by step."""
    Wk, bk = W, b
    history = []
    for _ in range(spec.iterations):
        history.append(net.loss(Wk, bk))
        Wk, bk = net.step(Wk, bk, spec.learning_rate)
    history.append(net.loss(Wk, bk))
    # Thousands of steps accumulate rounding differently in two implementations.
    compare("history.loss", key["history"]["loss"], history, errors, rel=1e-7)
    for l in range(len(W)):
        compare(f"final.weights[{l}]", key["final"]["weights"][l], Wk[l], errors, rel=1e-7)
    compare("final.biases", flatten(key["final"]["biases"]), flatten(_pack_values(net, bk)), errors, rel=1e-7)


def _descent(net: NumpyNet, x: np.ndarray):
    """numpy's loss at the flat parameters x, its step from x and the size of that step's terms."""
    W, b = _unflatten(net, x)
    gW, gb = net.gradients(W, b)
    g = np.concatenate([w.ravel() for w in gW] + [np.atleast_1d(np.asarray(v, dtype=float))
                                                   for v in net.pack_biases(gb)])
    sW, sb = net.gradient_sizes(W, b)
    sizes = np.concatenate([w.ravel() for w in sW] + [np.atleast_1d(np.asarray(v, dtype=float))
                                                       for v in net.pack_biases(sb)])
    trained = np.ones(len(x), dtype=bool)
    n_weights = sum(w.size for w in W)
    trained[n_weights:] = net.spec.update_biases
    return net.loss(W, b), g, trained, sizes


def check_trajectory(label: str, history, final, start, trajectory, eta, descent, errors) -> None:
    """Each step of a descent checked from the derivation's own state before it.

    descent(x) -> (objective at x, its gradient at x, which coordinates are trained, the size of
    the gradient's terms: its rounding allowance, as in `NumpyNet.gradient_sizes`). The first
    state must be the spec's parameters, the last the key's final ones, each history entry the
    objective at its state, and each state one step of numpy's descent from the one before.
    """
    trajectory = np.asarray(trajectory, dtype=float)
    name = f"history.loss{label}"
    if trajectory.shape != (len(history), len(start)):
        errors.append(f"{name}: {len(history)} entries but a trajectory of shape {trajectory.shape}")
        return
    if not np.array_equal(trajectory[0], start):
        errors.append(f"{name}: the descent does not start at the spec's parameters")
    compare(f"final{label}", final, trajectory[-1], errors)
    bad = 0
    with np.errstate(all="ignore"):
        for k in range(len(history)):
            value, g, trained, sizes = descent(trajectory[k])
            if not _close(float(history[k]), value):
                errors.append(f"{name}[{k}]: derived {shown(history[k])}, numpy {shown(value)}")
                bad += 1
            if k + 1 < len(history):
                x = trajectory[k]
                step = np.where(trained, x - eta * g, x)
                allowed = (STEP_TOLERANCE * (np.abs(x) + eta * np.abs(g))
                           + eta * SUM_ROUNDING * EPS * sizes + 1e-300)
                wrong = np.nonzero(~((np.abs(trajectory[k + 1] - step) <= allowed)
                                     | (trajectory[k + 1] == step)))[0]
                if len(wrong):
                    i = int(wrong[0])
                    errors.append(f"{name}: step {k + 1}, parameter {i}: derived "
                                  f"{shown(trajectory[k + 1][i])}, numpy from the same state {shown(step[i])}")
                    bad += 1
            if bad >= 3:
                return


def _unflatten(net: NumpyNet, x: np.ndarray):
    W, at = [], 0
    for w in net.spec.weights:
        rows, cols = len(w), len(w[0])
        W.append(x[at:at + rows * cols].reshape(rows, cols))
        at += rows * cols
    b = []
    for l, shared in enumerate(net.shared):
        size = 1 if shared else net.spec.layers[l + 1]
        part = x[at:at + size]
        b.append(np.full(net.spec.layers[l + 1], part[0]) if shared else part.copy())
        at += size
    return W, b


def _pack_values(net: NumpyNet, b):
    return [float(v[0]) if net.shared[l] else list(map(float, v)) for l, v in enumerate(b)]


def flatten(nested) -> list[float]:
    out: list[float] = []
    for item in nested:
        if isinstance(item, (list, tuple, np.ndarray)):
            out.extend(flatten(item))
        else:
            out.append(float(item))
    return out


def finite_difference(f, h: float = FD_STEP) -> float:
    return (f(h) - f(-h)) / (2 * h)


def fd_check(f, at: float, gradient: float, scale: float, size: float = 0.0,
             loss: float = 1.0) -> tuple[float, float]:
    """A central difference of f at 0 with a step that fits the parameter, and what it may miss by.

    f(h): the loss with one parameter (now `at`) moved by h. The step is FD_STEP * max(1, |at|),
    made smaller where the loss is more sensitive than its size (`size`: the size of the gradient's
    terms, `loss`: |E|; an input of 10^20 behind a weight moves the net input by 10^14 a step);
    while the difference at h and at h/2 disagree by more than the tolerance (strong curvature,
    large inputs), the step shrinks tenfold. The allowance is the tolerance relative to the
    gradient's size (or the largest gradient's, `scale`) plus two honest error estimates: the
    truncation error (how much h and h/2 disagree) and the rounding of the loss at its magnitude.
    Returns the Richardson-extrapolated difference and the allowed deviation from `gradient`.
    """
    tolerance = FD_TOLERANCE * max(abs(gradient), scale)
    h = FD_STEP * max(1.0, abs(float(at)))
    if size > max(1.0, abs(loss)):
        h *= max(1.0, abs(loss)) / size
    best = None
    for _ in range(FD_SHRINK):
        if not h > 4 * EPS * abs(float(at)) or h < 1e-290:
            break     # a step the parameter cannot resolve
        fp, fm, fp2, fm2 = f(h), f(-h), f(h / 2), f(-h / 2)
        if not all(np.isfinite([fp, fm, fp2, fm2])):
            h /= 10
            continue
        d1 = (fp - fm) / (2 * h)
        d2 = (fp2 - fm2) / h
        rounding = FD_ROUNDING * EPS * max(abs(fp), abs(fm), abs(fp2), abs(fm2)) / h
        error = abs(d2 - d1) + rounding
        fd = (4 * d2 - d1) / 3
        if not (math.isfinite(fd) and math.isfinite(error)):
            h /= 10
            continue
        if best is None or error < best[1]:
            best = (fd, error)
        if error <= tolerance:
            break
        h /= 10
    if best is None:     # the loss is not finite near this point: only numpy's backpropagation checks it
        return float(gradient), math.inf
    return float(best[0]), tolerance + FD_SAFETY * best[1]


def _shift_w(W, b, l, idx, h):
    W2 = [w.copy() for w in W]
    W2[l][idx] += h
    return W2, b


def _shift_b(W, b, l, j, h):
    b2 = [v.copy() for v in b]
    if j is None:
        b2[l] = b2[l] + h
    else:
        b2[l][j] += h
    return W, b2


def near_relu_kink(net: NumpyNet, W, b) -> bool:
    """Finite differences are meaningless where a ReLU pre-activation sits at its kink."""
    if "relu" not in net.spec.activations:
        return False
    for x in net.spec.inputs:
        zs, _ = net.forward(W, b, x)
        for act, z in zip(net.spec.activations, zs):
            if act == "relu" and np.any(np.abs(z) < 1e3 * FD_STEP):
                return True
    return False


class ParameterVector:
    """A spec's parameters as one vector and back: weights layer by layer, then each bias parameter
    once (a shared bias is one entry, its gradient the layer's sum). The regularisation and optimiser
    checks work on this vector."""

    def __init__(self, spec, net: NumpyNet):
        self.spec = spec
        self.net = net
        self.shapes = [np.array(m, dtype=float).shape for m in spec.weights]
        self.n_weights = sum(r * c for r, c in self.shapes)
        self.bias_sizes = [1 if shared else spec.layers[l + 1] for l, shared in enumerate(net.shared)]
        self.trained = np.zeros(self.n_weights + sum(self.bias_sizes), dtype=bool)
        self.trained[:self.n_weights] = True
        self.trained[self.n_weights:] = spec.update_biases

    def vector(self, weights, biases) -> np.ndarray:
        return np.array(flatten(weights) + flatten(biases), dtype=float)

    def unpack(self, x: np.ndarray):
        W, at = [], 0
        for r, c in self.shapes:
            W.append(x[at:at + r * c].reshape(r, c))
            at += r * c
        b = []
        for l, size in enumerate(self.bias_sizes):
            part = x[at:at + size]
            b.append(np.full(self.spec.layers[l + 1], part[0]) if self.net.shared[l] else part.copy())
            at += size
        return W, b
