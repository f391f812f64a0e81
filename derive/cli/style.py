"""`derive style`: the small style file that derive's fragments need."""
from __future__ import annotations

from ..output.folders import write_file
from ..output.render import render


def run(args) -> int:
    write_file(args.output, render("derive.sty", {}))   # the step macros come from stepmacros.tex
    return 0
