"""derive: worked solutions of neural-network training, derived with sympy, typeset with LaTeX.

The flow runs one way: spec file -> validated `Spec` -> sympy `Model` -> `Derivation` (step records)
-> numbers (`numeric`) -> verified key (`verify`) -> template context -> .tex -> PDF.
"""
from __future__ import annotations

from .errors import DeriveError
from .solve import Solution, solve
from .spec import Spec, load, parse

__all__ = ["DeriveError", "Solution", "Spec", "derive", "load", "parse", "solve"]


def derive(spec: Spec | dict | str) -> Solution:
    """The verified solution of a spec (a `Spec`, a dict in the TOML schema, or a file path)."""
    if isinstance(spec, str):
        spec = load(spec)
    elif isinstance(spec, dict):
        spec = parse(spec)
    return solve(spec)
