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
from .placement import Box, Segment, box_at, crosses, free, label_size, place

ACTIVATION_TEXT = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU", "linear": "linear",
                   "softmax": "softmax"}
LOSS_TEXT = {"half_sse": "half the sum of squared errors", "mse": "mean squared error",
             "cross_entropy": "cross-entropy", "binary_cross_entropy": "binary cross-entropy"}
EDGE_LABELS_UP_TO = 12   # weights (and at most 3 neurons a layer) worth trying to label; more are listed only
NODE_RADIUS = 0.45       # cm: the neurons' circles (minimum size 9mm)
MAX_SPAN = 10.0          # cm from the first layer to the last: fits a plain article's 345 pt
# Label sizes, measured with pdflatex: \scriptsize math at most 4.8 pt per latex_width unit and
# 11.3 pt high (w^{(3)}_{12}); \footnotesize 4.8 pt per unit and 12.7 pt high.
WEIGHT_FONT = (5.0, 11.5, 1.0)   # pt per unit, height, inner sep (pt)
BIAS_FONT = (5.2, 12.7, 2.4)     # ... with the bias box's rounded frame
CLEARANCE = 0.12         # cm between a weight label and any edge but its own
ALONG = (0.5, 0.35, 0.65, 0.25, 0.75, 0.42, 0.58, 0.3, 0.7, 0.2, 0.8)   # label positions on an edge


def diagram(solution: Solution) -> dict:
    """Positions and labels of the TikZ network diagram, every label placed where no other label,
    neuron or edge touches it (the boxes and edges come back in `boxes` and `segments`)."""
    layers = solution.spec.layers
    tallest = max(layers)
    base_dy = 2.2 if tallest <= 3 else (1.6 if tallest <= 4 else max(0.55, 6.4 / tallest))
    base_dx = min(4.4 if len(layers) <= 3 else 3.2, MAX_SPAN / (len(layers) - 1))
    wanted = sum(a * b for a, b in zip(layers, layers[1:])) <= EDGE_LABELS_UP_TO and tallest <= 3
    # Labelled if possible; else without weight labels, then without bias labels (the list below the
    # diagram gives them); each at a few spacings, the tightest first.
    phases = ([(True, True)] if wanted else []) + [(False, True), (False, False)]
    widths = sorted({base_dx, min(base_dx * 1.2, MAX_SPAN / (len(layers) - 1))})
    for weights, biases in phases:
        for dy in (base_dy, base_dy * 1.25, base_dy * 1.5):
            for dx in widths:
                layout = _layout(solution, dx, dy, weights, biases)
                if layout is not None:
                    return layout
    raise AssertionError("a diagram without labels always has room")


def _layout(solution: Solution, dx: float, dy: float, weights: bool, biases: bool) -> dict | None:
    """The diagram at spacing dx, dy with or without weight and bias labels; None when a label
    finds no free place."""
    spec = solution.spec
    m = solution.derivation.model
    p = Printer(m.names.of, spec.decimals)
    layers = spec.layers
    r = NODE_RADIUS
    position = {(l, j): (l * dx, ((n - 1) / 2 - j) * dy) for l, n in enumerate(layers) for j in range(n)}
    nodes = [{"id": f"n{l}x{j}", "x": f"{x:.2f}", "y": f"{y:.2f}", "label": name_latex(m.neuron_names[l][j]),
              "kind": "input" if l == 0 else ("output" if l == len(layers) - 1 else "hidden")}
             for (l, j), (x, y) in position.items()]
    obstacles = [Box(x - r - 0.05, y - r - 0.05, x + r + 0.05, y + r + 0.05) for x, y in position.values()]
    segments: list[Segment] = []
    edges = []
    for l in range(1, len(layers)):
        for j in range(layers[l]):
            for k in range(layers[l - 1]):
                (x0, y0), (x1, y1) = position[(l - 1, k)], position[(l, j)]
                length = ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5
                ux, uy = (x1 - x0) / length, (y1 - y0) / length
                owner = f"w{l}x{j}x{k}"
                segments.append(Segment(x0 + r * ux, y0 + r * uy, x1 - r * ux, y1 - r * uy, owner))
                edges.append({"src": f"n{l - 1}x{k}", "dst": f"n{l}x{j}", "owner": owner,
                              "text": f"{p.name(m.weights[l - 1][j][k])} = {p.given_number(spec.weights[l - 1][j][k])}"})
    labels: list[dict] = []
    boxes: list[Box] = []
    shared = []

    def put(box: Box, text: str, style: str, owner: str) -> None:
        boxes.append(box)
        labels.append({"x": f"{(box.x0 + box.x1) / 2:.2f}", "y": f"{(box.y0 + box.y1) / 2:.2f}",
                       "text": text, "style": style, "owner": owner, "box": box.as_tuple()})

    if biases:
        # Shared biases: a box below both layers it joins, with an arrow to each neuron it feeds.
        for l in range(1, len(layers)):
            b = m.biases[l - 1]
            if not isinstance(b, sp.Symbol):
                continue
            text = f"{p.name(b)} = {p.given_number(spec.biases[l - 1])}"
            size = label_size(text, *BIAS_FONT)
            low = min(position[(l - 1, layers[l - 1] - 1)][1], position[(l, layers[l] - 1)][1])
            owner = f"b{l}"
            candidates = [box_at((l - f) * dx, low - depth, size) for depth in (0.9 * dy, 1.2 * dy, 1.5 * dy)
                          for f in (0.5, 0.35, 0.65)]
            placed = None
            for box in candidates:
                cx, cy = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
                arrows = [Segment(cx, cy, *_towards(position[(l, j)], (cx, cy), r), owner) for j in range(layers[l])]
                if (free(box, owner, boxes + obstacles, segments)
                        and not any(crosses(a, o) for a in arrows for o in boxes)):
                    placed = box, arrows
                    break
            if placed is None:
                return None
            box, arrows = placed
            put(box, text, "bias", owner)
            segments.extend(arrows)
            shared.append({"id": owner, "targets": [f"n{l}x{j}" for j in range(layers[l])]})
        # Per-neuron biases: a label beside the neuron, where no edge passes.
        for l in range(1, len(layers)):
            b = m.biases[l - 1]
            if isinstance(b, sp.Symbol):
                continue
            for j, bj in enumerate(b):
                text = f"{p.name(bj)} = {p.given_number(spec.biases[l - 1][j])}"
                w, h = size = label_size(text, *WEIGHT_FONT)
                x, y = position[(l, j)]
                spots = [(x, y - r - h / 2 - 0.12), (x, y + r + h / 2 + 0.12)]
                side = [(x + r + w / 2 + 0.15, y), (x + r + w / 2 + 0.1, y - r), (x + r + w / 2 + 0.1, y + r)]
                spots = spots + side if l == len(layers) - 1 else spots + side[1:]
                box = place([box_at(cx, cy, size) for cx, cy in spots], f"n{l}x{j}", boxes + obstacles, segments)
                if box is None:
                    return None
                put(box, text, "neuronbias", f"n{l}x{j}")
    if weights:
        for e, s in zip(edges, segments):
            size = label_size(e["text"], *WEIGHT_FONT)
            candidates = [box_at(s.x0 + t * (s.x1 - s.x0), s.y0 + t * (s.y1 - s.y0), size) for t in ALONG]
            # Clear of every other edge, not just uncrossed: a label beside a crossing reads as
            # the other edge's (softmax's w6 and w9).
            box = place(candidates, e["owner"], boxes + obstacles, segments, CLEARANCE)
            if box is None:
                return None
            put(box, e["text"], "weight", e["owner"])
    return {"nodes": nodes, "edges": [{"src": e["src"], "dst": e["dst"]} for e in edges],
            "labels": labels, "biases": shared, "labelled": weights, "bias_labels": biases,
            "segments": [(s.x0, s.y0, s.x1, s.y1, s.owner) for s in segments],
            "nodes_boxes": [o.as_tuple() for o in obstacles]}


def _towards(target: tuple[float, float], source: tuple[float, float], r: float) -> tuple[float, float]:
    """The point on the circle of radius r around `target` that faces `source`."""
    (x1, y1), (x0, y0) = target, source
    length = ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5
    return x1 - r * (x1 - x0) / length, y1 - r * (y1 - y0) / length


def given(solution: Solution) -> dict:
    """The data of the problem: inputs, targets, parameters, learning rate, as display rows."""
    spec = solution.spec
    m = solution.derivation.model
    p = Printer(m.names.of, spec.decimals)
    samples = []
    for s, (x, t) in enumerate(zip(spec.inputs, spec.targets)):
        inputs = [f"{p.name(sym)} = {p.given_number(v)}" for sym, v in zip(m.inputs, x)]
        targets = [f"{p.name(sym)} = {p.given_number(v)}" for sym, v in zip(m.targets, t)]
        samples.append({"inputs": ", ".join(inputs), "targets": ", ".join(targets),
                        "input_list": inputs, "target_list": targets,
                        "number": s + 1})
    weight_rows = []
    for l, matrix in enumerate(m.weights):
        weight_rows.append({"layer": the_layer(len(m.weights), l + 1), "entries": [
            f"{p.name(sym)} = {p.given_number(spec.weights[l][j][k])}" for j, row in enumerate(matrix)
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
    biases = []
    for l, b in enumerate(m.biases):
        if isinstance(b, sp.Symbol):
            row = [f"{p.name(b)} = {p.given_number(spec.biases[l])}"]
        else:
            row = [f"{p.name(x)} = {p.given_number(v)}" for x, v in zip(b, spec.biases[l])]
        bias_list.extend(row)
        biases.append(", ".join(row))
    # One string per layer, as exams' Moodle questions print them; the templates use the lists,
    # where every "name = value" is its own formula and a long list wraps between them.
    weights = [", ".join(row["entries"]) for row in weight_rows]
    return {
        "samples": samples, "weights": weights, "biases": biases, "weight_rows": weight_rows,
        "bias_list": bias_list,
        "eta": f"{p.name(m.eta)} = {p.given_number(spec.learning_rate)}",
        "activation": activation_text(spec.activations),
        "activation_per_layer": [ACTIVATION_TEXT[a] for a in spec.activations],
        "activation_rules": rules,
        "loss_name": LOSS_TEXT[spec.loss],
        "loss_rule": f"{p.name(m.loss_terms[0])} = {p.symbolic(m.term_expr(0))}",
        "total_rule": f"{p.name(m.loss_total)} = {p.symbolic(m.total_expr())}",
        "per_output": "for each output" if len(m.loss_terms) > 1 else "for the output",
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


RULE_BREAK = r",\allowbreak\ "   # between the formulas of an optimiser's rule (one TeX formula)


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
        rule += [f"{p.name(s)} = {p.given_number(config.constant(c))}" for c, s in sym.constants.items()]
        return RULE_BREAK.join(rule)   # a line may break between the formulas
    first = next(s for s in d.total_steps if s.kind == "update")
    return f"{p.name(first.name)} = {p.symbolic(first.expr)}"


LINE_OF_WORKING = 0.8   # cm of answer space for each line a task's working takes
MOST_SPACE = 18.0       # cm: a task, its quantities and its space on one page (the text area is 25.3 cm)
QUANTITY_ROW = 0.7      # cm a row of asked quantities takes


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


def the_layer(depth: int, l: int) -> str:
    """The layer's name with its article: "the output layer", "the hidden layer", but "hidden layer 2"."""
    name = layer_name(depth, l)
    return name if name[-1].isdigit() else "the " + name


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
             + (": compute net and out of every neuron, layer by layer:" if m.shape.naming == "lecture" else
                ": compute the weighted sum and the activation of every neuron, layer by layer:"),
             nodes, len(nodes) * n, layers),
        Task(f"Loss: compute the loss term of {'each output neuron' if len(m.loss_terms) > 1 else 'the output neuron'} "
             "and the total loss"
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
    # The update asks for the weights whose gradients the tasks above asked for, not every weight.
    these = "the weight whose gradient you computed" if len(asked) == 1 else "the weights whose gradients you computed"
    if not optimizer_lines:
        tasks.append(Task(f"The update: {these}, after one step of gradient descent:",
                          [d.updated[w] for w in asked], len(asked)))
    else:   # the optimiser's first step: its state, (Adam) the bias correction, then the update
        tasks.append(Task(f"The update: {these}, after the first step of the optimiser given above, "
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
        # A deep network's task could ask for more space than a page holds: TeX would then give the
        # task a page of its own and leave the heading before it alone on the page before.
        space = min(LINE_OF_WORKING * task.lines, MOST_SPACE - QUANTITY_ROW * len(rows))
        tasks.append({"text": text, "rows": [", ".join(p.name(s) for s in row) for row in rows],
                      "space": f"{max(space, 2 * LINE_OF_WORKING):.1f}cm", "lines": task.lines})
    return {"title": spec.title, "decimals": spec.decimals, "diagram": diagram(solution),
            "given": given(solution), "tasks": tasks, "plots": False}
