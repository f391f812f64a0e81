"""A cost budget for `derive chain` and `derive jacobian`, checked before any work starts.

From the parsed expressions alone (never expanding them) it estimates
  - the size of f with every inner function (--let) written out in the variables: a chain of
    definitions that each use the previous one twice doubles it at every step;
  - the work: for every node, its size times the number of variables it depends on (the rules,
    the printing and the numeric check visit it once per such variable); a product counts 8 times
    once per factor that depends on a variable, as the product rule writes the product once per
    factor and sympy's derivative (the check) differentiates each factor for each variable.
Over either limit the command is refused with one line naming the limit (exit status 2). The
limits keep every accepted input under a minute on a 2-core machine (README, "Limits").
"""
from __future__ import annotations

from typing import Mapping

import sympy as sp

from ...errors import DeriveError

MAX_NODES = 5_000      # nodes of f written out in the variables
MAX_NESTING = 100      # operations nested in f written out (sin(sin(...)) through --let)
MAX_WORK = 400_000     # the work estimate described above
PRODUCT = 8            # a product's weight: it is written once per factor, and sympy's own
                       # derivative (the check) differentiates every factor for every variable


def _measure(expr: sp.Basic, inner: Mapping[sp.Symbol, tuple], memo: dict) -> tuple:
    """(size, work, variables, nesting) of expr with every inner function read in place."""
    if expr in memo:
        return memo[expr]
    if isinstance(expr, sp.Symbol):
        result = inner[expr] if expr in inner else (1, 1, frozenset([expr]), 1)
    elif not expr.args:
        result = (1, 0, frozenset(), 1)
    else:
        parts = [_measure(a, inner, memo) for a in expr.args]
        size = 1 + sum(p[0] for p in parts)
        if size > 10 * MAX_NODES:
            raise DeriveError(_too_big(size, bool(inner)), field="expression")
        variables = frozenset().union(*(p[2] for p in parts))
        uses = PRODUCT * sum(len(p[2]) for p in parts) if isinstance(expr, sp.Mul) else len(variables)
        work = size * uses + sum(p[1] for p in parts)
        nesting = 1 + max(p[3] for p in parts)
        if nesting > MAX_NESTING:
            raise DeriveError(f"the function written out in its variables nests operations more than "
                              f"{MAX_NESTING} deep", field="expression")
        result = (size, work, variables, nesting)
    memo[expr] = result
    return result


def _too_big(size: int, inner: bool) -> str:
    count = size if size <= 10 * MAX_NODES else f"over {10 * MAX_NODES}"
    hint = " (inner functions that use the previous one twice double it each time)" if inner else ""
    return (f"the expression written out in its variables has {count} nodes, more than the limit of "
            f"{MAX_NODES}{hint}")


def check(function: sp.Expr, inner: Mapping[sp.Symbol, sp.Expr], order: list[sp.Symbol]) -> None:
    """Refuse f (with inner functions in forward `order`) when over the limits; nothing is expanded."""
    measured: dict[sp.Symbol, tuple] = {}
    for s in order:
        measured[s] = _measure(inner[s], measured, {})
    size, work, variables, _ = _measure(function, measured, {})
    if size > MAX_NODES:
        raise DeriveError(_too_big(size, bool(order)), field="expression")
    if work > MAX_WORK:
        raise DeriveError(f"too much work: about {work} node visits ({size} nodes, {len(variables)} "
                          f"variables), more than the limit of {MAX_WORK}", field="expression")


def check_all(expressions: list[sp.Expr]) -> None:
    """The same limits for several expressions together (the components of a Jacobian)."""
    check(sp.Tuple(*expressions), {}, [])
