"""`derive jacobian`: the Jacobian of a vector of expressions, and the vector chain rule."""
from __future__ import annotations

from ..apps.chain.document import run_jacobian as run

__all__ = ["run"]
