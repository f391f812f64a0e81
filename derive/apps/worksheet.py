"""`derive worksheet`: the handout, its worked solution and the key, as .tex, PDF and JSON.

Everything is written into a temporary folder and moved into place only when all succeeded.
"""
from __future__ import annotations

from pathlib import Path

from ..layout import problem
from ..layout import solution as solution_layout
from ..output import tex
from ..output.folders import dumps_json, staged_folder
from ..output.render import render
from ..solution import Solution, solve
from ..spec import Spec


def documents(solution: Solution) -> dict[str, str]:
    """The worksheet's files as text: worksheet.tex, solutions.tex, key.json."""
    return {
        "worksheet.tex": render("worksheet.tex", problem.worksheet_context(solution)),
        "solutions.tex": render("solutions.tex", solution_layout.solutions_context(solution)),
        "key.json": dumps_json(solution.key),
    }


def write_worksheet(spec: Spec, out: str | Path, pdf: bool = True) -> Solution:
    solution = solve(spec, tex=pdf)
    files = documents(solution)
    if pdf:
        tex.require_tex()
    with staged_folder(out) as stage:
        for name, text in files.items():
            (stage / name).write_text(text, encoding="utf-8")
        if pdf:
            tex.compile_all(stage, ["worksheet.tex", "solutions.tex"])
    return solution
