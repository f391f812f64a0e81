"""Template contexts of an exam: the question pages, the worked solutions, the answer keys.

Arrangement only, as in `layout`: every LaTeX string about mathematics comes from `printing`.
"""
from __future__ import annotations

import sympy as sp

from ...derivation import Derivation
from ...layout import problem
from ...layout import solution as solution_layout
from ...layout.blocks import Line
from ...layout.steps import StepWriter
from ...printing.latex import Printer
from ...printing.numbers import plain_number
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


def printer(variant: Variant) -> Printer:
    m = variant.solution.derivation.model
    return Printer(m.names.of, variant.spec.decimals, given=variant.solution.derivation.given())


def questions(variant: Variant, settings: Settings) -> list[dict]:
    """The asked quantities of a variant: the question's words, the name, the sample, the answer."""
    p = printer(variant)
    several = len(variant.spec.inputs) > 1
    rows = []
    for q, a in zip(settings.questions, variant.answers):
        rows.append({"text": ASK.get(q.kind, ASK_BACKWARD), "name": p.name(q.symbol),
                     "sample": q.sample + 1 if several and q.sample is not None else None,
                     "answer": p.number(a), "plain": q.name, "tolerance": tolerance_text(q.tolerance),
                     "plain_answer": plain_number(a, variant.spec.decimals)})
    return rows


def page(variant: Variant, settings: Settings) -> dict:
    """One variant's question page: its network with its numbers, its data, the questions."""
    return {"number": variant.number, "diagram": problem.diagram(variant.solution),
            "given": problem.given(variant.solution), "questions": questions(variant, settings)}


def solution_context(variant: Variant) -> dict:
    """A variant's worked solution: the same context as `derive worksheet`'s solutions.tex."""
    return {**solution_layout.solutions_context(variant.solution), "number": variant.number}


def solutions_context(spec, settings: Settings, contexts: list[dict]) -> dict:
    """Every variant's worked solution in one document (`contexts` from `solution_context`)."""
    return {"title": spec.title, "seed": settings.seed, "count": len(contexts),
            "plots": any(c["plots"] for c in contexts), "variants": contexts}


def tolerance_text(tolerance: float) -> str:
    """A tolerance as LaTeX (all its digits, as set)."""
    return Printer({}, TOLERANCE_DECIMALS).given_number(tolerance)


def keys_context(spec, settings: Settings, variants: list[Variant]) -> dict:
    """One compact answer table per variant, the seed and the tolerance on top."""
    return {"title": spec.title, "seed": settings.seed, "count": len(variants), "decimals": spec.decimals,
            "tolerance": tolerance_text(settings.questions[0].tolerance),
            "same_tolerance": len({q.tolerance for q in settings.questions}) == 1, "plots": False,
            "variants": [{"number": v.number, "questions": questions(v, settings)} for v in variants]}


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
    """A variant's display lines (symbolic = substituted = value), each made once when first asked."""

    def __init__(self, variant: Variant):
        self.solution = variant.solution
        self.by_name = {s.name: s for s in variant.solution.derivation.steps}
        self.writers: dict[int, StepWriter] = {}
        self.lines: dict[tuple, Line] = {}

    def __call__(self, sym: sp.Symbol, sample: int | None) -> Line:
        key = (sym, sample)
        if key not in self.lines:
            at = sample or 0
            if at not in self.writers:
                self.writers[at] = StepWriter(self.solution, at)
            self.lines[key] = self.writers[at].line(self.by_name[sym])
        return self.lines[key]
