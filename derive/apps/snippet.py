"""`derive snippet`: one part of a worked solution as a LaTeX fragment for lecture notes.

A snippet is another layout of the same step records as the worksheet, not a second engine.
"""
from __future__ import annotations

from ..errors import DeriveError
from ..layout import problem, steps
from ..layout.blocks import Block, Line, Section
from ..layout.optimizer import optimizer_sections
from ..layout.vector import vector_sections
from ..output.render import render
from ..regularization.layout import regularization_context
from ..regularization.layout import regularization_sections as build_regularization
from ..solution import Solution


def sections_for(solution: Solution, part: str) -> list[Section]:
    """The sections of the worked solution that make up `part`."""
    if part == "vector":
        return vector_sections(solution)
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
    diagram = problem.diagram(solution) if part == "network" else None
    return render("snippet.tex", {"standalone": standalone, "sections": sections, "diagram": diagram,
                                  "headings": headings})
