"""The names a spec may choose: activations, losses, naming schemes, snippet parts.

Kept free of sympy so that a spec is validated (and `derive --help` answers) without loading it;
the modules that give each name its mathematics (`model.activations`, `model.losses`,
`model.naming`) take their tables from here.
"""
from __future__ import annotations

ACTIVATIONS = ("sigmoid", "tanh", "relu", "linear", "softmax")
LOSSES = ("half_sse", "mse", "cross_entropy", "binary_cross_entropy")
NAMINGS = ("auto", "lecture", "indexed")
PARTS = ("network", "forward", "loss", "backward", "update", "regularization", "vector")


def resolve_naming(naming: str, layers: tuple[int, ...]) -> str:
    """`auto` becomes the lecture's names when the network has at most one hidden layer."""
    if naming == "auto":
        return "lecture" if len(layers) <= 3 else "indexed"
    return naming
