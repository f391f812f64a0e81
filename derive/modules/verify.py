"""An independent check of a module spec's key: numpy forward and backward written from the
formulas (not from the symbolic steps), and central finite differences of the loss.

conv: z[f][i][j] = Σ_c Σ_u Σ_v K[f][c][u][v] x[c][i·s+u][j·s+v] + b[f]; its kernel gradient is the
correlation Σ_ij δ[f][i][j] x[c][i·s+u][j·s+v], its input gradient the full convolution of δ with
the kernel; max-pooling sends the gradient to the argmax, average pooling divides it; a residual
adds the upstream gradient to f's; the rnn is backpropagated through time. A disagreement is a
`VerificationError` (exit status 3) and nothing is written.
"""
from __future__ import annotations

from itertools import product

import numpy as np

from ..errors import VerificationError
from ..numeric.verify_optimizers import HISTORY_TOLERANCE, SHOWN_STEPS, batch_of, published
from ..training import Optimizer
from .section import Module, ModuleSpec

RTOL = 1e-9          # the symbolic values against numpy
FD_STEP = 1e-6
FD_TOL = 1e-6        # finite differences against numpy's gradients (absolute, scaled by the size)


def _act(name: str, z: np.ndarray) -> np.ndarray:
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "softmax":
        e = np.exp(z - z.max())
        return e / e.sum()
    return z.copy()


def _act_back(name: str, z: np.ndarray, a: np.ndarray, grad_a: np.ndarray) -> np.ndarray:
    if name == "relu":
        return grad_a * (z > 0)
    if name == "sigmoid":
        return grad_a * a * (1 - a)
    if name == "tanh":
        return grad_a * (1 - a * a)
    if name == "softmax":
        return a * (grad_a - np.dot(grad_a, a))
    return grad_a


def _params(spec: ModuleSpec) -> list[dict]:
    return [{name: np.array(value, dtype=float) for name, value in m.params} for m in spec.modules]


def _conv(m: Module, K: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    if m.padding:
        x = np.pad(x, [(0, 0)] + [(m.padding, m.padding)] * (x.ndim - 1))
    z = np.zeros(m.out_shape)
    for ix in product(*(range(n) for n in m.out_shape)):
        f, pos = ix[0], ix[1:]
        window = tuple(slice(q * m.stride, q * m.stride + k) for q, k in zip(pos, m.size))
        z[ix] = np.sum(K[f] * x[(slice(None), *window)]) + b[f]
    return z


def _conv_back(m: Module, K: np.ndarray, x: np.ndarray, delta: np.ndarray):
    pad = m.padding
    xp = np.pad(x, [(0, 0)] + [(pad, pad)] * (x.ndim - 1)) if pad else x
    gK, gx = np.zeros_like(K), np.zeros_like(xp)
    for ix in product(*(range(n) for n in m.out_shape)):
        f, pos = ix[0], ix[1:]
        window = tuple(slice(q * m.stride, q * m.stride + k) for q, k in zip(pos, m.size))
        gK[f] += delta[ix] * xp[(slice(None), *window)]
        gx[(slice(None), *window)] += delta[ix] * K[f]
    if pad:
        gx = gx[(slice(None), *[slice(pad, -pad)] * (x.ndim - 1))]
    return gK, delta.reshape(delta.shape[0], -1).sum(axis=1), gx


def _windows(m: Module):
    for ix in product(*(range(n) for n in m.out_shape)):
        c, pos = ix[0], ix[1:]
        yield ix, (c, *(slice(q * m.stride, q * m.stride + k) for q, k in zip(pos, m.size)))


def forward(spec: ModuleSpec, params: list[dict], x: np.ndarray) -> tuple[np.ndarray, list]:
    """(the output, what backward needs) for one sample."""
    tape = []
    blocks: dict = {}
    for m, p in zip(spec.modules, params):
        if m.kind == "residual":
            blocks[m.index + m.wraps] = (m.index, x)
            tape.append(("residual", x))
            continue
        if m.kind in ("conv1d", "conv2d"):
            z = _conv(m, p["kernels"], p["biases"], x)
            tape.append((m.kind, x, z, _act(m.activation, z)))
            out = tape[-1][3]
        elif m.kind == "maxpool":
            out = np.zeros(m.out_shape)
            for ix, window in _windows(m):
                out[ix] = x[window].max()
            tape.append((m.kind, x))
        elif m.kind == "avgpool":
            out = np.zeros(m.out_shape)
            for ix, window in _windows(m):
                out[ix] = x[window].mean()
            tape.append((m.kind, x))
        elif m.kind == "flatten":
            tape.append((m.kind, x.shape))
            out = x.reshape(-1)
        elif m.kind == "dense":
            z = p["weights"] @ x + p["biases"]
            out = _act(m.activation, z)
            tape.append((m.kind, x, z, out))
        else:   # rnn
            h = p["initial_state"]
            hs = [h]
            for t in range(x.shape[0]):
                h = np.tanh(p["input_weights"] @ x[t] + p["recurrent_weights"] @ h + p["biases"])
                hs.append(h)
            tape.append((m.kind, x, hs))
            out = h
        if m.index in blocks:
            start, skip = blocks[m.index]
            out = skip + out
        x = out
    return x, tape


def loss_of(spec: ModuleSpec, y: np.ndarray, t: np.ndarray) -> float:
    if spec.loss == "cross_entropy":
        return float(-np.sum(t * np.log(y)))
    if spec.loss == "half_sse":
        return float(0.5 * np.sum((t - y) ** 2))
    return float(np.mean((t - y) ** 2))


def backward(spec: ModuleSpec, params: list[dict], tape: list, y: np.ndarray, t: np.ndarray):
    """(gradients per module, the gradient of the data) for one sample."""
    grads = [{name: np.zeros_like(v) for name, v in p.items() if name != "initial_state"} for p in params]
    modules = spec.modules
    last = modules[-1]
    ce = spec.loss == "cross_entropy"
    if spec.loss == "half_sse":
        g = y - t
    elif spec.loss == "mse":
        g = 2.0 * (y - t) / len(y)
    else:
        g = None
    skips: dict = {}     # residual index -> the gradient of y (added to x's at the block's start)
    block_end = {m.index + m.wraps: m.index for m in modules if m.kind == "residual"}
    for m, p, record in reversed(list(zip(modules, params, tape))):
        if m.index in block_end:
            skips[block_end[m.index]] = g.copy()
        if m.kind == "residual":
            g = g + skips.pop(m.index)
            continue
        if m.kind in ("conv1d", "conv2d"):
            _, x, z, a = record
            delta = _act_back(m.activation, z, a, g)
            gK, gb, g = _conv_back(m, p["kernels"], x, delta)
            grads[m.index]["kernels"] += gK
            grads[m.index]["biases"] += gb
        elif m.kind in ("maxpool", "avgpool"):
            x = record[1]
            gx = np.zeros_like(x)
            for ix, window in _windows(m):
                part = x[window]
                if m.kind == "maxpool":
                    hit = np.zeros_like(part)
                    hit[np.unravel_index(np.argmax(part), part.shape)] = 1.0
                    gx[window] += g[ix] * hit
                else:
                    gx[window] += g[ix] / part.size
            g = gx
        elif m.kind == "flatten":
            g = g.reshape(record[1])
        elif m.kind == "dense":
            _, x, z, a = record
            delta = (a - t) if (ce and m is last) else _act_back(m.activation, z, a, g)
            grads[m.index]["weights"] += np.outer(delta, x)
            grads[m.index]["biases"] += delta
            g = p["weights"].T @ delta
        else:   # rnn: backpropagation through time
            _, x, hs = record
            gx = np.zeros_like(x)
            gh = g
            for step in range(x.shape[0], 0, -1):
                delta = gh * (1 - hs[step] ** 2)
                grads[m.index]["input_weights"] += np.outer(delta, x[step - 1])
                grads[m.index]["recurrent_weights"] += np.outer(delta, hs[step - 1])
                grads[m.index]["biases"] += delta
                gx[step - 1] = p["input_weights"].T @ delta
                gh = p["recurrent_weights"].T @ delta
            g = gx
    return grads, g


def total_loss(spec: ModuleSpec, params: list[dict]) -> float:
    return sum(loss_of(spec, forward(spec, params, np.array(x, dtype=float))[0], np.array(t))
               for x, t in zip(spec.inputs, spec.targets))


def _close(a, b, tol) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= tol * np.maximum(1.0, np.abs(b))))


def verify_key(spec: ModuleSpec, key: dict) -> dict:
    """Check every number of a module key; return a small report. Raises VerificationError."""
    with np.errstate(all="ignore"):     # a disagreement is reported in one line, not as warnings
        return _verify(spec, key)


def _verify(spec: ModuleSpec, key: dict) -> dict:
    params = _params(spec)
    grads = [{k: np.zeros_like(v) for k, v in p.items() if k != "initial_state"} for p in params]
    forwards, losses, data_grads = [], [], []
    for x, t in zip(spec.inputs, spec.targets):
        xa, ta = np.array(x, dtype=float), np.array(t, dtype=float)
        y, tape = forward(spec, params, xa)
        forwards.append((y, tape))
        losses.append(loss_of(spec, y, ta))
        g, gx = backward(spec, params, tape, y, ta)
        data_grads.append(gx)
        for mine, more in zip(grads, g):
            for k in mine:
                mine[k] += more[k]
    samples = key["forward"] if not spec.single_sample else [key["forward"]]
    checked = 0

    def fail(what: str, ours, theirs):
        raise VerificationError(f"the independent check disagrees on {what}: derived {ours}, numpy {theirs}",
                                file=spec.source)
    for s, (entries, (y, tape)) in enumerate(zip(samples, forwards)):
        if not _close(entries[-1]["out"], y, RTOL):
            fail(f"the output of sample {s + 1}", entries[-1]["out"], y.tolist())
        for m, entry, record in zip(spec.modules, entries, tape):
            if "z" in entry and m.kind != "rnn" and not _close(entry["z"], record[2], RTOL):
                fail(f"z of {m.where}", entry["z"], record[2].tolist())
            checked += 1
    total = sum(losses)
    if not _close(key["loss"]["total"], total, RTOL):
        fail("the loss", key["loss"]["total"], total)
    data = key["input_gradient"] if not spec.single_sample else [key["input_gradient"]]
    for s, g in enumerate(data_grads):
        if not _close(data[s], g, RTOL):
            fail(f"the gradient of the data of sample {s + 1}", data[s], g.tolist())
    for m, mine, theirs in zip(spec.modules, key["gradients"], grads):
        for name, value in theirs.items():
            if not _close(mine[name], value, RTOL):
                fail(f"the gradient of {m.where} {name}", mine[name], value.tolist())
            checked += value.size
    # finite differences of the loss, parameter by parameter
    for m, p, g in zip(spec.modules, params, grads):
        for name, value in g.items():
            for ix in np.ndindex(value.shape):
                old = p[name][ix]
                p[name][ix] = old + FD_STEP
                up = total_loss(spec, params)
                p[name][ix] = old - FD_STEP
                down = total_loss(spec, params)
                p[name][ix] = old
                fd = (up - down) / (2 * FD_STEP)
                if abs(fd - value[ix]) > FD_TOL * max(1.0, abs(fd)):
                    fail(f"the gradient of {m.where} {name}{list(ix)} (finite differences)", value[ix], fd)
    if spec.optimizer is not None or spec.iterations > 1 or "optimizer" in key or "history" in key:
        checked += _verify_training(spec, key, params, fail)
        return {"checked": checked, "loss": total, "after_step": key["loss"]["after_step"]}
    lr = spec.learning_rate
    new = [{k: (v - lr * g[k] if k in g else v) for k, v in p.items()} for p, g in zip(params, grads)]
    for m, mine, theirs in zip(spec.modules, key["updated"], new):
        for name, value in theirs.items():
            if name != "initial_state" and not _close(mine[name], value, RTOL):
                fail(f"the updated {m.where} {name}", mine[name], value.tolist())
    after = total_loss(spec, new)
    if not _close(key["loss"]["after_step"], after, RTOL):
        fail("the loss after the step", key["loss"]["after_step"], after)
    return {"checked": checked, "loss": total, "after_step": after}


class _Vector:
    """The trained parameters of a module spec as one vector (module by module, in each table's
    order; an rnn's initial state is data, not trained), with the loss and a batch's gradient."""

    def __init__(self, spec: ModuleSpec, params: list[dict]):
        self.spec = spec
        self.params = params
        self.names = [[k for k in p if k != "initial_state"] for p in params]

    def pack(self, tree: list[dict]) -> np.ndarray:
        return np.concatenate([np.ravel(np.asarray(t[k], dtype=float)) for t, ks in zip(tree, self.names)
                               for k in ks] or [np.zeros(0)])

    def unpack(self, x: np.ndarray) -> list[dict]:
        out, at = [], 0
        for p, ks in zip(self.params, self.names):
            part = dict(p)
            for k in ks:
                n = p[k].size
                part[k] = x[at:at + n].reshape(p[k].shape)
                at += n
            out.append(part)
        return out

    def loss(self, x: np.ndarray) -> float:
        return total_loss(self.spec, self.unpack(x))

    def gradient(self, x: np.ndarray, batch: list[int]) -> np.ndarray:
        params = self.unpack(x)
        total = np.zeros_like(x)
        for s in batch:
            xa = np.array(self.spec.inputs[s], dtype=float)
            y, tape = forward(self.spec, params, xa)
            total += self.pack(backward(self.spec, params, tape, y, np.array(self.spec.targets[s], dtype=float))[0])
        return total


def _verify_training(spec: ModuleSpec, key: dict, params: list[dict], fail) -> int:
    """The optimiser's steps (or plain descent's iterations) against the published rules, run on
    this file's numpy network: every shown step's numbers, p+, the loss after it, the history."""
    vec = _Vector(spec, params)
    config = spec.optimizer or Optimizer("sgd", (), len(spec.inputs))
    x0 = vec.pack(params)
    losses, records, x = published(config, spec.learning_rate, x0, np.ones_like(x0, dtype=bool), vec.loss,
                                   vec.gradient, len(spec.inputs), spec.iterations)
    checked = 0
    if spec.optimizer is not None:
        entry = key.get("optimizer")
        if entry is None:
            fail("the optimiser's steps", "none", "the spec names an optimizer")
        if {k: v for k, v in entry.items() if k != "steps"} != spec.optimizer.record():
            fail("the optimiser's constants", {k: v for k, v in entry.items() if k != "steps"},
                 spec.optimizer.record())
        if len(entry["steps"]) != min(SHOWN_STEPS, spec.iterations):
            fail("the number of shown steps", len(entry["steps"]), min(SHOWN_STEPS, spec.iterations))
        for i, (ours, theirs) in enumerate(zip(entry["steps"], records)):
            batch = [s + 1 for s in batch_of(len(spec.inputs), config.batch_size, i + 1)]
            if ours["batch"] != batch:
                fail(f"the batch of step {i + 1}", ours["batch"], batch)
            if not _close(ours["loss"], losses[i], RTOL):
                fail(f"the loss before step {i + 1}", ours["loss"], losses[i])
            for name, value in theirs.items():
                got = vec.pack(ours[name]) if name in ours else None
                if got is None or not _close(got, value, RTOL):
                    fail(f"{name} of step {i + 1}", None if got is None else got.tolist(), value.tolist())
                checked += value.size
    elif "optimizer" in key:
        fail("the optimiser's steps", "present", "the spec names no optimizer")
    updated = vec.pack(key["updated"])
    if not _close(updated, records[0]["updated"], RTOL):
        fail("the parameters after the first step", updated.tolist(), records[0]["updated"].tolist())
    if not _close(key["loss"]["after_step"], losses[1], RTOL):
        fail("the loss after the step", key["loss"]["after_step"], losses[1])
    checked += updated.size + 1
    if spec.iterations > 1:
        if "history" not in key or not _close(key["history"]["loss"], losses, HISTORY_TOLERANCE):
            fail("the loss history", key.get("history"), losses)
        final = vec.pack(key["final"])
        if not _close(final, x, HISTORY_TOLERANCE):
            fail("the final parameters", final.tolist(), x.tolist())
        checked += len(losses) + final.size
    elif "history" in key:
        fail("the loss history", "present", "one iteration")
    return checked
