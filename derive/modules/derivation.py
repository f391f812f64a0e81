"""The worked solution of a module spec as plain step records: forward, backward, one update.

Backpropagation multiplies each node's local partials (the graph's, or ReLU's slope and the
max-pool's argmax decided from the forward values here) with the upstream gradient and sums over
every node that reads it. Written out that sum *is* what a lecturer shows: a kernel entry is read
by every output position, so ∂E/∂K_uv = Σ_ij δ_ij x_(i+u)(j+v) (a correlation of the input with the
upstream gradient); an input pixel is read through every kernel entry (a full convolution with the
flipped kernel); a shared RNN weight is read at every time step (∂E/∂W = Σ_t ...); a residual's x
is read by f and by the sum y = x + f(x) (the "+1" path). Terms whose upstream gradient is 0 (a
ReLU that is off, a pool window's non-maximum) are left out and counted.

Each step's expression is one sympy expression; its value is that expression evaluated, so the
symbolic line, the substituted line and the value printed from it cannot disagree.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import math

import sympy as sp

from ..errors import DeriveError
from ..model.naming import Name, Sampled
from .graph import Graph, Node, at, build, flat, gradient_name

KINK = 1e-5      # a ReLU pre-activation or two pool candidates closer than this are refused (the finite
                 # differences of the independent check, steps of 1e-6, must not cross the kink)


@dataclass(frozen=True)
class Step:
    target: sp.Symbol
    expr: sp.Expr
    value: float
    rule: str
    module: int          # the module whose section shows the step
    sample: int = 0
    omitted: int = 0     # terms left out because their upstream gradient is 0


@dataclass
class ModuleDerivation:
    graph: Graph
    values: dict                      # symbol -> float: data, forward, gradients, updated parameters
    names: dict                       # symbol -> structured name
    given: frozenset                  # the symbols whose values are the problem's data
    forward: list[Step]
    backward: list[Step]
    updates: list[Step]
    gradient: dict                    # node symbol -> its gradient's symbol
    updated: dict                     # parameter symbol -> its updated symbol
    loss_after: float
    after: dict = field(default_factory=dict)   # symbol -> float: the forward pass after the step


def leaf_values(g: Graph, params: dict | None = None) -> dict:
    """The given numbers: data, targets, η, the initial state and the parameters (or `params`)."""
    spec = g.spec
    values: dict = {g.rate: spec.learning_rate}
    for node in g.nodes:
        if node.role == "input":
            values[node.sym] = at(spec.inputs[node.sample], node.index)
        elif node.role == "target":
            values[node.sym] = spec.targets[node.sample][node.index[0]]
        elif node.role == "h0":
            values[node.sym] = spec.modules[node.module].param("initial_state")[node.index[1]]
        elif node.role == "param":
            values[node.sym] = at(spec.modules[node.module].param(node.param), node.index)
    if params is not None:
        values.update(params)
    return values


def evaluate(expr: sp.Expr, values: dict) -> float:
    """The expression's value at `values`; nan when it is no finite real number (an overflow, the
    log of a probability that rounded to 0)."""
    if isinstance(expr, sp.Symbol):
        return float(values[expr])
    result = expr.xreplace({s: sp.Float(values[s]) for s in expr.free_symbols})
    if not result.is_real or not result.is_finite:
        return math.nan
    value = float(result)
    return value if math.isfinite(value) else math.nan


def forward_values(g: Graph, values: dict) -> dict:
    """Every node's value, in the order the nodes were built (parents first)."""
    values = dict(values)
    for node in g.nodes:
        if node.expr is not None:
            values[node.sym] = evaluate(node.expr, values)
    return values


def _check_finite(g: Graph, values: dict, sym: sp.Symbol, name) -> None:
    """A value that is no finite number (or rounds to a probability of 0 or 1 under a log) is refused
    in one line naming the quantity, before anything is checked or written."""
    if math.isfinite(values[sym]):
        return
    node = g.by_sym.get(sym)
    module = g.spec.modules[node.module].where if node is not None and 0 <= node.module < len(g.spec.modules) \
        else "[network] loss"
    inner = getattr(name, "inner", name)
    raise DeriveError(f"{inner.plain} is not a finite number here (the numbers overflow, or a probability "
                      "rounds to 0 under the log); use smaller weights or inputs", file=g.spec.source, field=module)


def _plain(node: Node) -> str:
    name = node.name.inner if isinstance(node.name, Sampled) else node.name
    text = name.plain
    return text + (f" of sample {node.sample + 1}" if isinstance(node.name, Sampled) else "")


def kink(g: Graph, values: dict, margin: float = KINK) -> tuple[str, str, str] | None:
    """The first ReLU pre-activation within `margin` of 0 ("relu_kink") or max-pool window with two
    maxima within `margin` ("max_tie"), as (rule, message, module field); None when there is none.
    `derive exam` rejects such a draw with the same rules the engine refuses a spec with, at the
    exam's wider margin."""
    for node in g.nodes:
        if node.op == "relu" and abs(values[node.parents[0]]) < margin:
            z = g.by_sym[node.parents[0]]
            m = g.spec.modules[node.module]
            return ("relu_kink", f"{_plain(z)} = {values[z.sym]:g} sits on ReLU's kink, where it has no "
                    "derivative; change the data or the parameters", m.where)
        if node.op == "max":
            top = sorted((values[p] for p in node.parents), reverse=True)
            if len(top) > 1 and top[0] - top[1] < margin:
                m = g.spec.modules[node.module]
                return ("max_tie", f"the window of {_plain(node)} has two maxima ({top[0]:g}); the gradient "
                        "would have no single argmax to go to; change the data or the parameters", m.where)
    return None


def _check_kinks(g: Graph, values: dict) -> None:
    """ReLU has no derivative at 0 and a max no unique argmax at a tie: such data is refused."""
    found = kink(g, values)
    if found is not None:
        raise DeriveError(found[1], file=g.spec.source, field=found[2])


def _local(g: Graph, child: Node, parent: Node, values: dict) -> sp.Expr:
    """∂child/∂parent: from the graph, or decided by the numbers (ReLU's slope, max's argmax)."""
    if child.op == "relu":
        return sp.Integer(1) if values[parent.sym] > 0 else sp.Integer(0)
    if child.op == "max":
        best = max(child.parents, key=lambda p: values[p])
        return sp.Integer(1) if best == parent.sym else sp.Integer(0)
    if child.op == "sigmoid":
        return sp.Mul(child.sym, sp.Add(1, -child.sym, evaluate=False), evaluate=False)
    if child.op == "tanh":
        return sp.Add(1, -sp.Pow(child.sym, 2, evaluate=False), evaluate=False)
    if child.op == "softmax":
        if child.index == parent.index:
            return sp.Mul(child.sym, sp.Add(1, -child.sym, evaluate=False), evaluate=False)
        mine = next(c for c in g.children[parent.sym] if c.op == "softmax" and c.index == parent.index)
        return sp.Mul(-1, child.sym, mine.sym, evaluate=False)
    return child.locals[parent.sym]


def symbolic_local(g: Graph, child: Node, parent: Node) -> sp.Expr:
    """∂child/∂parent for any numbers: ReLU's slope and max's argmax as a case distinction
    (the first of tied maxima takes the gradient, as numpy's argmax does), the rest as `_local`."""
    if child.op == "relu":
        return sp.Piecewise((1, sp.StrictGreaterThan(parent.sym, 0)), (0, True))
    if child.op == "max":
        place = child.parents.index(parent.sym)
        wins = [sp.StrictGreaterThan(parent.sym, q) for q in child.parents[:place]]
        wins += [sp.GreaterThan(parent.sym, q) for q in child.parents[place + 1:]]
        return sp.Piecewise((1, sp.And(*wins)), (0, True)) if wins else sp.Integer(1)
    return _local(g, child, parent, {})


SHOWN_ONE = ("relu", "add", "identity")     # a local partial of 1 shown as "· 1" (ReLU' = 1, the +1 path)


def _rule(g: Graph, node: Node, readers: list[Node]) -> tuple[str, int]:
    """(the rule of a node's gradient step, the module whose section shows it)."""
    modules = g.spec.modules
    if node.role == "param":
        return f"{modules[node.module].kind}-{node.param}", node.module
    if node.role == "z":
        ops = {c.op for c in readers}
        if "loss-ce" in ops:
            return "softmax-ce", node.module
        return "act-" + (ops.pop() if ops else "none"), node.module
    if any(c.op == "add" for c in readers):
        res = next(c for c in readers if c.op == "add")
        if res.parents[1] == node.sym:     # f(x), the block's output: y's gradient times 1, before f's steps
            return "residual-output", res.module
        return "residual", res.module
    if not readers:
        return "unused", node.module + 1
    reader = readers[0]
    if reader.role == "loss":
        return "loss", len(modules)
    kind = modules[reader.module].kind
    if reader.op in ("max", "avg"):
        return kind, reader.module
    if kind == "rnn":
        return ("rnn-state" if node.role in ("a", "h0") else "rnn-input"), reader.module
    return f"{kind}-input", reader.module


def derive_modules(g: Graph, checked: bool = True, forward: dict | None = None) -> ModuleDerivation:
    """The derivation at the spec's numbers. `checked=False` skips the refusal of a value that is no
    finite number or sits on a kink: for the steps and names alone (an exam replaces the numbers),
    whose set does not depend on the values. `forward`: the forward values at the spec's numbers
    when the caller has them already (an exam's draw), to save computing them twice."""
    spec = g.spec
    given_values = leaf_values(g)
    values = forward_values(g, given_values) if forward is None else dict(forward)
    names = g.names()
    if checked:
        for node in g.nodes:
            if node.expr is not None:
                _check_finite(g, values, node.sym, names[node.sym])
        _check_kinks(g, values)
    forward = []
    for node in g.nodes:
        if node.expr is not None:
            forward.append(Step(node.sym, node.expr, values[node.sym], "forward-" + node.op, node.module,
                                node.sample))
    ce = spec.loss == "cross_entropy"
    loss_nodes = {n.sym for n in g.nodes if n.role == "loss"}
    last = len(spec.modules) - 1
    gradient: dict = {}
    backward: list[Step] = []
    for node in reversed(g.nodes):
        if node.role in ("loss", "target", "rate", "h0"):
            continue
        if ce and node.module == last and node.role == "a":
            continue                   # softmax with cross-entropy: δ = a − t directly
        readers = g.children.get(node.sym, [])
        terms, omitted = [], 0
        if ce and node.module == last and node.role == "z":
            loss = next(c for c in g.nodes if c.role == "loss" and c.sample == node.sample and c.op == "softmax-ce")
            terms.append(loss.locals[node.sym])
            rule, module = "softmax-ce", node.module
        else:
            for child in readers:
                if child.sym in loss_nodes:
                    if child.op == "softmax-ce":
                        continue
                    terms.append(child.locals[node.sym])
                    continue
                upstream = gradient.get(child.sym)
                if upstream is None:
                    continue
                local = _local(g, child, node, values)
                if local == 0 or values[upstream] == 0:
                    omitted += 1
                    continue
                if local == 1 and child.op not in SHOWN_ONE:
                    terms.append(upstream)
                else:
                    terms.append(sp.Mul(upstream, local, evaluate=False))
            rule, module = _rule(g, node, readers)
        expr = sp.Add(*terms, evaluate=False) if len(terms) > 1 else terms[0] if terms else sp.Integer(0)
        sym = sp.Symbol(f"g:{node.sym.name}")
        names[sym] = gradient_name(node)
        values[sym] = evaluate(expr, values)
        if checked:
            _check_finite(g, values, sym, names[sym])
        gradient[node.sym] = sym
        backward.append(Step(sym, expr, values[sym], rule, module, node.sample, omitted))
    updates, updated = [], {}
    for node in g.nodes:
        if node.role != "param":
            continue
        name = node.name
        new = sp.Symbol(f"u:{node.sym.name}")
        names[new] = Name(name.base, name.sub, name.sup, "+")
        expr = sp.Add(node.sym, sp.Mul(-1, g.rate, gradient[node.sym], evaluate=False), evaluate=False)
        values[new] = evaluate(expr, values)
        if checked:
            _check_finite(g, values, new, names[new])
        updated[node.sym] = new
        updates.append(Step(new, expr, values[new], "update", node.module))
    after = forward_values(g, leaf_values(g, {p: values[u] for p, u in updated.items()}))
    if checked:
        _check_finite(g, after, g.loss, Name("E", "", "", "+"))
    return ModuleDerivation(g, values, names, frozenset(given_values), forward, backward, updates,
                            gradient, updated, after[g.loss], after)


def derive_spec(spec) -> ModuleDerivation:
    return derive_modules(build(spec))


def sample_output(d: ModuleDerivation, s: int) -> list[float]:
    return [d.values[y] for y in flat(d.graph.outputs[s][-1])]
