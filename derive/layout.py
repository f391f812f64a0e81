"""Template contexts: which steps a worksheet and a worked solution show, in the lecture's order.

Everything here is arrangement; every LaTeX string about mathematics comes from `printing`.
The contexts are plain dicts and lists of records that templates loop over.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from .derivation import Step
from .printing import Printer, latex_width, name_latex
from .solve import Solution

ACTIVATION_TEXT = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU", "linear": "linear (identity)",
                   "softmax": "softmax"}
LOSS_TEXT = {"half_sse": "half the sum of squared errors", "mse": "mean squared error",
             "cross_entropy": "cross-entropy", "binary_cross_entropy": "binary cross-entropy"}
EDGE_LABELS_UP_TO = 12   # weights (and at most 3 neurons a layer); larger diagrams list them only


@dataclass
class Line:
    """One row of an aligned display: lhs = rhs[0] = rhs[1] = ...; `note` is plain text."""

    lhs: str
    rhs: list[str]
    note: str | None = None
    continued: bool = False   # the previous line's right-hand side goes on here


@dataclass
class Block:
    """A paragraph of plain text (optional) followed by an aligned display (optional).

    A chain of equalities too wide for the page goes on in further rows (= ... under =).
    """

    text: str | None = None
    lines: list[Line] = field(default_factory=list)

    def __post_init__(self):
        self.lines = [row for line in self.lines for row in _wrap(line)]


PAGE_WIDTH = 95   # latex_width units of one display row on the page


def _wrap(line: Line) -> list[Line]:
    if line.continued or len(line.rhs) < 2 or latex_width(line.lhs + " = " + " = ".join(line.rhs)) <= PAGE_WIDTH:
        return [line]
    rows: list[Line] = []
    current: list[str] = []
    used = latex_width(line.lhs) + 2
    for part in line.rhs:
        width = latex_width(part) + 2
        if current and used + width > PAGE_WIDTH:
            rows.append(Line(line.lhs if not rows else "", current))
            current, used = [], latex_width(line.lhs) + 2
        current.append(part)
        used += width
    rows.append(Line(line.lhs if not rows else "", current, line.note))
    return rows


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)


class _Writer:
    """Turns step records into display lines with the printer and one sample's values."""

    def __init__(self, solution: Solution, sample: int):
        self.solution = solution
        self.d = solution.derivation
        self.m = self.d.model
        self.p = Printer(self.m.names.of, solution.spec.decimals)
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
    w = _Writer(solution, sample)
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


def _parts_of(w: _Writer, hidden: Step) -> set:
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
    w = _Writer(solution, 0)
    d = w.d
    sections = []
    totals = [s for s in d.total_steps if s.kind == "total"]
    if totals:
        how = "mean" if solution.spec.reduction == "mean" else "sum"
        sections.append(Section("All samples together", [Block(
            f"The loss and every gradient are the {how} over the samples:", [w.line(s) for s in totals])]))
    updates = [s for s in d.total_steps if s.kind == "update"]
    text = (f"Gradient descent with learning rate eta = {w.p.number(solution.spec.learning_rate)} "
            "moves every weight against its gradient"
            + ("" if solution.spec.update_biases else "; the biases stay fixed, as in the lecture") + ":")
    sections.append(Section("Gradient-descent update", [Block(text, [w.line(s) for s in updates])]))
    return sections


def summary_rows(solution: Solution) -> list[dict]:
    w = _Writer(solution, 0)
    rows = []
    for p in w.m.parameters():
        t = solution.values.totals
        rows.append({"name": w.p.name(p), "value": w.p.number(t[p]),
                     "gradient": w.p.number(t[w.d.gradient[p]]),
                     "updated": w.p.number(t[w.d.updated[p]]) if p in w.d.updated else w.p.number(t[p])})
    return rows


def diagram(solution: Solution) -> dict:
    """Positions and labels of the TikZ network diagram."""
    spec = solution.spec
    m = solution.derivation.model
    p = Printer(m.names.of, spec.decimals)
    layers = spec.layers
    tallest = max(layers)
    dy = 2.2 if tallest <= 3 else (1.6 if tallest <= 4 else max(0.55, 6.4 / tallest))
    dx = 4.4 if len(layers) <= 3 else 3.2
    nodes, edges, biases = [], [], []
    for l, n in enumerate(layers):
        for j in range(n):
            nodes.append({"id": f"n{l}x{j}", "x": f"{l * dx:.2f}", "y": f"{((n - 1) / 2 - j) * dy:.2f}",
                          "label": name_latex(m.neuron_names[l][j]),
                          "kind": "input" if l == 0 else ("output" if l == len(layers) - 1 else "hidden"),
                          "bias": ""})
    labelled = sum(a * b for a, b in zip(layers, layers[1:])) <= EDGE_LABELS_UP_TO and tallest <= 3
    for l in range(1, len(layers)):
        for j in range(layers[l]):
            for k in range(layers[l - 1]):
                sym = m.weights[l - 1][j][k]
                label = f"{p.name(sym)} = {p.number(spec.weights[l - 1][j][k])}" if labelled else ""
                straight = layers[l] == layers[l - 1] and j == k
                edges.append({"src": f"n{l - 1}x{k}", "dst": f"n{l}x{j}", "label": label,
                              "pos": "0.5" if straight or layers[l - 1] == 1 else f"{0.2 + 0.1 * j:.2f}"})
        b = m.biases[l - 1]
        bottom = ((layers[l] - 1) / 2 - layers[l]) * dy
        if isinstance(b, sp.Symbol):
            biases.append({"id": f"b{l}", "x": f"{(l - 0.5) * dx:.2f}", "y": f"{bottom:.2f}",
                           "label": f"{p.name(b)} = {p.number(spec.biases[l - 1])}",
                           "targets": [f"n{l}x{j}" for j in range(layers[l])]})
        else:
            for j, bj in enumerate(b):
                node = next(n for n in nodes if n["id"] == f"n{l}x{j}")
                node["bias"] = f"{p.name(bj)} = {p.number(spec.biases[l - 1][j])}"
    return {"nodes": nodes, "edges": edges, "biases": biases, "labelled": labelled,
            "shared_bias_nodes": all(isinstance(b, sp.Symbol) for b in m.biases)}


def given(solution: Solution) -> dict:
    """The data of the problem: inputs, targets, parameters, learning rate, as display rows."""
    spec = solution.spec
    m = solution.derivation.model
    p = Printer(m.names.of, spec.decimals)
    samples = []
    for s, (x, t) in enumerate(zip(spec.inputs, spec.targets)):
        samples.append({"inputs": ", ".join(f"{p.name(sym)} = {p.number(v)}" for sym, v in zip(m.inputs, x)),
                        "targets": ", ".join(f"{p.name(sym)} = {p.number(v)}" for sym, v in zip(m.targets, t)),
                        "number": s + 1})
    weights = []
    for l, matrix in enumerate(m.weights):
        weights.append(", ".join(f"{p.name(sym)} = {p.number(spec.weights[l][j][k])}"
                                 for j, row in enumerate(matrix) for k, sym in enumerate(row)))
    biases = []
    for l, b in enumerate(m.biases):
        if isinstance(b, sp.Symbol):
            biases.append(f"{p.name(b)} = {p.number(spec.biases[l])}")
        else:
            biases.append(", ".join(f"{p.name(x)} = {p.number(v)}" for x, v in zip(b, spec.biases[l])))
    activations = sorted(set(spec.activations), key=spec.activations.index)
    return {
        "samples": samples, "weights": weights, "biases": biases,
        "eta": f"{p.name(m.eta)} = {p.number(spec.learning_rate)}",
        "activation": ", ".join(ACTIVATION_TEXT[a] for a in activations) if len(activations) > 1 or len(
            spec.activations) == 1 else ACTIVATION_TEXT[activations[0]],
        "activation_per_layer": [ACTIVATION_TEXT[a] for a in spec.activations],
        "loss_name": LOSS_TEXT[spec.loss],
        "loss_rule": f"{p.name(m.loss_terms[0])} = {p.symbolic(m.term_expr(0))}",
        "total_rule": f"{p.name(m.loss_total)} = {p.symbolic(m.total_expr())}",
        "update_rule": _update_rule(solution, p),
        "several": len(spec.inputs) > 1,
        "reduction": spec.reduction,
    }


def _update_rule(solution: Solution, p: Printer) -> str:
    d = solution.derivation
    first = next(s for s in d.total_steps if s.kind == "update")
    return f"{p.name(first.name)} = {p.symbolic(first.expr)}"


def history(solution: Solution, points: int = 250) -> dict | None:
    """The loss curve (pgfplots coordinates, thinned) and the final parameters."""
    h = solution.values.history
    if h is None:
        return None
    n = len(h) - 1
    stride = max(1, n // points)
    picks = sorted(set(range(0, n + 1, stride)) | {n})
    coords = " ".join(f"({i},{h[i]:.6e})" for i in picks)
    m = solution.derivation.model
    p = Printer(m.names.of, solution.spec.decimals)
    final = [{"name": p.name(par), "value": p.number(solution.values.final[par])} for par in m.parameters()]
    return {"coords": coords, "iterations": n, "first": p.number(h[0]), "last": p.number(h[-1]),
            "final": final, "positive": all(v > 0 for v in h)}


def regularization_context(solution: Solution) -> dict | None:
    from .regularization_layout import regularization_context as build
    return build(solution)


def solutions_context(solution: Solution) -> dict:
    spec = solution.spec
    samples = []
    for s in range(len(spec.inputs)):
        samples.append({"number": s + 1, "sections": sample_sections(solution, s)})
    return {
        "title": spec.title, "decimals": spec.decimals, "diagram": diagram(solution),
        "given": given(solution), "samples": samples, "several": len(spec.inputs) > 1,
        "totals": total_sections(solution), "summary": summary_rows(solution),
        "history": history(solution),
        "plots": solution.values.history is not None or solution.regularization is not None,
        "regularization": regularization_context(solution),
    }


def worksheet_tasks(d) -> list[tuple[str, list[sp.Symbol], str]]:
    """The worksheet's tasks as (text, the quantities asked, space to answer); exams ask the same."""
    m = d.model
    L = m.shape.depth
    several = m.shape.n_samples > 1
    nodes = [s for l in range(1, L + 1) for pair in zip(m.net[l], m.out[l]) for s in pair]
    tasks = [
        ("Forward pass" + (" (for each sample)" if several else "")
         + ": compute net and out of every neuron,", nodes, "5cm"),
        ("Loss: compute the loss term of each output neuron and the total loss,",
         m.loss_terms + [m.loss_total] + ([d.loss] if several else []), "3cm"),
    ]
    out_weight = m.weights[L - 1][0][0]
    tasks.append(("Backpropagation, output layer: write the chain rule for the output weight "
                  "and compute the gradient,", [d.gradient[out_weight]], "5cm"))
    if L > 1:
        hidden_weight = m.weights[0][0][0]
        tasks.append(("Backpropagation, hidden layer: write the chain rule for the hidden weight, "
                      "summing over every path to the loss, and compute the gradient,",
                      [d.gradient[hidden_weight]], "6cm"))
        asked = [out_weight, hidden_weight]
    else:
        asked = [out_weight]
    tasks.append(("Gradient descent: compute the updated weights after one step,",
                  [d.updated[w] for w in asked], "3cm"))
    return tasks


def worksheet_quantities(d) -> list[sp.Symbol]:
    """Every quantity the worksheet asks for, in its order."""
    return [sym for _, quantities, _ in worksheet_tasks(d) for sym in quantities]


def worksheet_context(solution: Solution) -> dict:
    """The handout: the problem and numbered tasks, with space to answer and no answers."""
    spec = solution.spec
    p = Printer(solution.derivation.model.names.of, spec.decimals)
    tasks = [{"text": text, "quantities": [p.name(s) for s in quantities], "space": space}
             for text, quantities, space in worksheet_tasks(solution.derivation)]
    return {"title": spec.title, "decimals": spec.decimals, "diagram": diagram(solution),
            "given": given(solution), "tasks": tasks, "plots": False}
