"""`derive snippet`: one part of a worked solution as a LaTeX fragment for lecture notes.

A snippet is another layout of the same step records as the worksheet, not a second engine.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

from . import layout, tex
from .cli import command
from .errors import DeriveError
from .layout import Block, Section
from .output import write_file
from .render import render, templates_folder
from .solve import Solution, solve
from .spec import load

PARTS = ("network", "forward", "loss", "backward", "update", "regularization", "vector")


def sections_for(solution: Solution, part: str) -> list[Section]:
    """The sections of the worked solution that make up `part`."""
    if part == "vector":
        from .vector import vector_sections
        return vector_sections(solution)
    if part == "update":
        return layout.total_sections(solution)
    if part == "regularization":
        return regularization_sections(solution)
    wanted = {"forward": ("Forward pass",), "loss": ("Loss",),
              "backward": ("Backward pass", "Biases")}[part]
    out = []
    for s in range(len(solution.spec.inputs)):
        for section in layout.sample_sections(solution, s):
            if section.title.startswith(wanted):
                if len(solution.spec.inputs) > 1:
                    section = Section(f"{section.title} (sample {s + 1})", section.blocks)
                out.append(section)
    return out


def regularization_sections(solution: Solution) -> list[Section]:
    if solution.regularization is None:
        raise DeriveError("this spec has no [regularization] section", file=solution.spec.source,
                          field="--part regularization")
    from .regularization_layout import regularization_sections as build
    return build(solution)


def step_section(solution: Solution, name: str) -> list[Section]:
    """One step by its plain name (`dE_total/dw5`, `out_h1`, `w5+`), with its definition."""
    d = solution.derivation
    aliases = {name, name.replace("dE/", "dE_total/")}
    step = next((s for s in d.steps if s.name.name in aliases), None)
    if step is None:
        known = ", ".join(s.name.name for s in d.steps[:12])
        raise DeriveError(f"no step named {name!r}; steps are named like: {known}, ...",
                          file=solution.spec.source, field="--step")
    writer = layout._Writer(solution, 0)
    lines = [x for x in (writer.definition(step), writer.line(step)) if x is not None]
    return [Section(step.name.name, [Block(None, lines)])]


def snippet(solution: Solution, part: str | None, step: str | None, standalone: bool,
            headings: bool = True) -> str:
    if step is not None:
        sections = step_section(solution, step)
        headings = False
    else:
        sections = [] if part == "network" else sections_for(solution, part)
    diagram = layout.diagram(solution) if part == "network" else None
    return render("snippet.tex", {"standalone": standalone, "sections": sections, "diagram": diagram,
                                  "headings": headings})


@command
def _register(sub) -> None:
    p = sub.add_parser("snippet", help="one part of the worked solution as a LaTeX fragment to \\input")
    p.add_argument("spec", help="the spec file (TOML)")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--part", choices=PARTS, help="which part of the solution")
    group.add_argument("--step", help="one step by name, e.g. dE_total/dw5, out_h1, w5+")
    p.add_argument("-o", "--output", help="the .tex file to write (default: standard output)")
    p.add_argument("--standalone", action="store_true", help="a whole document (compiles on its own)")
    p.add_argument("--no-headings", action="store_true", help="leave out the paragraph headings")
    p.set_defaults(run=_run)
    s = sub.add_parser("style", help="write derive.sty, the package that derive's fragments need")
    s.add_argument("-o", "--output", default="derive.sty", help="where to write it (default: derive.sty)")
    s.set_defaults(run=_run_style)


def _run(args) -> int:
    solution = solve(load(args.spec))
    text = snippet(solution, args.part, args.step, args.standalone, headings=not args.no_headings)
    if args.output:
        write_file(args.output, text)
    else:
        sys.stdout.write(text)
    return 0


def _run_style(args) -> int:
    source = Path(templates_folder()) / "derive.sty"
    write_file(args.output, source.read_text(encoding="utf-8"))
    return 0
