"""Training a module spec for several steps: the graph's forward and backward passes compiled once,
each step substituting the new parameters, and the optimiser's rule (numeric.optimizers) moving them.

Derive once, substitute many: the forward expressions are the graph's own; the backward ones are
the chain rule over every reader of a quantity, with ReLU's slope and max-pooling's argmax written
as case distinctions so that one compiled function serves parameters whose ReLUs switch or whose
window maxima move. A parameter's gradient is kept per sample, so a mini-batch adds its samples'
shares; the loss is summed over the samples, as the worked solution's is.
"""
from __future__ import annotations

from dataclasses import dataclass
import math

import sympy as sp

from ..numeric.compiled import Compiled
from ..numeric.optimizers import SHOWN_STEPS, OptimizerRun, Stepper, batches, diverged, shown, symbolic_rule
from ..training import Optimizer
from .derivation import ModuleDerivation, forward_values, leaf_values, symbolic_local
from .graph import Graph

PLAIN = "sgd"     # iterations without an optimiser: plain gradient descent on all samples


@dataclass
class Program:
    """The compiled forward and backward pass of one graph."""

    compiled: Compiled
    params: list                  # the parameters' symbols, in the graph's order
    given: list                   # the other leaves: data, targets, initial states, η
    loss_at: int
    gradient_at: list             # per parameter, per sample: where its share is (None: no share)


def program(g: Graph) -> Program:
    """Forward values, every quantity's gradient and each parameter's per-sample shares, as one function."""
    spec = g.spec
    params = [n.sym for n in g.nodes if n.role == "param"]
    given = [n.sym for n in g.nodes if n.expr is None and n.role != "param"]
    steps = [(n.sym, n.expr) for n in g.nodes if n.expr is not None]
    ce = spec.loss == "cross_entropy"
    last = len(spec.modules) - 1
    loss_nodes = {n.sym: n for n in g.nodes if n.role == "loss"}
    gradient: dict = {}
    shares: dict = {}
    for node in reversed(g.nodes):
        if node.role in ("loss", "target", "rate", "h0", "input") or (ce and node.module == last
                                                                     and node.role == "a"):
            continue
        terms: dict = {}
        for child in g.children.get(node.sym, []):
            if child.sym in loss_nodes:
                if child.op != "softmax-ce":
                    terms.setdefault(child.sample, []).append(child.locals[node.sym])
            elif child.sym in gradient:
                terms.setdefault(child.sample, []).append(gradient[child.sym] * symbolic_local(g, child, node))
        if ce and node.module == last and node.role == "z":
            loss = next(c for c in g.nodes if c.role == "loss" and c.sample == node.sample and c.op == "softmax-ce")
            terms = {node.sample: [loss.locals[node.sym]]}
        if node.role == "param":
            for s, part in terms.items():
                shares[node.sym, s] = sym = sp.Symbol(f"share:{node.sym.name}[{s}]")
                steps.append((sym, sp.Add(*part)))
            continue
        gradient[node.sym] = sym = sp.Symbol(f"grad:{node.sym.name}")
        steps.append((sym, sp.Add(*terms.get(node.sample, []))))
    compiled = Compiled(params + given, steps, "module_training")
    at = {sym: i for i, sym in enumerate(compiled.names)}
    samples = range(len(spec.inputs))
    return Program(compiled, params, given, at[g.loss],
                   [[at.get(shares.get((p, s))) for s in samples] for p in params])


def train(d: ModuleDerivation) -> OptimizerRun:
    """The spec's optimiser (plain gradient descent without one) for `iterations` steps; the first
    SHOWN_STEPS with every number, the loss history and the final parameters. The rule's symbols are
    named in `d.names` and its updated parameters are the derivation's p+ symbols."""
    g = d.graph
    spec = g.spec
    config = spec.optimizer or Optimizer(PLAIN, (), len(spec.inputs))
    prog = program(g)
    made: dict = {}

    def symbol(name) -> sp.Symbol:
        if name.plain not in made:
            made[name.plain] = sym = sp.Symbol(f"opt:{name.plain}")
            d.names[sym] = name
        return made[name.plain]
    sym = symbolic_rule(config.name, prog.params, g.rate, symbol, d.names.__getitem__, d.updated.__getitem__)
    stepper = Stepper(sym, config)
    base = leaf_values(g)
    given = [base[s] for s in prog.given]
    current = [base[p] for p in prog.params]
    run = OptimizerRun(sym, spec)
    n = len(spec.inputs)
    try:
        for step in range(1, spec.iterations + 2):
            out = prog.compiled(current + given)
            run.history.append(out[prog.loss_at])
            if step > spec.iterations:
                break
            batch = batches(n, config.batch_size, step)
            gradient = [sum(out[i] for s, i in enumerate(where) if s in batch and i is not None)
                        for where in prog.gradient_at]
            leaves, values, moved = stepper.step(current, gradient, spec.learning_rate, step)
            if step <= SHOWN_STEPS:
                run.iterations.append(shown(sym, step, batch, out[prog.loss_at], dict(zip(prog.params, current)),
                                            leaves, values, dict(zip(prog.params, gradient))))
            current = moved
        finite = all(map(math.isfinite, run.history + current))
    except (OverflowError, ValueError, ZeroDivisionError):
        finite = False
    if not finite:
        raise diverged(config.name, spec.source)
    run.final = dict(zip(prog.params, current))
    return run


def apply(run: OptimizerRun, d: ModuleDerivation) -> None:
    """The derivation's p+ and loss after the step become the first step's (the optimiser's, over
    its first batch); with an optimiser its steps replace plain gradient descent's update lines."""
    g = d.graph
    first = run.iterations[0].values
    for p, plus in d.updated.items():
        d.values[plus] = first[plus]
    d.after = forward_values(g, leaf_values(g, {p: first[plus] for p, plus in d.updated.items()}))
    d.loss_after = run.history[1]
    if g.spec.optimizer is not None:
        d.updates.clear()
