"""The regularisation path's figure: its axes in cm, and its three labels (r, λ*, the spec's λ)
placed where no drawn line and no part of the frame crosses them.

The axis is drawn at a fixed size (`scale only axis`) with limits chosen here, so the code that
writes the coordinates knows where every line lies on the page: the path (a polyline), the radius
(a horizontal line), λ* and λ (vertical lines) and the frame. Each label tries positions beside
its own line, in order, and takes the first that the shared collision helper of the diagrams
(`layout.placement`) finds free; when none is, the axis gets more room above the curve.
"""
from __future__ import annotations

from dataclasses import dataclass
import math

from ..layout.placement import PT, Box, Segment, box_at, free, label_size

# \small maths in the 11 pt documents (article and beamer), measured with pdflatex: at most 5.2 pt
# per latex_width unit and 6.9 pt high; 1 pt inner sep and 1.5 pt clear of every line around it.
LABEL_FONT = (5.4, 7.0, 2.5)
GAP = 0.06          # cm between a label and the line it names
FRAME_GAP = 0.12    # cm between a label and the axis frame
STEP = 0.2          # cm between two candidate positions along a line
ROOM = 0.25         # the share of the axis added above the curve when a label finds no place
TRIES = 6


@dataclass(frozen=True)
class PlotSize:
    """The axis box in cm (without ticks and axis labels)."""

    width: float
    height: float


ARTICLE = PlotSize(9.0, 4.2)     # the solution's page (472 pt), tick labels beside it
SLIDE = PlotSize(9.5, 3.6)       # a 16:9 frame with the caption below the figure
AXIS_LABELS = 1.4                # cm the y tick labels and the axis label take beside the axis
SHARE = 0.9                      # of the line the figure may take


def size_for(line_pt: float, slide: bool) -> PlotSize:
    """The axis for a line `line_pt` TeX points wide (a two-column article's column, a 4:3 frame):
    the figure, tick labels included, within the line, at most the page's or the frame's size."""
    base = SLIDE if slide else ARTICLE
    width = min(base.width, SHARE * line_pt * PT - AXIS_LABELS)
    return PlotSize(round(width, 2), round(min(base.height, max(2.5, 0.55 * width)), 2))


def path_plot(points: list[tuple[float, float]], radius: float, lambda_star: float, soft_lam: float | None,
              labels: dict[str, str], size: PlotSize) -> dict:
    """Axis limits, the lines and the labels' positions (`rel axis cs`, 0..1 across the axis).

    `points` are (λ, norm) with λ > 0; `labels` the LaTeX of "radius", "lambda_star" and
    "soft_lambda" (the last only when `soft_lam` is drawn)."""
    lams = [lam for lam, _ in points] or [1e-3, 1.0]
    norms = [norm for _, norm in points] or [radius]
    xmin, xmax = min(lams), max(lams)
    if xmax <= xmin:
        xmin, xmax = xmin / 10, xmax * 10
    span = math.log10(xmax) - math.log10(xmin)
    xmin, xmax = 10 ** (math.log10(xmin) - 0.04 * span), 10 ** (math.log10(xmax) + 0.04 * span)
    low, high = min(norms + [radius]), max(norms + [radius])
    pad = 0.08 * ((high - low) or abs(high) or 1.0)
    ymin, ymax = low - pad, high + pad
    for attempt in range(TRIES):
        placed = _place(points, radius, lambda_star, soft_lam, labels, size, (xmin, xmax, ymin, ymax))
        if placed is not None or attempt == TRIES - 1:
            break
        ymax += ROOM * (ymax - ymin)
    if placed is None:   # no room even so: the caption names the values, the labels stay off
        placed = {"labels": [], "segments": [], "boxes": []}
    return {"xmin": f"{xmin:.6e}", "xmax": f"{xmax:.6e}", "ymin": f"{ymin:.6e}", "ymax": f"{ymax:.6e}",
            "width": f"{size.width:.2f}cm", "height": f"{size.height:.2f}cm", **placed}


def _place(points, radius, lambda_star, soft_lam, labels, size: PlotSize, limits) -> dict | None:
    xmin, xmax, ymin, ymax = limits
    W, H = size.width, size.height

    def x(lam: float) -> float:
        return W * (math.log10(lam) - math.log10(xmin)) / (math.log10(xmax) - math.log10(xmin))

    def y(value: float) -> float:
        return H * (value - ymin) / (ymax - ymin)

    frame = [Segment(0, 0, W, 0, "frame"), Segment(W, 0, W, H, "frame"), Segment(W, H, 0, H, "frame"),
             Segment(0, H, 0, 0, "frame")]
    curve = [Segment(x(a), y(b), x(c), y(d), "path") for (a, b), (c, d) in zip(points, points[1:])]
    r_y = y(radius)
    star_x = x(lambda_star)
    lines = {"radius": Segment(0, r_y, W, r_y, "radius"), "lambda_star": Segment(star_x, 0, star_x, H, "lambda_star")}
    if soft_lam is not None:
        lines["soft_lambda"] = Segment(x(soft_lam), 0, x(soft_lam), H, "soft_lambda")
    segments = frame + curve + list(lines.values())
    boxes: list[Box] = []
    out = []
    order = [k for k in ("lambda_star", "radius", "soft_lambda") if k in lines]
    for key in order:
        w, h = label_size(labels[key], *LABEL_FONT)
        line = lines[key]
        if key == "radius":      # just above the line, else below it, from the right end inwards; then further off
            xs = [W - FRAME_GAP - w / 2 - k * STEP for k in range(int(W / STEP))]
            spots = [(cx, r_y + s * (GAP + h / 2 + k * STEP)) for k in range(int(H / STEP)) for s in (1, -1) for cx in xs]
        else:                    # beside the vertical line, right then left; λ* from the top, λ from the bottom
            ys = [H - FRAME_GAP - h / 2 - k * STEP for k in range(int(H / STEP))]
            if key == "soft_lambda":
                ys = ys[::-1]
            spots = [(line.x0 + s * (GAP + w / 2), cy) for cy in ys for s in (1, -1)]
        inside = [box_at(cx, cy, (w, h)) for cx, cy in spots]
        inside = [b for b in inside if min(b.x0, b.y0, W - b.x1, H - b.y1) >= FRAME_GAP - 1e-9]
        # No line crosses a label, its own included: a label beside its line, not on it.
        box = next((b for b in inside if free(b, "", boxes, segments)), None)
        if box is None:
            return None
        boxes.append(box)
        out.append({"key": key, "text": labels[key], "x": f"{((box.x0 + box.x1) / 2) / W:.4f}",
                    "y": f"{((box.y0 + box.y1) / 2) / H:.4f}", "box": box.as_tuple()})
    return {"labels": out, "boxes": [b.as_tuple() for b in boxes],
            "segments": [(s.x0, s.y0, s.x1, s.y1, s.owner) for s in segments]}
