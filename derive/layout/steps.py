"""The worked steps of a solution, in the lecture's order, numbered so a lecturer can say "step 7".

Forward pass; loss; the first output weight's chain rule with the slides' intermediate lines and its
update right after it, then the other output weights and their updates; then, layer by layer down,
the first hidden weight's chain complete from the sum over paths to its update before the next
neuron; the biases; and a new forward pass whose loss stands beside the old one. With several
samples the updates need the totals, so they follow them.

`StepWriter` turns step records into display lines (rule = numbers substituted = value) with the
printer and one sample's values; the functions below choose which steps appear, and where.
"""
from __future__ import annotations

import sympy as sp

from ..derivation import Step
from ..model.naming import Name
from ..printing.latex import Printer
from ..printing.names import name_latex
from ..printing.width import latex_width
from ..solution import Solution
from .blocks import Block, Line, Math, NumberedStep, Section
from .problem import ACTIVATION_TEXT, LOSS_TEXT, layer_name, the_layer

ONE_ROW = 75  # latex_width of a worked line kept on one row (the page holds about 90)
KINK = 1e-9   # a ReLU pre-activation this close to 0 sits on the kink: the solution says so


class Counter:
    """Step numbers running through a whole document."""

    def __init__(self) -> None:
        self.number = 0

    def next(self) -> int:
        self.number += 1
        return self.number


def unchanged(solution: Solution) -> set:
    """The updated parameters the step left as they were (a gradient of exactly 0: a ReLU that is off
    for every sample): each is the given number, so it prints as given (0.6, not 0.600000000)."""
    t = solution.values.totals
    return {u for p, u in solution.derivation.updated.items() if p in t and u in t and t[u] == t[p]}


class StepWriter:
    """Turns step records into display lines with the printer and one sample's values."""

    def __init__(self, solution: Solution, sample: int):
        self.solution = solution
        self.d = solution.derivation
        self.m = self.d.model
        self.p = Printer(self.m.names.of, solution.spec.decimals, given=set(self.d.given()) | unchanged(solution))
        self.values = (solution.values.samples[sample] if solution.values.samples else {}) | solution.values.totals
        self.by_name = {s.name: s for s in self.d.steps}
        self.shown: set[sp.Symbol] = set()
        self.order: list[sp.Symbol] = []     # the steps shown, in the order they were first shown

    def line(self, step: Step, symbolic_only: bool = False, intermediate: bool = False) -> Line:
        """name = [the derivative rule by rule =] rule = numbers = value."""
        if step.name not in self.shown:
            self.order.append(step.name)
        self.shown.add(step.name)
        rhs = self.p.chain(step.name, step.expr, None if symbolic_only else self.values,
                           None if symbolic_only else self.values[step.name])
        if intermediate and step.intermediate is not None:
            rhs = [self.p.symbolic(step.intermediate)] + rhs
        return Line(self.p.name(step.name), rhs)

    def worked(self, step: Step) -> list[Line]:
        """The step with the derivative rule by rule first (the slides' intermediate line); a long
        one keeps the rule-by-rule form on a row of its own."""
        line = self.line(step, intermediate=True)
        if step.intermediate is None or latex_width(line.lhs + " = ".join(line.rhs)) <= ONE_ROW:
            return [line]
        return [Line(line.lhs, line.rhs[:1]), Line("", line.rhs[1:])]

    def definition(self, step: Step) -> Line | None:
        if step.definition is None:
            return None
        sym, expr = step.definition
        return Line(self.p.name(sym), [self.p.symbolic(expr)])

    def rule(self, sym: sp.Symbol) -> Line:
        """A step's rule in symbols only (the chain-rule product)."""
        step = self.by_name[sym]
        return Line(self.p.name(sym), [self.p.symbolic(step.expr)])

    def math(self, sym: sp.Symbol) -> Math:
        return Math(self.p.name(sym))

    def step(self, plain_or_sym) -> Step:
        sym = plain_or_sym if isinstance(plain_or_sym, sp.Symbol) else self.m.names.by_plain[plain_or_sym]
        return self.by_name[sym]


def _steps(d, kind: str, layer: int | None = None) -> list[Step]:
    return [s for s in d.sample_steps if s.kind == kind and (layer is None or s.layer == layer)]


def _lines(*lines) -> list[Line]:
    return [x for x in lines if x is not None]


class _Writer:
    """One sample's sections, step by step; `inline` puts each update right after its gradient."""

    def __init__(self, solution: Solution, sample: int, counter: Counter, inline: bool):
        self.w = StepWriter(solution, sample)
        self.d, self.m = self.w.d, self.w.m
        self.counter = counter
        self.inline = inline
        self.L = self.m.shape.depth
        self.sections: list[Section] = []
        self.starts: list[int] = []           # where each section's steps begin in self.w.order
        self.relu_said = False
        # net and out as the notation names them (net, out in the lecture's names; z, a indexed):
        # prose about them uses the letters the student sees in the displays.
        names = self.m.names.of
        self.net = Math(name_latex(Name(names[self.m.net[1][0]].base)))
        self.out = Math(name_latex(Name(names[self.m.out[1][0]].base)))

    def section(self, title: str) -> Section:
        self.sections.append(Section(title))
        self.starts.append(len(self.w.order))
        return self.sections[-1]

    def quantities(self) -> list[tuple[str, list[sp.Symbol]]]:
        """Each section's title and the per-sample quantities it showed, in the order shown."""
        per_sample = self.w.solution.values.samples[0] if self.w.solution.values.samples else {}
        ends = self.starts[1:] + [len(self.w.order)]
        return [(section.title, [q for q in self.w.order[a:b] if q in per_sample])
                for section, a, b in zip(self.sections, self.starts, ends)]

    def step(self, section: Section, title, blocks: list[Block]) -> None:
        section.steps.append(NumberedStep(self.counter.next(), title, [b for b in blocks if b.text or b.lines]))

    def layer_name(self, l: int) -> str:
        return layer_name(self.L, l)

    def the_layer(self, l: int) -> str:
        return the_layer(self.L, l)

    def updates(self, params) -> list[Line]:
        """The updates of `params` when they follow their gradients (one sample), else none."""
        if not self.inline:
            return []
        return [self.w.line(self.d.step(self.d.updated[p].name)) for p in params if p in self.d.updated]

    # -- forward pass and loss --------------------------------------------------------------------
    def forward(self) -> None:
        w, m = self.w, self.m
        sec = self.section("Forward pass")
        for l in range(1, self.L + 1):
            act = m.shape.activations[l - 1]
            blocks = [Block([self.net, " is the weighted sum of the inputs plus the bias, ", self.out,
                             " the activation of ", self.net, ":"], [w.line(s) for s in _steps(self.d, "forward", l)])]
            blocks.append(self.kink_note(l))
            self.step(sec, f"{self.layer_name(l).capitalize()} ({ACTIVATION_TEXT[act]})", blocks)

    def kink_note(self, l: int) -> Block:
        """ReLU has no derivative at 0: say which convention is used when a neuron sits there."""
        if self.m.shape.activations[l - 1] != "relu":
            return Block()
        dead = [net for net in self.m.net[l] if abs(self.w.values[net]) < KINK]
        if not dead:
            return Block()
        text: list = []
        for i, net in enumerate(dead):
            text += [", " if i else "", self.w.math(net)]
        text += [" = 0: the neuron sits on ReLU's kink, where ReLU has no derivative. We take ReLU'(0) = 0, "
                 "so the neuron is dead for this input: no gradient flows through it, and its incoming weights "
                 "and bias do not change in this step."]
        return Block(text)

    def relu_convention(self, l: int) -> list:
        if self.m.shape.activations[l - 1] != "relu" or self.relu_said:
            return []
        self.relu_said = True
        return [" (ReLU's derivative is 1 where ", self.net, " is positive and 0 where it is negative; at 0 ReLU "
                "has no derivative, and we take it to be 0 there)"]

    def loss(self) -> None:
        d, w = self.d, self.w
        sec = self.section("Loss")
        terms = ", one term per output neuron:" if len(self.m.loss_terms) > 1 else " of the output neuron:"
        self.step(sec, "The loss", [Block(f"The loss is {LOSS_TEXT[self.m.shape.loss]}{terms}",
                                          [w.line(s) for s in _steps(d, "loss")])])

    # -- output layer -----------------------------------------------------------------------------
    def output_layer(self) -> None:
        d, w, m, L = self.d, self.w, self.m, self.L
        sec = self.section("Backward pass: output layer")
        for j in range(m.shape.layers[L]):
            grads = [s for s in _steps(d, "gradient", L) if s.neuron == j and _is_weight(m, s, L)]
            factors = self.output_factors(j, first=j == 0)
            if j == 0:
                first = grads[0]
                local = w.by_name[first.expr.args[-1]]
                wname = w.math(_parameter(m, local))
                blocks = [Block(["By the chain rule, the gradient of the loss with respect to the output weight ",
                                 wname, " is a product of local partial derivatives:"], [w.rule(first.name)])]
                blocks += factors
                blocks.append(Block(["The last factor, from ", self.net, " (the power rule on every term; only "
                                     "one term holds ", wname, "):"],
                                    _lines(w.definition(local), *w.worked(local))))
                blocks.append(Block("Together:", [w.line(first)]))
                self.step(sec, ["The gradient of ", wname], blocks)
                if self.inline:
                    self.update_step(sec, [_parameter(m, local)])
                rest = grads[1:]
                if rest:
                    params = [_parameter(m, w.by_name[s.expr.args[-1]]) for s in rest]
                    lines = []
                    for s, p in zip(rest, params):
                        lines.append(w.line(s))
                        lines += self.updates([p])
                    self.step(sec, ["The other weights into ", Math(self.neuron(L, 0))],
                              [Block("The same factors but the last, which is the input the weight carries"
                                     + (", and each update:" if self.inline else ":"), lines)])
            else:
                params = [_parameter(m, w.by_name[s.expr.args[-1]]) for s in grads]
                lines = []
                for s, p in zip(grads, params):
                    lines.append(w.line(s))
                    lines += self.updates([p])
                self.step(sec, ["Output neuron ", Math(self.neuron(L, j))],
                          factors + [Block("Its weights" + (" and their updates:" if self.inline else ":"), lines)])

    def neuron(self, l: int, j: int) -> str:
        """The neuron's label as the diagram prints it (o1, a^(2)_1)."""
        return name_latex(self.m.neuron_names[l][j])

    def output_factors(self, j: int, first: bool) -> list[Block]:
        """The factors that belong to output neuron j: dE/dout (all of them for softmax), dout/dnet."""
        d, w, m, L = self.d, self.w, self.m, self.L
        blocks: list[Block] = []
        losses = [s for s in _steps(d, "loss_derivative", L)]
        coupled = not m.activation[L].elementwise
        if coupled:
            if first:
                lines = []
                for s in losses:
                    lines += _lines(w.definition(s), *w.worked(s))
                blocks.append(Block(["The derivative of the loss with respect to every ", self.out, ":"], lines))
            net = m.net[L][j]
            jac = [s for s in _steps(d, "activation_derivative", L) if m.names.of[s.name].den == m.names.of[net]]
            lines = []
            for s in jac:
                if s.definition and first:
                    lines.append(w.definition(s))
                lines.append(w.line(s))
            blocks.append(Block(["Softmax couples the outputs: every ", self.out, " depends on ", Math(w.p.name(net)),
                                 ", so the error signal of ", Math(w.p.name(net)),
                                 " sums over all outputs (a column of the Jacobian):"], _lines(*lines)))
            delta = next(s for s in _steps(d, "delta", L) if s.neuron == j)
            blocks.append(Block(None, [w.line(delta)]))
            return blocks
        s = losses[j]
        if first and s.intermediate is not None:
            total = Line(w.p.name(m.loss_total), [w.p.symbolic(m.total_expr()), w.p.symbolic(_written_total(m))])
            others = len(m.loss_terms) > 1
            rule = "the power rule" if m.shape.loss in ("half_sse", "mse") else "the rule for ln"
            blocks.append(Block(["The first factor: write ", w.math(m.loss_total), f" out and apply {rule}"
                                 + (" to each term; a term without " if others else ":"),
                                 *([w.math(m.out[L][j]), " has derivative 0:"] if others else [])],
                                [total, *w.worked(s)]))
        act = next(a for a in _steps(d, "activation_derivative", L) if a.neuron == j)
        lines = _lines(w.definition(act), w.line(act))
        if first and s.intermediate is not None:
            blocks.append(Block(["The second factor, from the activation", *self.relu_convention(L), ":"], lines))
        else:
            blocks.append(Block("Its first two factors, from the same local expressions:",
                                _lines(w.definition(s), w.line(s)) + lines))
        return blocks

    def update_step(self, sec: Section, params) -> None:
        w = self.w
        eta = self.solution_eta()
        lines = self.updates(params)
        self.step(sec, ["The update of ", *[w.math(p) for p in params]],
                  [Block(["Gradient descent with learning rate ", Math(eta),
                          " moves the weight against its gradient:"], lines)])

    def solution_eta(self) -> str:
        return f"{self.w.p.name(self.m.eta)} = {self.w.p.value_of(self.m.eta, self.w.solution.spec.learning_rate)}"

    # -- hidden layers ----------------------------------------------------------------------------
    def error_signals(self, l: int) -> None:
        """The error signal of every neuron of layer l (used by the layer below), before that layer."""
        d, w, m, L = self.d, self.w, self.m, self.L
        deltas = [s for s in _steps(d, "delta", l) if s.name not in w.shown]
        if not deltas:
            return
        sec = self.sections[-1]
        blocks = []
        if l == L:
            terms = [s for s in _steps(d, "term_derivative", L)]
            if terms:
                several = len(m.out[L]) > 1
                why = ([" because no other loss term depends on ", w.math(m.out[L][0]), ":"] if several else
                       [" because ", w.math(m.loss_terms[0]), " is the whole loss:"])
                blocks.append(Block([f"{'Each output' if several else 'The output'}'s error signal ",
                                     w.math(deltas[0].name), " is the product of the first two factors. It is "
                                     "written with ", w.math(terms[0].name), ", which equals ",
                                     w.math(terms[0].expr)] + why,
                                    [w.line(s) for s in terms] + [w.line(s) for s in deltas]))
            else:
                which = "each output neuron" if len(m.out[L]) > 1 else "the output neuron"
                blocks.append(Block(f"The product of the first two factors is the error signal of {which}:",
                                    [w.line(s) for s in deltas]))
        else:
            blocks.append(Block(f"The error signal of each neuron of {self.the_layer(l)}:",
                                [w.line(s) for s in deltas]))
        self.step(sec, f"The error signals of {self.the_layer(l)}", blocks)

    def hidden_layer(self, l: int) -> None:
        d, w, m = self.d, self.w, self.m
        sec = self.section("Backward pass: " + self.layer_name(l))
        self.error_signals(l + 1)
        grads_all = [s for s in _steps(d, "gradient", l) if _is_weight(m, s, l)]
        for j in range(m.shape.layers[l]):
            grads = [s for s in grads_all if s.neuron == j]
            hidden = next(s for s in _steps(d, "hidden", l) if s.neuron == j)
            act = next(s for s in _steps(d, "activation_derivative", l) if s.neuron == j)
            out = Math(w.p.name(m.out[l][j]))
            first = j == 0
            blocks: list[Block] = []
            if first:
                g = grads[0]
                local = w.by_name[g.expr.args[-1]]
                wname = w.math(_parameter(m, local))
                blocks.append(Block(["By the chain rule, as for the output weight:"], [w.rule(g.name)]))
            blocks.append(Block(["The output ", out, " reaches the loss through every neuron of the layer above, "
                                 "so its factor sums over all these paths:"], [w.line(hidden, symbolic_only=True)]))
            paths = []
            for s in d.sample_steps:
                if s.kind in ("local", "path") and s.name in _parts_of(w, hidden):
                    if s.kind == "local":
                        paths += _lines(w.definition(s) if first else None, *(w.worked(s) if first else [w.line(s)]))
                    else:
                        paths.append(w.line(s))
            above = m.weights[l][0][j]
            old = ([" The backward pass uses the weights of the forward pass: ", w.math(above), ", not ",
                    w.math(d.updated[above]), "."] if first and self.inline and above in d.updated else [])
            blocks.append(Block(["Path by path", *([" (the power rule on ", self.net, ", as before)"] if first else []),
                                 ".", *old], paths))
            blocks.append(Block("Their sum:", [w.line(hidden)]))
            blocks.append(Block(["The activation's derivative", *self.relu_convention(l), ":"],
                                _lines(w.definition(act), w.line(act))))
            if first:
                local = w.by_name[grads[0].expr.args[-1]]
                blocks.append(Block(["The last factor, from ", self.net, ":"], _lines(w.definition(local),
                                                                         *w.worked(local))))
                blocks.append(Block("Together:", [w.line(grads[0])]))
                self.step(sec, ["The gradient of ", wname], blocks)
                if self.inline:
                    self.update_step(sec, [_parameter(m, local)])
                rest = grads[1:]
                if rest:
                    lines = []
                    for s in rest:
                        lines.append(w.line(s))
                        lines += self.updates([_parameter(m, w.by_name[s.expr.args[-1]])])
                    self.step(sec, ["The other weights into ", Math(self.neuron(l, 0))],
                              [Block("The same factors but the last, which is the input the weight carries"
                                     + (", and each update:" if self.inline else ":"), lines)])
            else:
                lines = []
                for s in grads:
                    lines.append(w.line(s))
                    lines += self.updates([_parameter(m, w.by_name[s.expr.args[-1]])])
                blocks.append(Block("Its weights" + (" and their updates:" if self.inline else ":"), lines))
                self.step(sec, ["Hidden neuron ", Math(self.neuron(l, j))], blocks)

    # -- biases -----------------------------------------------------------------------------------
    def biases(self) -> None:
        d, w, m = self.d, self.w, self.m
        sec = self.section("Biases")
        blocks: list[Block] = []
        for l in range(1, self.L + 1):
            deltas = [s for s in _steps(d, "delta", l) if s.name not in w.shown]
            if deltas:
                blocks.append(Block(f"The error signal of each neuron of {self.the_layer(l)}:",
                                    [w.line(s) for s in deltas]))
        text: list = ["A bias enters ", self.net, " with the factor 1, so its gradient is the error signal of its neuron."]
        shared = [s for s in d.sample_steps if s.kind == "gradient" and s.note and not _is_weight(m, s, s.layer)]
        for i, s in enumerate(shared):
            b = _parameter_of_gradient(m, s)
            text += [" The bias " if i == 0 else " Likewise ", w.math(b),
                     f" is one parameter shared by every neuron of {self.the_layer(s.layer)}"
                     + (", so its partials over the layer add up." if i == 0 else ".")]
        update = self.inline and self.w.solution.spec.update_biases
        if not self.w.solution.spec.update_biases:
            text.append(" The biases stay fixed in the update, as in the lecture.")
        lines = []
        for s in d.sample_steps:
            if s.kind == "gradient" and not _is_weight(m, s, s.layer):
                lines.append(w.line(s))
                if update:
                    lines += self.updates([_parameter_of_gradient(m, s)])
        blocks.append(Block(text, lines))
        self.step(sec, "The biases" + (" and their updates" if update else ""), blocks)


def sample_sections(solution: Solution, sample: int, counter: Counter | None = None,
                    inline: bool | None = None) -> list[Section]:
    """Forward pass, loss and backpropagation of one sample, in the lecture's order.

    `inline` (default: one sample) puts each update right after its gradient, as the slides do.
    """
    return _written(solution, sample, counter, inline).sections


def first_sample_sections(solution: Solution, counter: Counter,
                          inline: bool) -> tuple[list[Section], list[tuple[str, list[sp.Symbol]]]]:
    """Sample 1's sections and, per section, the per-sample quantities they work out (in the order
    shown): with several samples the others are tables of these quantities, not repeated chains."""
    writer = _written(solution, 0, counter, inline)
    return writer.sections, writer.quantities()


def _written(solution: Solution, sample: int, counter: Counter | None, inline: bool | None) -> _Writer:
    counter = counter or Counter()
    inline = len(solution.spec.inputs) == 1 if inline is None else inline
    writer = _Writer(solution, sample, counter, inline)
    writer.forward()
    writer.loss()
    writer.output_layer()
    for l in range(writer.L - 1, 0, -1):
        writer.hidden_layer(l)
    writer.biases()
    return writer


def _written_total(m) -> sp.Expr:
    """E_total with every loss term written out."""
    return sp.Add(*[m.term_expr(k) for k in range(len(m.loss_terms))], evaluate=False)


def _parameter(m, local: Step) -> sp.Symbol:
    """The weight or bias that a local partial dnet/dparameter differentiates by."""
    return m.names.by_plain[m.names.of[local.name].den.plain]


def _parameter_of_gradient(m, gradient: Step) -> sp.Symbol:
    return m.names.by_plain[m.names.of[gradient.name].den.plain]


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


def total_sections(solution: Solution, counter: Counter | None = None, inline: bool = False,
                   after: bool = True) -> list[Section]:
    """Totals over samples (several samples), the gradient-descent update (unless each update
    followed its gradient: `inline`) and (`after`) the new forward pass's loss beside the old one."""
    counter = counter or Counter()
    w = StepWriter(solution, 0)
    d = w.d
    sections = []
    totals = [s for s in d.total_steps if s.kind == "total"]
    if totals:
        how = "mean" if solution.spec.reduction == "mean" else "sum"
        sections.append(Section("All samples together", steps=[NumberedStep(counter.next(), "Totals", [Block(
            f"The loss and every gradient are the {how} over the samples:", [w.line(s) for s in totals])])]))
    if not inline:
        updates = [s for s in d.total_steps if s.kind == "update"]
        text = ["Gradient descent with learning rate ", Math(f"{w.p.name(w.m.eta)} = "
                                                             f"{w.p.given_number(solution.spec.learning_rate)}"),
                " moves every weight against its gradient"
                + ("" if solution.spec.update_biases else "; the biases stay fixed, as in the lecture") + ":"]
        sections.append(Section("Gradient-descent update", steps=[NumberedStep(counter.next(), "The update",
                                                                               [Block(text, [w.line(s) for s in updates])])]))
    following = after_section(solution, counter) if after else None
    if following is not None:
        sections.append(following)
    return sections


def after_section(solution: Solution, counter: Counter) -> Section | None:
    """A new forward pass with the updated parameters: its loss beside the loss before the step."""
    d = solution.derivation
    t = solution.values.totals
    if d.loss_after not in t:
        return None
    p = Printer(d.model.names.of, solution.spec.decimals)
    kept = "" if solution.spec.update_biases else " (the biases unchanged)"
    change = "smaller" if t[d.loss_after] < t[d.loss] else "not smaller"
    block = Block(["A new forward pass with the updated weights" + kept + " gives the loss after the step; "
                   f"it is {change} than before the step:"],
                  [Line(p.name(d.loss), [p.number(t[d.loss])]),                 # before, then after:
                   Line(p.name(d.loss_after), [p.number(t[d.loss_after])])])   # 0.298371109 -> 0.291027774
    return Section("After the update", steps=[NumberedStep(counter.next(), "The loss after one step", [block])])


def summary_rows(solution: Solution) -> list[dict]:
    """Every parameter: its value, gradient and value after the step; each column of computed
    values in one form (all m × 10^k when one entry needs it)."""
    w = StepWriter(solution, 0)
    t = solution.values.totals
    params = w.m.parameters()
    gradients = w.p.column([t[w.d.gradient[p]] for p in params])
    trained = [p for p in params if p in w.d.updated]
    updated = dict(zip(trained, w.p.column([t[w.d.updated[p]] for p in trained])))
    kept = unchanged(solution)
    updated |= {p: w.p.value_of(w.d.updated[p], t[w.d.updated[p]]) for p in trained if w.d.updated[p] in kept}
    return [{"name": w.p.name(p), "value": w.p.value_of(p, t[p]), "gradient": gradients[i],
             "updated": updated[p] if p in updated else w.p.value_of(p, t[p])} for i, p in enumerate(params)]
