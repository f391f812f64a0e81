"""`derive chain`: the chain rule worked for any expression."""
from __future__ import annotations

from ..apps.chain.document import run_chain as run

__all__ = ["run"]
