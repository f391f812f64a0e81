"""The records every layout hands to the templates: sections, blocks of prose and aligned display lines.

A chain of equalities too wide for the page goes on in further rows; that measurement lives here,
once, for every document kind.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..printing.width import latex_width, split_top_level


@dataclass
class Line:
    """One row of an aligned display: lhs = rhs[0] = rhs[1] = ...; `note` is plain text."""

    lhs: str
    rhs: list[str]
    note: str | None = None
    continued: bool = False   # the previous line's right-hand side goes on here


@dataclass
class Block:
    """A paragraph of plain text (optional) followed by an aligned display (optional).

    A chain of equalities too wide for the page goes on in further rows (= ... under =).
    """

    text: str | None = None
    lines: list[Line] = field(default_factory=list)
    width: float | None = None      # latex_width units of a display row; None: the page's
    given: list[Line] = field(init=False, repr=False, compare=False)   # the lines before wrapping

    def __post_init__(self):
        self.given = list(self.lines)
        self.lines = [row for line in self.lines for row in wrap(line, self.width or PAGE_WIDTH)]

    def fitted(self, width: float) -> "Block":
        """The same block laid out for a display row of `width` units (a column, a frame)."""
        return Block(self.text, self.given, width)


PAGE_WIDTH = 95   # latex_width units of one display row on the page


def wrap(line: Line, width: float = PAGE_WIDTH) -> list[Line]:
    """A line as rows that each fit `width`: at =, and a single too-wide side at its + and -."""
    if width >= PAGE_WIDTH:
        return _wrap(line, width)
    return [piece for row in _wrap(line, width) for piece in _split(row, width)]


def _split(row: Line, width: float) -> list[Line]:
    """A row whose one right-hand side is still too wide, continued at its top-level + and -."""
    if len(row.rhs) != 1 or latex_width(row.lhs + " = " + row.rhs[0]) <= width:
        return [row]
    pieces = split_top_level(row.rhs[0], width - latex_width(row.lhs) - 4)
    if len(pieces) < 2:
        return [row]
    first = Line(row.lhs, [pieces[0]], None, row.continued)
    rest = [Line("", [p], continued=True) for p in pieces[1:]]
    rest[-1].note = row.note
    return [first] + rest


def _wrap(line: Line, width: float = PAGE_WIDTH) -> list[Line]:
    if line.continued or len(line.rhs) < 2 or latex_width(line.lhs + " = " + " = ".join(line.rhs)) <= width:
        return [line]
    if width < PAGE_WIDTH:      # a narrow column: lhs = first side, then one side per row
        rows = [Line(line.lhs, [line.rhs[0]])]
        current: list[str] = []
        for part in line.rhs[1:]:
            if current and latex_width(" = ".join(current + [part])) > width - latex_width(line.lhs) - 2:
                rows.append(Line("", current))
                current = []
            current.append(part)
        rows.append(Line("", current, line.note))
        return rows
    rows: list[Line] = []
    current: list[str] = []
    used = latex_width(line.lhs) + 2
    for part in line.rhs:
        size = latex_width(part) + 2
        if current and used + size > width:
            rows.append(Line(line.lhs if not rows else "", current))
            current, used = [], latex_width(line.lhs) + 2
        current.append(part)
        used += size
    rows.append(Line(line.lhs if not rows else "", current, line.note))
    return rows


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)
