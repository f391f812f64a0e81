"""`derive worksheet`: the handout, its worked solution and the key, as .tex, PDF and JSON.

Everything is written into a temporary folder and moved into place only when all succeeded.
"""
from __future__ import annotations

from pathlib import Path

from . import layout, tex
from .cli import command
from .output import dumps_json, staged_folder
from .render import render
from .solve import Solution, solve
from .spec import Spec, load


def documents(solution: Solution) -> dict[str, str]:
    """The worksheet's files as text: worksheet.tex, solutions.tex, key.json."""
    return {
        "worksheet.tex": render("worksheet.tex", layout.worksheet_context(solution)),
        "solutions.tex": render("solutions.tex", layout.solutions_context(solution)),
        "key.json": dumps_json(solution.key),
    }


def write_worksheet(spec: Spec, out: str | Path, pdf: bool = True) -> Solution:
    solution = solve(spec)
    files = documents(solution)
    if pdf:
        tex.require_tex()
    with staged_folder(out) as stage:
        for name, text in files.items():
            (stage / name).write_text(text, encoding="utf-8")
        if pdf:
            tex.compile_all(stage, ["worksheet.tex", "solutions.tex"])
    return solution


@command
def _register(sub) -> None:
    p = sub.add_parser("worksheet", help="write the handout, its worked solution and the key")
    p.add_argument("spec", help="the spec file (TOML)")
    p.add_argument("--out", required=True, help="the output folder (replaced as a whole on success)")
    p.add_argument("--no-pdf", action="store_true", help="write the .tex and key.json without running TeX")
    p.set_defaults(run=_run)


def _run(args) -> int:
    write_worksheet(load(args.spec), args.out, pdf=not args.no_pdf)
    print(f"wrote {args.out}/: " + ("worksheet.pdf, solutions.pdf, " if not args.no_pdf else "")
          + "worksheet.tex, solutions.tex, key.json")
    return 0
