"""The records every layout hands to the templates: sections, blocks of prose and aligned display lines.

A chain of equalities too wide for the page goes on in further rows; that measurement lives here,
once, for every document kind.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..printing.width import latex_width


@dataclass(frozen=True)
class Math:
    """A piece of inline mathematics inside prose, LaTeX made by the printer."""

    tex: str


@dataclass
class Line:
    """One row of an aligned display: lhs = rhs[0] = rhs[1] = ...; `note` is plain text, set as a
    line of prose above the row (never a third column that runs off the page)."""

    lhs: str
    rhs: list[str]
    note: str | None = None
    continued: bool = False   # the previous line's right-hand side goes on here


@dataclass
class Block:
    """A paragraph of prose (optional) followed by an aligned display (optional).

    `text` is plain text, or a list of pieces: plain strings and `Math` (LaTeX from the printer),
    so prose can name a quantity. A chain of equalities too wide for the page goes on in further
    rows (= ... under =).
    """

    text: str | list | None = None
    lines: list[Line] = field(default_factory=list)

    def __post_init__(self):
        self.lines = [row for line in self.lines for row in _wrap(line)]


PAGE_WIDTH = 90   # latex_width units of one display row on the page


def _wrap(line: Line) -> list[Line]:
    if line.continued or len(line.rhs) < 2 or latex_width(line.lhs + " = " + " = ".join(line.rhs)) <= PAGE_WIDTH:
        return [line]
    rows: list[Line] = []
    current: list[str] = []
    used = latex_width(line.lhs) + 2
    for part in line.rhs:
        width = latex_width(part) + 2
        if current and used + width > PAGE_WIDTH:
            rows.append(Line(line.lhs if not rows else "", current, None if rows else line.note))
            current, used = [], latex_width(line.lhs) + 2
        current.append(part)
        used += width
    rows.append(Line(line.lhs if not rows else "", current, None if rows else line.note))
    return rows


@dataclass
class NumberedStep:
    """Step n of a worked solution: a title (plain text, or pieces with `Math`) and its blocks.

    The template keeps a step on one page unless it cannot fit one (TeX measures it).
    """

    number: int
    title: str | list
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Section:
    """A heading and its blocks, or its numbered steps (a worked solution's sections)."""

    title: str
    blocks: list[Block] = field(default_factory=list)
    steps: list[NumberedStep] = field(default_factory=list)
