"""derive: worked solutions of neural-network training, derived with sympy, typeset with LaTeX.

The flow runs one way, and the folders show it: spec -> model -> derivation -> numeric (numbers and
their independent check) -> solve -> printing -> layout -> output (templates, TeX, folders) -> apps
-> cli. Names are handed out lazily (module `__getattr__`), so that `import derive` and
`derive --help` need not load sympy.
"""
from __future__ import annotations

import importlib

__all__ = ["DeriveError", "Solution", "Spec", "derive", "load", "parse", "show", "solve"]

_LAZY = {"DeriveError": "errors", "Solution": "solution", "solve": "solution", "Spec": "spec", "load": "spec",
         "parse": "spec", "derive": "solution", "show": "apps.notebook"}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
