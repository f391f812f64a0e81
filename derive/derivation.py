"""One round of training derived symbolically, as a list of plain step records.

Backpropagation as the lecture does it: each node knows its local partials (sympy differentiates
the local expressions net = sum w out + b, out = act(net) and each loss term) and the chain rule
multiplies and sums them. The whole composed loss is never differentiated. The steps depend on
the network's shape only; `numeric` substitutes numbers into them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import sympy as sp

from .model import activations, losses
from .model.naming import Name
from .model.network import Model, Shape
from .model.unevaluated import add as _add
from .model.unevaluated import mul as _mul


@dataclass(frozen=True)
class Step:
    """One line of a worked solution: name = expr (= expr with numbers = value).

    kind says which part of the solution the step belongs to: forward, loss, loss_derivative,
    activation_derivative, local (d net / d w, d net / d out), delta (dE/dnet), path (one path's
    share dE_ok/dout_hj), hidden (dE/dout of a hidden neuron), gradient, total, update.
    `definition` is the local expression this derivative differentiates (shown above it);
    `sympy_form` is sympy's own derivative of it where the written form differs.
    """

    name: sp.Symbol
    expr: sp.Expr
    kind: str
    layer: int | None = None
    neuron: int | None = None
    definition: tuple[sp.Symbol, sp.Expr] | None = None
    sympy_form: sp.Expr | None = None
    note: str | None = None
    # The derivative before simplifying, rule by rule as the slides write it (power rule on every
    # term: 1 out_h1 w5^(1-1) + 0 + 0); shown for the first weight of a layer.
    intermediate: sp.Expr | None = None


@dataclass
class Derivation:
    """The symbolic derivation of one shape: per-sample steps, then totals and updates."""

    model: Model
    sample_steps: list[Step]
    total_steps: list[Step]
    gradient: dict[sp.Symbol, sp.Symbol]      # parameter -> symbol of dE/dparameter (the total)
    sample_gradient: dict[sp.Symbol, sp.Symbol]  # parameter -> dE_total/dparameter of one sample
    updated: dict[sp.Symbol, sp.Symbol]       # parameter -> symbol of parameter^+
    loss: sp.Symbol                           # the reduced loss (E_total for one sample)
    loss_after: sp.Symbol                     # the loss after one step (a new forward pass), E^+
    # What the totals read from the samples: (symbol in the totals, symbol in a sample, sample index).
    from_samples: list[tuple[sp.Symbol, sp.Symbol, int]] = field(default_factory=list)
    # What later stages derive once for this shape (the penalty's steps, an optimiser's rule): kept
    # here, beside the model whose names they register, so that the two never part company when a
    # cache drops one of them (`derived`).
    extensions: dict = field(default_factory=dict, repr=False, compare=False)

    def derived(self, key, build):
        """`build()` once for this derivation under `key`, then the same result."""
        if key not in self.extensions:
            self.extensions[key] = build()
        return self.extensions[key]

    def step(self, plain: str) -> Step:
        for step in self.sample_steps + self.total_steps:
            if step.name.name == plain:
                return step
        raise KeyError(plain)

    @property
    def steps(self) -> list[Step]:
        return self.sample_steps + self.total_steps

    def given(self) -> list[sp.Symbol]:
        """The problem's data (`Model.given`), the steps that only name one of them
        (dnet_o1/dout_h1 = w5) and the steps whose rule is a whole number (dnet/db = 1, a linear
        output's dout/dnet = 1, ReLU's 1 or 0): their values print as written, 0.4 both times and
        a factor 1 as 1, never 1.000000000."""
        data = self.model.given()
        known = set(data)
        return data + [s.name for s in self.steps if s.expr in known or _whole(s.expr)]


def _whole(expr: sp.Expr) -> bool:
    """Whether a rule's every value is a whole number: 1, or a piecewise 1 / 0 (ReLU')."""
    if isinstance(expr, sp.Integer):
        return True
    return isinstance(expr, sp.Piecewise) and all(isinstance(value, sp.Integer) for value, _ in expr.args)


@lru_cache(maxsize=32)
def derive(shape: Shape) -> Derivation:
    """Derive forward pass, loss, every partial and every update for a network shape."""
    activations.check_identities(tuple(sorted(set(shape.activations))))
    losses.check_identities(shape.layers[-1], (shape.loss,))
    m = Model(shape)
    P = m.names.partial
    L = shape.depth
    steps: list[Step] = []

    # Forward pass: net then out, neuron by neuron (softmax: every net of the layer first).
    for l in range(1, L + 1):
        n = shape.layers[l]
        nets = [Step(m.net[l][j], m.net_expr(l, j), "forward", l, j) for j in range(n)]
        outs = [Step(m.out[l][j], m.out_expr(l, j), "forward", l, j) for j in range(n)]
        if m.activation[l].elementwise:
            steps.extend(step for pair in zip(nets, outs) for step in pair)
        else:
            steps.extend(nets + outs)
    # Loss.
    for k in range(shape.layers[-1]):
        steps.append(Step(m.loss_terms[k], m.term_expr(k), "loss", L, k))
    steps.append(Step(m.loss_total, m.total_expr(), "loss", L))

    # Output layer: dE/dout from the loss, dout/dnet from the activation, the delta dE/dnet.
    outs, nets = m.out[L], m.net[L]
    separable = m.activation[L].elementwise   # each E_ok depends on out_ok only
    d_out: dict[tuple[int, int], sp.Symbol] = {}
    d_act: dict[tuple[int, int], sp.Symbol] = {}
    delta: dict[tuple[int, int], sp.Symbol] = {}
    written_total = _add(*[m.term_expr(k) for k in range(shape.layers[-1])])
    term_out: dict[int, sp.Symbol] = {}
    for k in range(shape.layers[-1]):
        sym = P(m.loss_total, outs[k])
        term = m.term_expr(k)
        written = m.loss.derivative(m.targets[k], outs[k])
        steps.append(Step(sym, written, "loss_derivative", L, k, definition=(m.loss_terms[k], term),
                          sympy_form=sp.diff(term.doit(), outs[k]),
                          intermediate=_checked(written_total, outs[k], written) if k == 0 else None))
        d_out[L, k] = sym
    if separable:
        # The error signal of o1 is dE_o1/dnet_o1 (the slides' notation); dE_o1/dout_o1 is
        # dE_total/dout_o1 because no other loss term depends on out_o1.
        for k in range(shape.layers[-1]):
            sym = P(m.loss_terms[k], outs[k])
            steps.append(Step(sym, d_out[L, k], "term_derivative", L, k))
            term_out[k] = sym
    _activation_steps(m, L, steps, {**d_out, **{(L, k): v for k, v in term_out.items()}}, d_act, delta, P,
                      separable_output=separable)

    # Hidden layers, from the top down: dE/dout_j sums the paths through every neuron above.
    for l in range(L - 1, 0, -1):
        above = l + 1
        for j in range(shape.layers[l]):
            terms = []
            for k in range(shape.layers[above]):
                local = P(m.net[above][k], m.out[l][j])
                value = sp.diff(m.net_expr(above, k).doit(), m.out[l][j])
                steps.append(Step(local, value, "local", above, k,
                                  definition=(m.net[above][k], m.net_expr(above, k)),
                                  intermediate=_checked(m.net_expr(above, k), m.out[l][j], value)
                                  if j == 0 else None))
                if above == L and separable:
                    path = P(m.loss_terms[k], m.out[l][j])
                    steps.append(Step(path, _mul(delta[above, k], local), "path", l, j))
                    terms.append(path)
                else:
                    terms.append(_mul(delta[above, k], local))
            sym = P(m.loss_total, m.out[l][j])
            steps.append(Step(sym, _add(*terms), "hidden", l, j))
            d_out[l, j] = sym
        _activation_steps(m, l, steps, d_out, d_act, delta, P, separable_output=False)

    # Gradients of every parameter: the chain rule's product of local partials.
    sample_gradient: dict[sp.Symbol, sp.Symbol] = {}
    for l in range(1, L + 1):
        elementwise = m.activation[l].elementwise
        for j in range(shape.layers[l]):
            definition = (m.net[l][j], m.net_expr(l, j))
            for k in range(shape.layers[l - 1]):
                w = m.weights[l - 1][j][k]
                local = P(m.net[l][j], w)
                value = sp.diff(m.net_expr(l, j).doit(), w)
                steps.append(Step(local, value, "local", l, j, definition=definition,
                                  intermediate=_checked(m.net_expr(l, j), w, value) if j == k == 0 else None))
                g = P(m.loss_total, w)
                chain = (_mul(d_out[l, j], d_act[l, j], local) if elementwise
                         else _mul(delta[l, j], local))
                steps.append(Step(g, chain, "gradient", l, j))
                sample_gradient[w] = g
        bias = m.biases[l - 1]
        shared = isinstance(bias, sp.Symbol)
        for j in range(shape.layers[l]):
            b = m.bias(l, j)
            local = P(m.net[l][j], b)
            steps.append(Step(local, sp.diff(m.net_expr(l, j).doit(), b), "local", l, j,
                              definition=(m.net[l][j], m.net_expr(l, j))))
        if shared:
            g = P(m.loss_total, bias)
            parts = [_mul(delta[l, j], P(m.net[l][j], bias)) for j in range(shape.layers[l])]
            # Shared only when several neurons add it: the one bias of a one-neuron layer is its own.
            note = ("shared bias: one parameter, so its partials over the layer add up"
                    if shape.layers[l] > 1 else None)
            steps.append(Step(g, _add(*parts), "gradient", l, None, note=note))
            sample_gradient[bias] = g
        else:
            for j, b in enumerate(bias):
                g = P(m.loss_total, b)
                steps.append(Step(g, _mul(delta[l, j], P(m.net[l][j], b)), "gradient", l, j))
                sample_gradient[b] = g

    # Totals over samples, then the gradient-descent update.
    total_steps: list[Step] = []
    sampled: dict[tuple[sp.Symbol, int], sp.Symbol] = {}
    n = shape.n_samples
    params = m.parameters()
    per_sample = [m.loss_total] + [sample_gradient[p] for p in params]
    if n == 1:
        loss, gradient = m.loss_total, dict(sample_gradient)
        from_samples = [(sym, sym, 0) for sym in per_sample]
    else:
        for sym in per_sample:
            for s in range(n):
                sampled[sym, s] = m.names.sampled(sym, s + 1)
        from_samples = [(sampled[sym, s], sym, s) for sym in per_sample for s in range(n)]
        loss = m.names.symbol(Name("E"))
        total_steps.append(Step(loss, _reduce(shape, [sampled[m.loss_total, s] for s in range(n)]),
                                "total"))
        gradient = {}
        for p in params:
            g = P(loss, p)
            total_steps.append(Step(g, _reduce(shape, [sampled[sample_gradient[p], s] for s in range(n)]),
                                    "total"))
            gradient[p] = g
    updated: dict[sp.Symbol, sp.Symbol] = {}
    weight_set = {w for matrix in m.weights for row in matrix for w in row}
    for p in params:
        if p in weight_set or shape.update_biases:
            plus = m.names.plus(p)
            expr = sp.Add(p, sp.Mul(sp.Integer(-1), sp.Mul(m.eta, gradient[p], evaluate=False),
                                    evaluate=False), evaluate=False)
            total_steps.append(Step(plus, expr, "update"))
            updated[p] = plus
    return Derivation(m, steps, total_steps, gradient, sample_gradient, updated, loss, m.names.plus(loss),
                      from_samples)


def written_derivative(expr: sp.Expr, var: sp.Symbol) -> sp.Expr | None:
    """d expr / d var by the rules, unsimplified, as the slides write it.

    A sum term by term (0 for a term without var); in a product the factor holding var by the
    power rule, exponent first: d/dw5 (w5 out_h1) = 1 out_h1 w5^(1-1), d/do 1/2 (t - o)^2 =
    2 1/2 (t - o)^(2-1) (-1). None for a form these rules do not cover.
    """
    if var not in expr.free_symbols:
        return sp.Integer(0)
    if expr == var:
        return sp.Integer(1)
    if isinstance(expr, sp.Add):
        parts = [written_derivative(a, var) for a in expr.args]
        return None if any(p is None for p in parts) else _add(*parts)
    factors = list(expr.args) if isinstance(expr, sp.Mul) else [expr]
    inside = [f for f in factors if var in f.free_symbols]
    if len(inside) != 1:
        return None
    f = inside[0]
    others = [a for a in factors if a is not f]
    if f == var:
        return _mul(sp.Integer(1), *others, sp.Pow(var, _add(sp.Integer(1), sp.Integer(-1)), evaluate=False))
    if isinstance(f, sp.Pow) and f.exp.is_Number and f.exp > 0:
        inner = [] if f.base == var else [sp.diff(f.base.doit(), var)]
        return _mul(f.exp, *others, sp.Pow(f.base, _add(f.exp, sp.Integer(-1)), evaluate=False), *inner)
    if isinstance(f, sp.log):
        inner = [] if f.args[0] == var else [sp.diff(f.args[0].doit(), var)]
        return _mul(*others, sp.Pow(f.args[0], -1, evaluate=False), *inner)
    if isinstance(f, (sp.Mul, sp.Add)):
        rest = written_derivative(f, var)
        return None if rest is None else _mul(*others, rest) if others else rest
    return None


def _checked(expr: sp.Expr, var: sp.Symbol, value: sp.Expr) -> sp.Expr | None:
    """The written derivative of expr, proved equal to `value` (else a bug: raise)."""
    written = written_derivative(expr, var)
    if written is None:
        return None
    difference = written.doit() - value.doit()
    if sp.expand(difference) != 0 and sp.simplify(difference) != 0:
        raise AssertionError(f"written derivative of {expr} by {var} differs from {value}")
    return written


def _reduce(shape: Shape, terms: list[sp.Symbol]) -> sp.Expr:
    total = _add(*terms)
    if shape.reduction == "mean":
        return sp.Mul(sp.Rational(1, len(terms)), total, evaluate=False)
    return total


def _activation_steps(m: Model, l: int, steps: list[Step], d_out, d_act, delta, P,
                      separable_output: bool) -> None:
    """dout/dnet of layer l (softmax: its Jacobian) and each neuron's delta dE/dnet."""
    act = m.activation[l]
    outs, nets = m.out[l], m.net[l]
    n = len(outs)
    if act.elementwise:
        for j in range(n):
            sym = P(outs[j], nets[j])
            out_expr = m.out_expr(l, j)
            note = "ReLU has no derivative at 0; we take it to be 0 there" if act.name == "relu" else None
            steps.append(Step(sym, act.derivative(nets[j], outs[j]), "activation_derivative", l, j,
                              definition=(outs[j], out_expr),
                              sympy_form=sp.diff(out_expr.doit(), nets[j]), note=note))
            d_act[l, j] = sym
        for j in range(n):
            num = m.loss_terms[j] if separable_output else m.loss_total
            sym = P(num, nets[j])
            steps.append(Step(sym, _mul(d_out[l, j], d_act[l, j]), "delta", l, j))
            delta[l, j] = sym
        return
    jac = {}
    for mm in range(n):
        for k in range(n):
            sym = P(outs[mm], nets[k])
            out_expr = m.out_expr(l, mm)
            steps.append(Step(sym, act.softmax_derivative(outs[mm], outs[k], mm == k),
                              "activation_derivative", l, mm, definition=(outs[mm], out_expr),
                              sympy_form=sp.diff(out_expr.doit(), nets[k])))
            jac[mm, k] = sym
    for k in range(n):
        sym = P(m.loss_total, nets[k])
        steps.append(Step(sym, _add(*[_mul(d_out[l, mm], jac[mm, k]) for mm in range(n)]), "delta", l, k,
                          note="softmax couples the outputs: every out_m depends on net_k"))
        delta[l, k] = sym
