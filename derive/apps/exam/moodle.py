"""Moodle XML, `[exam] moodle = "numerical"`: one numerical question per asked quantity per variant;
and the HTML every LMS export shares (the problem, the wiring, the worked solution).

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

from dataclasses import dataclass
import html
from typing import Callable
from xml.sax.saxutils import escape

from ...layout import problem
from ...layout.problem import RULE_BREAK
from ...layout.blocks import Line, Math
from ...spec import Spec
from .draw import Variant
from .layout import StepLines, ask, dependencies, optimizer_note, printer, wiring
from .questions import Question, tolerance_plain
from .settings import Settings



def cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def math(latex: str) -> str:
    """Inline mathematics for Moodle's MathJax filter, escaped as HTML."""
    return r"\(" + html.escape(latex, quote=False) + r"\)"


def _category_name(text: str) -> str:
    return text.replace("/", "//")


def wiring_html(variant: Variant) -> str:
    """Which neurons each weight connects, in words (the picture says it too, but not every
    reader sees the picture)."""
    return ("<p>Wiring: " + "; ".join(f"{math(w)} connects {math(a)} to {math(b)}"
                                      for w, a, b in wiring(variant)) + ".</p>\n")


NETWORK_PICTURE = "neurons, weights on their edges, biases"     # what an MLP's picture shows (its alt text)


def image_html(src: str, size: tuple[int, int] | None, number: int, shows: str = NETWORK_PICTURE) -> str:
    width = f' width="{size[0]}" height="{size[1]}"' if size else ""
    return (f'<p><img src="{html.escape(src)}" alt="The network of variant {number}: '
            f'{html.escape(shows)}"{width} /></p>\n')


def problem_html(spec: Spec, variant: Variant, image: str = "") -> str:
    """The problem of one variant: the network and every number of its picture, as HTML;
    `image`: the diagram's <img> paragraph, when there is a picture."""
    g = problem.given(variant.solution)
    layers = "-".join(map(str, spec.layers))
    items = []
    for s in g["samples"]:
        label = f"Sample {s['number']}" if g["several"] else "Inputs and targets"
        items.append(f"{label}: {math(s['inputs'])}; {math(s['targets'])}")
    items += [f"Weights: {math(row)}" for row in g["weights"]]
    items.append("Biases: " + "; ".join(math(row) for row in g["biases"]))
    items.append(f"Activation: {html.escape(g['activation'])}.")
    loss = (f"Loss: {html.escape(g['loss_name'])}, {math(g['loss_rule'])} {g['per_output']}, "
            f"{math(g['total_rule'])}")
    if g["several"]:
        loss += f" per sample, and the {g['reduction']} over the samples"
    items.append(loss + ".")
    # An optimiser's rule is several formulas with TeX's \allowbreak between them (MathJax has no
    # \allowbreak): here each is its own formula, and the browser breaks the line between them.
    rule = ", ".join(math(part) for part in g["update_rule"].split(RULE_BREAK))
    items.append(f"Learning rate: {math(g['eta'])}; update rule {rule}.")
    note = optimizer_note(variant.solution)
    if note is not None:
        items.append("".join(math(piece.tex) if isinstance(piece, Math) else html.escape(piece) for piece in note))
    return (f"<p><strong>{html.escape(spec.title)}</strong> (variant {variant.number})</p>\n"
            f"<p>A neural network with layers {layers} (inputs, hidden layers, outputs):</p>\n"
            + image + wiring_html(variant) +
            "<ul>\n" + "".join(f"<li>{item}</li>\n" for item in items) + "</ul>\n")


def ask_html(variant: Variant, q: Question) -> str:
    """What a part asks, in words and symbols, with how to round."""
    sample = f" for sample {q.sample + 1}" if len(variant.spec.inputs) > 1 and q.sample is not None else ""
    return f"{html.escape(ask(variant.solution, q))} {math(printer(variant).name(q.symbol))}{sample}"


@dataclass(frozen=True)
class QuestionHtml:
    """What the LMS packages write of a variant: its problem (with the picture's <img> paragraph),
    what a part asks, and what the picture shows (its alt text). An MLP's here; a module spec's in
    module_files.py."""

    problem: Callable[[Spec, Variant, str], str]
    ask: Callable[[Variant, Question], str]
    shows: str


MLP_HTML = QuestionHtml(problem_html, ask_html, NETWORK_PICTURE)


def solution_steps(variants: list[Variant], questions) -> list:
    """The steps of the worked solution that the asked quantities need, in the solution's order."""
    d = variants[0].solution.derivation
    order = {}
    for q in questions:
        for key in dependencies(d, q):
            order.setdefault(key, None)
    position = {s.name: i for i, s in enumerate(d.steps)}
    return sorted(order, key=lambda k: (k[1] is None, k[1] or 0, position[k[0]]))


def tags_xml(tags) -> list[str]:
    if not tags:
        return []
    return (["    <tags>"] + [f"      <tag><text>{escape(t)}</text></tag>" for t in tags] + ["    </tags>"])


def _ask(variant: Variant, q: Question) -> str:
    return f"<p>{ask_html(variant, q)}. Give the answer {q.rounding()}.</p>\n"


def _line_html(line: Line) -> str:
    return "<p>" + math(line.lhs + " = " + " = ".join(line.rhs)) + "</p>\n"


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
        parts += [_line_html(line) for line in lines(sym, sample)]
    return "".join(parts)


def quiz(spec: Spec, settings: Settings, variants: list[Variant]) -> str:
    """The whole Moodle XML file of numerical questions, one category per asked quantity
    (deterministic: same variants, same bytes)."""
    d = variants[0].solution.derivation
    several = len(spec.inputs) > 1
    steps = {q: dependencies(d, q) for q in settings.questions}
    problems = {v.number: problem_html(spec, v) for v in variants}
    lines = {v.number: StepLines(v) for v in variants}
    lms = settings.lms
    out = ['<?xml version="1.0" encoding="UTF-8"?>', "<quiz>"]
    for i, q in enumerate(settings.questions, start=1):
        label = f"Question {i:02d}: {q.name}"
        out += ['  <question type="category">',
                f"    <category><text>{escape('$course$/top/' + _category_name(lms.category) + '/' + _category_name(label))}</text></category>",
                f'    <info format="html"><text>{cdata(_info(spec, settings, q, len(variants)))}</text></info>',
                "  </question>"]
        for v in variants:
            text = problems[v.number] + _ask(v, q)
            feedback = feedback_html(lines[v.number], steps[q], several)
            a = v.answers[i - 1]
            answer = q.shown(a)
            out += ['  <question type="numerical">',
                    f"    <name><text>{escape(f'{lms.name}: {label} (variant {v.number:03d})')}</text></name>",
                    f'    <questiontext format="html"><text>{cdata(text)}</text></questiontext>',
                    f'    <generalfeedback format="html"><text>{cdata(feedback)}</text></generalfeedback>',
                    f"    <defaultgrade>{q.points:g}</defaultgrade>",
                    f"    <penalty>{lms.penalty:.7f}</penalty>",
                    "    <hidden>0</hidden>",
                    f"    <idnumber>{escape(f'{lms.idnumber}-q{i:02d}-v{v.number:03d}')}</idnumber>",
                    '    <answer fraction="100" format="moodle_auto_format">',
                    f"      <text>{answer}</text>",
                    '      <feedback format="html"><text></text></feedback>',
                    f"      <tolerance>{tolerance_plain(q.tolerance_at(a))}</tolerance>",
                    "    </answer>",
                    "    <unitgradingtype>0</unitgradingtype>",
                    "    <unitpenalty>0.1000000</unitpenalty>",
                    "    <showunits>3</showunits>",
                    "    <unitsleft>0</unitsleft>"] + tags_xml(lms.tags) + ["  </question>"]
    out.append("</quiz>")
    return "\n".join(out) + "\n"


def _info(spec: Spec, settings: Settings, q: Question, count: int) -> str:
    return (f"<p>{count} variants of the quantity {html.escape(q.name)} (seed {settings.seed}). "
            "Add one random question from this category to the quiz: each student gets one variant.</p>")
