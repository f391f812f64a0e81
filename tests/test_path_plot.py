"""The regularisation path's labels (r, λ*, the spec's λ): inside the axis, apart from each other,
and no drawn line (the path, the radius, λ*, λ) nor the frame through any of them.

The boxes and lines are the ones the plot code computed from the coordinates it writes; the checks
are independent geometry (rectangle overlap, each segment sampled densely against each rectangle).
"""
from __future__ import annotations

import pytest

import derive
from derive.regularization.layout import regularization_context
from derive.layout.frames import BEAMER_43, FITS, fit_regularization
from derive.layout.placement import PT
from derive.regularization.path_plot import ARTICLE, AXIS_LABELS, SLIDE, path_plot, size_for

from conftest import ROOT
from test_diagram import _crosses, _overlap

LABELS = {"radius": "r = 0.8", "lambda_star": r"\lambda^{*} = 0.070435657", "soft_lambda": r"\lambda = 0.001"}


def problems(fig: dict, size) -> list[str]:
    found = []
    labels = fig["labels"]
    for i, a in enumerate(labels):
        x0, y0, x1, y1 = a["box"]
        if not (0 < x0 and x1 < size.width and 0 < y0 and y1 < size.height):
            found.append(f"{a['key']} leaves the axis")
        for b in labels[i + 1:]:
            if _overlap(a["box"], b["box"]):
                found.append(f"{a['key']} overlaps {b['key']}")
        for s in fig["segments"]:
            if _crosses(s, a["box"]):
                found.append(f"{s[4]} crosses {a['key']}")
        cx, cy = (x0 + x1) / 2 / size.width, (y0 + y1) / 2 / size.height
        assert (float(a["x"]), float(a["y"])) == pytest.approx((cx, cy), abs=1e-4)   # where the node is written
    return found


@pytest.mark.parametrize("name", ["regularization", "linear_constrained"])
def test_the_shipped_path_plots_have_every_label_clear_of_lines_and_frame(name):
    context = regularization_context(derive.derive(str(ROOT / "examples" / f"{name}.toml")))
    eq = context["equivalence"]
    for key, size in (("plot", ARTICLE), ("slide_plot", SLIDE)):
        fig = eq[key]
        assert {label["key"] for label in fig["labels"]} == {"radius", "lambda_star", "soft_lambda"}, (name, key)
        assert problems(fig, size) == [], (name, key)


def test_a_crowded_plot_gets_room_above_the_curve():
    """The path hugs the radius line and the top of the axis: the labels still find free places."""
    points = [(10 ** (k / 10 - 3), 1.0 + 0.02 * (k % 3)) for k in range(31)]
    fig = path_plot(points, 1.01, 0.03, 0.002, LABELS, ARTICLE)
    assert len(fig["labels"]) == 3 and problems(fig, ARTICLE) == []
    assert float(fig["ymax"]) > 1.05       # the axis grew above the curve


@pytest.mark.parametrize("fit", [FITS["twocolumn"], BEAMER_43, FITS["article"]], ids=["twocolumn", "beamer43", "article"])
def test_a_fragment_draws_the_path_for_its_own_column(fit):
    """A two-column article's column (229.5 pt) or a 4:3 frame: the figure within the line, the
    labels still placed and clear."""
    context = fit_regularization(regularization_context(derive.derive(str(ROOT / "examples" / "regularization.toml"))), fit)
    fig = context["equivalence"]["slide_plot" if fit.beamer else "plot"]
    size = size_for(fit.points, fit.beamer)
    assert float(fig["width"].removesuffix("cm")) == size.width
    assert size.width + AXIS_LABELS <= fit.points * PT
    assert len(fig["labels"]) == 3 and problems(fig, size) == []
