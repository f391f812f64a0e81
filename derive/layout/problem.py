"""The problem as a student meets it: the network diagram, the given data, and the worksheet's tasks.

Worksheets, solutions, exams and snippets state the problem the same way; exams ask the
worksheet's questions (`worksheet_quantities`).
"""
from __future__ import annotations

import sympy as sp

from ..printing.latex import Printer
from ..printing.names import name_latex
from ..solution import Solution

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
                label = f"{p.name(sym)} = {p.given_number(spec.weights[l - 1][j][k])}" if labelled else ""
                straight = layers[l] == layers[l - 1] and j == k
                edges.append({"src": f"n{l - 1}x{k}", "dst": f"n{l}x{j}", "label": label,
                              "pos": "0.5" if straight or layers[l - 1] == 1 else f"{0.2 + 0.1 * j:.2f}"})
        b = m.biases[l - 1]
        bottom = ((layers[l] - 1) / 2 - layers[l]) * dy
        if isinstance(b, sp.Symbol):
            biases.append({"id": f"b{l}", "x": f"{(l - 0.5) * dx:.2f}", "y": f"{bottom:.2f}",
                           "label": f"{p.name(b)} = {p.given_number(spec.biases[l - 1])}",
                           "targets": [f"n{l}x{j}" for j in range(layers[l])]})
        else:
            for j, bj in enumerate(b):
                node = next(n for n in nodes if n["id"] == f"n{l}x{j}")
                node["bias"] = f"{p.name(bj)} = {p.given_number(spec.biases[l - 1][j])}"
    return {"nodes": nodes, "edges": edges, "biases": biases, "labelled": labelled,
            "shared_bias_nodes": all(isinstance(b, sp.Symbol) for b in m.biases)}


def given(solution: Solution) -> dict:
    """The data of the problem: inputs, targets, parameters, learning rate, as display rows."""
    spec = solution.spec
    m = solution.derivation.model
    p = Printer(m.names.of, spec.decimals)
    samples = []
    for s, (x, t) in enumerate(zip(spec.inputs, spec.targets)):
        samples.append({"inputs": ", ".join(f"{p.name(sym)} = {p.given_number(v)}" for sym, v in zip(m.inputs, x)),
                        "targets": ", ".join(f"{p.name(sym)} = {p.given_number(v)}" for sym, v in zip(m.targets, t)),
                        "number": s + 1})
    weights = []
    for l, matrix in enumerate(m.weights):
        weights.append(", ".join(f"{p.name(sym)} = {p.given_number(spec.weights[l][j][k])}"
                                 for j, row in enumerate(matrix) for k, sym in enumerate(row)))
    biases = []
    for l, b in enumerate(m.biases):
        if isinstance(b, sp.Symbol):
            biases.append(f"{p.name(b)} = {p.given_number(spec.biases[l])}")
        else:
            biases.append(", ".join(f"{p.name(x)} = {p.given_number(v)}" for x, v in zip(b, spec.biases[l])))
    return {
        "samples": samples, "weights": weights, "biases": biases,
        "eta": f"{p.name(m.eta)} = {p.given_number(spec.learning_rate)}",
        "activation": activation_text(spec.activations),
        "activation_per_layer": [ACTIVATION_TEXT[a] for a in spec.activations],
        "loss_name": LOSS_TEXT[spec.loss],
        "loss_rule": f"{p.name(m.loss_terms[0])} = {p.symbolic(m.term_expr(0))}",
        "total_rule": f"{p.name(m.loss_total)} = {p.symbolic(m.total_expr())}",
        "update_rule": _update_rule(solution, p),
        "several": len(spec.inputs) > 1,
        "reduction": spec.reduction,
    }


def activation_text(activations) -> str:
    """The activations in words, each once: "sigmoid", or "tanh in the hidden layer, linear
    (identity) in the output layer", or layer by layer when the hidden layers differ."""
    names = [ACTIVATION_TEXT[a] for a in activations]
    if len(set(names)) == 1:
        return names[0]
    hidden, output = names[:-1], names[-1]
    if len(set(hidden)) == 1:
        where = "the hidden layer" if len(hidden) == 1 else "the hidden layers"
        return f"{hidden[0]} in {where}, {output} in the output layer"
    return "layer by layer " + ", ".join(names[:-1]) + f", and {output} in the output layer"


def _update_rule(solution: Solution, p: Printer) -> str:
    d = solution.derivation
    first = next(s for s in d.total_steps if s.kind == "update")
    return f"{p.name(first.name)} = {p.symbolic(first.expr)}"


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
