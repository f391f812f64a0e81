"""The optimiser's worked steps: its rule in symbols, then the first steps with their numbers.

For one or two parameters (the first weight of the output layer and of the first layer, the ones
the lecture works first) every line is written out, rule = numbers = value: the gradient, the
velocity or the moments, Adam's bias correction and the update; a table gives the same numbers for
every trained parameter. The loss curve over all iterations is the solution's as before.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import sympy as sp

from ..numeric.optimizers import STATES, OptimizerRun
from ..printing.latex import Printer
from ..printing.numbers import shows_few_digits
from ..solution import Solution
from .blocks import Block, Line, Math, NumberedStep, Section
from .steps import Counter

TITLES = {"sgd": "Stochastic gradient descent", "momentum": "Gradient descent with momentum",
          "nesterov": "Gradient descent with Nesterov momentum", "rmsprop": "RMSprop", "adam": "Adam"}
STATE_TEXT = {"v": "velocity", "s": "running mean of the squared gradient", "m": "first moment"}
TABLE_ROWS = 36   # rows of one table piece (a page holds about 45 at \small)
ADAM_TEXT = {"m": "first moment (the running mean of the gradient)",
             "v": "second moment (the running mean of its square)"}


@dataclass
class Trained:
    """What the optimiser's pages read of a solution (an MLP's or a module spec's): the run, the
    names and what is given, the loss and each parameter's gradient symbol, the parameters worked
    in full."""

    run: OptimizerRun
    names: Mapping                 # symbol -> structured name
    decimals: int
    given: list                    # the problem's data (parameters, η, inputs) as symbols
    parameters: list               # every parameter, trained or not
    loss: sp.Symbol
    gradient: Mapping              # parameter -> the symbol of ∂E/∂p
    shown: list                    # the parameters whose every line is written out
    samples: int
    learning_rate: float
    config: Any                    # training.Optimizer

    @property
    def eta(self) -> sp.Symbol:
        return self.run.symbolic.eta


def trained_view(solution: Solution) -> Trained:
    """An MLP solution's optimiser part as the pages read it."""
    d, spec = solution.derivation, solution.spec
    return Trained(solution.optimizer, d.model.names.of, spec.decimals, d.given(), d.model.parameters(),
                   d.loss, d.gradient, shown_parameters(solution), len(spec.inputs), spec.learning_rate,
                   spec.optimizer)


def shown_parameters(solution: Solution) -> list[sp.Symbol]:
    """The parameters worked in full: the first weight into the output layer and into the first layer."""
    m = solution.derivation.model
    trained = solution.optimizer.symbolic.trained
    picks = [m.weights[-1][0][0], m.weights[0][0][0]]
    return [p for i, p in enumerate(picks) if p in trained and p not in picks[:i]]


def _state_sentence(name: str) -> str:
    if name == "sgd":
        return "Each step moves every trained parameter against its gradient."
    if name == "adam":
        return ("Each trained parameter keeps a " + ADAM_TEXT["m"] + " and a " + ADAM_TEXT["v"]
                + "; both start at 0, so the first steps divide them by 1 minus the decay rate to the "
                "power of the step number (the bias correction).")
    what = STATE_TEXT[STATES[name][0]]
    first = " so the first velocity is the gradient itself." if name in ("momentum", "nesterov") else "."
    return f"Each trained parameter keeps a {what}, which starts at 0;" + first


def _printer(view: Trained, first_step: bool = True) -> Printer:
    """The printer of the optimiser's pages: the spec's constants (η, β1, β2, ε, μ, α) and the step
    count are given data, printed as written; everything computed has its decimals. From the second
    step on the parameters are computed too (the first step's results), not the spec's numbers."""
    sym = view.run.symbolic
    given = list(view.given) + list(sym.constants.values()) + [sym.step_number]
    if not first_step:
        parameters = set(view.parameters)
        given = [g for g in given if g not in parameters]
    return Printer(view.names, view.decimals, given=given, scientific=scientific_quantities(view))


# Adam's moments and RMSprop's mean square are divided by 1 − β^t (as small as 0.001) or put
# under a square root by a later line: shown with fewer digits than this, that line cannot be redone.
MOMENT_DIGITS = 4


def scientific_quantities(view: Trained) -> frozenset:
    """The optimiser's quantities printed as m × 10^k in every line and table of the document (one
    form per quantity: v+ is not 0.000006751 in a line and 6.75142256 × 10^-6 in the table). A
    quantity takes that form when one of its values over the shown steps needs it by the column rule
    (below the last place), and for the moments (Adam's m, v and their corrections, RMSprop's s)
    also when one shows fewer than MOMENT_DIGITS significant digits: at 4 places v+ = 0.0002 gives
    v-hat = 0.0002 / 0.001 = 0.2, not the 0.1834 printed beside it. A state is a column of the
    step's table: its form is the column's (every parameter's, and the next step's old state); a
    correction has no column and takes its form per parameter (v-hat = 0.5352, not 5.352 × 10^-1,
    when another parameter's is 0.0001234)."""
    run = view.run
    sym = run.symbolic
    digits = min(MOMENT_DIGITS, view.decimals) if sym.name in ("adam", "rmsprop") else 1

    def needs(quantity: list) -> bool:
        return any(shows_few_digits(it.values[q], view.decimals, digits)
                   for it in run.iterations for q in quantity if q in it.values)
    out: set = set()
    for s in {s for s, _ in sym.new_state}:
        column = [sym.new_state[s, par] for par in sym.trained]
        if needs(column):
            out.update(column + [sym.state[s, par] for par in sym.trained])
    for q in sym.corrected.values():
        if needs([q]):
            out.add(q)
    return frozenset(out)


def optimizer_sections(solution: Solution | Trained, counter: Counter) -> list[Section]:
    """The rule, then one numbered step per shown iteration (lines for the shown parameters, a table)."""
    view = solution if isinstance(solution, Trained) else trained_view(solution)
    run = view.run
    sym = run.symbolic
    config = view.config
    p = _printer(view)
    shown = view.shown
    by_parameter = _steps_by_parameter(sym)
    first = shown[0] if shown else sym.trained[0]
    constants = [Math(f"{p.name(view.eta)} = {p.given_number(view.learning_rate)}")]
    constants += [Math(f"{p.name(s)} = {p.given_number(config.constant(c))}") for c, s in sym.constants.items()]
    batch = ("all samples" if config.batch_size == view.samples else
             f"mini-batches of {config.batch_size} samples taken in order (the last of a pass smaller "
             "when they do not divide evenly)")
    text: list = [_state_sentence(config.name) + " With "]
    for i, c in enumerate(constants):
        text += [c, ", " if i < len(constants) - 2 else " and " if i == len(constants) - 2 else ""]
    over = "" if view.samples == 1 else f" taken over {batch}"     # one sample: no batch to speak of
    text += [", and the gradient of each step ", Math(p.name(sym.gradient[first])),
             f"{over}, the rule for ", Math(p.name(first)), " (every parameter alike) is:"]
    rule = rule_lines(view, p, first)
    steps = [NumberedStep(counter.next(), "The update rule", [Block(text, rule)])]
    for it in run.iterations:
        blocks = []
        batch_text = ("" if len(it.batch) == view.samples else
                      " over the batch of sample" + ("s " if len(it.batch) > 1 else " ")
                      + ", ".join(map(str, it.batch)))
        p = _printer(view, first_step=it.number == 1)
        for par in shown:
            lines = parameter_lines(view, par, it, p, by_parameter[par])
            blocks.append(Block(["For ", Math(p.name(par)), ", with the gradient at the current parameters"
                                 f"{batch_text} and ", Math(f"t = {it.number}"), ":"], lines))
        # "Step 13. The step at t = 1": the optimiser counts its steps by t, the solution by number.
        title = ["The step at ", Math(f"t = {it.number}"), ", the loss before it ",
                 Math(f"{p.name(view.loss)} = {p.number(it.loss)}")]
        steps.append(NumberedStep(counter.next(), title, blocks))
    return [Section(TITLES[config.name], steps=steps)]


def rule_lines(view: Trained, p: Printer | None = None, par: sp.Symbol | None = None) -> list[Line]:
    """The rule for one parameter (the first shown one unless `par`), a line per step."""
    sym = view.run.symbolic
    p = p or _printer(view)
    par = par if par is not None else (view.shown[0] if view.shown else sym.trained[0])
    return [Line(p.name(step.name), [p.symbolic(step.expr)]) for step in _steps_by_parameter(sym)[par]]


def constant_lines(view: Trained) -> list[Line]:
    """The rule's constants as given lines (β1 = 0.9, ...)."""
    p = _printer(view)
    return [Line(p.name(s), [p.given_number(view.config.constant(c))]) for c, s in view.run.symbolic.constants.items()]


def parameter_lines(view: Trained, par: sp.Symbol, it, p: Printer, steps: list) -> list[Line]:
    """One parameter's lines in one step `it`: its gradient g, then each of `steps` (states,
    corrections, update) as rule = numbers = value."""
    sym = view.run.symbolic
    # Over all samples g is the loss's partial; over a batch only that batch's share of it.
    whole = [p.name(view.gradient[par])] if len(it.batch) == view.samples else []
    lines = [Line(p.name(sym.gradient[par]), whole + [p.number(it.values[sym.gradient[par]])])]
    return lines + [Line(p.name(step.name), p.chain(step.name, step.expr, it.values, it.values[step.name]))
                    for step in steps]


def first_step_lines(solution: Solution | Trained, par: sp.Symbol) -> list[Line]:
    """The optimiser's first step for one trained parameter, every line (an exam's feedback on p+)."""
    view = solution if isinstance(solution, Trained) else trained_view(solution)
    return parameter_lines(view, par, view.run.iterations[0], _printer(view),
                           _steps_by_parameter(view.run.symbolic)[par])


def _steps_by_parameter(sym) -> dict:
    """Each trained parameter's steps (states, corrections, update), in the rule's order."""
    out: dict = {}
    it = iter(sym.steps)
    per = len(sym.steps) // len(sym.trained)
    for par in sym.trained:
        out[par] = [next(it) for _ in range(per)]
    return out


def optimizer_table(view: Trained) -> dict:
    """Every trained parameter in each shown step: value before, gradient, states after, value after."""
    run = view.run
    sym = run.symbolic
    p = _printer(view)
    states = STATES[sym.name]
    first = sym.trained[0]
    header = ["parameter", "before", Math(p.name(sym.gradient[first]).replace(p.name(first), r"\theta"))]
    header += [Math(p.name(sym.new_state[s, first]).replace(p.name(first), r"\theta")) for s in states]
    header += ["after"]
    tables = []
    for it in run.iterations:
        p = _printer(view, first_step=it.number == 1)
        # Each column of computed values in one form (all m × 10^k when one entry needs it).
        columns = [p.column([it.values[sym.gradient[par]] for par in sym.trained])]
        # the states in the form their lines use (scientific_quantities): one form per quantity
        columns += [[p.value_of(sym.new_state[s, par], it.values[sym.new_state[s, par]]) for par in sym.trained]
                    for s in states]
        columns += [p.column([it.values[sym.updated[par]] for par in sym.trained])]
        before = [p.value_of(par, it.values[par]) for par in sym.trained]
        if not any(par in p.given for par in sym.trained):
            before = p.column([it.values[par] for par in sym.trained])
        rows = [[p.name(par), before[i]] + [c[i] for c in columns] for i, par in enumerate(sym.trained)]
        # A table is one box: long ones in pieces that each fit a page.
        for start in range(0, len(rows), TABLE_ROWS):
            tables.append({"number": it.number, "rows": rows[start:start + TABLE_ROWS],
                           "continued": start > 0})
    header_tex = [h.tex if isinstance(h, Math) else h for h in header]
    return {"columns": len(header), "header": header_tex, "math": [isinstance(h, Math) for h in header],
            "tables": tables, "title": TITLES[sym.name]}


def optimizer_context(solution: Solution | Trained, counter: Counter) -> dict:
    """The template's part: the heading, then the rule and each worked step, each step followed by
    its table of every trained parameter."""
    view = solution if isinstance(solution, Trained) else trained_view(solution)
    section = optimizer_sections(view, counter)[0]
    table = optimizer_table(view)
    parts = [{"section": Section(section.title, steps=section.steps[:1]), "tables": []}]
    for it, step in zip(view.run.iterations, section.steps[1:]):
        parts.append({"section": Section(section.title, steps=[step]),
                      "tables": [t for t in table["tables"] if t["number"] == it.number]})
    # tall: taller rows (names with a superscript); gap: space between a table and the next heading
    return {"title": section.title, "parts": parts, "columns": table["columns"],
            "header": table["header"], "math": table["math"], "tall": False, "gap": False}


COUNT_WORDS = {2: "two", 3: "three", 4: "four", 5: "five"}


def after_steps_text(view: Trained) -> list:
    """The loss after the shown steps, beside the loss before the first one: the sentence that follows
    the last shown step's table. With three steps shown it is the loss after the third step (the loss
    after the first is already the heading of the second), compared with the loss before the first;
    'down' only when it is smaller."""
    run = view.run
    shown = len(run.iterations)
    p = _printer(view, first_step=False)
    loss = p.name(view.loss)
    before, after = run.history[0], run.history[shown]
    count = "the step" if shown == 1 else f"these {COUNT_WORDS.get(shown, shown)} steps"
    value = f"{loss}^{{+}} = {p.number(after)}" if shown == 1 else f"{loss} = {p.number(after)}"
    first = "" if shown == 1 else " before the first step"
    text = [f"A new forward pass with the parameters after {count} gives the loss ", Math(value)]
    if after < before:
        return text + [", down from ", Math(p.number(before)), first + "."]
    if after == before:
        return text + [", the same as", first or " before it", "."]
    return text + [", up from ", Math(p.number(before)), first,
                   f" ({'the step was' if shown == 1 else 'the steps were'} too long for this learning rate)."]


def after_steps_section(solution: Solution | Trained, counter: Counter) -> Section:
    """The numbered step after the optimiser's last shown table: the loss after the shown steps."""
    view = solution if isinstance(solution, Trained) else trained_view(solution)
    return Section("After the steps", steps=[NumberedStep(counter.next(), after_steps_title(view),
                                                          [Block(after_steps_text(view))])])


def after_steps_title(view: Trained) -> str:
    """'The loss after three steps' (one step: 'The loss after one step')."""
    shown = len(view.run.iterations)
    return "The loss after one step" if shown == 1 else f"The loss after {COUNT_WORDS.get(shown, shown)} steps"


def rule_sentence(view: Trained, loss: str) -> list:
    """What the rule below it reads, in words: 'Every parameter θ is updated by the rule below,
    shown for K_11, with g_K11 the gradient of E at the current parameters, m_K11 and v_K11 starting
    at 0, and t the number of the step (t = 1 for the first):' (not 'updated as K_11 is')."""
    sym = view.run.symbolic
    p = _printer(view)
    first = view.shown[0] if view.shown else sym.trained[0]
    states = [Math(p.name(sym.state[s, first])) for s in STATES[sym.name]]
    text = ["Every parameter ", Math(r"\theta"), " is updated by the rule below, shown for ", Math(p.name(first)),
            ", with ", Math(p.name(sym.gradient[first])), " the gradient of ", Math(loss),
            " at the current parameters"]
    if states:
        text += [", "] + [piece for i, m in enumerate(states) for piece in ([" and "] if i else []) + [m]]
        text += [" starting at 0"]
    return text + [", and ", Math(p.name(sym.step_number)), " the number of the step (",
                   Math(f"{p.name(sym.step_number)} = 1"), " for the first):"]
