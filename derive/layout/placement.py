"""Where the labels of a diagram go: boxes (in cm) that may not overlap, edges that may not cross them.

A label's box is estimated from its printed LaTeX (`latex_width`, measured against pdflatex at the
label's font size: at most 4.8 pt per unit at \\scriptsize, 4.8 pt at \\footnotesize), so the code
that writes the coordinates also knows what they cover. `place` tries the candidate positions in
order and takes the first that is free.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..printing.width import latex_width

PT = 1 / 28.4527   # cm per TeX point


@dataclass(frozen=True)
class Box:
    """An axis-parallel rectangle in cm."""

    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: "Box", gap: float = 0.05) -> bool:
        return not (self.x1 + gap <= other.x0 or other.x1 + gap <= self.x0
                    or self.y1 + gap <= other.y0 or other.y1 + gap <= self.y0)

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.x0, self.y0, self.x1, self.y1)


@dataclass(frozen=True)
class Segment:
    """A drawn edge from (x0, y0) to (x1, y1); `owner` names the label that may sit on it."""

    x0: float
    y0: float
    x1: float
    y1: float
    owner: str = ""


def label_size(tex: str, pt_per_unit: float, height_pt: float, pad_pt: float) -> tuple[float, float]:
    """Width and height in cm of a label printed from `tex` (math), with `pad_pt` around it."""
    return ((latex_width(tex) * pt_per_unit + 2 * pad_pt) * PT, (height_pt + 2 * pad_pt) * PT)


def box_at(cx: float, cy: float, size: tuple[float, float]) -> Box:
    w, h = size
    return Box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def crosses(segment: Segment, box: Box, margin: float = 0.03) -> bool:
    """Whether the segment passes through the box (grown by `margin`): Liang–Barsky clipping."""
    x0, y0 = segment.x0, segment.y0
    dx, dy = segment.x1 - x0, segment.y1 - y0
    low, high = 0.0, 1.0
    for p, q in ((-dx, x0 - (box.x0 - margin)), (dx, (box.x1 + margin) - x0),
                 (-dy, y0 - (box.y0 - margin)), (dy, (box.y1 + margin) - y0)):
        if p == 0:
            if q < 0:
                return False
            continue
        t = q / p
        if p < 0:
            low = max(low, t)
        else:
            high = min(high, t)
        if low > high:
            return False
    return True


def free(box: Box, owner: str, boxes: list[Box], segments: list[Segment], clearance: float = 0.03) -> bool:
    """Whether `box` overlaps none of `boxes` and no segment but its owner's comes within
    `clearance` (cm) of it."""
    return (not any(box.overlaps(b) for b in boxes)
            and not any(crosses(s, box, clearance) for s in segments if s.owner != owner))


def place(candidates, owner: str, boxes: list[Box], segments: list[Segment],
          clearance: float = 0.03) -> Box | None:
    """The first candidate box that is free, or None."""
    for box in candidates:
        if free(box, owner, boxes, segments, clearance):
            return box
    return None
