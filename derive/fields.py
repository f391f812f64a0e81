"""Reading one field of a spec: the checks every section shares, each failing as one line.

`FieldReader` knows which file it reads, so that every error names the file, the field and what was
expected. The spec, its `[regularization]` section and the `[exam]` section all read through it.
"""
from __future__ import annotations

import math
from typing import Any

from .errors import DeriveError


class FieldReader:
    """Validation helpers that know which file they read, for one-line errors."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, field_name: str, message: str) -> DeriveError:
        return DeriveError(message, file=self.source, field=field_name)

    def number(self, value: Any, where: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(where, f"expected a number, got {show(value)}")
        try:
            number = float(value)
        except OverflowError:   # a TOML integer beyond the float range
            number = math.inf
        if not math.isfinite(number):
            shown = value if isinstance(value, float) else "an integer too large for a float"
            raise self.fail(where, f"expected a finite number, got {shown}")
        return number

    def integer(self, value: Any, where: str, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(where, f"expected a whole number from {low} to {high}, got {show(value)}")
        if not low <= value <= high:
            raise self.fail(where, f"expected a whole number from {low} to {high}, got {value}")
        return value

    def choice(self, value: Any, where: str, known: tuple[str, ...]) -> str:
        if not isinstance(value, str) or value not in known:
            raise self.fail(where, f"unknown value {show(value)}; expected one of: {', '.join(known)}")
        return value

    def boolean(self, value: Any, where: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(where, f"expected true or false, got {show(value)}")
        return value

    def vector(self, value: Any, where: str, length: int, what: str) -> tuple[float, ...]:
        if not isinstance(value, list):
            raise self.fail(where, f"expected a list of {length} numbers ({what}), got {show(value)}")
        if len(value) != length:
            raise self.fail(where, f"expected {length} numbers ({what}), got {len(value)}")
        return tuple(self.number(v, f"{where}[{i}]") for i, v in enumerate(value))


SHOWN = 80    # the longest piece of the user's input an error line repeats


def show(value: Any) -> str:
    """A value of the spec as an error line shows it: TOML-like, plain numbers, cut to ~80 characters."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float):
        text = repr(float(value))
    elif isinstance(value, (list, dict)):
        text = repr(value)
        return text if len(text) <= 40 else text[:37] + "..."
    else:
        text = repr(value)
    return text if len(text) <= SHOWN else text[:SHOWN - 3] + "..."
