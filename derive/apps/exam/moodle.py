"""Moodle XML: the exam as a quiz import, one numerical question per asked quantity per variant.

A driver, not a second layout: the question text shows the numbers of the problem (the same strings
`problem.given` gives the PDF, in MathJax's \\( \\) delimiters), the general feedback the main steps of
the worked solution (symbolic = substituted = value, from the printer). One category per asked
quantity holds that quantity's variants, so a quiz that draws one random question from each
category gives every student one variant of every question.

Moodle's format: UTF-8 declaration first, root <quiz>, a question of type "category" whose
<category> path starts with $course$ ("/" in a name is written "//"), then the numerical questions
with <name>, <questiontext format="html"> (CDATA), <generalfeedback>, <answer fraction="100"> and
an absolute <tolerance>.
"""
from __future__ import annotations

import html
from xml.sax.saxutils import escape

from ...layout import problem
from ...layout.blocks import Line
from ...printing.numbers import given_number, plain_number
from ...spec import Spec
from .draw import Variant
from .layout import ASK, ASK_BACKWARD, StepLines, dependencies, printer
from .questions import Question
from .settings import Settings



def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _math(latex: str) -> str:
    """Inline mathematics for Moodle's MathJax filter, escaped as HTML."""
    return r"\(" + html.escape(latex, quote=False) + r"\)"


def _category_name(text: str) -> str:
    return text.replace("/", "//")


def problem_html(spec: Spec, variant: Variant) -> str:
    """The problem of one variant: the network and every number of its picture, as HTML."""
    g = problem.given(variant.solution)
    layers = "-".join(map(str, spec.layers))
    items = []
    for s in g["samples"]:
        label = f"Sample {s['number']}" if g["several"] else "Inputs and targets"
        items.append(f"{label}: {_math(s['inputs'])}; {_math(s['targets'])}")
    items += [f"Weights: {_math(row)}" for row in g["weights"]]
    items.append("Biases: " + "; ".join(_math(row) for row in g["biases"]))
    items.append(f"Activation: {html.escape(g['activation'])}.")
    loss = (f"Loss: {html.escape(g['loss_name'])}, {_math(g['loss_rule'])} for each output, "
            f"{_math(g['total_rule'])}")
    if g["several"]:
        loss += f" per sample, and the {g['reduction']} over the samples"
    items.append(loss + ".")
    items.append(f"Learning rate: {_math(g['eta'])}; update rule {_math(g['update_rule'])}.")
    return (f"<p><strong>{html.escape(spec.title)}</strong> (variant {variant.number})</p>\n"
            f"<p>A neural network with layers {layers} (inputs, hidden layers, outputs):</p>\n"
            "<ul>\n" + "".join(f"<li>{item}</li>\n" for item in items) + "</ul>\n")


def _ask(variant: Variant, q: Question, decimals: int) -> str:
    sample = f" for sample {q.sample + 1}" if len(variant.spec.inputs) > 1 and q.sample is not None else ""
    return (f"<p>{html.escape(ASK.get(q.kind, ASK_BACKWARD))} {_math(printer(variant).name(q.symbol))}{sample}. "
            f"Give the answer to {decimals} decimal places.</p>\n")


def _line_html(line: Line) -> str:
    return "<p>" + _math(line.lhs + " = " + " = ".join(line.rhs)) + "</p>\n"


def feedback_html(lines: StepLines, steps: list, several: bool) -> str:
    """The main steps of the worked solution, grouped by sample when there are several."""
    parts = ["<p>Worked solution: each line is the rule, the numbers substituted and the value "
             "(full precision carried, values shown rounded).</p>\n"]
    current = "start"
    for sym, sample in steps:
        if several and sample != current:
            heading = "All samples together" if sample is None else f"Sample {sample + 1}"
            parts.append(f"<p><em>{heading}</em></p>\n")
        current = sample
        parts.append(_line_html(lines(sym, sample)))
    return "".join(parts)


def quiz(spec: Spec, settings: Settings, variants: list[Variant]) -> str:
    """The whole Moodle XML file (deterministic: same variants, same bytes)."""
    d = variants[0].solution.derivation
    several = len(spec.inputs) > 1
    steps = {q: dependencies(d, q) for q in settings.questions}
    problems = {v.number: problem_html(spec, v) for v in variants}
    lines = {v.number: StepLines(v) for v in variants}
    out = ['<?xml version="1.0" encoding="UTF-8"?>', "<quiz>"]
    for i, q in enumerate(settings.questions, start=1):
        label = f"Question {i:02d}: {q.name}"
        out += ['  <question type="category">',
                f"    <category><text>{escape('$course$/top/' + _category_name(spec.title) + '/' + _category_name(label))}</text></category>",
                f'    <info format="html"><text>{_cdata(_info(spec, settings, q, len(variants)))}</text></info>',
                "  </question>"]
        for v in variants:
            text = problems[v.number] + _ask(v, q, spec.decimals)
            feedback = feedback_html(lines[v.number], steps[q], several)
            answer = plain_number(v.answers[i - 1], spec.decimals)
            out += ['  <question type="numerical">',
                    f"    <name><text>{escape(f'{label} (variant {v.number:03d})')}</text></name>",
                    f'    <questiontext format="html"><text>{_cdata(text)}</text></questiontext>',
                    f'    <generalfeedback format="html"><text>{_cdata(feedback)}</text></generalfeedback>',
                    "    <defaultgrade>1</defaultgrade>",
                    "    <penalty>0.3333333</penalty>",
                    "    <hidden>0</hidden>",
                    '    <answer fraction="100" format="moodle_auto_format">',
                    f"      <text>{answer}</text>",
                    '      <feedback format="html"><text></text></feedback>',
                    f"      <tolerance>{given_number(q.tolerance)}</tolerance>",
                    "    </answer>",
                    "    <unitgradingtype>0</unitgradingtype>",
                    "    <unitpenalty>0.1000000</unitpenalty>",
                    "    <showunits>3</showunits>",
                    "    <unitsleft>0</unitsleft>",
                    "  </question>"]
    out.append("</quiz>")
    return "\n".join(out) + "\n"


def _info(spec: Spec, settings: Settings, q: Question, count: int) -> str:
    return (f"<p>{count} variants of the quantity {html.escape(q.name)} (seed {settings.seed}). "
            "Add one random question from this category to the quiz: each student gets one variant.</p>")
