"""The worked steps of a solution, in the lecture's order: forward pass, loss, backpropagation, update.

`StepWriter` turns step records into display lines (rule = numbers substituted = value) with the
printer and one sample's values; the functions below choose which steps appear, and where.
"""
from __future__ import annotations

import sympy as sp

from ..derivation import Step
from ..printing.latex import Printer
from ..solution import Solution
from .blocks import Block, Line, Section
from .problem import ACTIVATION_TEXT, LOSS_TEXT


class StepWriter:
    """Turns step records into display lines with the printer and one sample's values."""

    def __init__(self, solution: Solution, sample: int):
        self.solution = solution
        self.d = solution.derivation
        self.m = self.d.model
        self.p = Printer(self.m.names.of, solution.spec.decimals, given=self.d.given())
        self.values = (solution.values.samples[sample] if solution.values.samples else {}) | solution.values.totals
        self.by_name = {s.name: s for s in self.d.steps}
        self.shown: set[sp.Symbol] = set()

    def line(self, step: Step, note: str | None = None, symbolic_only: bool = False) -> Line:
        self.shown.add(step.name)
        rhs = self.p.chain(step.name, step.expr, None if symbolic_only else self.values,
                           None if symbolic_only else self.values[step.name])
        return Line(self.p.name(step.name), rhs, note if note is not None else step.note)

    def definition(self, step: Step) -> Line | None:
        if step.definition is None:
            return None
        sym, expr = step.definition
        return Line(self.p.name(sym), [self.p.symbolic(expr)])

    def rule(self, sym: sp.Symbol) -> Line:
        """A step's rule in symbols only (the chain-rule product)."""
        step = self.by_name[sym]
        return Line(self.p.name(sym), [self.p.symbolic(step.expr)])

    def step(self, plain_or_sym) -> Step:
        sym = plain_or_sym if isinstance(plain_or_sym, sp.Symbol) else self.m.names.by_plain[plain_or_sym]
        return self.by_name[sym]


def _steps(d, kind: str, layer: int | None = None) -> list[Step]:
    return [s for s in d.sample_steps if s.kind == kind and (layer is None or s.layer == layer)]


def sample_sections(solution: Solution, sample: int) -> list[Section]:
    """Forward pass, loss and backpropagation of one sample, in the lecture's order."""
    w = StepWriter(solution, sample)
    d, m = w.d, w.m
    L = len(m.shape.layers) - 1
    sections: list[Section] = []

    forward = Section("Forward pass")
    for l in range(1, L + 1):
        kind = "output" if l == L else "hidden"
        lines = [w.line(s) for s in _steps(d, "forward", l)]
        forward.blocks.append(Block(f"Layer {l} ({kind} layer, {ACTIVATION_TEXT[m.shape.activations[l - 1]]}): "
                                    "net is the weighted sum plus bias, out the activation of net.", lines))
    sections.append(forward)

    loss = Section("Loss")
    loss.blocks.append(Block(f"The loss is {LOSS_TEXT[m.shape.loss]}, one term per output neuron.",
                             [w.line(s) for s in _steps(d, "loss")]))
    sections.append(loss)

    # Output layer: the first weight in full, then the factors of every output, then the rest.
    out_sec = Section("Backward pass: output layer")
    grads = [s for s in _steps(d, "gradient", L) if s.neuron is not None and _is_weight(m, s, L)]
    first = grads[0]
    out_sec.blocks.append(Block("By the chain rule, the gradient of the loss with respect to an output "
                                "weight is a product of local partial derivatives:", [w.rule(first.name)]))
    factor_lines: list[Line] = []
    for s in _steps(d, "loss_derivative", L):
        factor_lines += [w.definition(s), w.line(s)]
    previous = None
    for s in _steps(d, "activation_derivative", L):
        # Each out's definition once (softmax differentiates one out by every net in a row).
        if s.definition != previous:
            factor_lines.append(w.definition(s))
        factor_lines.append(w.line(s))
        previous = s.definition
    out_sec.blocks.append(Block("Each factor, from the local expression it differentiates:",
                                [x for x in factor_lines if x is not None]))
    deltas = _steps(d, "delta", L)
    coupled = not m.activation[L].elementwise
    if coupled:
        out_sec.blocks.append(Block("Softmax couples the outputs: every out depends on every net, so the "
                                    "error signal of a net sums over all outputs (the Jacobian):",
                                    [w.line(s, note="") for s in deltas]))
    local = w.by_name[first.expr.args[-1]] if isinstance(first.expr, sp.Mul) else None
    lines = []
    if local is not None and local.kind == "local":
        lines += [w.definition(local), w.line(local)]
    lines.append(w.line(first))
    out_sec.blocks.append(Block(None, lines))
    out_sec.blocks.append(Block("The remaining output weights in the same way:",
                                [w.line(s) for s in grads[1:]]))
    if not coupled:
        out_sec.blocks.append(Block("The product of the first two factors is the error signal of each "
                                    "output neuron, reused for the layers below:", [w.line(s) for s in deltas]))
    sections.append(out_sec)

    for l in range(L - 1, 0, -1):
        sec = Section(f"Backward pass: hidden layer {l}" if L > 2 else "Backward pass: hidden layer")
        hidden_grads = [s for s in _steps(d, "gradient", l) if _is_weight(m, s, l)]
        first = hidden_grads[0]
        sec.blocks.append(Block("A hidden weight reaches the loss through every neuron of the layer above; "
                                "the chain rule sums over all these paths:", [w.rule(first.name)]))
        for j in range(m.shape.layers[l]):
            lines = []
            hidden = next(s for s in _steps(d, "hidden", l) if s.neuron == j)
            lines.append(w.line(hidden, symbolic_only=True))
            for s in d.sample_steps:
                if s.kind in ("local", "path") and s.name in _parts_of(w, hidden):
                    lines.append(w.line(s))
            lines.append(w.line(hidden))
            act = next(s for s in _steps(d, "activation_derivative", l) if s.neuron == j)
            lines += [w.definition(act), w.line(act)]
            text = (f"Neuron {j + 1} of the layer: every path to the loss, then its activation's derivative."
                    if j else "For the first neuron, every path to the loss, then its activation's derivative:")
            sec.blocks.append(Block(text, [x for x in lines if x is not None]))
        local = w.by_name[first.expr.args[-1]]
        sec.blocks.append(Block("The local derivative of net with respect to the weight, and the product:",
                                [w.definition(local), w.line(local), w.line(first)]))
        sec.blocks.append(Block("The remaining weights of this layer in the same way:",
                                [w.line(s) for s in hidden_grads[1:]]))
        sec.blocks.append(Block("The error signal of each neuron of this layer:",
                                [w.line(s) for s in _steps(d, "delta", l)]))
        sections.append(sec)

    bias = Section("Biases")
    lines = [w.line(s) for s in d.sample_steps if s.kind == "gradient" and not _is_weight(m, s, s.layer)]
    bias.blocks.append(Block("A bias enters net with the factor 1, so its gradient is the error signal of "
                             "its neuron (summed over the neurons that share it).", lines))
    sections.append(bias)
    return sections


def _parts_of(w: StepWriter, hidden: Step) -> set:
    """The path steps of a hidden neuron's sum and their local factors."""
    out = set()
    for term in hidden.expr.args if isinstance(hidden.expr, sp.Add) else [hidden.expr]:
        for sym in term.free_symbols if not isinstance(term, sp.Symbol) else [term]:
            step = w.by_name.get(sym)
            if step is not None and step.kind == "path":
                out.add(sym)
                out |= {f for f in step.expr.free_symbols if w.by_name.get(f) and w.by_name[f].kind == "local"}
            elif step is not None and step.kind == "local":
                out.add(sym)
    return out


def _is_weight(m, step: Step, l: int) -> bool:
    """Whether a gradient step is with respect to a weight (not a bias) of layer l."""
    return m.names.of[step.name].den in {m.names.of[x] for row in m.weights[l - 1] for x in row}


def total_sections(solution: Solution) -> list[Section]:
    """Totals over samples (several samples) and the gradient-descent update."""
    w = StepWriter(solution, 0)
    d = w.d
    sections = []
    totals = [s for s in d.total_steps if s.kind == "total"]
    if totals:
        how = "mean" if solution.spec.reduction == "mean" else "sum"
        sections.append(Section("All samples together", [Block(
            f"The loss and every gradient are the {how} over the samples:", [w.line(s) for s in totals])]))
    updates = [s for s in d.total_steps if s.kind == "update"]
    text = (f"Gradient descent with learning rate η = {w.p.given_number(solution.spec.learning_rate)} "
            "moves every weight against its gradient"
            + ("" if solution.spec.update_biases else "; the biases stay fixed, as in the lecture") + ":")
    sections.append(Section("Gradient-descent update", [Block(text, [w.line(s) for s in updates])]))
    return sections


def summary_rows(solution: Solution) -> list[dict]:
    w = StepWriter(solution, 0)
    rows = []
    for p in w.m.parameters():
        t = solution.values.totals
        rows.append({"name": w.p.name(p), "value": w.p.value_of(p, t[p]),
                     "gradient": w.p.number(t[w.d.gradient[p]]),
                     "updated": w.p.number(t[w.d.updated[p]]) if p in w.d.updated else w.p.value_of(p, t[p])})
    return rows
