"""`derive snippet`: one part of a worked solution as a LaTeX fragment for lecture notes or slides.

A snippet is another layout of the same step records as the worksheet, not a second engine. It is
laid out for the document it lands in (`--fit`): displays broken for that column's width, the
network picture scaled to it, and for beamer a sequence of frames that each fit one frame. Headings
are `\\deriveheading`, a macro of derive.sty, never a sectioning command (beamer has none).
"""
from __future__ import annotations

import dataclasses

from ..errors import DeriveError
from ..layout import problem, steps
from ..layout.blocks import Block, Line, Section
from ..layout.frames import FITS, Fit, block_height, fit_regularization, fitted, frames, regularization_frames
from ..layout.optimizer import optimizer_sections
from ..layout.vector import vector_sections
from ..modules.layout import SNIPPET_PARTS, network_parts, snippet_sections, step_sections
from ..modules.solution import ModuleSolution
from ..output.render import render
from ..regularization.layout import regularization_context
from ..regularization.layout import regularization_sections as build_regularization
from ..solution import Solution

DIAGRAM_CM_PER_STEP = 4.4     # see layout.problem.diagram: x is in cm
DIAGRAM_MARGIN_PT = 40.0      # the outer neurons' halves and the bias labels beside the layers
DIAGRAM_SKIP_PT = 30.0
CM_POINTS = 28.45276          # TeX points in a cm        # the space a centred picture takes above and below it


def sections_for(solution: Solution, part: str) -> list[Section]:
    """The sections of the worked solution that make up `part`."""
    if part == "vector":
        return [_on_its_own(s) for s in vector_sections(solution)]
    if part == "update" and solution.optimizer is not None:   # the optimiser's rule and first steps
        counter = steps.Counter()
        sections = steps.total_sections(solution, counter, inline=True, after=False)
        sections += optimizer_sections(solution, counter)
        after = steps.after_section(solution, counter)
        return sections + ([after] if after else [])
    if part == "update":
        return steps.total_sections(solution)
    if part == "regularization":
        return regularization_sections(solution)
    wanted = {"forward": ("Forward pass",), "loss": ("Loss",),
              "backward": ("Backward pass", "Biases")}[part]
    out = []
    for s in range(len(solution.spec.inputs)):
        for section in steps.sample_sections(solution, s):
            if section.title.startswith(wanted):
                if len(solution.spec.inputs) > 1:
                    section = Section(f"{section.title} (sample {s + 1})", section.blocks, section.steps)
                out.append(section)
    return out


def _on_its_own(section: Section) -> Section:
    """The matrix form as a fragment: its heading once (not repeated as the text's first words), and
    no pointer to results above, which a fragment does not have."""
    blocks = []
    for block in section.blocks:
        text = block.text or ""
        prefix = section.title + ": "
        if text.startswith(prefix):
            text = text[len(prefix)].upper() + text[len(prefix) + 1:]
        text = text.replace(" The entries equal the per-weight results above.",
                            " Its entries are the per-weight gradients of the worked solution.")
        blocks.append(Block(text or None, block.given))
    return Section(section.title, blocks)


def regularization_sections(solution: Solution) -> list[Section]:
    if solution.regularization is None:
        raise DeriveError("this spec has no [regularization] section", file=solution.spec.source,
                          field="--part regularization")
    return build_regularization(solution)


def step_section(solution: Solution, name: str) -> list[Section]:
    """One step by its plain name (`dE_total/dw5`, `out_h1`, `w5+`), with its definition."""
    d = solution.derivation
    aliases = {name, name.replace("dE/", "dE_total/")}
    if solution.optimizer is not None:   # an update, a state: the optimiser's first step
        first = solution.optimizer.iterations[0].values
        found = next((s for s in solution.optimizer.symbolic.steps if s.name.name in aliases), None)
        if found is not None:
            writer = steps.StepWriter(solution, 0)
            return [Section(found.name.name, [Block(None, [Line(writer.p.name(found.name), writer.p.chain(
                found.name, found.expr, first, first[found.name]))])])]
    step = next((s for s in d.steps if s.name.name in aliases), None)
    if step is None:
        known = ", ".join(s.name.name for s in d.steps[:12])
        raise DeriveError(f"no step named {name!r}; steps are named like: {known}, ...",
                          file=solution.spec.source, field="--step")
    writer = steps.StepWriter(solution, 0)
    lines = [x for x in (writer.definition(step), writer.line(step)) if x is not None]
    return [Section(step.name.name, [Block(None, lines)])]


def chosen_sections(solution: Solution, part: str | None, step: str | None) -> list[Section]:
    """What a snippet shows: one step, or one part's sections (none for the network picture)."""
    if step is not None:
        return step_section(solution, step)
    return [] if part == "network" else sections_for(solution, part)


def diagram_scale(diagram: dict, fit: Fit, below: float = 0.0) -> str:
    """The factor that fits the network picture into the line (1 when it fits as drawn) and, in a
    frame, into the frame's height with `below` points of text under it."""
    xs = [float(n["x"]) for n in diagram["nodes"]]
    natural = (max(xs) - min(xs)) * 28.45276 + DIAGRAM_MARGIN_PT
    scale = min(1.0, fit.points / natural)
    if fit.beamer:
        boxes = list(diagram["nodes_boxes"]) + [label["box"] for label in diagram["labels"]]
        tall = (max(b[3] for b in boxes) - min(b[1] for b in boxes)) * 28.45276 + DIAGRAM_SKIP_PT
        scale = min(scale, (fit.height - below) / tall)
    return f"{scale:.3f}"


def style_inline() -> str:
    """derive.sty's definitions, to stand in a standalone document's own preamble."""
    text = render("derive.sty", {})
    keep = [line for line in text.splitlines()
            if not line.startswith((r"\NeedsTeXFormat", r"\ProvidesPackage", r"\endinput"))]
    return "\\makeatletter\n" + "\n".join(keep) + "\n\\makeatother"


def preamble(fit: Fit) -> str:
    """The first lines of a standalone document of the fit's kind."""
    if fit.beamer:
        head = "\\documentclass[aspectratio=169]{beamer}"
    elif fit.name == "twocolumn":
        head = "\\documentclass[twocolumn]{article}"
    elif fit.name == "article":
        head = "\\documentclass{article}"
    else:
        head = f"\\documentclass{{article}}\n\\usepackage[textwidth={fit.points:.1f}pt]{{geometry}}"
    return head + "\n\\usepackage[T1]{fontenc}\n\\usepackage{lmodern}\n" + style_inline()


NARROW_POINTS = 300.0  # a column narrower than this (a two-column article's) sets matrices tighter
TALL_POINTS = 350.0   # about two thirds of an article's page (550 pt)
TAIL_ROWS = 6         # a tall display's last rows that go together: no page ends it with a few rows alone

PAGE_POINTS = 550.0   # an article's text height: a page, or a column of a two-column article


def tall_sections(sections: list[Section], fit: Fit) -> list[str]:
    """The sections whose displays may break between their rows (TeX's choice, at a price): one
    with a display taller than most of a page; in a two-column article also one taller than a
    column, which, held line to line, could break only between its paragraphs, and the narrow
    column would stretch to fill (1 cm gaps, Underfull \\vbox)."""
    return [s.title for s in sections if any(block_height(b, fit) > TALL_POINTS for b in s.blocks)
            or (fit.name == "twocolumn" and sum(block_height(b, fit) for b in s.blocks) > PAGE_POINTS)]


WHERE = {"article": "in lecture notes", "twocolumn": "in one column of a two-column article",
         "beamer": "in a beamer document"}


def snippet(solution: Solution | ModuleSolution, part: str | None, step: str | None, standalone: bool,
            headings: bool = True, fit: Fit = FITS["article"], frame_bodies: bool = False) -> str:
    if frame_bodies and not fit.beamer:
        raise DeriveError("frame bodies are for beamer: add --fit beamer", field="--frame-bodies")
    if isinstance(solution, ModuleSolution):
        return _module_snippet(solution, part, step, standalone, headings, fit, frame_bodies)
    where = WHERE.get(fit.name, f"in a column {fit.name} wide")
    standalone_context = {"preamble": preamble(fit)} if standalone else None
    if step is None and part == "regularization":
        regularization_sections(solution)          # a spec without [regularization]: one clear error
        # The same pieces as the worked solution (prose, displays, tables, the path figure).
        context = fit_regularization(regularization_context(solution, "macro" if headings else "none"), fit)
        return render("regularization_snippet.tex", {
            "standalone": standalone_context, "where": where, "beamer": fit.beamer, "regularization": context,
            "narrow": fit.points < NARROW_POINTS,
            "reg_frames": regularization_frames(context, fit) if fit.beamer else []})
    sections = chosen_sections(solution, part, step)
    if step is not None:
        headings = False
    diagram = problem.diagram(solution) if part == "network" else None
    cut = None
    if fit.beamer:
        name = part if step is None else "step"
        cut = [{"key": f"{name}-{i + 1}", "title": f.title, "blocks": f.blocks, "steps": []}
               for i, f in enumerate(frames(sections, fit))]
    sections = fitted(sections, fit)
    tall = tall_sections(sections, fit)
    return render("snippet.tex", {
        "standalone": standalone_context, "where": where, "sections": sections, "tall": tall, "tail_rows": TAIL_ROWS,
        "narrow": fit.points < NARROW_POINTS,
        "diagram": diagram, "diagram_scale": diagram_scale(diagram, fit) if diagram else "1",
        "headings": headings, "frames": cut, "frame_bodies": frame_bodies})


MODULE_SHARE = 0.95   # of a frame's height that a module spec's frames fill by the estimate (as a deck's)


def module_frame(fit: Fit) -> Fit:
    """A frame for a module spec: a little of it kept free, as in a deck (the estimate now counts
    ∂E/∂w^{(1)}_{11} and max(0, z^{(1)}_{ij}) as tall as they print; with a quarter kept free, the
    cnn's 'routing the gradient' left its fourth row alone on a continuation frame)."""
    return dataclasses.replace(fit, height=fit.height * MODULE_SHARE)


LONG_LINE = 6        # display rows: a line of a module spec longer in a frame shows its rule and its value


def fit_long_lines(block: Block, fit: Fit) -> Block:
    """A module spec's block for a frame: a line whose numbers substituted would fill the frame (a
    kernel gradient summed over 16 positions) as its rule and its value, and a sentence saying so."""
    lines, cut = [], False
    for line in block.given:
        if len(line.rhs) == 3 and len(Block(None, [line], fit.units).lines) > LONG_LINE:
            line = Line(line.lhs, [line.rhs[0], line.rhs[2]], line.note, line.continued)
            cut = True
        lines.append(line)
    if not cut:
        return block
    note = "Long sums are shown with their value; the worked solution has the numbers substituted."
    text = block.text if isinstance(block.text, list) else [block.text] if block.text else []
    return Block(text + [" " + note if text else note], lines)


def module_sections(solution: ModuleSolution, part: str | None, step: str | None) -> list[Section]:
    """The sections of a module spec's part (LaTeX and Markdown alike); what it lacks is refused."""
    if step is not None:
        return step_sections(solution, step)
    if part not in SNIPPET_PARTS:
        raise DeriveError(f"a spec with [[module]] tables gives the parts {', '.join(SNIPPET_PARTS)}; "
                          f"--part {part} is not yet supported for it", file=solution.spec.source, field="module")
    return snippet_sections(solution, part)


def _module_snippet(solution: ModuleSolution, part: str | None, step: str | None, standalone: bool,
                    headings: bool, fit: Fit, frame_bodies: bool) -> str:
    """A part of a module spec's worked solution: the same fitting, frames and template."""
    sections = module_sections(solution, part, step)
    if fit.beamer:
        fit = module_frame(fit)
        sections = [Section(s.title, [fit_long_lines(b, fit) for b in s.blocks]) for s in sections]
    if step is not None:
        headings = False           # one step: its line, as for a layered network
    pictures = []
    if part == "network":      # the pictures, each scaled to the line (and a frame's height)
        for picture in network_parts(solution)[0]:
            scale = fit.points / (picture.width * CM_POINTS + 10.0)
            if fit.beamer:
                scale = min(scale, (fit.height - 20.0) / (picture.height * CM_POINTS))
            pictures.append({"tex": picture.tex, "scale": f"{min(1.0, scale):.3f}"})
    cut = None
    if fit.beamer:
        cut = [{"key": f"{part}-{i + 1}", "title": f.title, "blocks": f.blocks, "steps": []}
               for i, f in enumerate(frames(sections, fit))]
    sections = fitted(sections, fit)
    tall = tall_sections(sections, fit)
    return render("snippet.tex", {
        "standalone": {"preamble": preamble(fit)} if standalone else None,
        "where": WHERE.get(fit.name, f"in a column {fit.name} wide"), "sections": sections, "tall": tall,
        "tail_rows": TAIL_ROWS, "narrow": fit.points < NARROW_POINTS, "diagram": None, "diagram_scale": "1",
        "pictures": pictures,
        "headings": headings, "frames": cut, "frame_bodies": frame_bodies})
