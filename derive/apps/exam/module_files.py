"""The files of a module spec's exam: question pages with the module pictures, the worked solutions,
the answer keys (PDF, JSON, CSV) and the Moodle quiz (cloze, or numerical as [exam] moodle says).

The keys (keys.tex, keys.csv, keys-long.csv) are the MLP exam's writers, which take any variant with
numbered answers to its questions; the question pages and the solutions are the module documents'
problem and body, once per variant. moodle.xml holds one cloze question per variant (or, numerical,
one question per variant per asked quantity, without the picture), every number
of the network written out, and (with PDFs) the variant's pictures as a PNG inside the question: the
input grids and kernels, or the unrolled RNN, as on exam.pdf (alt_text says which), drawn by TeX in
parts while Python writes the other files (diagrams.py), one page per variant of diagrams.tex. A
network with nothing to draw (dense modules and residual blocks only) has no picture anywhere.
"""
from __future__ import annotations

import contextlib
import html
from pathlib import Path
import sys

from ...layout.optimizer import constant_lines, first_step_lines, rule_lines
from ...modules.layout import LOSS_TEXT, WIDE, Pages, describe, rule_name, solutions_context, trained
from ...output import tex
from ...output.folders import check_target, dumps_json, staged_folder
from ...output.render import render
from ...modules.section import ModuleSpec
from ...printing.names import name_latex
from ...printing.numbers import SCIENTIFIC_FORM, given_number
from . import canvas, csvkeys, diagrams, qti
from .cloze import cloze_quiz, field
from .draw import Variant
from .questions import Question
from .folder import LMS, Progress, variant_count
from .roster import Student
from .layout import ASK, ASK_BACKWARD, ASK_OPTIMIZER, SPACE_CM, SPACE_PER_STEP_CM, shown_tolerance, tolerance_text
from .modules import module_variants
from .moodle import QuestionHtml, math, numerical_quiz
from .settings import Settings

PDFS = ["exam.tex", "solutions.tex", "keys.tex"]
NO_PICTURE = "note: {files} {has} no picture of the modules{why}; {its} questions list every number\n"
KNOWN = ("exam.tex", "exam.pdf", "solutions.tex", "solutions.pdf", "keys.tex", "keys.pdf", "keys.json",
         "keys.csv", "keys-long.csv", "moodle.xml", "variants/[0-9][0-9][0-9]/exam.tex",
         "variants/[0-9][0-9][0-9]/solutions.tex", "variants/[0-9][0-9][0-9]/key.json")
# The most room under one question: half of a page's text. Each room also stretches (the template's
# `plus ...fil`, in proportion to its size) to share out a page's blank end among that page's
# questions, rather than leaving it empty after the last one: a loss over a convolution's whole pass
# gets the rest of its page, where a fixed larger room would push it off a page it half fills.
MODULE_SPACE_CM = 12.0
# An update without an optimiser, worded as an optimiser's ("Adam, first step: compute K+"): "compute
# the value after one step, K+" put the name after a comma; "compute K+, the value of K after one
# step" pushes the answer line off the question's line.
ASK_UPDATE = "Gradient descent, one step: compute"
KEY_ROW_STRETCH = 1.7      # keys.tex's \arraystretch (an MLP key's: 1.3)
SINGULAR = {"kernels": "kernel", "biases": "bias", "weights": "weight", "input_weights": "input weight",
            "recurrent_weights": "recurrent weight"}     # a parameter list's label when it holds one


def _ask(kind: str, v: Variant | None = None) -> str:
    if kind == "update" and v is not None and v.spec.optimizer is not None:
        return f"{ASK_OPTIMIZER[v.spec.optimizer.name]}, first step: compute"
    if kind == "update":
        return ASK_UPDATE
    return ASK.get(kind, ASK_BACKWARD)


def working_space(v: Variant, questions: tuple[Question, ...]) -> list[str]:
    """Room to work under each question, as an MLP exam's (layout.SPACE_PER_STEP_CM per line of the
    worked solution the question needs that no earlier question needed, from layout.SPACE_CM's least
    up to MODULE_SPACE_CM): the loss needs the whole forward pass, a gradient the backward steps not
    already worked, an optimiser's first step its every line (g, the states, their corrections, the
    update: first_step_lines, what the feedback prints). A module's pass has tens of entries (25 of a
    5×5 map), so the room reaches half a page, where an MLP's stops at SPACE_CM's 6 cm; below it the
    questions keep the order of their work (the backward pass no shorter than one line of a dense
    weight, an Adam step longer than it)."""
    d = v.solution.derivation
    steps = {st.target: st for st in d.forward + d.backward + d.updates}
    parameter = {u: p for p, u in d.updated.items()}
    view = trained(v.solution)
    seen: set = set()
    out = []
    for q in questions:
        needed: set = set()
        todo = [q.symbol]
        lines = 0
        if view is not None and q.kind == "update":     # p+ under an optimiser: its lines, then its gradient
            lines = len(first_step_lines(view, parameter[q.symbol]))
            todo = [d.gradient[parameter[q.symbol]]]
        while todo:
            sym = todo.pop()
            if sym in needed or sym not in steps:
                continue            # given numbers need no work
            needed.add(sym)
            todo += steps[sym].expr.free_symbols
        new = len(needed - seen) + lines
        seen |= needed
        cm = min(max(SPACE_PER_STEP_CM * new, SPACE_CM[0]), MODULE_SPACE_CM)
        out.append(f"{cm:.1f}cm")
    return out


def _question_rows(v: Variant, settings: Settings, spaces: list[str] | None = None) -> list[dict]:
    names = v.solution.derivation.names
    return [{"text": _ask(q.kind, v), "name": name_latex(names[q.symbol]), "sample": None, "answer": q.latex(a),
             "plain": q.name, "plain_answer": q.shown(a),
             "tolerance": (shown_tolerance if q.significant else tolerance_text)(q.tolerance_at(a)),
             "points": q.points, "space": spaces[i] if spaces else None,
             "stretch": spaces[i].replace("cm", "fil") if spaces else None}     # 12.0cm: 12.0fil
            for i, (q, a) in enumerate(zip(settings.questions, v.answers))]


def carried_forward(settings: Settings, variant: Variant) -> list[dict]:
    """Error carried forward: an updated parameter whose gradient is an earlier answer is that
    parameter minus η times the student's own gradient (the other answers' formulas are whole
    forward and backward passes, not written here)."""
    d = variant.solution.derivation
    names = d.names
    parameter = {u: p for p, u in d.updated.items()}
    number = {q.symbol: i for i, q in enumerate(settings.questions, start=1)}
    out: list[dict] = []
    if variant.spec.optimizer is not None:    # p+ is not p - eta g under an optimiser's rule
        return out
    for j, q in enumerate(settings.questions, start=1):
        if q.kind != "update":
            continue
        p = parameter[q.symbol]
        i = number.get(d.gradient[p])
        if i is not None and i < j:
            out.append({"number": j, "name": name_latex(names[q.symbol]), "from": str(i),
                        "formula": f"{name_latex(names[p])} - \\eta\\, {name_latex(names[d.gradient[p]])}"})
    return out


def keys_context(spec: ModuleSpec, settings: Settings, variants: list[Variant], who: list[dict]) -> dict:
    """keys.tex's context (the MLP exam's template), with the updates' error-carried-forward formulas.
    The seed is the exam's, one for all variants, and the keys share pages (two variants a row): the
    header says it once, not again beside each variant (`seed_per_variant`). Its rows are taller
    (`row_stretch`) than an MLP key's: a kernel's gradient is a fraction with a superscript,
    ∂E/∂K(1)_11, which touched the rows above and below at the MLP's 1.3."""
    qs = settings.questions
    significant = qs[0].significant
    return {"title": spec.title, "seed": settings.seed, "seed_per_variant": False, "count": len(variants),
            "row_stretch": KEY_ROW_STRETCH,
            "decimals": qs[0].digits,
            "rounding": qs[0].rounding(), "significant": significant,
            "smallest": given_number(10.0 ** -qs[0].digits), "scientific": SCIENTIFIC_FORM, "digits": qs[0].digits,
            "tolerance": "" if significant else tolerance_text(qs[0].tolerance),
            "relative": tolerance_text(qs[0].tolerance) if significant else "",
            "same_tolerance": not significant and len({q.tolerance for q in qs}) == 1, "plots": False,
            "formulas": carried_forward(settings, variants[0]), "variants": [{"number": v.number, "questions": _question_rows(v, settings),
                                          "carried": [], "student": who[n] if n < len(who) else None}
                                         for n, v in enumerate(variants)]}


def documents(spec: ModuleSpec, settings: Settings, variants: list[Variant], dialect: str = "excel",
              students: list[Student] | None = None) -> dict[str, str]:
    """Every text file of the exam folder but moodle.xml, by its path in the folder (each variant's
    own files under variants/NNN/); with a roster, variant k is the k-th student's (name and ID on
    the pages and in the keys)."""
    who = [s.as_dict() for s in students] if students else []
    pages, solutions, files = [], [], {}
    spaces = working_space(variants[0], settings.questions)     # the modules', so the same on every page
    for n, v in enumerate(variants):
        problem = Pages(v.solution).problem()
        page = {"number": v.number, "problem": problem, "rounding": settings.questions[0].rounding(),
                "questions": _question_rows(v, settings, spaces), "student": who[n] if n < len(who) else None}
        solution = solutions_context(v.solution)
        pages.append(page)
        solutions.append({"number": v.number} | solution)
        # Each variant on its own, as the MLP exam writes it: its page, its worked solution (the
        # module worksheet's solutions.tex) and its key.json, to hand to one student or re-run alone.
        folder = f"variants/{v.number:03d}/"
        files[folder + "exam.tex"] = render("module_exam.tex", {"title": spec.title, "plots": False,
                                                                "variants": [page]})
        files[folder + "solutions.tex"] = render("module_solutions.tex", solution)
        files[folder + "key.json"] = dumps_json(v.solution.key)
    return files | {
        "exam.tex": render("module_exam.tex", {"title": spec.title, "plots": False, "variants": pages}),
        "solutions.tex": render("module_exam_solutions.tex", {"title": spec.title, "plots": False,
                                                              "variants": solutions}),
        "keys.tex": render("keys.tex", keys_context(spec, settings, variants, who)),
        "keys.json": dumps_json([{"variant": v.number, **({"student": who[n]} if n < len(who) else {}),
                                  "spec": v.spec_dict(),
                                  "answers": {q.name: a for q, a in zip(settings.questions, v.answers)},
                                  "key": v.solution.key} for n, v in enumerate(variants)]),
        "keys.csv": csvkeys.wide(settings, variants, students, dialect),
        "keys-long.csv": csvkeys.long(settings, variants, dialect),
    }


def _numbers_html(v: Variant) -> list[str]:
    """Every given number of a variant as `\\(name = value\\)` items: the data, the parameters, the
    targets and the learning rate."""
    d = v.solution.derivation
    g = d.graph
    items = []

    def entries(syms) -> str:
        return ", ".join(math(f"{name_latex(d.names[s])} = {given_number(d.values[s])}") for s in syms)

    for s, data in enumerate(g.inputs):
        label = f"Sample {s + 1}, inputs" if len(g.inputs) > 1 else "Inputs"
        items.append(f"{label}: {entries(_flat(data))}")
    for m, params in zip(v.spec.modules, g.params):
        for name, syms in params.items():
            # one kernel (of one filter on one map) or one bias is named in the singular
            count = len(syms) * len(syms[0]) if name == "kernels" else len(_flat(syms))
            label = SINGULAR[name] if count == 1 else name.replace("_", " ")
            items.append(f"Module {m.index + 1}, {html.escape(label)}: {entries(_flat(syms))}")
    for s, targets in enumerate(g.targets):
        label = f"Sample {s + 1}, targets" if len(g.targets) > 1 else "Targets"
        items.append(f"{label}: {entries(targets)}")
    eta = r"\eta = " + given_number(v.spec.learning_rate)
    items.append(f"Learning rate: {math(eta)}")
    view = trained(v.solution)
    if view is not None:     # the optimiser's constants and its rule (every parameter alike)
        items += [f"{math(line.lhs + ' = ' + line.rhs[0])}" for line in constant_lines(view)]
        items.append("Update rule (every parameter alike, each state starting at 0): "
                     + ", ".join(math(line.lhs + " = " + line.rhs[0]) for line in rule_lines(view)))
    return items


def _flat(tensor) -> list:
    return [x for t in tensor for x in _flat(t)] if isinstance(tensor, list) else [tensor]


def pictures(v: Variant) -> list[str]:
    """The variant's pictures as exam.pdf shows them: TikZ, one row each."""
    return Pages(v.solution).problem()["pictures"]


def diagram_document(variants: list[Variant]) -> str:
    """The TeX document with one page per variant's pictures, stacked (for the LMS images)."""
    return render("module_exam_diagrams.tex", {"plots": False, "diagrams": [pictures(v) for v in variants]})


def _grids(count: int, what: str, shape: tuple) -> str:
    """'the 6×6 input grid' or 'the 3 input grids of 6×6'; a one-dimensional one (a row) by its length:
    'the kernel of 3 values'."""
    if len(shape) == 1:
        return f"the {what} of {shape[0]} values" if count == 1 else f"the {count} {what}s of {shape[0]} values"
    size = "×".join(map(str, shape))
    return f"the {size} {what}" if count == 1 else f"the {count} {what}s of {size}"


def alt_text(spec: ModuleSpec) -> str:
    """What this network's picture (pictures() on exam.pdf, layout's data pictures) shows, in words
    for a screen reader: the unrolled RNN and its input sequence, or the input grids and every
    convolution's kernels, and a wide weight matrix's grids; every number written in them."""
    first = next(m for m in spec.modules if m.kind != "residual")
    samples = len(spec.inputs)
    each = f" of each of the {samples} samples" if samples > 1 else ""
    parts, chain = [], ""
    if first.kind == "rnn":            # the chain names its quantities; the sequence's grid has the numbers
        chain = f"the recurrent network unrolled over {first.in_shape[0]} time steps, and "
        parts.append(f"the input sequence{each}")
    elif first.kind in ("conv1d", "conv2d"):
        maps, what = first.in_shape[0], "input grid" if first.kind == "conv2d" else "input row"
        parts.append(_grids(maps, what, first.in_shape[1:]) + (" (one per channel)" if maps > 1 else "") + each)
    for m in spec.modules:
        if m.kind in ("conv1d", "conv2d"):
            parts.append(_grids(m.out_shape[0] * m.in_shape[0], "kernel", tuple(m.size)) + f" of module {m.index + 1}")
        if m.kind == "dense" and m.in_shape[0] > WIDE:
            parts.append(f"the weights of module {m.index + 1} in grids of up to {WIDE} columns")
    if not parts:                      # dense modules and residual blocks: no picture, no alt text
        return ""
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    one = len(parts) == 1 and samples == 1 and " grids " not in listed and " rows " not in listed
    return chain + listed + (" with its numbers" if chain and one else ", with its numbers" if one
                             else ", with their numbers")


def _prose_html(pieces: list) -> str:
    """Prose pieces as HTML: the words escaped, the math (y^{(2)} = a^{(1)} + f(a^{(1)})) as the
    quiz's other math, so a module reads as on the PDF's page."""
    return "".join(html.escape(p) if isinstance(p, str) else math(p.tex) for p in pieces)


def problem_html(spec: ModuleSpec, v: Variant, image: str = "") -> str:
    """The problem of one variant as HTML: the modules in words, the picture (`image`, its <img>
    paragraph, when there is one), the loss and every number."""
    modules = "".join(f"<li>Module {m.index + 1}, {_prose_html(describe(m, spec.modules))}.</li>\n"
                      for m in spec.modules)
    several = len(spec.inputs) > 1
    loss = f"The loss is {LOSS_TEXT[spec.loss]}" + (", summed over the samples." if several else ".")
    numbers = "".join(f"<li>{item}.</li>\n" for item in _numbers_html(v))
    return (f"<p><strong>{html.escape(spec.title)}</strong> (variant {v.number})</p>\n"
            f"<p>The network, module by module:</p>\n<ol>\n{modules}</ol>\n{image}<p>{html.escape(loss)} "
            + _training_text(spec) + "</p>\n<p>The numbers:</p>\n<ul>\n" + numbers + "</ul>\n")


def _training_text(spec: ModuleSpec) -> str:
    if spec.optimizer is None:
        return "One step of gradient descent updates every parameter."
    size = spec.optimizer.batch_size
    batch = "" if size == len(spec.inputs) else (" on the first batch: sample 1" if size == 1 else
                                                 f" on the first batch: samples 1 to {size}")
    return (f"The first step of {html.escape(rule_name(spec.optimizer.name))} updates every parameter{batch}, "
            "every state starting at 0.")


def ask_html(v: Variant, q: Question) -> str:
    """What a part asks, in words and its symbol."""
    return f"{html.escape(_ask(q.kind, v))} {math(name_latex(v.solution.derivation.names[q.symbol]))}"


def texts(spec: ModuleSpec) -> QuestionHtml:
    """What the LMS packages write of this network's variants (the picture's alt text is its own)."""
    return QuestionHtml(problem_html, ask_html, alt_text(spec))


def question_html(spec: ModuleSpec, settings: Settings, v: Variant, image: str = "") -> str:
    parts = "".join(f"<li><p>{ask_html(v, q)} "
                    f"({q.points:g} point{'s' if q.points != 1 else ''}): {field(q, a)}</p></li>\n"
                    for q, a in zip(settings.questions, v.answers))
    return (problem_html(spec, v, image)
            + f"<p>Give every answer {html.escape(settings.questions[0].rounding())}, and keep full precision in "
            "intermediate steps.</p>\n<ol>\n" + parts + "</ol>\n")


def feedback_html(settings: Settings, v: Variant, questions: tuple[Question, ...] | None = None) -> str:
    """The asked steps (`questions`, default all) of the variant's worked solution: each its rule,
    the numbers substituted and the value (the lines of solutions.pdf), then the answers rounded as
    asked."""
    questions = settings.questions if questions is None else questions
    d = v.solution.derivation
    pages = Pages(v.solution)
    steps = {st.target: st for st in d.forward + d.backward + d.updates}
    parameter = {u: p for p, u in d.updated.items()}
    lines = []
    for q in questions:
        # an optimiser's p+: its first step's every line (g, states, corrections, the update)
        shown = [pages.worked_line(steps[q.symbol])] if q.symbol in steps else first_step_lines(
            trained(v.solution), parameter[q.symbol])
        lines += ["<p>" + math(line.lhs + " = " + " = ".join(line.rhs)) + "</p>\n" for line in shown]
    step, answers = ("step", "answer") if len(questions) == 1 else ("steps", "answers")
    return (f"<p>Worked solution of the asked {step}: the rule, the numbers substituted and the value "
            f"(full precision carried, values shown rounded).</p>\n" + "".join(lines)
            + f"<p>The {answers} of this variant:</p>\n<ul>\n"
            + "".join(f"<li>{math(name_latex(d.names[q.symbol]) + ' = ' + q.latex(a))}</li>\n"
                      for q, a in zip(settings.questions, v.answers) if q in questions) + "</ul>\n")


def quiz(spec: ModuleSpec, settings: Settings, variants: list[Variant],
         images: dict[int, bytes] | None = None) -> str:
    """moodle.xml (deterministic): with [exam] moodle = "cloze", a category and one cloze question
    per variant, each with its picture when `images` has it; with "numerical", as the MLP exam's, a
    category per asked quantity holding one numerical question per variant (every number in words,
    no picture), its feedback that quantity's worked line."""
    if settings.lms.moodle == "numerical":
        problems = {v.number: problem_html(spec, v) for v in variants}
        return numerical_quiz(settings, variants, lambda v: problems[v.number], ask_html,
                              lambda v, q: feedback_html(settings, v, (q,)))
    return cloze_quiz(settings, variants, images, lambda v, image: question_html(spec, settings, v, image),
                      lambda v: feedback_html(settings, v), alt_text(spec))


def write_module_exam(spec: ModuleSpec, settings: Settings, out: str | Path, pdf: bool = True,
                      force: bool = False, dialect: str = "excel", students: list[Student] | None = None,
                      roster: str | None = None, lms: str = "moodle", stream=None) -> tuple[list[Variant], bool]:
    """Draw, verify, render and (with `pdf`) compile a module spec's exam into `out`; on any error
    `out` is untouched. Returns the variants and whether moodle.xml has their pictures."""
    inputs = ([spec.source] if spec.source != "<spec>" else []) + ([roster] if roster else [])
    check_target(out, inputs)
    n = variant_count(spec, settings, students)
    if pdf:
        tex.require_tex()
    variants = module_variants(spec, settings, n, progress=Progress(n, "drawing and checking"))
    drawn = pdf and bool(pictures(variants[0]))     # the pictures depend on the modules, not the numbers
    with staged_folder(out, force=force, inputs=inputs, known=KNOWN) as stage:
        batch = tex.Batch(stage, single_run=True) if pdf else contextlib.nullcontext()
        with batch:
            if pdf:          # TeX draws the pictures while Python writes the documents
                Progress(n, "").say("running TeX on " + ", ".join(([diagrams.SOURCE] if drawn else []) + PDFS)
                                    + " ...")
            parts = diagrams.start(batch, stage, variants, document=diagram_document) if drawn else []
            files = documents(spec, settings, variants, dialect, students)
            for name in sorted(files, key=lambda name: (name not in PDFS, -len(files[name]) if pdf else 0, name)):
                (stage / name).parent.mkdir(parents=True, exist_ok=True)
                (stage / name).write_text(files[name], encoding="utf-8")
                if pdf and name in PDFS:
                    batch.submit(name)
            images = diagrams.collect(parts, stage) if drawn else None
            (stage / "moodle.xml").write_text(quiz(spec, settings, variants, images), encoding="utf-8")
            if lms == "canvas":
                (stage / LMS[lms]).write_bytes(canvas.package(spec, settings, variants, images,
                                                              [s.as_dict() for s in students or []], texts(spec)))
            elif lms == "qti21":
                (stage / LMS[lms]).write_bytes(qti.package(spec, settings, variants, images, texts(spec)))
    if not drawn:
        names = sorted({LMS["moodle"], LMS[lms]})
        has, its = ("has", "its") if len(names) == 1 else ("have", "their")
        (stream or sys.stderr).write(NO_PICTURE.format(
            files=" and ".join(names), has=has, its=its, why="" if not pdf else " (these modules have no grids to draw)"))
    elif settings.lms.moodle == "numerical":
        (stream or sys.stderr).write(NO_PICTURE.format(files=LMS["moodle"], has="has", its="its",
                                                       why=" (its numerical questions carry none)"))
    return variants, drawn
