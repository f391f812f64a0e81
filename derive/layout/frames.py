"""Where a fragment lands, and a worked solution cut to fit it.

A `Fit` is the width of the column a fragment is typeset in (a plain article, one column of a
two-column article, a beamer frame, or any width a lecturer names) and, for beamer, the height of a
frame. `cut` re-lays the layout's sections for that width and, for beamer, packs their blocks into
frames that each hold what one frame can show: a block's lines are split between frames only when
they cannot fit one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import math
import re

from ..errors import DeriveError
from ..printing.width import latex_height, latex_width, units
from ..regularization.path_plot import path_plot, size_for
from .blocks import Block, Line, Section, continued, wrap

_LENGTH = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(pt|mm|cm|in|bp)\s*$")
_POINTS = {"pt": 1.0, "mm": 2.845276, "cm": 28.45276, "in": 72.27, "bp": 1.00375}


@dataclass(frozen=True)
class Fit:
    """The measure a fragment is laid out for."""

    name: str
    points: float              # \linewidth, in TeX points
    font: float = 10.0         # body font size
    beamer: bool = False       # a sequence of frames
    height: float = 0.0        # usable height of one frame (beamer), in points

    @property
    def units(self) -> float:
        """latex_width units of a display row (a little kept back for the = column's spacing)."""
        return units(self.points, self.font) - 3


# Measured \linewidth: article 10 pt 345 pt; one column of a two-column article 229.5 pt;
# a beamer frame at 16:9 (11 pt) 398 pt, and about 212 pt of height below the frame title.
FITS = {
    "article": Fit("article", 345.0),
    "twocolumn": Fit("twocolumn", 229.5),
    "beamer": Fit("beamer", 398.0, 11.0, True, 212.0),
}
BEAMER_43 = Fit("beamer", 307.0, 11.0, True, 235.0)    # a 4:3 frame


def fit_named(text: str, where: str = "--fit") -> Fit:
    """article, twocolumn, beamer, or a width such as 12cm or 300pt."""
    if text in FITS:
        return FITS[text]
    match = _LENGTH.match(text)
    if not match:
        raise DeriveError(f"expected article, twocolumn, beamer or a width such as 12cm or 300pt, got {text!r}",
                          field=where)
    points = float(match.group(1)) * _POINTS[match.group(2)]
    if not 100 <= points <= 1000:
        raise DeriveError(f"a width from 100pt to 1000pt (3.5cm to 35cm), got {text!r}", field=where)
    return Fit(text.strip(), points)


def fitted(sections: list[Section], fit: Fit) -> list[Section]:
    """The sections with every display re-broken for the fit's width; a note beside a line (a third
    column no narrow page has room for) becomes a sentence of the block's text."""
    return [Section(s.title, [_notes_in_text(b).fitted(fit.units) for b in flat_blocks(s)]) for s in sections]


def flat_blocks(section: Section) -> list[Block]:
    """A section's blocks; a worked solution's numbered steps become a titled block each (in a
    lecturer's notes there is no step 7 to refer to, so the step keeps its title, not its number)."""
    out = list(section.blocks)
    for step in section.steps:
        title = step.title if isinstance(step.title, list) else [step.title]
        out.append(Block(title + [":"]))
        out.extend(step.blocks)
    return out


def _notes_in_text(block: Block) -> Block:
    notes = list(dict.fromkeys(line.note for line in block.given if line.note))
    if not notes:
        return block
    lines = [Line(x.lhs, x.rhs, None, x.continued) for x in block.given]
    sentences = " ".join(n[0].upper() + n[1:] + "." for n in notes)
    if isinstance(block.text, list):
        return Block(block.text + [" " + sentences], lines)
    return Block(f"{block.text} {sentences}" if block.text else sentences, lines)


@dataclass
class Frame:
    """One beamer frame: a title and the blocks it shows."""

    title: str | list
    blocks: list[Block] = field(default_factory=list)
    steps: list = field(default_factory=list)     # none: a frame shows blocks (lines.tex reads both)


def text_height(text: str | list, fit: Fit) -> float:
    """Points a paragraph of prose takes (characters about half the font size wide); prose may be
    pieces of plain text and inline formulas (`Math`, as wide as they print)."""
    per_line = fit.points / (0.5 * fit.font)
    return math.ceil(max(1, _characters(text)) / per_line) * 1.2 * fit.font + 0.5 * fit.font


def _characters(text: str | list) -> float:
    if isinstance(text, str):
        return len(text)
    return sum(len(p) if isinstance(p, str) else latex_width(p.tex) for p in text)


def row_height(line: Line, fit: Fit) -> float:
    """Points one display row takes, with the space between rows."""
    tallest = max([latex_height(line.lhs)] + [latex_height(x) for x in line.rhs])
    return (tallest + 0.45) * fit.font


DISPLAY_SKIP = 1.6   # the space above and below a display, in multiples of the font size


def block_height(block: Block, fit: Fit) -> float:
    height = text_height(block.text, fit) if block.text else 0.0
    if block.lines:
        height += DISPLAY_SKIP * fit.font + sum(row_height(x, fit) for x in block.lines)
    return height


def _units(lines: list[Line]) -> list[list[Line]]:
    """Rows grouped so that a row's continuations (no left-hand side, or a continued sum) stay with it."""
    units: list[list[Line]] = []
    for line in lines:
        if units and (line.continued or not line.lhs):
            units[-1].append(line)
        else:
            units.append([line])
    return units


def _pieces(block: Block, fit: Fit, lead: float = 0.0) -> list[Block]:
    """A block that is taller than a frame, as blocks that each fit one (its text with the first).
    `lead`: points a frame's opening prose already takes (a sentence ending in a colon that
    introduces this block); the first piece fits beside it, so that no frame holds the lead alone."""
    units = _units(block.lines)
    if lead and units and lead + (text_height(block.text, fit) if block.text else 0.0) + DISPLAY_SKIP * fit.font \
            + sum(row_height(x, fit) for x in units[0]) > fit.height:
        lead = 0.0          # not even the first rows fit beside the lead: they start the next frame
    if block_height(block, fit) + lead <= fit.height:
        return [block]
    out: list[Block] = []
    current: list[Line] = []
    text = block.text
    used = lead + (text_height(text, fit) if text else 0.0) + DISPLAY_SKIP * fit.font
    for unit in units:
        h = sum(row_height(x, fit) for x in unit)
        if current and used + h > fit.height:
            out.append(_block(text, current))
            text, current, used = None, [], DISPLAY_SKIP * fit.font
        current.extend(unit)
        used += h
    out.append(_block(text, current))
    return out


def _block(text: str | None, lines: list[Line]) -> Block:
    """A block of rows that are already broken (a row that starts without lhs keeps its place)."""
    block = Block(text, [], None)
    block.lines = list(lines)
    block.given = list(lines)
    return block


def joined(blocks: list[Block]) -> list[Block]:
    """A frame's blocks with a display that follows another with no prose between them (the pieces
    of one tall display, brought back onto one frame) set as one display: one alignment, no gap."""
    out: list[Block] = []
    for block in blocks:
        if out and out[-1].lines and block.lines and not block.text:
            out[-1] = _block(out[-1].text, out[-1].lines + block.lines)
        else:
            out.append(block)
    return out


TITLE_CHARACTER = 0.55     # of the body font size: a frame title's average character width (measured)


def title_fits(title: str | list, fit: Fit) -> bool:
    """Whether a frame title (plain text, or pieces with `Math`) stays on one line."""
    return _characters(title) * TITLE_CHARACTER * fit.font <= fit.points


def continued_title(title: str | list, fit: Fit) -> str | list:
    """The title of a frame that goes on with a step: the whole title, its "Module 1 (recurrent
    cell): " too (one rule for every continuation), with " (continued)", or " (cont.)" when that
    would wrap the title to a second line."""
    whole = continued(title)
    if title_fits(whole, fit):
        return whole
    return f"{title} (cont.)" if isinstance(title, str) else list(title) + [" (cont.)"]


def frames(sections: list[Section], fit: Fit) -> list[Frame]:
    """The sections as frames: blocks packed in order while they fit; each section starts a frame."""
    out: list[Frame] = []
    for section in fitted(sections, fit):
        current = Frame(section.title)
        used = 0.0
        for block in section.blocks:
            # a frame that so far holds only prose (a lead-in): the block's first rows join it
            lead = used if current.blocks and not any(b.lines for b in current.blocks) else 0.0
            for piece in _pieces(block, fit, lead):
                h = block_height(piece, fit)
                if current.blocks and used + h > fit.height:
                    # prose without a display (a step's title) introduces what follows: it goes along
                    held = [current.blocks.pop()] if not current.blocks[-1].lines and len(current.blocks) > 1 else []
                    out.append(current)
                    current = Frame(continued_title(section.title, fit), held)
                    used = sum(block_height(b, fit) for b in held)
                current.blocks.append(piece)
                used += h
        if current.blocks:
            out.append(current)
    return out


def pack(items: list, height, capacity: float, leads=lambda item: False) -> list[list]:
    """Items (in order) into groups whose heights (by `height(item)`) stay within `capacity`; an
    item that `leads` into the next (a sentence ending in a colon) moves on with it, so that no
    group ends by announcing what the next one shows."""
    groups: list[list] = [[]]
    used = 0.0
    for item in items:
        h = height(item)
        if groups[-1] and used + h > capacity:
            held = [groups[-1].pop()] if len(groups[-1]) > 1 and leads(groups[-1][-1]) else []
            groups.append(held)
            used = sum(height(x) for x in held)
        groups[-1].append(item)
        used += h
    return [g for g in groups if g]


def introduces(piece: dict) -> bool:
    """Whether a paragraph ends with a colon: it introduces the display after it."""
    parts = piece.get("parts") if piece.get("kind") == "para" else None
    return bool(parts) and not parts[-1]["math"] and parts[-1]["text"].rstrip().endswith(":")


def para_height(piece: dict, fit: Fit) -> float:
    """Points a paragraph of the regularisation pages takes (its formulas as wide as they print)."""
    chars = 0.0
    shown = 0
    for part in piece["parts"]:
        if part["display"]:
            shown += 1
        elif part["math"]:
            chars += latex_width(part["text"])
        else:
            chars += len(part["text"])
    return text_height("x" * int(chars), fit) + shown * 3.0 * fit.font


def piece_height(piece: dict, fit: Fit) -> float:
    if piece["kind"] == "para":
        return para_height(piece, fit)
    return DISPLAY_SKIP * fit.font + sum(row_height(x, fit) for x in piece["lines"])


def regularization_frames(context: dict, fit: Fit) -> list[dict]:
    """The regularisation part as frames: each section's paragraphs and displays packed in order,
    then the table of both rules, the two problems' solutions side by side, the path, the KKT note."""
    out: list[dict] = []
    for section in context["soft"][:1]:
        out += _section_frames(section, fit)
    if context["table"]:
        out.append({"kind": "table", "title": "With and without the penalty"})
    for section in context["soft"][1:] + context["hard"]:
        out += _section_frames(section, fit)
    eq = context["equivalence"]
    if eq:
        out.append({"kind": "equivalence", "title": "Hard and soft problem: the same solution"})
        if eq["show_path"]:
            out.append({"kind": "path", "title": "The regularisation path"})
    if context["kkt"]:
        out.append({"kind": "kkt", "title": "For the curious: the KKT conditions"})
    return out


def _section_frames(section: Section, fit: Fit) -> list[dict]:
    groups = pack(section.blocks, lambda piece: piece_height(piece, fit), fit.height, introduces)
    return [{"kind": "pieces", "title": section.title if i == 0 else f"{section.title} (continued)",
             "pieces": group} for i, group in enumerate(groups)]


def fit_regularization(context: dict, fit: Fit) -> dict:
    """The regularisation part's context laid out for the fit: displays re-broken for its width, an
    inline formula too wide for a narrow line set on its own line, the wide table in two halves."""
    width = fit.units

    def para(piece: dict) -> dict:
        parts = [dict(p, display=True) if p["math"] and not p["display"] and latex_width(p["text"]) > 0.6 * width
                 else p for p in piece["parts"]]
        for i, p in enumerate(parts[:-1]):
            after = parts[i + 1]
            if p["display"] and not after["math"] and after["text"][:1] in ",;.:":
                # the sentence's punctuation stays with the formula it follows (never a line
                # starting "; it shifts ...")
                parts[i] = dict(p, text=p["text"] + after["text"][0])
                parts[i + 1] = dict(after, text=after["text"][1:].lstrip())
        return dict(piece, parts=parts)

    def piece(p: dict) -> dict:
        if p["kind"] == "para":
            return para(p)
        return dict(p, lines=[row for line in p["lines"] for row in wrap(line, width)])

    def section(s: Section) -> Section:
        return Section(s.title, [piece(p) for p in s.blocks])

    out = dict(context, soft=[section(s) for s in context["soft"]], hard=[section(s) for s in context["hard"]],
               narrow=fit.points < 300)
    if context["equivalence"]:
        eq = context["equivalence"]
        figure = "slide_plot" if fit.beamer else "plot"     # the path drawn for this column's width
        out["equivalence"] = dict(eq, **{k: para(eq[k]) for k in ("title", "intro", "outcome", "caption")},
                                  **{figure: path_plot(**eq["path_data"], size=size_for(fit.points, fit.beamer))})
    if context["kkt"]:
        out["kkt"] = para(context["kkt"])
    return out
