"""Template contexts of a module spec's worksheet and worked solution.

The solution: the problem (each module in words, the data and parameters, the input grid and
kernels, or the unrolled RNN: what is given, never a computed map), then numbered steps: the
forward pass module by module, the loss, backpropagation module by module from the loss back
to the data (each rule's general formula first, then its lines: symbolic = substituted = value),
one gradient-descent update of every parameter, the loss after the step and a summary table. The
worksheet: the same problem and one task per step of the solution.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import groupby

import sympy as sp

from ..layout.blocks import Block, Line, Math, NumberedStep, Section, continued
from ..layout.optimizer import (TITLES, Trained, after_steps_text, after_steps_title, constant_lines, first_step_lines,
                               optimizer_context, optimizer_sections, rule_lines, rule_sentence)
from ..layout.solution import loss_curve
from ..layout.steps import Counter
from ..printing.latex import Printer
from ..model.naming import Name, Partial, Sampled
from ..printing.names import name_latex
from ..errors import DeriveError
from .derivation import ModuleDerivation, Step
from .graph import E, flat
from .printing import (INITIAL_STATE, RELU_RULE, SHARED, UPDATE_RULE, WRAPPED, backward_rule, beside, channel_label,
                       columns_label, every_entry, flattened, flattens_map, forward_rule, gradient_of, grid, input_label, kernel_label, listed,
                       loss_after, loss_rule, map_gradient, output_name, relu_off, relu_off_at, residual_parts, rnn_chain,
                       sample_tag, sequence_label, sequence_names, side_by_side, state_name, tensor_name, time_step, unread,
                       Picture)
from .solution import ModuleSolution

ACTIVATION_TEXT = {"relu": "ReLU", "sigmoid": "sigmoid", "tanh": "tanh", "linear": "linear (identity)",
                   "softmax": "softmax"}
LOSS_TEXT = {"half_sse": "half the sum of squared errors", "mse": "mean squared error",
             "cross_entropy": "cross-entropy"}
KIND_TEXT = {"dense": "dense layer", "conv1d": "convolution", "conv2d": "convolution", "maxpool": "max-pooling",
             "avgpool": "average pooling", "flatten": "flatten", "residual": "residual block",
             "rnn": "recurrent cell"}
NAMES_PER_ROW = 8
TABLE_ROWS = 36          # rows of one summary table (a table does not break across pages)
STEP_LINES = 30          # lines of one numbered step at most
STEP_ROWS = 60           # ... and display rows (a long sum wraps to many)
WIDE = 8                 # a weight matrix with more columns is drawn as grids of this many columns        # asked names in one row of a worksheet task


KEEP_GIVEN = 36          # baselines: a list of given values this short is kept on one page (two thirds of one)


def _given_height(lines: list[Line]) -> float:
    """The given values' display height in baselines: each matrix row about 1.3, each line's skip 0.6."""
    return sum(1.3 * (1 + sum(r.count(r"\\") for r in line.rhs)) + 0.6 for line in lines)


@dataclass
class Item:
    """One numbered step and the pictures set right after it."""

    section: Section
    pictures: list[str] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)    # the worksheet's task: these names (else the lines')
    blank: list[str] = field(default_factory=list)    # ... and these empty grids to fill in
    note: str = ""                                    # ... and why it is asked, when nothing later uses it


@dataclass
class Part:
    title: str
    items: list[Item] = field(default_factory=list)


def describe(m, modules) -> list:
    """A module in words, as prose pieces: the residual block's rule in the network's names and the
    RNN's shared U, W and b set as math."""
    act = f", {ACTIVATION_TEXT[m.activation]}" if m.activation and m.kind != "rnn" else ""
    size = "×".join(map(str, m.size))
    if m.kind in ("conv1d", "conv2d"):
        f, maps = m.out_shape[0], m.in_shape[0]
        each = f" on each of its {maps} input maps" if maps > 1 else ""    # the rule's Σ_c, in words
        return [f"a {'one' if m.kind == 'conv1d' else 'two'}-dimensional convolution: {f} filter"
                f"{'s' if f > 1 else ''} of {size}{each}, stride {m.stride}, padding {m.padding}{act}"]
    if m.kind in ("maxpool", "avgpool"):
        what = "max" if m.kind == "maxpool" else "average"
        left = _leftover(m)
        rest = f"; {left} of the {'×'.join(map(str, m.in_shape[1:]))} map fall in no window" if left else ""
        return [f"{KIND_TEXT[m.kind]}: the {what} of each {size} window, stride {m.stride}{rest}"]
    if m.kind == "flatten":
        return [f"flatten: {_read_order(m.in_shape)} as one vector"]
    if m.kind == "dense":
        return [f"a dense layer: {m.out_shape[0]} unit{'s' if m.out_shape[0] > 1 else ''}{act}"]
    if m.kind == "residual":
        return ["a residual block: ", Math(residual_parts(m, modules)["sum"]), ", where ", Math(WRAPPED),
                f" is {'made of ' if m.wraps > 1 else ''}{_wrapped(m)}"]
    u, w, b = (Math(letter) for letter in SHARED)
    return [f"a recurrent (Elman) cell with {m.out_shape[0]} hidden unit{'s' if m.out_shape[0] > 1 else ''}, "
            f"tanh, unrolled over {m.in_shape[0]} time steps with the same ", u, ", ", w, " and ", b, " at every step"]


def _leftover(m) -> str:
    """The rows and columns (or values) of the map a pooling module reads that fall in no window,
    in words: "row 5 and column 5", "rows 4 and 5", "value 7"; "" when every entry is read."""
    words = ("row", "column") if len(m.size) == 2 else ("value",)
    parts = []
    for word, n, left in zip(words, m.in_shape[1:], unread(m)):
        if left:
            numbers = [str(k) for k in range(n - left + 1, n + 1)]
            parts.append(f"{word} {numbers[0]}" if left == 1 else f"{word}s {', '.join(numbers[:-1])} and {numbers[-1]}")
    return " and ".join(parts)


def _wrapped(r) -> str:
    """The modules a residual block wraps, by number: module 3, modules 3 and 4, modules 3 to 5."""
    first, last = r.index + 2, r.index + r.wraps + 1
    if first == last:
        return f"module {first}"
    return f"modules {first} {'and' if last == first + 1 else 'to'} {last}"


def _read_order(shape: tuple) -> str:
    """How flatten reads a map, in words the pages have introduced: one map (a grid of the shape
    the pages draw, or a row of values) read row by row; several (one per filter) one after another."""
    maps, rest = shape[0], shape[1:]
    size = "×".join(map(str, rest))
    if all(n == 1 for n in rest):       # a value per map (a 1×1 map has no rows to read)
        return "the map's one value," if maps == 1 else f"the {maps} maps of one value each, one after another,"
    if maps == 1:
        return f"the {size} map, read row by row," if len(rest) == 2 else f"the map of {size} values, in order,"
    if len(rest) == 2:
        return f"the {maps} maps of {size}, one after another and each read row by row,"
    return f"the {maps} maps of {size} values, one after another,"


class Pages:
    """What both documents of one module solution share: its printer and its problem statement."""

    def __init__(self, solution: ModuleSolution):
        self.solution = solution
        self.spec = solution.spec
        self.d: ModuleDerivation = solution.derivation
        self.g = self.d.graph
        # a parameter the step left as it was (a gradient of exactly 0) is the given number: it prints as given
        self.unchanged = {u for par, u in self.d.updated.items() if self.d.values[u] == self.d.values[par]}
        self.p = Printer(self.d.names, self.spec.decimals, given=self.d.given | self.unchanged)
        self.source = {grad: node for node, grad in self.d.gradient.items()}   # gradient -> its quantity
        # the module after a flatten reads the flattened vector by its own name: a^{(3)}_{3}, not p^{(2)}_{21}
        self.flat = Printer(self._flattened_names(), self.spec.decimals, given=self.d.given | self.unchanged)

    def _flattened_names(self) -> dict:
        """The names with each flattened map's entries (and their gradients) named as the vector's:
        p^{(2)}_{21} is a^{(3)}_{3}."""
        names = dict(self.d.names)
        for m in self.spec.modules:
            if not flattens_map(m):
                continue
            for outputs in self.g.outputs:
                for j, sym in enumerate(outputs[m.index]):
                    old = names[sym]
                    new = Name("a", str(j + 1), f"({m.index + 1})")
                    sampled = isinstance(old, Sampled)
                    names[sym] = Sampled(new, old.sample) if sampled else new
                    grad = self.d.gradient.get(sym)
                    if grad is not None:
                        names[grad] = Sampled(Partial(E, new), old.sample) if sampled else Partial(E, new)
        return names

    def _relu_zero_reason(self, group: list, zero: int, z: str, a: str) -> list:
        """Why a ReLU step's `zero` unshown entries are 0, case by case (review4 item 7): ReLU is off
        where a gradient reaches a but z ≤ 0 (each such z named with its value when there are at most
        three), and no gradient reaches a elsewhere (a max-pool's unrouted entries, a map entry no
        window reads): prose pieces after "The other N entries are 0"."""
        after = {n.parents[0]: n.sym for n in self.g.nodes if n.op == "relu"}    # z -> a = ReLU(z)
        off = [self.source[st.target] for st in group if st.expr == 0 and
               self.d.values.get(self.d.gradient.get(after.get(self.source[st.target])), 0.0) != 0]
        reached = zero - len(off)
        out: list = []
        if off:
            out.append(": ReLU is off")
            if len(off) <= 3:
                for i, sym in enumerate(off):
                    out += [", " if i == 0 else (" and " if i == len(off) - 1 else ", "),
                            Math(relu_off_at(self.p.name(sym), self.p.value_of(sym, self.d.values[sym])))]
            else:
                out += [f" for {len(off)} of them" if reached else " for each", ", ", Math(relu_off(z))]
        if reached:
            whose = ("its " if zero == 1 else "their ") if not off else \
                ("the other one's " if reached == 1 else f"the other {reached}' ")
            out += ["; no gradient reaches " if off else ": no gradient reaches ", whose, Math(a)]
        return out + ["."]

    def reads_flattened(self, module: int) -> bool:
        return module > 0 and module < len(self.spec.modules) and flattens_map(self.spec.modules[module - 1])

    def name(self, sym: sp.Symbol) -> str:
        return name_latex(self.d.names[sym])

    # ---------------------------------------------------------------------------------- problem
    def problem(self) -> dict:
        spec, g = self.spec, self.g
        modules = spec.modules
        lines = []
        for m in modules:
            for name, syms in g.params[m.index].items():
                given = self._given(m, name, syms, m.param(name))
                if m.kind == "rnn" and name == "biases":   # h_0 beside b (a value per unit too): the list stays
                    given = [Line(line.lhs, [beside(line.rhs[0], INITIAL_STATE, self._initial_state(m))])
                             for line in given]            # short enough for one page with the picture
                if m.kind == "dense" and name == "biases" and len(syms) == 1 and len(given) == 1 \
                        and not lines[-1].rhs[0].count(r"\\"):     # one unit: its bias beside its row of weights
                    last = lines.pop()
                    given = [Line(last.lhs, [beside(last.rhs[0], given[0].lhs, given[0].rhs[0])])]
                lines.extend(given)
        several = not spec.single_sample
        first = next(m for m in modules if m.kind != "residual")
        if first.kind == "dense":      # a grid or sequence input is drawn; a vector is given here
            for s, sample in enumerate(spec.inputs):
                lines.append(Line("x" + (sample_tag(s) if several else ""), [self.p.number_vector(sample, given=True)]))
        for s, target in enumerate(spec.targets):
            first_target = g.targets[s][0]
            if len(target) == 1:       # one output: its target as the loss line names it, t_1 = 0.8
                lines.append(Line(self.name(first_target), [self.p.given_number(target[0])]))
                continue
            lines.append(Line(self._map_name(first_target) + (sample_tag(s) if several else ""),
                              [self.p.number_vector(target, given=True)]))
        lines.append(Line(self._map_name(g.rate), [self.p.given_number(spec.learning_rate)]))
        view = trained(self.solution)
        if view is not None:      # the optimiser's constants and its rule (every parameter alike)
            lines += constant_lines(view)
        blocks = [Block(None, lines)]
        if view is not None:
            first = view.shown[0]
            steps = (f"for {spec.iterations} steps" if spec.iterations > 1 else "for one step")
            blocks.append(Block([f"The parameters are trained with {rule_name(spec.optimizer.name)}"
                                 f"{_batch_text(spec)} {steps}. ", *rule_sentence(view, self.name(g.loss))],
                                rule_lines(view)))
        pictures = self._data_pictures()
        loss = LOSS_TEXT[spec.loss]
        return {
            "modules": [[f"Module {m.index + 1}, ", *describe(m, modules), "."] for m in modules],
            "pictures": [p.tex for p in pictures],
            "sized": pictures,
            "given": blocks,
            "keep_given": _given_height(lines) <= KEEP_GIVEN,
            # the rule's sentence (3 lines) and its formulas (fractions take 2.5 lines)
            "rule_lines": 4 + 3 * len(blocks[-1].given) if len(blocks) > 1 else 0,
            "loss": f"The loss is {loss}"
                    + (", summed over the samples." if several else "."),
        }

    def _initial_state(self, rnn) -> str:
        """h_0, always given (zeros too: step 1 reads it, and a student cannot assume it)."""
        h0 = rnn.param("initial_state")
        return self.p.given_number(h0[0]) if len(h0) == 1 else self.p.number_vector(h0, given=True)

    def _given(self, m, name: str, syms, value) -> list[Line]:
        if m.kind in ("conv1d", "conv2d") and name == "kernels":
            return []     # drawn as grids beside the input
        if name in ("weights", "input_weights", "recurrent_weights"):
            if len(value[0]) > WIDE:
                return []     # drawn as grids of WIDE columns each (a matrix that wide runs off the page)
            first = syms[0][0]
            return [Line(self._map_name(first), [self.p.number_matrix(value, given=True)])]
        if name == "biases":
            if len(value) == 1:
                return [Line(self.name(syms[0]), [self.p.given_number(value[0])])]
            return [Line(self._map_name(syms[0]), [self.p.number_vector(value, given=True)])]
        return []

    def _map_name(self, sym: sp.Symbol) -> str:
        """The name of the whole tensor an entry belongs to: K^{(1)} for K^{(1)}_{11}."""
        name = self.d.names[sym]
        inner = getattr(name, "inner", name)
        return tensor_name(inner.base, inner.sup)

    def _data_pictures(self) -> list[Picture]:
        """Rows of pictures of the given data: the input grids, each conv module's kernels, the
        unrolled RNN (a feature map is computed, so it is no part of what is given)."""
        spec = self.spec
        first = next(m for m in spec.modules if m.kind != "residual")
        rows = []
        if first.kind == "rnn":
            rows.append([rnn_chain(first.in_shape[0], sequence_names(first.in_shape[0]), self._head(first))])
            rows.append([grid([list(x_t) for x_t in sample], True, spec.decimals,
                              sequence_label(sample_tag(s) if not spec.single_sample else ""))
                         for s, sample in enumerate(spec.inputs)])
        for s, sample in enumerate(spec.inputs):
            tag = sample_tag(s) if not spec.single_sample else ""
            if first.kind in ("conv1d", "conv2d"):
                rows.append([grid(channel if first.kind == "conv2d" else [channel], True, spec.decimals,
                                  input_label(tag, c if len(sample) > 1 else None))
                             for c, channel in enumerate(sample)])
        for m in spec.modules:
            if m.kind not in ("conv1d", "conv2d"):
                continue
            kernels = m.param("kernels")
            row = []
            for f, per_filter in enumerate(kernels):
                for c, kernel in enumerate(per_filter):
                    index = ",".join(str(i + 1) for i, n in ((f, len(kernels)), (c, len(per_filter))) if n > 1)
                    label = kernel_label(m, index)
                    row.append(grid(kernel if m.kind == "conv2d" else [kernel], True, spec.decimals, label))
            rows.append(row)     # feature maps are computed, not given: the forward pass's steps show them
        for m in spec.modules:
            weights = m.param("weights") if m.kind == "dense" else None
            if weights is not None and len(weights[0]) > WIDE:
                for start in range(0, len(weights[0]), WIDE):
                    end = min(start + WIDE, len(weights[0]))
                    label = columns_label(m, start + 1, end)
                    rows.append([grid([row[start:end] for row in weights], True, spec.decimals, label)])
        return [side_by_side(row) for row in rows]

    def _head(self, rnn) -> list[tuple[str, str, str]]:
        """The modules after the RNN as its picture draws them: each one's output, the arrow into it
        labelled with its parameters (w^{(2)}, b^{(2)}), and its activation."""
        modules = self.spec.modules
        head = []
        ends = {r.index + r.wraps for r in modules if r.kind == "residual"}
        for m in modules[rnn.index + 1:]:
            if m.kind == "residual":      # drawn as the skip its last module adds
                continue
            params = listed([self._map_name(syms[0][0] if isinstance(syms[0], list) else syms[0])
                             for syms in self.g.params[m.index].values()])
            what = ACTIVATION_TEXT.get(m.activation, "") if m.activation else KIND_TEXT[m.kind]
            head.append((output_name(m, modules), params, what + (", plus the skip" if m.index in ends else "")))
        return head

    # ---------------------------------------------------------------------------------- steps
    def line(self, step: Step, renamed: bool = False) -> Line:
        """A worked line; `renamed`: the flattened vector by its own name (a^{(3)}_{3}, ∂E/∂a^{(3)}_{3}), in
        the steps of the module that reads it and of the module whose map it is."""
        p = self.flat if renamed else self.p
        return Line(p.name(step.target), p.chain(step.target, step.expr, self.d.values, step.value))

    def worked_line(self, step: Step) -> Line:
        """A step's worked line as the solutions print it: the module that reads a flattened vector (its
        pre-activations, its weights' and inputs' gradients) and the module whose map it is name the
        vector's entries a^{(3)}_{j}; every other step by the names of its own quantities. An exam's
        feedback prints these lines too, so that it names what the solutions name."""
        if step.target in self.source:           # a gradient's step
            renamed = (step.rule in ("dense-weights", "dense-input") and self.reads_flattened(step.module)) \
                or self.flattened_next(step.module)
        else:
            node = self.g.by_sym.get(step.target)
            renamed = node is not None and node.op == "linear" and self.reads_flattened(step.module)
        return self.line(step, renamed)

    def flattened_next(self, module: int) -> bool:
        """Whether the next module flattens this module's map (its backward steps read ∂E/∂a^{(3)})."""
        return module + 1 < len(self.spec.modules) and flattens_map(self.spec.modules[module + 1])

    def forward_items(self) -> list[Item]:
        spec, g = self.spec, self.g
        items = []
        several = not spec.single_sample
        def key(st: Step):
            node = g.by_sym[st.target]
            if node.module < len(spec.modules) and spec.modules[node.module].kind == "rnn":
                return (st.sample, st.module, "step", node.index[0])     # one step per time step
            return (st.sample, st.module, node.op, 0)
        by_module = [(k, list(group)) for k, group in groupby(self.d.forward, key=key)]
        for (s, module, op, t), steps in by_module:
            if module >= len(spec.modules):
                title = "The loss" + (f" of sample {s + 1}" if several and op != "sum" else "")
                formula = loss_rule(spec.loss, spec.modules[-1], spec.modules, spec.optimizer is not None)
                text = ([LOSS_TEXT[spec.loss].capitalize() + ", ", Math(formula), ":"] if op != "sum"
                        else ["The total loss is the sum of the samples' losses:"])
                items.append(Item(_section(title, text, [self.line(st) for st in steps])))
                continue
            m = spec.modules[module]
            if module > 0 and spec.modules[module - 1].kind == "flatten" and op == "linear":
                items.append(self._flatten_item(spec.modules[module - 1], s))
            rule = forward_rule(m, spec.modules, op)
            what = {"step": "", "linear": "pre-activations", "relu": "ReLU", "sigmoid": "sigmoid", "tanh": "tanh",
                    "identity": "identity", "softmax": "softmax", "max": "the maximum of each window",
                    "avg": "the mean of each window",
                    "add": "the skip connection"}[op]
            if m.kind == "rnn":
                rule = forward_rule(m, spec.modules, "linear") + r",\quad " + forward_rule(m, spec.modules, "tanh")
                what = f"time step {t + 1}"
            title = f"Module {module + 1} ({KIND_TEXT[m.kind]}): {what}" + (f", sample {s + 1}" if several else "")
            text = ["By ", Math(rule), ":" if not (m.padding and op == "linear") else
                    f" (x is 0 in the padding of {m.padding} around the input):"] if rule else None
            if op in ("max", "avg") and _leftover(m):     # said where it happens, not first in the backward pass
                text[-1:] = [" (", _leftover(m), " of ", Math(output_name(spec.modules[module - 1], spec.modules)),
                             " fall in no window and are not used):"]
            section = _section(title, text, [self.worked_line(st) for st in steps])
            blank = self._blank_maps(steps) if m.kind != "rnn" and len(section.steps) == 1 else []
            items.append(Item(section, blank=blank))
        return items

    def _blank_maps(self, steps: list[Step]) -> list[str]:
        """A map a forward step computes (z^{(1)}, a^{(1)}, p^{(2)}) as empty grids of its shape, one per
        filter, for the worksheet's task: 25 names in a row are no 5×5 map to fill in. Labelled as every
        answer grid of the worksheet is (the gradient maps'), 'every entry'."""
        first = self.g.by_sym[steps[0].target]
        whole = self._whole_map(first)
        if whole is None or len(first.index) < 2:
            return []
        name = getattr(first.name, "inner", first.name)
        label = tensor_name(name.base, name.sup)
        planes = [plane if isinstance(plane[0], list) else [plane] for plane in whole]
        return [grid([[0.0] * len(plane[0]) for _ in plane], False, self.spec.decimals,
                     every_entry(channel_label(label, c, False) if len(planes) > 1 else label), blank=True).tex
                for c, plane in enumerate(planes)]

    def _flatten_item(self, m, s: int) -> Item:
        """Flatten computes nothing: the map's entries, read row by row, are the next module's inputs."""
        entries = self.g.outputs[s][m.index]
        title = f"Module {m.index + 1} (flatten)" + (f", sample {s + 1}" if not self.spec.single_sample else "")
        names = [[self.name(e)] for e in entries]
        tall = any("^" in n and "_" in n for [n] in names)     # p^{(2)}_{11} over p^{(2)}_{12}
        names = self.p.matrix(names, tall)
        values = self.p.matrix([[self.p.number(self.d.values[e])] for e in entries], tall)   # row by row
        modules = self.spec.modules
        vector = output_name(m, modules)
        line = Line(vector, [flattened(output_name(modules[m.index - 1], modules)), names, values])
        n = m.out_shape[0]
        text = [f"{_read_order(m.in_shape).capitalize()} {'is' if m.in_shape[0] == 1 else 'are'} the vector ",
                Math(vector), f" of {n} input{'s' if n > 1 else ''} of module {m.index + 2}."]
        return Item(Section("", steps=[NumberedStep(0, title, [Block(text, [line])])]))

    def backward_items(self) -> list[Item]:
        spec, d = self.spec, self.d
        modules = spec.modules
        items = []
        order = {"loss": 0, "softmax-ce": 1, "act-relu": 1, "act-sigmoid": 1, "act-tanh": 1, "act-identity": 1,
                 "act-softmax": 1}
        steps = [st for st in d.backward if st.rule != "unused"]
        last = len(spec.inputs) - 1
        # sections from the loss back to the data; inside one, the rule order of the lecture
        def rank(st: Step):
            node = self.g.by_sym[self.source[st.target]]
            if modules[min(st.module, len(modules) - 1)].kind == "rnn" and st.rule in ("act-tanh", "rnn-state"):
                return (-st.module, st.sample, 1, -node.index[0], 0 if st.rule == "rnn-state" else 1, node.index)
            if st.rule == "residual-output":     # y's gradient reaches f(x) before f's own steps use it
                return (-(st.module + modules[st.module].wraps), st.sample, -1, 0, 0, node.index)
            group = order.get(st.rule, 2 if not st.rule.endswith("-input") else 4)
            if st.rule.endswith("-biases"):
                group = 3
            within = list(self.g.params[node.module]).index(node.param) if node.role == "param" else 0
            sample = last if node.role == "param" else st.sample   # a shared parameter sums every sample's δ
            return (-st.module, sample, group, within, 0, node.index)   # a parameter's entries together
        steps.sort(key=rank)
        computed = {self.source[st.target] for st in steps}   # an entry no later module reads has no step
        for (module, sample, rule), group in groupby(steps, key=lambda st: (st.module, st.sample, st.rule)):
            group = list(group)
            m = modules[min(module, len(modules) - 1)]
            formula = backward_rule(group[0].rule, m, modules, spec.loss, spec.optimizer is not None)
            first = self.g.by_sym[self.source[group[0].target]]
            # an entry that is 0 is said in one sentence, never worked: a parameter's gradient whose
            # factor is 0 (δ · 0) as one whose δ is 0 (one convention for the document)
            shown = [st for st in group if st.expr != 0 and not (first.role == "param" and st.value == 0)]
            whole = self._whole_map(first) if m.kind != "rnn" and first.role != "param" else None
            unread = sum(1 for sym in flat(whole) if sym not in computed) if whole is not None else 0
            zero = len(group) - len(shown) + unread
            text: list = []
            if formula:
                explain = _explain(group[0].rule, m, modules)
                if group[0].rule.endswith("-input") and m.kind.startswith("conv") and m.stride > 1:
                    explain = ": each δ goes back through the kernel to the inputs its window read."
                if self.flattened_next(module) and (rule in ("maxpool", "avgpool") or rule.startswith("act-")):
                    shape = "×".join(map(str, m.out_shape[1:]))
                    explain = [explain] if isinstance(explain, str) else explain
                    explain += [" Flatten only reorders: ", Math(map_gradient(output_name(m, modules), "", False)),
                                " is ", Math(map_gradient(output_name(modules[module + 1], modules), "", False)),
                                f" put back into the {shape} map."]
                # ReLU's derivative first, as a formula of its own: the line breaks in the words after it
                opening = ["With ", Math(RELU_RULE), ", the chain rule gives "] if rule == "act-relu" else \
                    ["By the chain rule, "]
                text += [*opening, Math(formula), *(explain if isinstance(explain, list) else [explain])]
            note = ""
            if group[0].rule.endswith("-input") and first.role == "input":   # the data's gradient: used by nothing
                note = UNUSED_INPUT
                text += [f" {note[0].upper()}{note[1:]}."]
            if any(st.omitted for st in shown):
                text += [" Terms whose upstream gradient is 0 are left out."]
            if zero:
                text += [(f" The other {zero} entries are 0" if zero > 1 else " The other entry is 0")]
                if group[0].rule == "act-relu":      # z and a are symbols, set as math
                    a = output_name(m, modules, inside=True)
                    z = "z" + a[1:] if a.startswith("a") else "z"
                    text += self._relu_zero_reason(group, zero, z, a)
                elif first.role == "param":      # a product δ · input, δ itself, or a sum of such
                    one = zero == 1
                    text += ([f" (a factor of {'it' if one else 'each'} is 0)."] if rule.endswith("-weights") else
                             [f" ({'its' if one else 'their'} ", Math(r"\delta"), " is 0)."]
                             if rule.endswith("-biases") else [f" (every term of {'it' if one else 'each'} is 0)."])
                else:
                    text += [_zero_reason(group[0].rule, unread) + "."]
            title = _backward_title(group[0].rule, m, modules)
            title = title if isinstance(title, list) else [title]     # pieces: the symbols set as math
            if m.kind == "rnn" and group[0].rule in ("act-tanh", "rnn-state"):   # two steps a time step: which
                t = self.g.by_sym[self.source[group[0].target]].index[0] + 1
                what = ["through tanh"] if group[0].rule == "act-tanh" else ["the gradient reaching ",
                                                                            Math(state_name(t))]
                title = [f"Module {m.index + 1} ({KIND_TEXT[m.kind]}), ", Math(time_step(t)), ": ", *what]
            if not spec.single_sample and first.role != "param":     # a parameter's gradient sums the samples
                title += [f", sample {sample + 1}"]
            title = title[0] if len(title) == 1 else title
            lines = [self.worked_line(st) for st in shown]
            pictures, blank, asked = [], [], []
            if zero and m.kind != "rnn" and first.role != "param":
                pictures = self._gradient_maps(group, whole)
                blank = self._gradient_maps(group, whole, blank=True)
            section = _section(title, text or None, lines)
            if zero and not blank and len(section.steps) == 1:
                asked = [self.name(st.target) for st in group]   # the 0 entries too: finding them is the task
            items.append(Item(section, pictures, asked, blank, note))
        return items

    def _whole_map(self, node):
        """The whole tensor (nested lists of symbols) `node` is an entry of: its module's z, its
        output, or the data; None when it is none of them."""
        s, g = node.sample, self.g
        tensors = [g.inputs[s]]
        if 0 <= node.module < len(self.spec.modules):
            tensors = [g.pre[s][node.module], g.outputs[s][node.module]] + tensors
        return next((t for t in tensors if isinstance(t, list) and node.sym in flat(t)), None)

    def _gradient_maps(self, group: list[Step], whole, blank: bool = False) -> list[str]:
        """The gradient of a whole map as a grid of the map's shape (most of it 0: where max-pooling
        or ReLU stopped it, or where no later module reads the map, as a pooling window's leftover row)."""
        nodes = {}
        for st in group:
            node = self.g.by_sym[self.source[st.target]]
            nodes[node.index] = st
        first = self.g.by_sym[self.source[group[0].target]]
        if len(first.index) < 2:
            return []
        out = []
        if whole is not None:
            channels = list(range(len(whole))) if len(first.index) == 3 else [None]
        else:
            channels = sorted({ix[0] for ix in nodes}) if len(first.index) == 3 else [None]
        for c in channels:
            keys = [ix for ix in nodes if c is None or ix[0] == c]
            if whole is not None:
                plane = whole if c is None else whole[c]
                rows, cols = len(plane), len(plane[0])
            else:
                rows = max(ix[-2] for ix in keys) + 1
                cols = max(ix[-1] for ix in keys) + 1
            values = [[0.0] * cols for _ in range(rows)]
            for ix in keys:
                values[ix[-2]][ix[-1]] = nodes[ix].value
            label = channel_label(_map_gradient(first), c, first.role == "input") if c is not None and len(channels) > 1 \
                else _map_gradient(first)
            out.append(grid(values, False, self.spec.decimals, every_entry(label) if blank else label, blank=blank).tex)
        return out

    def update_items(self, moving_first: bool = False) -> list[Item]:
        """Each module's updates; with `moving_first` (a deck, which shows only a step's first lines)
        the parameters the step changes come before those a zero gradient leaves as they are."""
        d = self.d
        items = []
        for module, steps in groupby(d.updates, key=lambda st: st.module):
            group = list(steps)
            if moving_first:
                group.sort(key=lambda st: st.target in self.unchanged)
            m = self.spec.modules[module]
            title = f"Module {module + 1} ({KIND_TEXT[m.kind]}): the update"
            text = ["One step of gradient descent, ", Math(UPDATE_RULE), "."]
            if any(st.target in self.unchanged for st in group):
                text += [" Where the gradient is 0, the parameter is unchanged."]
            items.append(Item(_section(title, text, [self.line(st) for st in group])))
        return items

    def after(self) -> Block:
        """The loss after the update; after an optimiser's shown steps, after the last of them (the
        sentence follows the last step's table)."""
        if self.solution.optimizer is not None:
            return Block(after_steps_text(trained(self.solution)))
        g = self.g
        falls = self.d.loss_after < self.d.values[g.loss]
        text = ["A new forward pass with the updated parameters gives the loss ",
                Math(loss_after(self.name(g.loss), self.p.number(self.d.loss_after))),
                ", down from " if falls else ", up from ", Math(self.p.number(self.d.values[g.loss])),
                "." if falls else " (the step was too long for this learning rate)."]
        return Block(text)

    def summary(self) -> list[dict]:
        d = self.d
        rows = []
        for node in self.g.nodes:
            if node.role != "param":
                continue
            rows.append({"name": self.name(node.sym), "value": self.p.given_number(d.values[node.sym]),
                         "gradient": self.p.number(d.values[d.gradient[node.sym]]),
                         "updated": self.p.value_of(d.updated[node.sym], d.values[d.updated[node.sym]])})
        return rows


def left_out(text: list, more: int) -> list:
    """A step's prose when a deck shows only its first lines and `more` alike are left out: one sentence
    for all the other entries, 'Of the other 33 entries, 10 are computed in the same way and 23 are 0
    (...)', not 'The other 23 entries are 0 (...). The other 10 entries are computed in the same way.'"""
    for k, piece in enumerate(text):
        found = re.fullmatch(r" The other (\d+) entries are 0| The other entry is 0", piece) \
            if isinstance(piece, str) else None
        if found:
            zero = int(found.group(1) or 1)
            return text[:k] + [f" Of the other {zero + more} entries, {more} are computed in the same way and "
                               f"{zero} {'is' if zero == 1 else 'are'} 0"] + text[k + 1:]
    note = f"The other {more} entries are computed in the same way."
    return text + [" " + note if text else note]


def _map_gradient(node) -> str:
    """The gradient of a whole map, as a grid's label: δ^{(1)} for pre-activations, else ∂E/∂a^{(1)}."""
    name = getattr(node.name, "inner", node.name)
    return map_gradient(name.base, name.sup, node.role == "z")


EXPLAIN = {   # what the rule's sum is, said after its formula
    "conv2d-kernels": ": a correlation of the input with δ.", "conv1d-kernels": ": a correlation of the input with δ.",
    "conv2d-input": ": a full convolution of δ with the flipped kernel.",
    "conv1d-input": ": a full convolution of δ with the flipped kernel.",
    **{rule: [": the same ", Math(letter), " at every time step, so its gradient sums over them."]
       for rule, letter in zip(("rnn-input_weights", "rnn-recurrent_weights", "rnn-biases"), SHARED)},
}


UNUSED_INPUT = "no update uses it: it is the gradient a module before this one would receive"


def _explain(rule: str, m, modules) -> str | list:
    """What the rule's sum is; a residual block's in the network's names (a^{(4)} = f(a^{(1)}) enters
    y^{(2)} = a^{(1)} + a^{(4)}), so that x stays the network's input."""
    if rule == "residual-output":
        r = residual_parts(m, modules)
        return [": ", Math(r["output"]), " enters the sum ", Math(r["named"]), " with the factor 1, so it receives "
                "the gradient of ", Math(r["y"]), " unchanged."]
    if rule == "residual":
        r = residual_parts(m, modules)
        return [": ", Math(r["input"]), " reaches the loss along two paths, through ", Math(r["f"]),
                f" ({_wrapped(m)}) and through the skip connection, which passes the gradient of ", Math(r["y"]),
                " on unchanged."]
    return EXPLAIN.get(rule, ".")


def _zero_reason(rule: str, unread: int = 0) -> str:
    if rule == "maxpool" and unread:
        return " (not the maximum of their window, or in no window)"
    return {"maxpool": " (not the maximum of their window)",
            "conv2d-input": " (no non-zero δ reaches them)", "conv1d-input": " (no non-zero δ reaches them)",
            }.get(rule, "")


def _backward_title(rule: str, m, modules) -> str | list:
    n = f"Module {m.index + 1} ({KIND_TEXT[m.kind]})"
    return {
        "loss": "The loss: its gradient at the outputs",
        "softmax-ce": f"{n}: softmax with cross-entropy",
        "act-relu": f"{n}: through ReLU",
        "act-sigmoid": f"{n}: through the sigmoid",
        "act-tanh": f"{n}: through tanh" if m.kind != "rnn" else f"{n}: backpropagation through time",
        "act-identity": f"{n}: through the identity",
        "act-softmax": f"{n}: through softmax",
        "dense-weights": f"{n}: the weight gradients",
        "dense-biases": f"{n}: the bias gradient" + ("" if m.out_shape[:1] == (1,) else "s"),   # one unit: one bias
        "dense-input": f"{n}: the gradient of its input",
        "conv2d-kernels": f"{n}: the kernel gradient",
        "conv1d-kernels": f"{n}: the kernel gradient",
        "conv2d-biases": f"{n}: the bias gradient",
        "conv1d-biases": f"{n}: the bias gradient",
        "conv2d-input": f"{n}: the input gradient",
        "conv1d-input": f"{n}: the input gradient",
        "maxpool": f"{n}: routing the gradient",
        "avgpool": f"{n}: sharing the gradient out",
        "residual-output": f"{n}: the gradient reaching the output of module {m.index + m.wraps + 1}",
        "residual": f"{n}: the gradient of its input",
        "rnn-state": f"{n}: backpropagation through time",
        "rnn-input": f"{n}: the gradient of the inputs",
        **{rule: [f"{n}: ", Math(gradient_of(letter)), ", summed over the time steps"]
           for rule, letter in zip(("rnn-input_weights", "rnn-recurrent_weights", "rnn-biases"), SHARED)},
    }.get(rule, n)


def _section(title: str | list, text, lines: list[Line]) -> Section:
    """A step of the worked solution; one of many lines alike (512 entries of a feature map) goes on
    in further steps of STEP_LINES lines, so that each stays a box TeX can measure."""
    chunks: list[list[Line]] = [[]]
    rows = 0
    for line in lines:
        height = len(Block(None, [line]).lines)      # the rows it wraps to on the page
        if chunks[-1] and (len(chunks[-1]) >= STEP_LINES or rows + height > STEP_ROWS):
            chunks.append([])
            rows = 0
        chunks[-1].append(line)
        rows += height
    return Section("", steps=[NumberedStep(0, title if k == 0 else continued(title),
                                           [Block(text if k == 0 else None, chunk)])
                              for k, chunk in enumerate(chunks)])


def _numbered(parts: list[Part]) -> None:
    number = 0
    for part in parts:
        for item in part.items:
            for step in item.section.steps:
                number += 1
                step.number = number


SNIPPET_PARTS = ("network", "forward", "loss", "backward", "update")


def step_sections(solution: ModuleSolution, name: str) -> list[Section]:
    """One step by its plain name (`z(1)_11`, `dE/dK(1)_11`, `delta(1)_21`, `K(1)_11+`), as a section."""
    pages = Pages(solution)
    d = solution.derivation
    steps = d.forward + d.backward + d.updates
    plain = {d.names[st.target].plain: st for st in steps}
    view = trained(solution)
    if name not in plain and view is not None:      # p+, a state, a correction: the optimiser's first step
        sym = view.run.symbolic
        owner = {s: p for p in sym.trained for s in [sym.gradient[p], sym.updated[p]]
                 + [x for (_, q), x in [*sym.new_state.items(), *sym.corrected.items()] if q == p]}
        found = next((s for s in owner if d.names[s].plain == name), None)
        if found is not None:
            lines = [line for line in first_step_lines(view, owner[found]) if line.lhs == pages.name(found)]
            return [Section(name, [Block(None, lines)])]
    if name not in plain:
        known = ", ".join(list(plain)[:4] + [d.names[st.target].plain for st in d.backward[-2:]]
                          + [d.names[st.target].plain for st in d.updates[:1]]
                          + ([d.names[s].plain for s in view.run.symbolic.compiled.names[:2]] if view else []))
        raise DeriveError(f"no step named {name!r}; steps are named like: {known}, ...",
                          file=solution.spec.source, field="--step")
    return [Section(name, [Block(None, [pages.line(plain[name])])])]


def network_parts(solution: ModuleSolution) -> tuple[list[Picture], list[Section]]:
    """The problem as a fragment shows it: the pictures (input grids, kernels, the feature map with its
    values, or the unrolled RNN) and the parameters."""
    pages = Pages(solution)
    problem = pages.problem()
    return problem["sized"], [Section("The parameters", problem["given"])]


def trained(solution: ModuleSolution) -> Trained | None:
    """The optimiser's part as the pages read it (None without an optimiser): every parameter kind
    (each module's kernels, weights, biases; an rnn's U, W and b) worked in full for its first entry."""
    run = solution.optimizer
    if run is None:
        return None
    d, spec = solution.derivation, solution.spec
    g = d.graph
    params = [n.sym for n in g.nodes if n.role == "param"]
    shown = [flat(syms)[0] for module in g.params for syms in module.values()]
    return Trained(run, d.names, spec.decimals, list(d.given), params, g.loss, d.gradient, shown,
                   len(spec.inputs), spec.learning_rate, spec.optimizer)


def _optimizer_items(solution: ModuleSolution) -> list[Item]:
    """The optimiser's rule and its first steps as numbered steps (a worksheet's tasks, a fragment)."""
    view = trained(solution)
    return [Item(Section("", steps=[step])) for step in optimizer_sections(view, Counter())[0].steps]


def rule_name(name: str) -> str:
    """The optimiser's name inside a sentence: gradient descent with momentum, RMSprop, Adam."""
    title = TITLES[name]
    return title if name in ("rmsprop", "adam") else title[0].lower() + title[1:]


def _batch_text(spec) -> str:
    size = spec.optimizer.batch_size
    if len(spec.inputs) == 1:      # one sample: no batch to speak of ("on all samples" of one)
        return ""
    if size == len(spec.inputs):
        return " on all samples"
    return f" on mini-batches of {size} sample{'s' if size > 1 else ''} taken in order"


def _batch_words(solution: ModuleSolution) -> str:
    batch = solution.optimizer.iterations[0].batch
    if len(solution.spec.inputs) == 1:
        return ""
    if len(batch) == len(solution.spec.inputs):
        return ", over all samples"
    return ", over the batch of sample" + ("s " if len(batch) > 1 else " ") + ", ".join(map(str, batch))


def _update_part(solution: ModuleSolution, pages: "Pages") -> Part:
    if solution.optimizer is not None:
        return Part(TITLES[solution.spec.optimizer.name], _optimizer_items(solution))
    return Part("One step of gradient descent", pages.update_items())


def snippet_sections(solution: ModuleSolution, part: str) -> list[Section]:
    """One part of the worked solution as sections for a fragment: each step a section with its
    title (a lecturer's notes have no step 7 to refer to); the gradient grids stay in the solution."""
    if part == "network":
        return network_parts(solution)[1]
    pages = Pages(solution)
    items = {"forward": [i for i in pages.forward_items() if not i.section.steps[0].title.startswith("The loss")],
             "loss": [i for i in pages.forward_items() if i.section.steps[0].title.startswith("The loss")],
             "backward": pages.backward_items(), "update": _update_part(solution, pages).items}[part]
    sections = [Section(step.title, step.blocks) for item in items for step in item.section.steps]
    if part == "update":
        view = trained(solution)      # after an optimiser's shown steps, the loss after the last of them
        sections.append(Section(after_steps_title(view) if view is not None else "The loss after the step",
                                [pages.after()]))
    return sections


def slide_parts(solution: ModuleSolution) -> dict:
    """What a deck of a module spec shows, in order: the modules, the pictures (with their sizes, to
    scale them to a frame), the parameters, every numbered step, the summary and the loss after."""
    pages = Pages(solution)
    problem = pages.problem()
    items = pages.forward_items() + pages.backward_items()
    # a step of many entries alike is shortened on a slide; the optimiser's lines (g, m, v, ... of one
    # parameter) are not alike and are shown whole; a shortened update shows real changes first
    whole = solution.optimizer is not None
    update = _update_part(solution, pages).items if whole else pages.update_items(moving_first=True)
    d = solution.derivation
    return {"modules": problem["modules"], "loss": problem["loss"], "pictures": problem["sized"],
            "given": problem["given"],
            "steps": [(step.title, step.blocks) for item in items + ([] if whole else update)
                      for step in item.section.steps],
            "whole_steps": [(step.title, step.blocks) for item in update if whole for step in item.section.steps],
            "summary": pages.summary(), "loss_name": "E", "loss_after_name": loss_after("E"), "before": pages.p.number(d.values[d.graph.loss]),
            "after": pages.p.number(d.loss_after), "falls": d.loss_after < d.values[d.graph.loss]}


def history(solution: ModuleSolution, pages: "Pages") -> dict | None:
    """The loss curve over every iteration and the final parameters (iterations > 1)."""
    run = solution.training
    if run is None or solution.spec.iterations == 1:
        return None
    h = run.history
    params = [n.sym for n in pages.g.nodes if n.role == "param"]
    values = pages.p.column([run.final[p] for p in params])     # one form for the column
    return {**loss_curve(h), "first": pages.p.number(h[0]), "last": pages.p.number(h[-1]),
            "final": [{"name": pages.name(p), "value": v} for p, v in zip(params, values)]}


def solutions_context(solution: ModuleSolution) -> dict:
    pages = Pages(solution)
    parts = [Part("Forward pass", pages.forward_items()), Part("Backpropagation", pages.backward_items())]
    if solution.optimizer is None:
        parts.append(Part("One step of gradient descent", pages.update_items()))
    _numbered(parts)
    optimizer = None
    if solution.optimizer is not None:
        counter = Counter()
        counter.number = sum(len(item.section.steps) for part in parts for item in part.items)
        optimizer = optimizer_context(trained(solution), counter)
    rows = pages.summary()
    tall = any("^{" in row["name"] for row in rows)
    if optimizer is not None:   # w^{(4)}_{11} under w^{(4)}_{12}: taller rows; the next heading off the table
        optimizer |= {"tall": tall, "gap": True}
    return {"title": solution.spec.title, "decimals": solution.spec.decimals,
            "plots": solution.training is not None and solution.spec.iterations > 1,
            "problem": pages.problem(), "parts": parts, "after": pages.after(), "optimizer": optimizer,
            "summary": [rows[i:i + TABLE_ROWS] for i in range(0, len(rows), TABLE_ROWS)],
            "history": history(solution, pages),
            # w^{(1)}_{11} under w^{(1)}_{21}: taller rows, as the MLP's summary sets them
            "tall_names": tall}


def _name_rows(names: list[str], groups: list[int]) -> list[str]:
    """The answer list of a task, NAMES_PER_ROW names a row; when the step's blocks each hold a few
    names (the optimiser's step: a parameter's g, m+, v+, m-hat, v-hat, θ+), one block a row, so
    that no row ends in the middle of one parameter's quantities."""
    if len(groups) > 1 and sum(groups) == len(names) and max(groups) <= NAMES_PER_ROW:
        starts = [sum(groups[:i]) for i in range(len(groups))]
        return [", ".join(names[a:a + n]) for a, n in zip(starts, groups) if n]
    return [", ".join(names[i:i + NAMES_PER_ROW]) for i in range(0, len(names), NAMES_PER_ROW)]


def worksheet_context(solution: ModuleSolution) -> dict:
    """The handout: the problem with blank maps, and one task per step of the solution, asking for
    the quantities that step computes."""
    pages = Pages(solution)
    parts = [Part("Forward pass", pages.forward_items()), Part("Backpropagation", pages.backward_items()),
             _update_part(solution, pages)]
    if solution.optimizer is not None:    # the rule is given with the problem: the first step is asked
        first = parts[-1].items[1].section.steps[0]
        text = [f"The first step of {rule_name(solution.spec.optimizer.name)}"
                " (the rule given above) at ", Math("t = 1"),
                _batch_words(solution)]
        parts[-1] = Part(parts[-1].title, [Item(Section("", steps=[NumberedStep(0, text, first.blocks)]))])
    _numbered(parts)
    tasks = []
    for part in parts:
        for item in part.items:
            for step in item.section.steps:
                names = [] if item.blank else item.asked or [line.lhs for block in step.blocks for line in block.given
                                                             if line.lhs]     # a grid to fill in is the task
                rows = _name_rows(names, [len([line for line in block.given if line.lhs]) for block in step.blocks]
                                  if not (item.blank or item.asked) else [])
                lines = len([line for block in step.blocks for line in block.lines])
                title = step.title if isinstance(step.title, list) else [step.title]
                text = title + [f" ({item.note})"] if item.note else step.title
                tasks.append({"text": text, "rows": rows, "lines": max(lines, 1), "pictures": item.blank,
                              "space": f"{min(2 + 1.2 * lines, 30):.1f}\\baselineskip"})
    return {"title": solution.spec.title, "decimals": solution.spec.decimals, "plots": False,
            "problem": pages.problem(), "tasks": tasks}
