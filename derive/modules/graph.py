"""Every module lowered to scalar sympy symbols and local expressions: the model of a module spec.

Each scalar quantity (an input pixel, a kernel entry, a pre-activation z, an activation a, a pooled
value p, a hidden state h, the loss E) is a `Node` holding its symbol, its structured name, the
expression that computes it from its parents' symbols and — micrograd's way — its local partials
with respect to each parent. Two partials depend on the numbers (ReLU's slope and max-pooling's
argmax) and are named by `op`; the derivation decides them once the forward values are known.
The composed loss is never built, let alone differentiated.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import product
from typing import Any

import sympy as sp

from ..model.naming import Name, Partial, Sampled
from .section import Module, ModuleSpec

E = Name("E")


def target_base(modules, stepped: bool = False) -> str:
    """The targets' letter: t, as every other page writes them; in a recurrent network, where t
    counts the time steps (x_t, h_t, the sum over t = 1 to T, as every text on RNNs writes it), and
    under an optimiser (`stepped`), where t counts its steps (1 − β1^t, 'the step at t = 1', as the
    Adam paper and every text on it write it), the lecture's own word, target_k (the lecture's
    target_{o1}; an MLP writes it so already), so that no letter means two things on one page."""
    return "target" if stepped or any(m.kind == "rnn" for m in modules) else "t"


@dataclass
class Node:
    """One scalar quantity of the unrolled network."""

    sym: sp.Symbol
    name: Any                     # Name, or Sampled(Name) for a per-sample quantity of several samples
    module: int                   # the module it belongs to (-1: the data, len(modules): the loss)
    role: str                     # input, param, z, a, pool, res, h0, loss, target, rate
    sample: int = 0
    index: tuple = ()             # its place in its module's tensor (0-based)
    expr: sp.Expr | None = None   # how it is computed from its parents (None: given)
    op: str = "given"             # linear, relu, sigmoid, tanh, identity, softmax, max, avg, add, loss
    locals: dict = field(default_factory=dict)   # parent symbol -> local partial (when it needs no numbers)
    parents: tuple = ()
    param: str = ""               # for role "param": which parameter of its module


@dataclass
class Graph:
    spec: ModuleSpec
    nodes: list[Node]
    by_sym: dict
    params: list[dict]            # per module: parameter name -> nested lists of symbols
    inputs: list[Any]             # per sample: nested lists of the data's symbols
    pre: list[list[Any]]          # per sample, per module: nested symbols of z (None without)
    outputs: list[list[Any]]      # per sample, per module: nested symbols of the module's output
    states: list[list[Any]]       # per sample: the rnn's hidden states h_1..h_T (empty without an rnn)
    targets: list[list[sp.Symbol]]
    sample_loss: list[sp.Symbol]
    loss: sp.Symbol
    rate: sp.Symbol
    children: dict = field(default_factory=dict)   # symbol -> the nodes that read it

    def names(self) -> dict:
        return {n.sym: n.name for n in self.nodes}


def index_text(*indices: int) -> str:
    """Subscript of 1-based indices: 12 for a matrix entry, 1,2,3 when more or larger."""
    shown = [str(i + 1) for i in indices]
    if len(shown) <= 2 and all(len(s) == 1 for s in shown):
        return "".join(shown)
    return ",".join(shown)


def nested(shape: tuple[int, ...], make) -> Any:
    """Nested lists of `make(index)` over every index of `shape`."""
    if not shape:
        return make(())
    return [nested(shape[1:], lambda rest, i=i: make((i, *rest))) for i in range(shape[0])]


def at(tensor: Any, index: tuple) -> Any:
    for i in index:
        tensor = tensor[i]
    return tensor


def flat(tensor: Any) -> list:
    return [x for t in tensor for x in flat(t)] if isinstance(tensor, list) else [tensor]


class Builder:
    def __init__(self, spec: ModuleSpec):
        self.spec = spec
        self.nodes: list[Node] = []
        self.by_sym: dict = {}
        self.several = not spec.single_sample

    def add(self, name: Name, module: int, role: str, sample: int = 0, index: tuple = (),
            expr=None, op: str = "given", locals_=None, parents=(), param: str = "", shared: bool = False):
        shown = Sampled(name, sample + 1) if self.several and not shared else name
        tag = f"{name.base}{name.sup}{name.sub}{name.mark}" + ("" if shared else f"[{sample}]")
        sym = sp.Symbol(f"m{len(self.nodes):05d}:{tag}")
        node = Node(sym, shown, module, role, sample, index, expr, op, dict(locals_ or {}), tuple(parents), param)
        self.nodes.append(node)
        self.by_sym[sym] = node
        return sym


def _drop(indices: tuple[int, ...], keep: tuple[bool, ...]) -> tuple[int, ...]:
    return tuple(i for i, k in zip(indices, keep) if k)


def build(spec: ModuleSpec) -> Graph:
    """The unrolled network of `spec` as nodes, parameters shared across samples and time steps."""
    b = Builder(spec)
    modules = spec.modules
    params = [_parameters(b, m) for m in modules]
    rate = b.add(Name("eta"), len(modules), "rate", shared=True)
    inputs, pre_all, out_all, states_all, targets, sample_loss = [], [], [], [], [], []
    for s, sample in enumerate(spec.inputs):
        data = _data(b, spec, s)
        inputs.append(data)
        x = data
        pre, outs, states = [], [], []
        block_inputs: dict[int, Any] = {}
        for m in modules:
            if m.kind == "residual":
                block_inputs[m.index + m.wraps] = (m, x)
                pre.append(None)
                outs.append(x)
                continue
            z, x, hs = _forward(b, m, params[m.index], x, s)
            if m.index in block_inputs:                    # the last module of a residual block
                r, skip = block_inputs[m.index]
                x = _residual(b, r, skip, x, s)
                outs[r.index] = x
            pre.append(z)
            outs.append(x)
            states.extend(hs)
        pre_all.append(pre)
        out_all.append(outs)
        states_all.append(states)
        ts = [b.add(Name(target_base(modules, spec.optimizer is not None), index_text(k)), len(modules), "target", s, (k,)) for k in range(len(spec.targets[s]))]
        targets.append(ts)
        sample_loss.append(_loss(b, spec, flat(x), ts, s, pre[-1]))
    if b.several:
        loss = b.add(E, len(modules), "loss", expr=sp.Add(*sample_loss, evaluate=False), op="sum",
                     locals_={e: sp.Integer(1) for e in sample_loss}, parents=sample_loss, shared=True)
    else:
        loss = sample_loss[0]
    children: dict = {}
    for node in b.nodes:
        for p in node.parents:
            children.setdefault(p, []).append(node)
    return Graph(spec, b.nodes, b.by_sym, params, inputs, pre_all, out_all, states_all, targets,
                 sample_loss, loss, rate, children)


def _parameters(b: Builder, m: Module) -> dict:
    sup = "" if m.kind == "rnn" else f"({m.index + 1})"
    out: dict = {}
    if m.kind in ("conv1d", "conv2d"):
        shape = (m.out_shape[0], m.in_shape[0], *m.size)
        keep = (shape[0] > 1, shape[1] > 1) + (True,) * len(m.size)
        out["kernels"] = nested(shape, lambda ix: b.add(Name("K", index_text(*_drop(ix, keep)), sup), m.index,
                                                        "param", index=ix, param="kernels", shared=True))
        out["biases"] = nested((shape[0],), lambda ix: b.add(
            Name("b", index_text(*ix) if shape[0] > 1 else "", sup), m.index, "param", index=ix,
            param="biases", shared=True))
    elif m.kind == "dense":
        units, n = m.out_shape[0], m.in_shape[0]
        out["weights"] = nested((units, n), lambda ix: b.add(Name("w", index_text(*ix), sup), m.index, "param",
                                                             index=ix, param="weights", shared=True))
        out["biases"] = nested((units,), lambda ix: b.add(Name("b", index_text(*ix), sup), m.index, "param",
                                                          index=ix, param="biases", shared=True))
    elif m.kind == "rnn":
        units, features = m.out_shape[0], m.in_shape[1]
        out["input_weights"] = nested((units, features), lambda ix: b.add(
            Name("U", index_text(*ix)), m.index, "param", index=ix, param="input_weights", shared=True))
        out["recurrent_weights"] = nested((units, units), lambda ix: b.add(
            Name("W", index_text(*ix)), m.index, "param", index=ix, param="recurrent_weights", shared=True))
        out["biases"] = nested((units,), lambda ix: b.add(
            Name("b", index_text(*ix) if units > 1 else ""), m.index, "param", index=ix, param="biases",
            shared=True))
    return out


def _data(b: Builder, spec: ModuleSpec, s: int) -> Any:
    first = spec.modules[0] if spec.modules[0].kind != "residual" else next(
        m for m in spec.modules if m.kind != "residual")
    shape = first.in_shape
    if first.kind == "rnn":
        keep = (True, shape[1] > 1)
        return nested(shape, lambda ix: b.add(Name("x", ",".join(str(i + 1) for i in _drop(ix, keep))), -1,
                                              "input", s, ix))
    keep = (shape[0] > 1,) + (True,) * (len(shape) - 1) if first.kind.startswith("conv") else (True,)
    return nested(shape, lambda ix: b.add(Name("x", index_text(*_drop(ix, keep))), -1, "input", s, ix))


def _activation(b: Builder, m: Module, zs: list, shape: tuple, s: int, keep: tuple, sup: str) -> Any:
    """a = act(z) per entry (softmax: over the whole vector)."""
    flat_z = flat(zs)
    act = m.activation
    results = {}
    for ix in product(*(range(n) for n in shape)):
        z = at(zs, ix)
        name = Name("a", index_text(*_drop(ix, keep)), sup)
        if act == "relu":
            results[ix] = b.add(name, m.index, "a", s, ix, sp.Max(0, z), "relu", parents=(z,))
        elif act == "sigmoid":
            results[ix] = b.add(name, m.index, "a", s, ix, 1 / (1 + sp.exp(-z)), "sigmoid", parents=(z,))
        elif act == "tanh":
            results[ix] = b.add(name, m.index, "a", s, ix, sp.tanh(z), "tanh", parents=(z,))
        elif act == "linear":
            results[ix] = b.add(name, m.index, "a", s, ix, z, "identity", {z: sp.Integer(1)}, parents=(z,))
        else:   # softmax
            total = sp.Add(*[sp.exp(v) for v in flat_z], evaluate=False)
            results[ix] = b.add(name, m.index, "a", s, ix, sp.exp(z) / total, "softmax", parents=tuple(flat_z))
    return nested(shape, lambda ix: results[ix])


def _forward(b: Builder, m: Module, p: dict, x: Any, s: int) -> tuple[Any, Any, list]:
    """(pre-activations or None, the module's output, the rnn's hidden states) for one sample."""
    sup = f"({m.index + 1})"
    if m.kind == "flatten":
        return None, flat(x), []
    if m.kind in ("maxpool", "avgpool"):
        keep = (m.out_shape[0] > 1,) + (True,) * (len(m.out_shape) - 1)

        def pool(ix):
            c, pos = ix[0], ix[1:]
            window = [at(x, (c, *[q * m.stride + u for q, u in zip(pos, off)]))
                      for off in product(*(range(k) for k in m.size))]
            name = Name("p", index_text(*_drop(ix, keep)), sup)
            if m.kind == "maxpool":
                return b.add(name, m.index, "pool", s, ix, sp.Max(*window), "max", parents=tuple(window))
            n = sp.Integer(len(window))
            return b.add(name, m.index, "pool", s, ix, sp.Mul(sp.Rational(1, len(window)),
                                                              sp.Add(*window, evaluate=False), evaluate=False),
                         "avg", {w: 1 / n for w in window}, parents=tuple(window))
        return None, nested(m.out_shape, pool), []
    if m.kind == "dense":
        xs = flat(x)
        W, bias = p["weights"], p["biases"]
        zs = []
        for k in range(m.out_shape[0]):
            terms = [sp.Mul(W[k][j], xs[j], evaluate=False) for j in range(len(xs))] + [bias[k]]
            locals_ = {W[k][j]: xs[j] for j in range(len(xs))} | {xs[j]: W[k][j] for j in range(len(xs))}
            locals_[bias[k]] = sp.Integer(1)
            zs.append(b.add(Name("z", index_text(k), sup), m.index, "z", s, (k,), sp.Add(*terms, evaluate=False),
                            "linear", locals_, parents=tuple(W[k]) + tuple(xs) + (bias[k],)))
        return zs, _activation(b, m, zs, m.out_shape, s, (True,), sup), []
    if m.kind in ("conv1d", "conv2d"):
        K, bias = p["kernels"], p["biases"]
        channels = m.in_shape[0]
        keep = (m.out_shape[0] > 1,) + (True,) * (len(m.out_shape) - 1)

        def conv(ix):
            f, pos = ix[0], ix[1:]
            terms, locals_, parents = [], {}, []
            for c in range(channels):
                for off in product(*(range(k) for k in m.size)):
                    src = [q * m.stride + u - m.padding for q, u in zip(pos, off)]
                    if any(v < 0 or v >= n for v, n in zip(src, m.in_shape[1:])):
                        continue                       # a zero of the padding
                    k_sym, x_sym = at(K, (f, c, *off)), at(x, (c, *src))
                    terms.append(sp.Mul(k_sym, x_sym, evaluate=False))
                    locals_[k_sym] = x_sym
                    locals_[x_sym] = k_sym
                    parents += [k_sym, x_sym]
            terms.append(bias[f])
            locals_[bias[f]] = sp.Integer(1)
            parents.append(bias[f])
            return b.add(Name("z", index_text(*_drop(ix, keep)), sup), m.index, "z", s, ix,
                         sp.Add(*terms, evaluate=False), "linear", locals_, parents=tuple(parents))
        zs = nested(m.out_shape, conv)
        return zs, _activation(b, m, zs, m.out_shape, s, keep, sup), []
    # rnn: h_t = tanh(U x_t + W h_{t-1} + b), shared over t
    U, W, bias = p["input_weights"], p["recurrent_weights"], p["biases"]
    units = m.out_shape[0]
    steps, features = m.in_shape
    one = units == 1

    def sub(t, j):
        return f"{t}" if one else f"{t},{j + 1}"
    h = [b.add(Name("h", sub(0, j)), m.index, "h0", s, (0, j)) for j in range(units)]
    zs, hs = [], []
    for t in range(steps):
        z_t, h_t = [], []
        for j in range(units):
            terms, locals_ = [], {}
            for k in range(features):
                terms.append(sp.Mul(U[j][k], x[t][k], evaluate=False))
                locals_[U[j][k]] = x[t][k]
                locals_[x[t][k]] = U[j][k]
            for k in range(units):
                terms.append(sp.Mul(W[j][k], h[k], evaluate=False))
                locals_[W[j][k]] = h[k]
                locals_[h[k]] = W[j][k]
            terms.append(bias[j])
            locals_[bias[j]] = sp.Integer(1)
            z = b.add(Name("z", sub(t + 1, j)), m.index, "z", s, (t, j), sp.Add(*terms, evaluate=False),
                      "linear", locals_, parents=tuple(locals_))
            z_t.append(z)
            h_t.append(b.add(Name("h", sub(t + 1, j)), m.index, "a", s, (t, j), sp.tanh(z), "tanh", parents=(z,)))
        zs.append(z_t)
        hs.append(h_t)
        h = h_t
    return zs, h, hs


def _residual(b: Builder, r: Module, skip: Any, fx: Any, s: int) -> Any:
    """y = x + f(x), entry by entry."""
    sup = f"({r.index + 1})"
    keep = (r.in_shape[0] > 1,) + (True,) * (len(r.in_shape) - 1) if len(r.in_shape) > 1 else (True,)

    def add(ix):
        xs, fs = at(skip, ix), at(fx, ix)
        return b.add(Name("y", index_text(*_drop(ix, keep)), sup), r.index, "res", s, ix,
                     sp.Add(xs, fs, evaluate=False), "add", {xs: sp.Integer(1), fs: sp.Integer(1)},
                     parents=(xs, fs))
    return nested(r.in_shape, add)


def _loss(b: Builder, spec: ModuleSpec, ys: list, ts: list, s: int, z_last: Any) -> sp.Symbol:
    """E of one sample, with its local partials (the written identities of each loss)."""
    n = len(ys)
    modules = len(spec.modules)
    if spec.loss == "cross_entropy":
        expr = -sp.Add(*[sp.Mul(t, sp.log(y), evaluate=False) for t, y in zip(ts, ys)], evaluate=False)
        zs = flat(z_last)
        # softmax and cross-entropy together: dE/dz_k = a_k - t_k (the a's are skipped)
        locals_ = {z: sp.Add(y, -t, evaluate=False) for z, y, t in zip(zs, ys, ts)}
        return b.add(E, modules, "loss", s, (), expr, "softmax-ce", locals_, parents=tuple(ys))
    factor = sp.Rational(1, 2) if spec.loss == "half_sse" else sp.Rational(1, n)
    expr = sp.Mul(factor, sp.Add(*[sp.Pow(sp.Add(t, -y, evaluate=False), 2, evaluate=False)
                                   for t, y in zip(ts, ys)], evaluate=False), evaluate=False)
    scale = sp.Integer(1) if spec.loss == "half_sse" else sp.Rational(2, n)
    locals_ = {y: (sp.Mul(-1, sp.Add(t, -y, evaluate=False), evaluate=False) if scale == 1 else
                   sp.Mul(-scale, sp.Add(t, -y, evaluate=False), evaluate=False)) for t, y in zip(ts, ys)}
    return b.add(E, modules, "loss", s, (), expr, "loss", locals_, parents=tuple(ys))


def gradient_name(node: Node) -> Any:
    """δ for a pre-activation (δ = ∂E/∂z), ∂E/∂q for every other quantity."""
    inner = node.name.inner if isinstance(node.name, Sampled) else node.name
    if node.role == "z":
        name: Any = Name("delta", inner.sub, inner.sup)
    else:
        name = Partial(E, inner)
    return Sampled(name, node.sample + 1) if isinstance(node.name, Sampled) else name
