"""The optimiser fields of `[training]`, validated: which update rule, its constants, the mini-batch size.

Kept beside the spec (and free of sympy) so that a spec is validated without loading the
mathematics; `numeric.optimizers` gives each rule its formulas. Without `optimizer` and
`batch_size` the spec trains by plain gradient descent on all samples, exactly as before, and
nothing of this module reaches the key.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .fields import FieldReader

OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam")
# The constants each rule reads, with their defaults (PyTorch's, but for momentum's 0.9).
CONSTANTS: dict[str, dict[str, float]] = {
    "sgd": {},
    "momentum": {"momentum": 0.9},
    "nesterov": {"momentum": 0.9},
    "rmsprop": {"alpha": 0.99, "epsilon": 1e-8},
    "adam": {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
}
FIELDS = ("optimizer", "momentum", "alpha", "beta1", "beta2", "epsilon", "batch_size")


@dataclass(frozen=True)
class Optimizer:
    """A validated optimiser: its rule's name, its constants (name -> value) and the batch size."""

    name: str
    constants: tuple[tuple[str, float], ...]
    batch_size: int

    def constant(self, name: str) -> float:
        return dict(self.constants)[name]

    def record(self) -> dict:
        """The fields as the spec writes them (for key.json and for re-reading the spec)."""
        return {"optimizer": self.name, **dict(self.constants), "batch_size": self.batch_size}


def parse_optimizer(train: dict, source: str, n_samples: int, others: tuple[str, ...] = ()) -> Optimizer | None:
    """The optimiser of a `[training]` section, or None when it names none (plain gradient descent).
    `others`: the section's other fields, listed when a constant does not belong to the rule."""
    r = FieldReader(source)
    given = [f for f in FIELDS if f in train]
    if not given:
        return None
    name = r.choice(train.get("optimizer", "sgd"), "[training] optimizer", OPTIMIZERS)
    defaults = CONSTANTS[name]
    for field_name in given:
        if field_name not in ("optimizer", "batch_size") and field_name not in defaults:
            users = [o for o in OPTIMIZERS if field_name in CONSTANTS[o]]
            valid = sorted({*others, "optimizer", "batch_size", *defaults})
            plain = " (plain gradient descent)" if name == "sgd" else ""
            raise r.fail(f"[training] {field_name}", f"unknown field for optimizer = \"{name}\"{plain}; "
                         f"{field_name} is a constant of optimizer = "
                         + " and ".join(f'"{o}"' for o in users) + "; expected one of: " + ", ".join(valid))
    constants = []
    for field_name, default in defaults.items():
        value = r.number(train.get(field_name, default), f"[training] {field_name}")
        constants.append((field_name, _checked(r, field_name, value, name)))
    batch_size = r.integer(train.get("batch_size", n_samples), "[training] batch_size", 1, n_samples)
    return Optimizer(name, tuple(constants), batch_size)


def _checked(r: FieldReader, field_name: str, value: float, name: str) -> float:
    where = f"[training] {field_name}"
    if field_name == "epsilon":
        if value <= 0:
            raise r.fail(where, f"expected a number > 0, got {value:g}")
        return value
    low_open = field_name == "momentum" and name == "nesterov"
    if not (0 < value < 1 if low_open else 0 <= value < 1):
        bound = "0 < x < 1 (Nesterov's step needs a momentum)" if low_open else "0 <= x < 1"
        raise r.fail(where, f"expected a number with {bound}, got {value:g}")
    return value


def refuse_with_regularization(r: FieldReader, optimizer: Any) -> None:
    """The regularisation slice trains by plain gradient descent: an optimiser beside it is refused."""
    if optimizer is not None:
        raise r.fail("[training] optimizer", "an optimiser other than plain gradient descent on all "
                     "samples cannot be combined with [regularization]; remove one of them")
