"""One exception type for everything a user can get wrong.

The CLI prints a `DeriveError` as one line and exits with status 2; anything else is a bug
and keeps its traceback.
"""
from __future__ import annotations


class DeriveError(Exception):
    """A user error: which file, which field, what was expected (and, optionally, what was found)."""

    def __init__(self, message: str, *, file: str | None = None, field: str | None = None,
                 details: str | None = None):
        self.file = file
        self.field = field
        self.message = message
        self.details = details  # extra lines (a TeX log excerpt), printed after the one-line message
        super().__init__(self.line())

    def line(self) -> str:
        where = ": ".join(p for p in (self.file, self.field) if p)
        return f"{where}: {self.message}" if where else self.message


class VerificationError(DeriveError):
    """The symbolic values disagree with the independent numeric check: never write such a key."""
