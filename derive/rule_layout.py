"""The rule-by-rule steps of `rules` as display lines and as JSON.

Lines come in the order a teacher writes them: a step, then the steps of its parts. A chain step is
preceded by the name it gives the inner function (u = x^2). With `brief`, the elementary steps
(those with no parts: constants, the variable, x^n, sin x, ...) are folded into the step above.
Every LaTeX string comes from the printer.
"""
from __future__ import annotations

from .layout import Line
from .printing import CalculusPrinter
from .rules import RULE_TEXT, Step, d, evaluate, tidy


def step_lines(step: Step, p: CalculusPrinter, brief: bool = False, rows=None) -> list[Line]:
    """The display lines of `step` and the steps under it; `rows(lhs, forms)` wraps a long line."""
    rows = rows or (lambda lhs, forms: [Line(lhs, forms)])
    lines: list[Line] = []

    def visit(s: Step, top: bool) -> None:
        if brief and not s.steps and not top:
            return
        if s.inner is not None:
            u, g = s.inner
            lines.extend(rows(p.name(u), [p.symbolic(g)]))
            lines[-1].note = "the inner function"
        forms = [p.symbolic(s.formula), p.symbolic(s.result)]
        shown = rows(p.symbolic(d(s.expression, s.variable)), forms)
        shown[0].note = RULE_TEXT.get(s.rule, s.rule)
        lines.extend(shown)
        for part in s.steps:
            visit(part, False)

    visit(step, True)
    return lines


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

