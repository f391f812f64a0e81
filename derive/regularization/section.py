"""The `[regularization]` section of a spec, validated: which penalty, λ, r, and whether biases count.

The spec reads this section through `parse_section`; everything the later stages of the
regularisation slice need from the file is in the `Regularization` record.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..fields import FieldReader, show

PENALTIES = ("l2", "l1")
FIELDS = ("penalty", "lambda", "include_biases", "radius")


@dataclass(frozen=True)
class Regularization:
    """A validated `[regularization]` section."""

    penalty: str                  # "l2": R = Σθ² | "l1": R = Σ|θ|
    lam: float | None             # λ of the soft constraint (None: no soft part)
    include_biases: bool = False  # θ holds the biases too
    radius: float | None = None   # r of the hard constraint (None: no hard part)

    @property
    def strength(self) -> float:
        """λ for the key's soft numbers: 0 when only a radius is given."""
        return self.lam or 0.0


def parse_section(raw: Any, source: str, update_biases: bool) -> Regularization:
    """Validate `[regularization]`; every problem is one DeriveError naming file and field."""
    r = FieldReader(source)
    if not isinstance(raw, dict):
        raise r.fail("regularization", "expected a section [regularization]")
    for key in raw:
        if key not in FIELDS:
            raise r.fail(f"[regularization] {key}", "unknown field; expected one of: "
                         + ", ".join(sorted(FIELDS)))
    penalty = raw.get("penalty", "l2")
    if penalty == "none":
        given = "radius" if "radius" in raw else "lambda" if "lambda" in raw else "penalty"
        what = "a radius bounds" if given == "radius" else "lambda weighs"
        raise r.fail(f"[regularization] {given}", f"{what} the penalty R(θ), but penalty = \"none\" "
                     "has none; choose penalty = \"l2\" or \"l1\"")
    penalty = r.choice(penalty, "[regularization] penalty", PENALTIES)
    lam = radius = None
    if "lambda" in raw:
        lam = _nonnegative(r, raw["lambda"], "[regularization] lambda", ">= 0", strict=False)
    if "radius" in raw:
        radius = _nonnegative(r, raw["radius"], "[regularization] radius", "> 0", strict=True)
    if radius is not None and not 1e-150 <= radius <= 1e150:
        raise r.fail("[regularization] radius", f"expected a radius from 1e-150 to 1e+150 (its square, "
                     f"the bound of R(θ), must be a normal floating-point number), got {radius:g}")
    include = r.boolean(raw.get("include_biases", False), "[regularization] include_biases")
    if lam is None and radius is None:
        raise r.fail("[regularization]", "expected lambda (soft constraint), radius (hard constraint) "
                     "or both")
    if radius is not None and include and not update_biases:
        raise r.fail("[regularization] include_biases", "the hard constraint would bound biases that "
                     "[training] update_biases = false keeps fixed; set update_biases = true or "
                     "include_biases = false")
    return Regularization(penalty, lam, include, radius)


def _nonnegative(r: FieldReader, value: Any, where: str, expected: str, strict: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise r.fail(where, f"expected a number {expected}, got {show(value)}")
    number = r.number(value, where)
    if number < 0 or (strict and number == 0):
        raise r.fail(where, f"expected a number {expected}, got {number:g}")
    return number
