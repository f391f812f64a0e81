"""Moodle XML, `[exam] moodle = "cloze"` (the default): one embedded-answers question per variant.

A quiz that draws one random question per category draws each independently, so with one
category per quantity a student could meet up to one network per part. Here every part of a
variant is one `{points:NUMERICAL:=answer:tolerance}` field of the same question, on the same
network, so "one random question from the category" gives a student one whole variant.

Moodle's multianswer (cloze) syntax: `{` weight `:NUMERICAL:=` answer `:` tolerance `}`, the
weight a whole number (the part's share of the question's marks), the tolerance absolute. The
network diagram is a PNG inside the question (`<file name=... path="/" encoding="base64">`, shown
by `<img src="@@PLUGINFILE@@/name">`); the general feedback is the variant's worked solution.
"""
from __future__ import annotations

import base64
import html
from typing import Callable
from xml.sax.saxutils import escape

from ...spec import Spec
from .diagrams import image_name, png_size
from .draw import Variant
from .layout import StepLines
from .moodle import (NETWORK_PICTURE, ask_html, cdata, feedback_html, image_html, problem_html, solution_steps,
                     tags_xml)
from .questions import Question, tolerance_plain
from .settings import Settings


def field(q: Question, answer: float) -> str:
    """One cloze part: `{2:NUMERICAL:=0.5182:0.0005}`."""
    return (f"{{{int(q.points)}:NUMERICAL:={q.shown(answer)}:"
            f"{tolerance_plain(q.tolerance_at(answer))}}}")


def question_html(spec: Spec, settings: Settings, v: Variant, image: str) -> str:
    parts = "".join(f"<li><p>{ask_html(v, q)} ({q.points:g} point{'s' if q.points != 1 else ''}): "
                    f"{field(q, a)}</p></li>\n" for q, a in zip(settings.questions, v.answers))
    rounding = settings.questions[0].rounding()
    return (problem_html(spec, v, image)
            + f"<p>Give every answer {html.escape(rounding)}, and keep full precision in "
            "intermediate steps.</p>\n<ol>\n" + parts + "</ol>\n")


def quiz(spec: Spec, settings: Settings, variants: list[Variant],
         images: dict[int, bytes] | None = None) -> str:
    """The whole Moodle XML file: a category and one cloze question per variant (deterministic)."""
    several = len(spec.inputs) > 1
    steps = solution_steps(variants, settings.questions)
    return cloze_quiz(settings, variants, images, lambda v, image: question_html(spec, settings, v, image),
                      lambda v: feedback_html(StepLines(v), steps, several))


def cloze_quiz(settings: Settings, variants: list[Variant], images: dict[int, bytes] | None,
               question: Callable[[Variant, str], str], feedback: Callable[[Variant], str],
               shows: str = NETWORK_PICTURE) -> str:
    """moodle.xml for any network: the category, then per variant a cloze question whose text is
    `question(v, its picture's <img> or "")` and whose general feedback is `feedback(v)`; each
    variant's PNG (when `images` has it) travels inside its question."""
    lms = settings.lms
    info = (f"<p>{len(variants)} variants (seed {settings.seed}), one question each. Add one random "
            "question from this category to the quiz: each student gets one variant.</p>")
    out = ['<?xml version="1.0" encoding="UTF-8"?>', "<quiz>",
           '  <question type="category">',
           f"    <category><text>{escape('$course$/top/' + lms.category.replace('/', '//'))}</text></category>",
           f'    <info format="html"><text>{cdata(info)}</text></info>',
           "  </question>"]
    for v in variants:
        png = (images or {}).get(v.number)
        name = image_name(v.number)
        image = image_html(f"@@PLUGINFILE@@/{name}", png_size(png), v.number, shows) if png else ""
        files = ([f'      <file name="{name}" path="/" encoding="base64">'
                  f"{base64.b64encode(png).decode('ascii')}</file>"] if png else [])
        out += ['  <question type="cloze">',
                f"    <name><text>{escape(f'{lms.name} (variant {v.number:03d})')}</text></name>",
                '    <questiontext format="html">',
                f"      <text>{cdata(question(v, image))}</text>"] + files + [
                "    </questiontext>",
                f'    <generalfeedback format="html"><text>{cdata(feedback(v))}</text></generalfeedback>',
                f"    <penalty>{lms.penalty:.7f}</penalty>",
                "    <hidden>0</hidden>",
                f"    <idnumber>{escape(f'{lms.idnumber}-v{v.number:03d}')}</idnumber>"] + tags_xml(lms.tags) + [
                "  </question>"]
    out.append("</quiz>")
    return "\n".join(out) + "\n"
