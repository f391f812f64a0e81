"""Trust, but verify: an independent numpy forward/backward and finite differences check the key.

Nothing here shares code with the symbolic engine: activations, losses and backpropagation are
written again in matrix form. Every number of a key is compared before anything is written.
"""
from __future__ import annotations

import math

import mpmath
import numpy as np
import sympy as sp

from .errors import VerificationError

RELATIVE = 1e-9        # numpy vs symbolic values
FD_STEP = 1e-6         # central finite differences
FD_TOLERANCE = 1e-6    # |fd - gradient| <= FD_TOLERANCE * max(1, |gradient|)


def _act(name: str, z: np.ndarray) -> np.ndarray:
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "linear":
        return z.copy()
    e = np.exp(z - z.max())
    return e / e.sum()


def _act_backward(name: str, z: np.ndarray, a: np.ndarray, grad_a: np.ndarray) -> np.ndarray:
    if name == "sigmoid":
        return grad_a * a * (1 - a)
    if name == "tanh":
        return grad_a * (1 - a * a)
    if name == "relu":
        return grad_a * (z > 0)
    if name == "linear":
        return grad_a
    return a * (grad_a - np.dot(grad_a, a))   # softmax: J^T g with J = diag(a) - a a^T


def _loss_terms(name: str, t: np.ndarray, o: np.ndarray) -> np.ndarray:
    if name == "half_sse":
        return 0.5 * (t - o) ** 2
    if name == "mse":
        return (t - o) ** 2 / len(o)
    if name == "cross_entropy":
        return np.where(t == 0, 0.0, -t * np.log(o))
    return -(np.where(t == 0, 0.0, t * np.log(o)) + np.where(t == 1, 0.0, (1 - t) * np.log(1 - o)))


def _loss_grad(name: str, t: np.ndarray, o: np.ndarray) -> np.ndarray:
    if name == "half_sse":
        return o - t
    if name == "mse":
        return 2 * (o - t) / len(o)
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
        zs, outs = [], [np.array(x, dtype=float)]
        for l, act in enumerate(self.spec.activations):
            z = W[l] @ outs[-1] + b[l]
            zs.append(z)
            outs.append(_act(act, z))
        return zs, outs

    def sample_loss(self, W, b, x, t):
        _, outs = self.forward(W, b, x)
        return _loss_terms(self.spec.loss, np.array(t, dtype=float), outs[-1])

    def loss(self, W, b) -> float:
        total = sum(self.sample_loss(W, b, x, t).sum() for x, t in zip(self.spec.inputs, self.spec.targets))
        return total / len(self.spec.inputs) if self.spec.reduction == "mean" else total

    def gradients(self, W, b):
        gW = [np.zeros_like(w) for w in W]
        gb = [np.zeros_like(v) for v in b]
        for x, t in zip(self.spec.inputs, self.spec.targets):
            zs, outs = self.forward(W, b, x)
            g = _loss_grad(self.spec.loss, np.array(t, dtype=float), outs[-1])
            for l in range(len(W) - 1, -1, -1):
                delta = _act_backward(self.spec.activations[l], zs[l], outs[l + 1], g)
                gW[l] += np.outer(delta, outs[l])
                gb[l] += delta
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


def _close(a: float, b: float, rel: float = RELATIVE) -> bool:
    return abs(a - b) <= rel * max(abs(a), abs(b), 1e-300) or abs(a - b) <= 1e-15


def _compare(where: str, ours, theirs, errors: list[str], rel: float = RELATIVE) -> None:
    ours_a = np.asarray(ours, dtype=float).ravel()
    theirs_a = np.asarray(theirs, dtype=float).ravel()
    if ours_a.shape != theirs_a.shape:
        errors.append(f"{where}: shape {ours_a.shape} vs {theirs_a.shape}")
        return
    for i, (a, b) in enumerate(zip(ours_a, theirs_a)):
        if not _close(float(a), float(b), rel):
            errors.append(f"{where}[{i}]: derived {a!r}, numpy {b!r}")


def verify_key(spec, key: dict) -> dict:
    """Check every number of `key` against numpy and finite differences; raise on any mismatch.

    Returns a short report (counts and the largest deviations) for the curious.
    """
    net = NumpyNet(spec)
    W, b = net.unpack(spec.weights, spec.biases)
    errors: list[str] = []
    forward = key["forward"] if not spec.single_sample else [key["forward"]]
    per_output = key["loss"]["per_output"] if not spec.single_sample else [key["loss"]["per_output"]]
    checked = 0
    for s, (x, t) in enumerate(zip(spec.inputs, spec.targets)):
        zs, outs = net.forward(W, b, x)
        for l, layer in enumerate(forward[s]):
            _compare(f"forward[{s}][{l}].net", layer["net"], zs[l], errors)
            _compare(f"forward[{s}][{l}].out", layer["out"], outs[l + 1], errors)
            checked += 2 * len(zs[l])
        _compare(f"loss.per_output[{s}]", per_output[s], net.sample_loss(W, b, x, t), errors)
        checked += len(t)
    _compare("loss.total", key["loss"]["total"], net.loss(W, b), errors)
    gW, gb = net.gradients(W, b)
    for l in range(len(W)):
        _compare(f"gradients.weights[{l}]", key["gradients"]["weights"][l], gW[l], errors)
    _compare("gradients.biases", _flat(key["gradients"]["biases"]), _flat(net.pack_biases(gb)), errors)
    checked += 1 + sum(w.size for w in W) + len(_flat(spec.biases))

    # Central finite differences of the loss, parameter by parameter.
    fd_max = 0.0
    near_kink = _near_relu_kink(net, W, b)
    if not near_kink:
        for l in range(len(W)):
            for idx in np.ndindex(W[l].shape):
                fd = _fd(lambda h: net.loss(*_shift_w(W, b, l, idx, h)))
                g = key["gradients"]["weights"][l][idx[0]][idx[1]]
                fd_max = max(fd_max, abs(fd - g))
                if abs(fd - g) > FD_TOLERANCE * max(1.0, abs(g)):
                    errors.append(f"gradients.weights[{l}][{idx[0]}][{idx[1]}]: derived {g!r}, "
                                  f"finite differences {fd!r}")
        for l in range(len(b)):
            entries = [None] if net.shared[l] else range(len(b[l]))
            for j in entries:
                fd = _fd(lambda h: net.loss(*_shift_b(W, b, l, j, h)))
                g = key["gradients"]["biases"][l] if j is None else key["gradients"]["biases"][l][j]
                fd_max = max(fd_max, abs(fd - g))
                if abs(fd - g) > FD_TOLERANCE * max(1.0, abs(g)):
                    errors.append(f"gradients.biases[{l}]{'' if j is None else f'[{j}]'}: derived "
                                  f"{g!r}, finite differences {fd!r}")

    W1, b1 = net.step(W, b, spec.learning_rate)
    for l in range(len(W)):
        _compare(f"updated.weights[{l}]", key["updated"]["weights"][l], W1[l], errors)
    _compare("updated.biases", _flat(key["updated"]["biases"]), _flat(_pack_values(net, b1)), errors)

    from . import verify_regularization   # here: it builds on NumpyNet above
    if "history" in key and not verify_regularization.owns_history(spec):
        Wk, bk = W, b
        history = []
        for _ in range(spec.iterations):
            history.append(net.loss(Wk, bk))
            Wk, bk = net.step(Wk, bk, spec.learning_rate)
        history.append(net.loss(Wk, bk))
        # Thousands of steps accumulate rounding differently in two implementations.
        _compare("history.loss", key["history"]["loss"], history, errors, rel=1e-7)
        for l in range(len(W)):
            _compare(f"final.weights[{l}]", key["final"]["weights"][l], Wk[l], errors, rel=1e-7)
        _compare("final.biases", _flat(key["final"]["biases"]), _flat(_pack_values(net, bk)), errors, rel=1e-7)

    if spec.regularization is not None or "regularization" in key:
        checked += verify_regularization.check(spec, key, net, errors)

    if errors:
        shown = "; ".join(errors[:3]) + (f"; and {len(errors) - 3} more" if len(errors) > 3 else "")
        raise VerificationError(f"internal check failed, no output written: {shown}", file=spec.source)
    return {"values_checked": checked, "finite_differences": not near_kink, "fd_max_deviation": float(fd_max)}


def _pack_values(net: NumpyNet, b):
    return [float(v[0]) if net.shared[l] else list(map(float, v)) for l, v in enumerate(b)]


def _flat(nested) -> list[float]:
    out: list[float] = []
    for item in nested:
        if isinstance(item, (list, tuple, np.ndarray)):
            out.extend(_flat(item))
        else:
            out.append(float(item))
    return out


def _fd(f) -> float:
    return (f(FD_STEP) - f(-FD_STEP)) / (2 * FD_STEP)


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


def _near_relu_kink(net: NumpyNet, W, b) -> bool:
    """Finite differences are meaningless where a ReLU pre-activation sits at its kink."""
    if "relu" not in net.spec.activations:
        return False
    for x in net.spec.inputs:
        zs, _ = net.forward(W, b, x)
        for act, z in zip(net.spec.activations, zs):
            if act == "relu" and np.any(np.abs(z) < 1e3 * FD_STEP):
                return True
    return False


# -- any function typed on the command line (derive chain / derive jacobian) -----------------------
def _mp_sigmoid(a):
    return 1 / (1 + mpmath.exp(-a))


FD_DIGITS = 50          # command-line partials: central differences in mpmath at 50 digits,
FD_RELATIVE_STEP = 1e-15   # a step relative to the variable's magnitude,
FD_AGREE = 1e-8         # and agreement to 1e-8 of the larger of the two magnitudes


def check_partials(function, variables, point: dict, partials: dict, where: str) -> None:
    """Central finite differences of `function` (a sympy expression in `variables`) at `point`
    must agree with each derived partial value in `partials` (variable -> value).

    The differences are taken in mpmath at 50 digits with a step of 1e-15 relative to the variable
    (1e-15 for a variable at 0), so periodic functions of large arguments (sin at 1e9) and values
    far from 1 are decided exactly where double precision cannot. A variable at a kink (the
    one-sided differences disagree: |x| at 0, max, relu) or where the function is not defined on
    both sides is not checked.
    """
    f = sp.lambdify(variables, function, modules=[{"sigmoid": _mp_sigmoid}, "mpmath"])
    # the largest magnitude in sight: a number of the function or a value of the point
    sizes = [abs(float(n)) for n in function.atoms(sp.Number)] + [abs(float(point[v])) for v in variables]
    largest = max([1.0] + [s for s in sizes if math.isfinite(s)])
    errors = []
    for i, v in enumerate(variables):
        if v not in partials or partials[v] is None:
            continue
        x, g = float(point[v]), float(partials[v])
        h = FD_RELATIVE_STEP * (abs(x) if x != 0 else 1)
        if g != 0:   # a function that varies fast (sin(1e295 x)) needs a step below its own scale
            with mpmath.workdps(FD_DIGITS):
                try:
                    f0 = abs(mpmath.mpf(complex(f(*[mpmath.mpf(float(point[u])) for u in variables])).real))
                except (ValueError, TypeError, ZeroDivisionError, OverflowError):
                    f0 = 1
            h = min(h, FD_RELATIVE_STEP * float(max(1, f0)) / abs(g))
        # enough digits that x + h differs from x in the last 35 of them, however small x is beside
        # the rest of the function (x + pi at x = 1e-235, x + 1e104 at 0); doubled while they disagree
        digits = FD_DIGITS + max(0, -math.floor(math.log10(h))) + math.ceil(math.log10(largest))
        for attempt in range(4):
            outcome = _central(f, variables, point, i, h, float(partials[v]), digits << attempt)
            if outcome is None or outcome is True:
                break
        if outcome not in (None, True):
            errors.append(f"d/d{v}: derived {float(partials[v]):.17g}, finite differences {outcome:.17g}")
    if errors:
        raise VerificationError(f"internal check failed for {where}: " + "; ".join(errors[:3]))


def _central(f, variables, point, i, h, g, digits):
    """True if the central difference at `digits` digits agrees with g; None where there is nothing
    to compare (not defined on both sides, or a kink); else the difference quotient."""
    with mpmath.workdps(digits):
        base = [mpmath.mpf(float(point[u])) for u in variables]

        def at(shift):
            moved = list(base)
            moved[i] += shift
            result = f(*moved)
            if isinstance(result, mpmath.mpc):
                if result.imag != 0:
                    raise ValueError("not real")
                result = result.real
            return mpmath.mpf(result)
        try:
            f0, up, down = at(0), at(mpmath.mpf(h)), at(-mpmath.mpf(h))
        except (ValueError, TypeError, ZeroDivisionError, OverflowError):
            return None   # the function is not defined on both sides of the point
        right, left = (up - f0) / h, (f0 - down) / h
        if abs(right - left) > 1e-6 * max(abs(right), abs(left)):
            return None   # a kink: no derivative to compare with
        fd = (up - down) / (2 * h)
        # relative agreement, and an absolute slack of a few steps: where the second derivative
        # jumps (y |y| at 0) the central difference is off by about h
        if abs(fd - g) <= FD_AGREE * max(abs(fd), abs(g)) + 10 * h * max(1, abs(g)):
            return True
        return float(fd)
