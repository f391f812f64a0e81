"""The records every layout hands to the templates: sections, blocks of prose and aligned display lines.

A chain of equalities too wide for the page goes on in further rows; that measurement lives here,
once, for every document kind.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..printing.width import latex_width, split_top_level


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
    width: float | None = None      # latex_width units of a display row; None: the page's
    given: list[Line] = field(init=False, repr=False, compare=False)   # the lines before wrapping

    def __post_init__(self):
        self.given = list(self.lines)
        self.lines = [row for line in self.lines for row in wrap(line, self.width or PAGE_WIDTH)]

    def fitted(self, width: float) -> "Block":
        """The same block laid out for a display row of `width` units (a column, a frame)."""
        return Block(self.text, self.given, width)


PAGE_WIDTH = 82      # latex_width units of a display row on the solution page (472 pt; rows of 89 ran 2-9 pt over)
ARTICLE_WIDTH = 58   # ... in a plain article (345 pt), where a snippet lands


def wrap(line: Line, page: float = PAGE_WIDTH) -> list[Line]:
    """One line as rows no wider than the page: a new row before an `=` (under the `=`), and a
    sum too wide for a row goes on after one of its top-level + or - (indented under it)."""
    if line.continued or latex_width(line.lhs + " = " + " = ".join(line.rhs)) <= page:
        return [line]
    room = page - latex_width(line.lhs) - 2
    rows: list[Line] = []
    current: list[str] = []      # the parts of the row being filled
    continued = False            # the row goes on inside a sum (printed after \quad, no =)
    used = 0.0
    for part in line.rhs:
        terms = _cut(part, room)
        if len(terms) > 1 and current:   # a sum that needs several rows starts on its own row
            used = room
        for k, term in enumerate(terms):
            width = latex_width(term) + 2
            if (current or rows) and used + width > room and (current or k):
                rows.append(Line(line.lhs if not rows else "", current, None if rows else line.note, continued=continued))
                current, used, continued = [], 0.0, k > 0
            if k and current:
                current[-1] += " " + term
            else:
                current.append(term)
            used += width
        if len(terms) > 1:               # ... and what follows it, too
            used = room
    rows.append(Line(line.lhs if not rows else "", current, None if rows else line.note, continued=continued))
    if rows[0].continued or not rows[0].rhs:   # the first row always carries lhs =
        rows[0].continued = False
    return rows


def _cut(part: str, room: float) -> list[str]:
    """A right-hand side too wide for a row, as the pieces rows may end between: its top-level terms,
    and a term still too wide cut before its \\cdot or \\odot, between matrices side by side, or inside
    -(...) (what a narrow column needs)."""
    if latex_width(part) + 2 <= room:
        return [part]
    return [piece for term in _terms(part)
            for piece in (split_top_level(term, room - 2) if latex_width(term) + 2 > room else [term])]


def _terms(tex: str) -> list[str]:
    """A formula cut before each top-level + or - (outside braces and \\left ... \\right)."""
    pieces, depth, start, i = [], 0, 0, 0
    while i < len(tex):
        if tex.startswith(r"\left", i):
            depth += 1
            i += 5
            continue
        if tex.startswith(r"\right", i):
            depth -= 1
            i += 6
            continue
        depth += {"{": 1, "}": -1}.get(tex[i], 0)
        if depth == 0 and i > start and tex[i:i + 3] in (" + ", " - "):
            pieces.append(tex[start:i])
            start = i + 1
        i += 1
    pieces.append(tex[start:])
    return pieces


TABLE_ROWS = 20   # rows of one table piece: a table is one box, so a long one goes on in pieces


def pieces(rows: list, most: int = TABLE_ROWS) -> list[list]:
    """A table's rows as pieces of at most `most` rows, as even as they come (96 rows: 20, 19, 19,
    19, 19): each piece is kept on one page, and the page may break between pieces."""
    count = -(-len(rows) // most) or 1
    size, extra = divmod(len(rows), count)
    cuts = [k * size + min(k, extra) for k in range(count + 1)]
    return [rows[a:b] for a, b in zip(cuts, cuts[1:])]


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
    """A heading and its blocks, or its numbered steps (a worked solution's sections). The heading
    is plain text, or pieces of text and `Math` (a module's step: "…, summed over the time steps"
    after ∂E/∂U), which a fragment keeps as mathematics."""

    title: str | list
    blocks: list[Block] = field(default_factory=list)
    steps: list[NumberedStep] = field(default_factory=list)


def continued(title: str | list) -> str | list:
    """The title of what goes on with a step or section on the next frame or page (plain text, or
    pieces with `Math`, which stay mathematics)."""
    return f"{title} (continued)" if isinstance(title, str) else title + [" (continued)"]
