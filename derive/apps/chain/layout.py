"""The rule-by-rule steps of `rules` as display lines and as JSON.

Lines come in the order a teacher writes them: a step, then the steps of its parts. A chain step is
preceded by the name it gives the inner function (u = x^2). With `brief`, the elementary steps
(those with no parts: constants, the variable, x^n, sin x, ...) are folded into the step above.
Every LaTeX string comes from the printer.
"""
from __future__ import annotations

import sympy as sp

from ...layout.blocks import Line
from ...printing.calculus import CalculusPrinter
from ...printing.width import latex_width
from .rules import RULE_TEXT, Step, d, evaluate, tidy, times


WIDTH = 60   # latex_width units of a fragment's row (as document), the note's column included


def step_lines(step: Step, p: CalculusPrinter, brief: bool = False, name: str | None = None) -> list[Line]:
    """The display lines of `step` and the steps under it. The first line's left side is `name`
    (df/dx) when given; a chain's inner part is du/dx (the chain's result is shown in u, the
    substituted form follows in the summary); any other step d/dx [its expression]. The rule's name
    closes the step's first row; a form too wide for the row is left out (the result never is), the
    rest go on in further rows."""
    entries: list[tuple[str, list[str], str, object]] = []   # lhs, forms, note, the result

    def visit(s: Step, lhs: str, top: bool) -> None:
        if brief and not s.steps and not top:
            return
        formula = p.symbolic(s.formula)
        if s.inner is not None:
            u, g = s.inner
            entries.append((p.name(u), [p.symbolic(g)], "the inner function", g))
            ordinary = g.free_symbols == {s.variable}
            outer, inner = s.steps
            formula = p.chain_formula(outer.expression, u, s.variable, ordinary)
            shown_result = times(outer.result, inner.result)
        else:
            shown_result = s.result
        text = RULE_TEXT.get(s.rule, s.rule)
        if s.rule == "sum" and len(s.steps) < len(s.expression.args):
            text += "; the other terms are constants"
        entries.append((lhs, [formula, p.symbolic(shown_result)], text, shown_result))
        for i, part in enumerate(s.steps):
            if s.inner is not None and i == 1:
                u, g = s.inner
                visit(part, p.derivative(u, s.variable, g.free_symbols == {s.variable}), False)
            else:
                visit(part, p.symbolic(d(part.expression, part.variable)), False)

    visit(step, name or p.symbolic(d(step.expression, step.variable)), True)
    left = max(latex_width(lhs) for lhs, _, _, _ in entries)
    lines: list[Line] = []
    for lhs, forms, text, result in entries:
        note = p.note(text)
        room = max(20.0, WIDTH - left - 2)
        shown: list[str] = []
        for i, form in enumerate(forms):
            last = i == len(forms) - 1
            fits = latex_width(form) + (latex_width(note) if not shown else 0) <= room
            if (not shown or shown[-1] != form) and (last or fits):
                shown.append(form)
        rows = [Line(lhs, [shown[0]])]
        used = latex_width(shown[0])
        for form in shown[1:]:
            if used + 2 + latex_width(form) > room:
                rows += _split(form, result, room, p)
                used = latex_width(form)
            else:
                rows[-1].rhs.append(form)
                used += 2 + latex_width(form)
        if latex_width(" = ".join(rows[0].rhs)) + latex_width(note) <= room:
            rows[0].rhs[-1] += note
        else:                       # no room beside the formula: the rule's name on a row of its own
            rows.insert(1, Line("", [note], continued=True))
        lines += rows
    return lines


def _split(form: str, result, room: float, p: CalculusPrinter) -> list[Line]:
    """= form on a row of its own; a sum too wide for it a few terms a row (+ ... under =)."""
    if latex_width(form) <= room or not isinstance(result, sp.Add) or p.symbolic(result) != form:
        return [Line("", [form])]
    for per_line in range(len(result.args) - 1, 0, -1):
        pieces = p.split_sum(result, per_line)
        if all(latex_width(piece) <= room for piece in pieces) or per_line == 1:
            return [Line("", [pieces[0]])] + [Line("", [piece], continued=True) for piece in pieces[1:]]
    return [Line("", [form])]


def step_json(step: Step) -> dict:
    """{"rule", "expression", "result", "steps": [...]}; a chain step also names its inner function."""
    data: dict = {"rule": step.rule, "expression": str(step.expression),
                  "result": str(tidy(evaluate(step.result)))}
    if step.inner is not None:
        data["inner"] = {"name": str(step.inner[0]), "expression": str(step.inner[1])}
    data["steps"] = [step_json(s) for s in step.steps]
    return data


def rules_used(step: Step) -> list[str]:
    """The rules in the order shown, each once."""
    out: list[str] = []
    for s in step.flat():
        if s.rule not in out:
            out.append(s.rule)
    return out

