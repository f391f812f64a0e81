"""Numbers as a student reads them: one rule, printed as LaTeX or as plain text.

The rule, for a computed value at `decimals` places:
- exactly `decimals` places, trailing zeros kept (0.511301270; at 4 places 0.4490): the precision a
  page promises is the precision it shows;
- an exact zero is 0;
- a magnitude of 10^6 or more, or a non-zero magnitude below the last displayed place (10^-decimals),
  is m × 10^k with `decimals` significant digits.
Given data (weights, inputs, targets, the learning rate of a spec) print as written (0.15, not
0.150000000): `given_number`; on a page (`given_latex`) a given constant below 10^-4, which a spec
writes 1e-8, prints as 10^{-8} (m × 10^k), not as 0.00000001, whose zeros a reader has to count.

`format_number` writes LaTeX (m \\times 10^{k}); `plain_number` writes the same rounded number for
machines (CSV, Moodle answers) in fixed notation, never e-notation, so that every reader parses it:
1.23456789 × 10^-5 at 9 places is 0.0000123456789 there.
"""
from __future__ import annotations

from decimal import Decimal
import math

LARGE = 1e6   # from this magnitude on, a computed value prints as m × 10^k
SCIENTIFIC_FORM = r"m \times 10^{k}"   # the form's name, for a sentence that explains the rule


def _special(value: float) -> str | None:
    if value != value:
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return None


def fixed(value: float, decimals: int) -> str | None:
    """`value` at exactly `decimals` places (trailing zeros kept), "0" for an exact zero, None when
    the rule asks for scientific form (magnitude at least 10^6, or non-zero below 10^-decimals)."""
    if value == 0:
        return "0"
    if abs(value) < 10.0 ** -decimals:
        return None
    text = f"{value:.{decimals}f}"
    return None if abs(float(text)) >= LARGE else text


def scientific(value: float, digits: int) -> tuple[str, int]:
    """`value` as (mantissa with `digits` significant digits, exponent): 1.23 and -5 for 1.23e-5."""
    mantissa, exponent = f"{value:.{max(digits, 1) - 1}e}".split("e")
    return mantissa, int(exponent)


def _by_rule(value: float, decimals: int) -> tuple[str, str | None, int | None]:
    """The rule once: (kind, text, exponent) — a special value, fixed text, or a mantissa and exponent."""
    special = _special(value)
    if special is not None:
        return "special", special, None
    text = fixed(value, decimals)
    if text is not None:
        return "fixed", text, None
    mantissa, exponent = scientific(value, decimals)
    return "scientific", mantissa, exponent


def format_number(value: float, decimals: int) -> str:
    """A computed value as LaTeX by the rule: 0.511301270, 0, 1.23456789 \\times 10^{-5}."""
    kind, text, exponent = _by_rule(value, decimals)
    if kind == "special":
        return {"NaN": r"\text{NaN}", "inf": r"\infty", "-inf": r"-\infty"}[text]
    return text if kind == "fixed" else rf"{text} \times 10^{{{exponent}}}"


def column_numbers(values, decimals: int) -> list[str]:
    """A table column as LaTeX in one form: by the rule, but when any entry needs m × 10^k, every
    non-zero entry is written so (with `decimals` significant digits), so that a reader compares
    like with like down the column (never 7.69 × 10^{-10} above 0.000000001)."""
    values = [float(v) for v in values]
    if all(_by_rule(v, decimals)[0] != "scientific" for v in values):
        return [format_number(v, decimals) for v in values]
    return [scientific_number(v, decimals) for v in values]


def scientific_number(value: float, decimals: int) -> str:
    """A computed value as m \\times 10^{k} with `decimals` significant digits (0 stays 0): the form
    of a column, or of a quantity, in which some entry needs it."""
    if value == 0 or _special(value) is not None:
        return format_number(value, decimals)
    mantissa, exponent = scientific(value, decimals)
    return rf"{mantissa} \times 10^{{{exponent}}}"


def shows_few_digits(value: float, decimals: int, digits: int) -> bool:
    """A non-zero value that shows fewer than `digits` significant digits at `decimals` places
    (0.0002 at 4 places shows one): a later line that divides it by 0.001 cannot be redone from it."""
    return value != 0 and _special(value) is None and abs(value) < 10.0 ** (digits - 1 - decimals)


def text_number(value: float, decimals: int) -> str:
    """The same number as plain text for a reader (no e-notation): 1.23 × 10^-5."""
    kind, text, exponent = _by_rule(value, decimals)
    return text if kind != "scientific" else f"{text} × 10^{exponent}"


def plain_number(value: float, decimals: int) -> str:
    """The number `format_number` shows, in fixed notation for machines (CSV, Moodle): the same
    digits, 0.0000123456789 for 1.23456789 × 10^-5 (every CSV reader and Moodle parse it)."""
    kind, text, exponent = _by_rule(value, decimals)
    return text if kind != "scientific" else given_number(float(f"{text}e{exponent}"))


def given_number(value: float) -> str:
    """Given data as written in the spec: the shortest decimal that reads back as the same float
    (0.15, 0.5, -2, 0.00001), in fixed notation."""
    special = _special(value)
    if special is not None:
        return special
    if value == 0:
        return "0"
    text = format(Decimal(repr(float(value))), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


TINY_GIVEN = 1e-4   # a given magnitude below this prints as m × 10^k on a page (1e-8 -> 10^{-8})


def given_latex(value: float) -> str:
    """Given data as LaTeX: as written (`given_number`: 0.15, 0.0001), except a non-zero magnitude
    below 10^-4, which a spec writes in e-notation (epsilon = 1e-8): 10^{-8}, 2.5 \\times 10^{-6},
    with the mantissa's shortest digits (the value as written, not rounded)."""
    if _special(value) is not None or value == 0 or abs(value) >= TINY_GIVEN:
        return given_number(value)
    mantissa, exponent = repr(float(value)).split("e")    # Python writes below 10^-4 as 1e-08
    mantissa = given_number(float(mantissa))
    power = f"10^{{{int(exponent)}}}"
    if mantissa in ("1", "-1"):
        return power if mantissa == "1" else "-" + power
    return rf"{mantissa} \times {power}"


def compact_number(value: float, decimals: int) -> str:
    """`derive chain` and `derive jacobian` (a lecturer's scratch pad for any expression, where
    given and computed values are not told apart): at most `decimals` places, trailing zeros
    dropped (-12, 0.3775), m × 10^k by the same rule otherwise."""
    text = format_number(value, decimals)
    if r"\times" in text or "." not in text:
        return text
    return text.rstrip("0").rstrip(".")
