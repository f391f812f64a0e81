"""Template contexts of an exam: the question pages, the worked solutions, the answer keys.

Arrangement only, as in `layout`: every LaTeX string about mathematics comes from `printing`.
"""
from __future__ import annotations

import math

import sympy as sp

from ...derivation import Derivation
from ...layout import problem
from ...layout import solution as solution_layout
from ...layout.blocks import Line, Math
from ...layout.optimizer import first_step_lines
from ...layout.steps import StepWriter
from ...model.unevaluated import add, minus, mul
from ...numeric.optimizers import STATES
from ...printing.latex import Printer
from ...printing.names import name_latex
from ...printing.numbers import SCIENTIFIC_FORM, given_number
from ...solution import Solution
from .draw import Variant
from .questions import Question
from .settings import TOLERANCE_DECIMALS, Settings

# What a question asks, by the kind of step that computes the quantity.
ASK = {
    "forward": "Forward pass: compute",
    "loss": "Loss: compute",
    "total": "All samples together: compute",
    "update": "Gradient descent: compute the value after one step,",
}
ASK_BACKWARD = "Backpropagation: compute"
STATE_WORDS = {"momentum": "the velocity", "nesterov": "the velocity", "rmsprop": "the mean square",
               "adam": "both moments"}
ASK_OPTIMIZER = {"sgd": "Gradient descent", "momentum": "Momentum", "nesterov": "Nesterov momentum",
                 "rmsprop": "RMSprop", "adam": "Adam"}
# Working space on the exam page, like the worksheet's (5 cm for a forward pass of 8 steps): so much
# per step of the solution that the question needs beyond what earlier questions already worked out.
SPACE_PER_STEP_CM = 0.6
SPACE_CM = (1.5, 6.0)                  # at least, at most


def ask(solution: Solution, q: Question) -> str:
    """What a question asks, by the kind of step; an update under an optimiser is its first step
    (short, so that the answer line stays on the question's line; `optimizer_note` says the rest)."""
    if q.kind == "update" and solution.optimizer is not None:
        return f"{ASK_OPTIMIZER[solution.spec.optimizer.name]}, first step: compute"
    return ASK.get(q.kind, ASK_BACKWARD)


def optimizer_note(solution: Solution) -> list | None:
    """Under an optimiser, what its first step starts from and which samples it takes: prose
    pieces (text and `Math`)."""
    if solution.optimizer is None:
        return None
    config = solution.spec.optimizer
    p = Printer(solution.derivation.model.names.of, solution.spec.decimals)
    pieces: list = ["The updates ask for the first step of the update rule given above"]
    if STATES[config.name]:
        pieces += [f", with {STATE_WORDS[config.name]} starting at 0 and ",
                   Math(f"{p.name(solution.optimizer.symbolic.step_number)} = 1")]
    n = len(solution.spec.inputs)
    if config.batch_size < n:
        pieces.append(", on the first batch: sample 1" if config.batch_size == 1 else
                      f", on the first batch: samples 1 to {config.batch_size}")
    return pieces + ["."]


def update_lines(solution: Solution) -> int:
    """The lines of working one updated parameter takes: 1, or the optimiser's g, states,
    corrections and update."""
    if solution.optimizer is None:
        return 1
    sym = solution.optimizer.symbolic
    return 1 + len(sym.steps) // len(sym.trained)


def printer(variant: Variant) -> Printer:
    m = variant.solution.derivation.model
    return Printer(m.names.of, variant.spec.decimals, given=variant.solution.derivation.given())


def questions(variant: Variant, settings: Settings, spaces: list[str] | None = None) -> list[dict]:
    """The asked quantities of a variant: the question's words, the name, the sample, the answer
    (with exactly the digits asked for), its tolerance and the working space."""
    p = printer(variant)
    several = len(variant.spec.inputs) > 1
    rows = []
    for i, (q, a) in enumerate(zip(settings.questions, variant.answers)):
        rows.append({"text": ask(variant.solution, q), "name": p.name(q.symbol),
                     "sample": q.sample + 1 if several and q.sample is not None else None,
                     "answer": q.latex(a), "plain": q.name, "tolerance": tolerance_text(q.tolerance_at(a)) if not q.significant else
                     shown_tolerance(q.tolerance_at(a)),
                     "plain_answer": q.shown(a), "points": q.points,
                     "space": spaces[i] if spaces else None})
    return rows


def working_space(d: Derivation, questions: tuple[Question, ...], per_update: int = 1) -> list[str]:
    """Room to work under each question, proportional to the steps it needs that no earlier
    question needed (the shape's, so computed once per exam); an updated parameter takes
    `per_update` lines (an optimiser's first step: its gradient, states and corrections too)."""
    seen: set = set()
    out = []
    for q in questions:
        steps = set(dependencies(d, q))
        new = len(steps - seen) + (per_update - 1 if q.kind == "update" else 0)
        seen |= steps
        cm = min(max(SPACE_PER_STEP_CM * new, SPACE_CM[0]), SPACE_CM[1])
        out.append(f"{cm:.1f}cm")
    return out


def wiring(variant: Variant) -> list[tuple[str, str, str]]:
    """Which neurons every weight connects, as LaTeX (weight, from, to): "w5 connects h1 to o1"."""
    m = variant.solution.derivation.model
    p = printer(variant)
    return [(p.name(m.weights[l][j][k]), name_latex(m.neuron_names[l][k]), name_latex(m.neuron_names[l + 1][j]))
            for l in range(len(m.weights)) for j in range(len(m.weights[l])) for k in range(len(m.weights[l][j]))]


def page(variant: Variant, settings: Settings, spaces: list[str] | None = None,
         student: dict | None = None, solution: dict | None = None) -> dict:
    """One variant's question page: its network with its numbers, its data, the questions, and the
    student it is for (id and name) when a roster is given. `solution`, the variant's
    `solution_context`, lends its diagram and data (the same records; laying out the diagram's
    labels is the dearer half of a page)."""
    shown = solution or {"diagram": problem.diagram(variant.solution), "given": problem.given(variant.solution)}
    return {"number": variant.number, "diagram": shown["diagram"], "given": shown["given"],
            "questions": questions(variant, settings, spaces), "student": student,
            "rounding": settings.questions[0].rounding(), "note": optimizer_note(variant.solution)}


def solution_context(variant: Variant) -> dict:
    """A variant's worked solution: the same context as `derive worksheet`'s solutions.tex."""
    return {**solution_layout.solutions_context(variant.solution), "number": variant.number}


def solutions_context(spec, settings: Settings, contexts: list[dict]) -> dict:
    """Every variant's worked solution in one document (`contexts` from `solution_context`)."""
    return {"title": spec.title, "seed": settings.seed, "count": len(contexts),
            "plots": any(c["plots"] for c in contexts), "variants": contexts}


def shown_tolerance(tolerance: float) -> str:
    """A tolerance that scales with its answer, as LaTeX to 2 significant digits (a grader's table;
    the LMS files carry all of its digits)."""
    places = max(0, 1 - math.floor(math.log10(tolerance))) if tolerance > 0 else 0
    return Printer({}, places).number(tolerance)


def tolerance_text(tolerance: float) -> str:
    """A tolerance as LaTeX (all its digits, as set)."""
    return Printer({}, TOLERANCE_DECIMALS).given_number(tolerance)


def keys_context(spec, settings: Settings, variants: list[Variant], students: list | None = None) -> dict:
    """One compact answer table per variant, the seed and the tolerance on top, the student of each
    variant (roster), and what a grader needs to carry an error forward."""
    qs = settings.questions
    significant = qs[0].significant
    d = variants[0].solution.derivation
    forward = carried_forward(d, qs, first_step_rules(variants[0].solution))
    p = printer(variants[0])
    formulas = [{"number": j + 1, "name": p.name(q.symbol), "formula": p.symbolic(f.expr),
                 "from": ", ".join(str(i) for i in f.uses)}
                for j, (q, f) in enumerate(zip(qs, forward)) if f is not None]
    leaves = sorted({leaf for f in forward if f is not None for leaf in f.leaves},
                    key=lambda k: (k[1] is None, k[1] or 0, str(k[0])))
    several = len(spec.inputs) > 1
    rows = []
    for n, v in enumerate(variants):
        vp = printer(v)
        values = [f"{vp.name(sym)}{f' (sample {s + 1})' if several and s is not None else ''} = "
                  f"{vp.number(_value(v, sym, s))}" for sym, s in leaves]
        rows.append({"number": v.number, "questions": questions(v, settings), "carried": values,
                     "student": students[n] if students and n < len(students) else None})
    return {"title": spec.title, "seed": settings.seed, "count": len(variants), "decimals": spec.decimals,
            "rounding": qs[0].rounding(), "significant": significant,
            # the number rule's other form, said in the header (E_o2 = 2.057 × 10^-5 at 4 places)
            "smallest": given_number(10.0 ** -qs[0].digits), "scientific": SCIENTIFIC_FORM, "digits": qs[0].digits,
            "tolerance": "" if significant else tolerance_text(qs[0].tolerance),
            "relative": tolerance_text(qs[0].tolerance) if significant else "",
            "same_tolerance": not significant and len({q.tolerance for q in qs}) == 1, "plots": False,
            "formulas": formulas, "variants": rows}


def _value(v: Variant, sym: sp.Symbol, sample: int | None) -> float:
    values = v.solution.values
    return values.totals[sym] if sample is None else values.samples[sample][sym]


class Forward:
    """A dependent answer's formula in the earlier answers (`uses`, 1-based question numbers), the
    given numbers and the intermediate values that do not depend on earlier answers (`leaves`)."""

    def __init__(self, expr: sp.Expr, uses: list[int], leaves: list[tuple]):
        self.expr, self.uses, self.leaves = expr, uses, leaves


def first_step_rules(solution: Solution) -> dict[sp.Symbol, sp.Expr | None] | None:
    """With an optimiser, each updated parameter p+ after its first step (every state 0, t = 1) in
    the loss's gradient g = dE/dp, written as a grader recomputes it: momentum's first velocity is
    g, so its step is gradient descent's; Nesterov's direction is g + mu g; RMSprop's mean square is
    (1 - alpha) g^2; Adam's corrected moments are g and g^2. None for a parameter whose first step
    works on one batch of several samples (its g is no earlier answer). None without an optimiser."""
    if solution.optimizer is None:
        return None
    d = solution.derivation
    sym = solution.optimizer.symbolic
    config = solution.spec.optimizer
    c = sym.constants
    rules: dict[sp.Symbol, sp.Expr | None] = {}
    for p, plus in d.updated.items():
        if p not in sym.trained or config.batch_size < len(solution.spec.inputs):
            rules[plus] = None
            continue
        g = d.gradient[p]
        square = sp.Pow(g, 2, evaluate=False)
        if config.name in ("sgd", "momentum"):
            step = mul(sym.eta, g)
        elif config.name == "nesterov":
            step = mul(sym.eta, add(g, mul(c["momentum"], g)))
        else:
            mean_square = square if config.name == "adam" else mul(minus(sp.Integer(1), c["alpha"]), square)
            step = mul(mul(sym.eta, g), sp.Pow(add(sp.sqrt(mean_square, evaluate=False), c["epsilon"]), -1,
                                               evaluate=False))
        rules[plus] = minus(p, step)
    return rules


def carried_forward(d: Derivation, questions: tuple[Question, ...],
                    rules: dict[sp.Symbol, sp.Expr | None] | None = None) -> list[Forward | None]:
    """Error carried forward: for each asked quantity that is computed from earlier asked ones, its
    formula in them, expanded only through the steps that depend on them (so a grader puts the
    student's own earlier values in and gets the answer that follows from them). None where an
    answer depends on no earlier one. Depends on the shape only, and `rules` (an optimiser's first
    step for each p+, from `first_step_rules`) on the optimiser."""
    by_name = {s.name: s for s in d.steps}
    rules = rules or {}
    sample_names = {s.name for s in d.sample_steps}
    feeds = {total: (sym, s) for total, sym, s in d.from_samples}

    def norm(sym, sample):
        if sample is None and sym in feeds and feeds[sym][0] == sym:   # one sample: a total is sample 0's
            return feeds[sym]
        return sym, sample

    out: list[Forward | None] = []
    for j, q in enumerate(questions):
        earlier = {norm(p.symbol, p.sample): i + 1 for i, p in enumerate(questions[:j])}
        uses: set[int] = set()
        leaves: list[tuple] = []
        memo: dict[tuple, tuple[sp.Expr, bool]] = {}

        def expand(sym, sample, top=False):
            key = norm(sym, sample)
            if key in memo:
                return memo[key]
            if key in earlier and not top:
                uses.add(earlier[key])
                memo[key] = (sym, True)
                return memo[key]
            step = by_name.get(key[0])
            if step is None or (key[1] is None) == (key[0] in sample_names):
                memo[key] = (sym, False)    # a given number (or another sample's total): on the page
                return memo[key]
            expr = rules.get(key[0], step.expr)
            parts = {f: expand(f, key[1]) for f in expr.free_symbols}
            if any(hit for _, hit in parts.values()):
                # An asked rule that only names earlier answers (w5+ = w5 - eta dE/dw5) keeps the
                # lecture's form: replacing them by themselves would rebuild it in sympy's order.
                same = top and all(e == f for f, (e, _) in parts.items())
                memo[key] = (expr if same else expr.xreplace({f: e for f, (e, _) in parts.items()}), True)
            else:
                memo[key] = (sym, False)
                if not top:
                    leaves.append(key)
            return memo[key]

        if q.symbol in rules and rules[q.symbol] is None:   # the optimiser's step on one batch
            out.append(None)
            continue
        expr, hit = expand(q.symbol, q.sample, top=True)
        if not hit:
            out.append(None)
            continue
        # keep only the leaves that the expanded formula still names
        names = expr.free_symbols
        out.append(Forward(expr, sorted(uses), [k for k in leaves if k[0] in names]))
    return out


def dependencies(d: Derivation, question: Question) -> list[tuple[sp.Symbol, int | None]]:
    """The steps an asked quantity is computed from, in the solution's order, each with its sample
    (None: over all samples). It depends on the shape only: work it out once per question."""
    by_name = {s.name: s for s in d.steps}
    sample_names = {s.name for s in d.sample_steps}
    feeds = {total: (sym, s) for total, sym, s in d.from_samples}
    order = {s.name: i for i, s in enumerate(d.steps)}
    needed: set[tuple] = set()

    def visit(sym, sample: int | None) -> None:
        if (sym, sample) in needed:
            return
        if sample is None and sym in feeds:
            visit(*feeds[sym])
            return
        step = by_name.get(sym)
        if step is None or (sample is None) == (sym in sample_names):
            return   # a given number (parameter, input, target, learning rate)
        needed.add((sym, sample))
        for f in step.expr.free_symbols:
            visit(f, sample)

    visit(question.symbol, question.sample)
    return sorted(needed, key=lambda k: (k[1] is None, k[1] or 0, order[k[0]]))


class StepLines:
    """A variant's display lines (symbolic = substituted = value) of one step, made once when first
    asked: one line, or for p+ under an optimiser its first step's lines (g, states, update)."""

    def __init__(self, variant: Variant):
        self.solution = variant.solution
        self.by_name = {s.name: s for s in variant.solution.derivation.steps}
        self.updated = {plus: p for p, plus in variant.solution.derivation.updated.items()}
        self.writers: dict[int, StepWriter] = {}
        self.lines: dict[tuple, list[Line]] = {}

    def __call__(self, sym: sp.Symbol, sample: int | None) -> list[Line]:
        key = (sym, sample)
        if key not in self.lines:
            optimizer = self.solution.optimizer
            if optimizer is not None and self.updated.get(sym) in optimizer.symbolic.trained:
                self.lines[key] = first_step_lines(self.solution, self.updated[sym])
            else:
                at = sample or 0
                if at not in self.writers:
                    self.writers[at] = StepWriter(self.solution, at)
                self.lines[key] = [self.writers[at].line(self.by_name[sym])]
        return self.lines[key]
