"""The network diagram: no two labels overlap, no label covers a neuron, no edge but its own crosses it.

The boxes are the ones the diagram code computed from the coordinates it writes; the checks here
are independent geometry (rectangle overlap, a segment sampled densely against each rectangle).
"""
from __future__ import annotations

import pytest

import derive
from derive.layout.problem import diagram

from conftest import ROOT, matrix_spec, toml_text

# The network diagram is the layered network's; module specs draw grids (tests/test_modules.py).
EXAMPLES = sorted(p.stem for p in (ROOT / "examples").glob("*.toml") if "[[module]]" not in p.read_text())


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _crosses(segment, box, samples: int = 400) -> bool:
    x0, y0, x1, y1 = segment[:4]
    return any(box[0] <= x0 + (x1 - x0) * t / samples <= box[2] and box[1] <= y0 + (y1 - y0) * t / samples <= box[3]
               for t in range(samples + 1))


def _distance(segment, box, samples: int = 400) -> float:
    """The least distance (cm) from the segment to the box, sampled along the segment."""
    x0, y0, x1, y1 = segment[:4]
    best = float("inf")
    for t in range(samples + 1):
        x, y = x0 + (x1 - x0) * t / samples, y0 + (y1 - y0) * t / samples
        dx, dy = max(box[0] - x, 0, x - box[2]), max(box[1] - y, 0, y - box[3])
        best = min(best, (dx * dx + dy * dy) ** 0.5)
    return best


def crowded(d: dict, clearance: float = 0.1) -> list[str]:
    """Weight labels closer than `clearance` to an edge not their own (beside a crossing, a label
    reads as the other edge's)."""
    return [f"edge {s[4]} passes {label['text']}" for label in d["labels"] if label["style"] == "weight"
            for s in d["segments"] if s[4] != label["owner"] and _distance(s, label["box"]) < clearance]


def collisions(d: dict) -> list[str]:
    found = []
    labels = d["labels"]
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            if _overlap(a["box"], b["box"]):
                found.append(f"{a['text']} overlaps {b['text']}")
        for node in d["nodes_boxes"]:
            if _overlap(a["box"], node):
                found.append(f"{a['text']} covers a neuron")
        for s in d["segments"]:
            if s[4] != a["owner"] and _crosses(s, a["box"]):
                found.append(f"edge {s[4]} crosses {a['text']}")
    return found


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_diagrams_have_no_collisions(name):
    d = diagram(derive.derive(str(ROOT / "examples" / f"{name}.toml")))
    assert collisions(d) == []


def test_the_shipped_diagrams_label_what_fits():
    """tanh, softmax and the lecture show every weight; the deep network lists them below."""
    for name, labelled in (("lecture", True), ("tanh", True), ("softmax", True), ("linear_constrained", True),
                           ("deep", False)):
        d = diagram(derive.derive(str(ROOT / "examples" / f"{name}.toml")))
        assert d["labelled"] is labelled, name
        weights = [label for label in d["labels"] if label["style"] == "weight"]
        assert len(weights) == (len(d["edges"]) if labelled else 0), name
        assert d["bias_labels"], name


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_weight_labels_keep_clear_of_other_edges(name):
    """softmax's w6 and w9 sat beside an edge crossing."""
    d = diagram(derive.derive(str(ROOT / "examples" / f"{name}.toml")))
    assert crowded(d) == []


@pytest.mark.parametrize("i", range(24))
def test_random_diagrams_have_no_collisions(tmp_path, i):
    path = tmp_path / "spec.toml"
    path.write_text(toml_text(matrix_spec(i)), encoding="utf-8")
    d = diagram(derive.derive(str(path)))
    assert collisions(d) == [] and crowded(d) == []


def test_the_check_sees_a_collision():
    d = {"labels": [{"text": "a", "owner": "x", "box": (0, 0, 1, 1)}, {"text": "b", "owner": "y", "box": (0.5, 0.5, 2, 2)}],
         "nodes_boxes": [], "segments": [(-1, 0.5, 3, 0.5, "z")]}
    assert len(collisions(d)) == 3
