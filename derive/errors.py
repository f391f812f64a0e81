"""One exception type for everything a user can get wrong.

The CLI prints a `DeriveError` as one line and exits with status 2; anything else is a bug
(one line asking for a report, exit status 1).
"""
from __future__ import annotations

import re

SHOWN = 80            # characters of one quoted piece of user input shown in an error line
WHERE = 160           # characters of a file name or field (paths are often longer than 80)
LINE = 400            # characters of a whole message
_QUOTED = re.compile(r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"")


def shorten(text: str, limit: int = SHOWN) -> str:
    """`text` on one line and at most about `limit` characters (a 130 kB argument is not echoed whole)."""
    text = " ".join(str(text).split()) if "\n" in str(text) else str(text)
    if len(text) <= limit:
        return text
    keep = limit * 2 // 5
    return f"{text[:keep]}…{text[-keep:]} ({len(text)} characters)"


def shorten_quoted(message: str) -> str:
    """Cut every quoted piece of user input longer than SHOWN, then the whole message to LINE."""
    message = _QUOTED.sub(lambda m: m.group(0) if len(m.group(0)) <= SHOWN
                          else m.group(0)[:SHOWN - 20] + "…" + m.group(0)[-12:], message)
    return message if len(message) <= LINE else message[:LINE - 1] + "…"


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
        """The error as one line: a quoted piece of user input is cut to ~80 characters, a path or
        field to ~160, the message to 400 (a 130 kB argument is not echoed whole)."""
        where = ": ".join(shorten(p, WHERE) for p in (self.file, self.field) if p)
        message = shorten_quoted(self.message)
        return f"{where}: {message}" if where else message


class VerificationError(DeriveError):
    """The symbolic values disagree with the independent numeric check: never write such a key."""
