"""The problem as a student meets it: the network diagram, the given data, and the worksheet's tasks.

Worksheets, solutions, exams and snippets state the problem the same way; exams ask the
worksheet's questions (`worksheet_quantities`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
import re

import sympy as sp

from ..printing.latex import Printer
from ..printing.names import name_latex
from ..solution import Solution
from .blocks import Math

ACTIVATION_TEXT = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU", "linear": "linear (identity)",
                   "softmax": "softmax"}
LOSS_TEXT = {"half_sse": "half the sum of squared errors", "mse": "mean squared error",
             "cross_entropy": "cross-entropy", "binary_cross_entropy": "binary cross-entropy"}
EDGE_LABELS_UP_TO = 12   # weights (and at most 3 neurons a layer); larger diagrams list them only


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
        inputs = [f"{p.name(sym)} = {p.number(v)}" for sym, v in zip(m.inputs, x)]
        targets = [f"{p.name(sym)} = {p.number(v)}" for sym, v in zip(m.targets, t)]
        samples.append({"inputs": ", ".join(inputs), "targets": ", ".join(targets),
                        "input_list": inputs, "target_list": targets,
                        "number": s + 1})
    weight_rows = []
    for l, matrix in enumerate(m.weights):
        weight_rows.append({"layer": layer_name(len(m.weights), l + 1), "entries": [
            f"{p.name(sym)} = {p.number(spec.weights[l][j][k])}" for j, row in enumerate(matrix)
            for k, sym in enumerate(row)]})
    rules = []
    for l in range(1, len(m.weights) + 1):
        act = spec.activations[l - 1]
        if act == "linear":
            rules.append({"layer": layer_name(len(m.weights), l), "name": ACTIVATION_TEXT[act],
                          "rule": f"{p.name(m.out[l][0])} = {p.name(m.net[l][0])}"})
        else:
            rules.append({"layer": layer_name(len(m.weights), l), "name": ACTIVATION_TEXT[act],
                          "rule": f"{p.name(m.out[l][0])} = {p.symbolic(m.out_expr(l, 0))}"})
    bias_list = []
    for l, b in enumerate(m.biases):
        if isinstance(b, sp.Symbol):
            bias_list.append(f"{p.name(b)} = {p.number(spec.biases[l])}")
        else:
            bias_list.extend(f"{p.name(x)} = {p.number(v)}" for x, v in zip(b, spec.biases[l]))
    # One string per layer, as exams' Moodle questions print them; the templates use the lists,
    # where every "name = value" is its own formula and a long list wraps between them.
    weights = [", ".join(row["entries"]) for row in weight_rows]
    biases = []
    for l, b in enumerate(m.biases):
        if isinstance(b, sp.Symbol):
            biases.append(f"{p.name(b)} = {p.number(spec.biases[l])}")
        else:
            biases.append(", ".join(f"{p.name(x)} = {p.number(v)}" for x, v in zip(b, spec.biases[l])))
    activations = sorted(set(spec.activations), key=spec.activations.index)
    return {
        "samples": samples, "weights": weights, "biases": biases, "weight_rows": weight_rows,
        "bias_list": bias_list,
        "eta": f"{p.name(m.eta)} = {p.number(spec.learning_rate)}",
        "activation": ", ".join(ACTIVATION_TEXT[a] for a in activations) if len(activations) > 1 or len(
            spec.activations) == 1 else ACTIVATION_TEXT[activations[0]],
        "activation_per_layer": [ACTIVATION_TEXT[a] for a in spec.activations],
        "activation_rules": rules,
        "loss_name": LOSS_TEXT[spec.loss],
        "loss_rule": f"{p.name(m.loss_terms[0])} = {p.symbolic(m.term_expr(0))}",
        "total_rule": f"{p.name(m.loss_total)} = {p.symbolic(m.total_expr())}",
        "update_rule": _update_rule(solution, p),
        "several": len(spec.inputs) > 1,
        "reduction": spec.reduction,
    }


def _update_rule(solution: Solution, p: Printer) -> str:
    d = solution.derivation
    if solution.optimizer is not None:   # the optimiser's rule for the first trained parameter
        sym = solution.optimizer.symbolic
        config = solution.spec.optimizer
        rule = []
        for step in sym.steps:
            rule.append(f"{p.name(step.name)} = {p.symbolic(step.expr)}")
            if step.kind == "update":
                break
        rule += [f"{p.name(s)} = {p.number(config.constant(c))}" for c, s in sym.constants.items()]
        return r",\allowbreak\ ".join(rule)   # a line may break between the formulas
    first = next(s for s in d.total_steps if s.kind == "update")
    return f"{p.name(first.name)} = {p.symbolic(first.expr)}"


LINE_OF_WORKING = 0.8   # cm of answer space for each line a task's working takes


@dataclass
class Task:
    """One worksheet task: its wording (the solution's heading), what it asks for, how many lines
    of working an answer takes (the space to answer grows with it)."""

    text: str
    quantities: list[sp.Symbol]
    lines: int
    rows: list[list[sp.Symbol]] = field(default_factory=list)   # the quantities as a displayed list


def layer_name(depth: int, l: int) -> str:
    """The solution's name of layer l (1 = first after the inputs) of a network `depth` layers deep."""
    if l == depth:
        return "output layer"
    return "hidden layer" if depth == 2 else f"hidden layer {l}"


def worksheet_tasks(d, optimizer_lines: int = 0) -> list[Task]:
    """The worksheet's tasks, worded as the solution's headings; exams ask the same quantities.
    `optimizer_lines`: the lines of an optimiser's step per parameter (0: plain gradient descent)."""
    m = d.model
    L = m.shape.depth
    n = m.shape.n_samples
    several = n > 1
    nodes = [s for l in range(1, L + 1) for pair in zip(m.net[l], m.out[l]) for s in pair]
    layers = [[s for pair in zip(m.net[l], m.out[l]) for s in pair] for l in range(1, L + 1)]
    tasks = [
        Task("Forward pass" + (" (for each sample)" if several else "")
             + ": compute net and out of every neuron, layer by layer:", nodes, len(nodes) * n, layers),
        Task("Loss: compute the loss term of each output neuron and the total loss"
             + (" (for each sample), then the loss over the samples" if several else "") + ":",
             m.loss_terms + [m.loss_total] + ([d.loss] if several else []),
             (len(m.loss_terms) + 1) * n + (1 if several else 0)),
    ]
    out_weight = m.weights[L - 1][0][0]
    coupled = 0 if m.activation[L].elementwise else 2 * m.shape.layers[L]
    tasks.append(Task(f"Backward pass, {layer_name(L, L)}: the gradient of {{{out_weight}}} by the chain rule "
                      "(each factor from its local expression, then the product)" + _each(several) + ":",
                      [d.gradient[out_weight]], (5 + coupled) * n))
    asked = [out_weight]
    if L > 1:
        hidden_weight = m.weights[0][0][0]
        paths = 3 * m.shape.layers[2]
        tasks.append(Task(f"Backward pass, {layer_name(L, 1)}: the gradient of {{{hidden_weight}}}, summing "
                          "over every path to the loss" + _each(several) + ":", [d.gradient[hidden_weight]],
                          (paths + 6 + 3 * max(0, L - 2)) * n))
        asked.append(hidden_weight)
    if not optimizer_lines:
        tasks.append(Task("The update: each weight after one step of gradient descent:",
                          [d.updated[w] for w in asked], len(asked)))
    else:   # the optimiser's first step: its state, (Adam) the bias correction, then the update
        tasks.append(Task("The update: each weight after the first step of the optimiser given above, "
                          "with its state before the step at 0:", [d.updated[w] for w in asked],
                          optimizer_lines * len(asked)))
    return tasks


def _each(several: bool) -> str:
    return " for each sample, then their total" if several else ""


QUANTITIES_PER_ROW = 6


def worksheet_quantities(d) -> list[sp.Symbol]:
    """Every quantity the worksheet asks for, in its order."""
    return [sym for task in worksheet_tasks(d) for sym in task.quantities]


def worksheet_context(solution: Solution) -> dict:
    """The handout: the problem and numbered tasks, with space to answer and no answers."""
    spec = solution.spec
    p = Printer(solution.derivation.model.names.of, spec.decimals)
    m = solution.derivation.model
    tasks = []
    lines = 0
    if solution.optimizer is not None:
        lines = len(solution.optimizer.symbolic.steps) // len(solution.optimizer.symbolic.trained)
    for task in worksheet_tasks(solution.derivation, lines):
        rows = [row[i:i + QUANTITIES_PER_ROW] for row in (task.rows or [task.quantities])
                for i in range(0, len(row), QUANTITIES_PER_ROW)]
        text: list = []
        for i, piece in enumerate(re.split(r"\{([^{}]+)\}", task.text)):
            text.append(Math(p.name(m.names.by_plain[piece])) if i % 2 else piece)
        tasks.append({"text": text, "rows": [", ".join(p.name(s) for s in row) for row in rows],
                      "space": f"{LINE_OF_WORKING * task.lines:.1f}cm", "lines": task.lines})
    return {"title": spec.title, "decimals": spec.decimals, "diagram": diagram(solution),
            "given": given(solution), "tasks": tasks, "plots": False}
