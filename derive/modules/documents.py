"""A module spec's worksheet, worked solution and key as files (`derive worksheet`)."""
from __future__ import annotations

from ..output.folders import dumps_json
from ..output.render import render
from .layout import solutions_context, worksheet_context
from .solution import ModuleSolution


def module_documents(solution: ModuleSolution) -> dict[str, str]:
    """worksheet.tex, solutions.tex and key.json as text."""
    return {
        "worksheet.tex": render("module_worksheet.tex", worksheet_context(solution)),
        "solutions.tex": render("module_solutions.tex", solutions_context(solution)),
        "key.json": dumps_json(solution.key),
    }
