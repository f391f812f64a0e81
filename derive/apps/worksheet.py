"""`derive worksheet`: the handout, its worked solution and the key, as .tex, PDF and JSON.

Everything is written into a staging folder and moved into place only when all succeeded; the
folder is derive's alone (see output.folders).
"""
from __future__ import annotations

from pathlib import Path

from ..layout import problem
from ..layout import solution as solution_layout
from ..output import tex
from ..output.folders import check_target, dumps_json, staged_folder
from ..output.render import render
from ..modules.documents import module_documents
from ..modules.solution import ModuleSolution
from ..regularization.layout import regularization_worksheet
from ..solution import Solution, solve
from ..modules.section import ModuleSpec
from ..spec import Spec


def documents(solution: Solution | ModuleSolution) -> dict[str, str]:
    """The worksheet's files as text: worksheet.tex, solutions.tex, key.json."""
    if isinstance(solution, ModuleSolution):
        return module_documents(solution)
    return {
        "worksheet.tex": render("worksheet.tex", problem.worksheet_context(solution)
                                | {"regularization": regularization_worksheet(solution)}),
        "solutions.tex": render("solutions.tex", solution_layout.solutions_context(solution)),
        "key.json": dumps_json(solution.key),
    }


# What the derive before manifests wrote: a folder holding only these names counts as derive's.
KNOWN = ("worksheet.tex", "solutions.tex", "key.json", "worksheet.pdf", "solutions.pdf")


def write_worksheet(spec: Spec | ModuleSpec, out: str | Path, pdf: bool = True, force: bool = False) -> Solution:
    """Solve, render and (with `pdf`) compile into `out`; `force` writes beside files derive did not write."""
    inputs = [spec.source] if spec.source != "<spec>" else []
    check_target(out, inputs)
    solution = solve(spec, tex=pdf)
    files = documents(solution)
    if pdf:
        tex.require_tex()
    with staged_folder(out, force=force, inputs=inputs, known=KNOWN) as stage:
        for name, text in files.items():
            (stage / name).write_text(text, encoding="utf-8")
        if pdf:
            tex.compile_all(stage, ["worksheet.tex", "solutions.tex"])
    return solution
