"""The samples after the first, as tables of the quantities sample 1 works out.

Every sample goes through the same chain rule with other numbers, so repeating the chain teaches
nothing after the first: sample 1 is worked in full, and the others' values stand in a table, one row
per quantity and one column per sample, grouped by the sections of sample 1's steps. Columns that do
not fit the page's width go on in a further table; a table breaks across pages between its rows
(the template's longtable), so the page before it is not left half empty.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..printing.latex import Printer
from ..printing.width import latex_width
from ..solution import Solution
from .blocks import Math

TABLE_WIDTH = 80       # latex_width units across the page for a table (a display row holds about 90)
COLUMN_GAP = 3         # latex_width units between two columns
FOLD_GAP = 4           # latex_width units between two blocks of a folded table
HEADER = "sample 00"   # the widest column heading

Cell = tuple[str, list[str]]            # a quantity's name and its values, LaTeX from the printer


@dataclass
class SampleGroup:
    """The quantities of one section of sample 1's steps: its title and its printed rows, each of
    `folds` cells (name and values) side by side, read down the first block, then the next."""

    title: str                          # the section of sample 1 whose quantities these are
    rows: list[list[Cell]]


@dataclass
class SampleTable:
    """The values of sample 1's quantities for some samples (one column each), section by section.

    A narrow table (few samples) is folded: `folds` blocks of name and values side by side, so a
    long list of quantities does not run down pages in one thin column.
    """

    samples: list[int]                  # sample numbers (from 1), one per column
    folds: int
    groups: list[SampleGroup]


def other_samples(solution: Solution, quantities: list[tuple[str, list[sp.Symbol]]],
                  steps: tuple[int, int]) -> dict | None:
    """The tables of samples 2..n (None for one sample) and the sentence that introduces them.

    `quantities` are sample 1's sections with the per-sample quantities each shows, `steps` the
    first and last step number of sample 1.
    """
    n = len(solution.spec.inputs)
    if n < 2:
        return None
    p = Printer(solution.derivation.model.names.of, solution.spec.decimals, given=solution.derivation.given())
    values = solution.values.samples
    others = list(range(1, n))
    names = {q: p.name(q) for _, qs in quantities for q in qs}
    numbers = {(s, q): p.value_of(q, values[s][q]) for s in others for q in names}
    tables: list[SampleTable] = []
    for columns, width in _column_groups(names, numbers, others):
        folds = max(1, int((TABLE_WIDTH + FOLD_GAP) // (width + FOLD_GAP)))
        table = SampleTable([s + 1 for s in columns], folds, [])
        for title, qs in quantities:
            rows = _fold([(names[q], [numbers[s, q] for s in columns]) for q in qs], folds)
            if rows:
                table.groups.append(SampleGroup(title, rows))
        if table.groups:
            tables.append(table)
    which = "Sample 2" if n == 2 else f"Samples 2 to {n}"
    verb = "goes" if n == 2 else "go"
    own = "its own input and target" if n == 2 else "their own inputs and targets"
    d = solution.derivation
    second = next(t for t, sym, s in d.from_samples if sym == d.model.loss_total and s == 1)
    text = [f"{which} {verb} through steps {steps[0]} to {steps[1]} as sample 1 does, with {own} and the "
            f"same weights: each quantity below is computed the same way as for sample 1. In the totals, a "
            f"quantity of a sample carries the sample's number as a superscript, as in ",
            Math(f"{p.name(second)} = {numbers[1, d.model.loss_total]}"), "."]
    return {"title": which, "text": text, "tables": tables}


def _fold(cells: list[Cell], folds: int) -> list[list[Cell]]:
    """The cells in rows of up to `folds`, filled down the first block, then the next."""
    height = -(-len(cells) // folds)
    return [cells[i::height] for i in range(height)]


def _column_groups(names: dict, numbers: dict, others: list[int]) -> list[tuple[list[int], float]]:
    """The samples split into runs of columns that fit the page's width beside the names, each
    with the width it takes (names included)."""
    used = max(latex_width(t) for t in names.values()) + COLUMN_GAP
    groups: list[tuple[list[int], float]] = [([], used)]
    for s in others:
        column = max([latex_width(HEADER)] + [latex_width(t) for (s_, _), t in numbers.items() if s_ == s]) + COLUMN_GAP
        if groups[-1][0] and groups[-1][1] + column > TABLE_WIDTH:
            groups.append(([], used))
        groups[-1][0].append(s)
        groups[-1] = (groups[-1][0], groups[-1][1] + column)
    return groups
