"""`derive snippet`: one part of a worked solution as a LaTeX fragment for lecture notes.

A snippet is another layout of the same step records as the worksheet, not a second engine.
"""
from __future__ import annotations

from ..errors import DeriveError
from ..layout import problem, steps
from ..layout.blocks import ARTICLE_WIDTH, Block, Section
from ..layout.vector import vector_sections
from ..output.render import render
from ..regularization.layout import regularization_context
from ..regularization.layout import regularization_sections as build_regularization
from ..solution import Solution


def sections_for(solution: Solution, part: str) -> list[Section]:
    """The sections of the worked solution that make up `part`."""
    if part == "vector":
        return vector_sections(solution)
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
                    section = Section(f"{section.title} (sample {s + 1})", section.blocks)
                out.append(section)
    return out


def regularization_sections(solution: Solution) -> list[Section]:
    if solution.regularization is None:
        raise DeriveError("this spec has no [regularization] section", file=solution.spec.source,
                          field="--part regularization")
    return build_regularization(solution)


def step_section(solution: Solution, name: str) -> list[Section]:
    """One step by its plain name (`dE_total/dw5`, `out_h1`, `w5+`), with its definition."""
    d = solution.derivation
    aliases = {name, name.replace("dE/", "dE_total/")}
    step = next((s for s in d.steps if s.name.name in aliases), None)
    if step is None:
        known = ", ".join(s.name.name for s in d.steps[:12])
        raise DeriveError(f"no step named {name!r}; steps are named like: {known}, ...",
                          file=solution.spec.source, field="--step")
    writer = steps.StepWriter(solution, 0)
    lines = [x for x in (writer.definition(step), writer.line(step)) if x is not None]
    return [Section(step.name.name, [Block(None, lines)])]


def snippet(solution: Solution, part: str | None, step: str | None, standalone: bool,
            headings: bool = True) -> str:
    if step is None and part == "regularization":
        regularization_sections(solution)          # a spec without [regularization]: one clear error
        # The same pieces as the worked solution (prose, displays, tables, the path figure).
        return render("regularization_snippet.tex", {
            "standalone": standalone,
            "regularization": regularization_context(solution, "paragraph" if headings else "none")})
    if step is not None:
        sections = step_section(solution, step)
        headings = False
    else:
        sections = [] if part == "network" else sections_for(solution, part)
    # A fragment lands in a lecturer's notes: broken for a plain article's line, not the solution page's.
    sections = [Section(s.title, [b.narrowed(ARTICLE_WIDTH) for b in s.blocks]) for s in sections]
    diagram = problem.diagram(solution) if part == "network" else None
    return render("snippet.tex", {"standalone": standalone, "sections": sections, "diagram": diagram,
                                  "headings": headings})
