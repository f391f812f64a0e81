"""Numbers as a student reads them: one rounding rule, printed as LaTeX or as plain text.

`format_number` (LaTeX, for pages) and `plain_number` (plain text, for keys, CSV and Moodle) round
the same way (`rounded`); they differ only in how a number too small for the places is written.
"""
from __future__ import annotations

import math


def rounded(value: float, decimals: int) -> str | None:
    """`value` at `decimals` places, trailing zeros dropped (0.3775, 0.593269992); None when a
    non-zero value would round to 0 (the callers then write it in scientific form)."""
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("0", "-0"):
        return "0" if value == 0 else None
    return text


def format_number(value: float, decimals: int) -> str:
    """The lecture's display as LaTeX: `rounded`, or m \\times 10^{k} for a tiny non-zero value and
    for one of a million or more."""
    if value != value or math.isinf(value):
        return r"\text{NaN}" if value != value else (r"\infty" if value > 0 else r"-\infty")
    if abs(value) >= HUGE:
        mantissa, exponent = _scientific(value, decimals)
        return rf"{mantissa} \times 10^{{{exponent}}}"
    text = rounded(value, decimals)
    if text is None:
        mantissa, exponent = f"{value:.3e}".split("e")
        mantissa = mantissa.rstrip("0").rstrip(".")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return text


HUGE = 1e6    # from here on a number is written m × 10^k (1e308 in full has 309 digits: off the page)


def _scientific(value: float, decimals: int) -> tuple[str, int]:
    """Mantissa (`decimals` places, trailing zeros dropped) and exponent of a huge number."""
    mantissa, exponent = f"{value:.{decimals}e}".split("e")
    return mantissa.rstrip("0").rstrip("."), int(exponent)


def plain_number(value: float, decimals: int) -> str:
    """The same rounding as `format_number`, as plain text (for tables of keys, CSV, Moodle)."""
    if abs(value) >= HUGE and math.isfinite(value):
        mantissa, exponent = _scientific(value, decimals)
        return f"{mantissa}e{exponent:+d}"
    text = rounded(value, decimals)
    return f"{value:.3e}" if text is None else text
