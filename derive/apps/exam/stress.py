"""`derive exam --stress K`: the spread of every answer over K draws, rejections per rule, near-duplicates.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
import itertools
from typing import Callable

import numpy as np

from ...limits import MAX_STRESS
from ...printing.numbers import plain_number
from ...spec import Spec
from .draw import RULES, draw_variants
from .questions import Question
from .settings import Settings, field_failer, whole_number


@dataclass
class StressReport:
    questions: tuple[Question, ...]
    count: int
    draws: int
    rejected: Counter
    spread: list[tuple[float, float, float]]     # per question: min, median, max
    near_duplicates: int                         # pairs of variants with every answer within tolerance
    decimals: int
    seed: int
    mostly: dict[str, str] = field(default_factory=dict)   # rule -> " (mostly dE_total/dw1)"
    rules: dict[str, str] = field(default_factory=lambda: RULES)   # the rules, in the order listed

    def text(self) -> str:
        p = lambda v: plain_number(v, self.decimals)   # noqa: E731
        width = max(len("question"), *(len(q.name) for q in self.questions))
        lines = [f"{self.count} variants accepted from {self.draws} draws (seed {self.seed}); "
                 "nothing written", "",
                 f"{'question':<{width}}  {'min':>14}  {'median':>14}  {'max':>14}"]
        for q, (lo, mid, hi) in zip(self.questions, self.spread):
            lines.append(f"{q.name:<{width}}  {p(lo):>14}  {p(mid):>14}  {p(hi):>14}")
        lines += ["", "rejected draws by rule:"]
        rule_width = max(len(r) for r in self.rules)
        for rule in self.rules:
            if rule == "duplicate":
                continue
            n = self.rejected.get(rule, 0)
            share = f"{100 * n / self.draws:5.1f} %" if self.draws else ""
            lines.append(f"  {rule:<{rule_width}}  {n:>7}  {share}  {self.rules[rule]}{self.mostly.get(rule, '')}")
        lines += ["", f"near-duplicates: {self.near_duplicates} pairs of variants whose every answer "
                  "agrees within the tolerance (derive exam redraws such a variant)"]
        return "\n".join(lines) + "\n"


def stress(spec: Spec, settings: Settings, count: int,
           progress: Callable[[int], None] | None = None) -> StressReport:
    """Draw `count` variants under the acceptance rules without writing or verifying them."""
    count = whole_number(field_failer(spec.source), count, "--stress", 1, MAX_STRESS)
    draws = draw_variants(spec, settings, count, keep=False, reject_duplicates=False, progress=progress)
    table = np.array(draws.answers)
    spread = [(float(c.min()), float(np.median(c)), float(c.max())) for c in table.T]
    return StressReport(settings.questions, count, draws.draws, draws.rejected, spread,
                        near_duplicates(table, settings.tolerances,
                                        np.array([q.significant for q in settings.questions])),
                        spec.decimals, settings.seed,
                        {rule: draws.mostly(rule) for rule in draws.rejected})


HASHED_COLUMNS = 3    # answers hashed into grid cells (3^3 neighbouring cells looked at per cell)


def near_duplicates(table: np.ndarray, tolerance: np.ndarray, relative: np.ndarray | None = None) -> int:
    """Pairs of rows that agree within `tolerance` (one per column) in every column.

    A column marked `relative` (an answer asked to significant digits) holds a fraction of the
    answer: two answers a, b agree when |a - b| <= tolerance * max(|a|, |b|), as the exam's draw
    rule would find in one order or the other.

    Linear in the rows for answers that spread (what the acceptance rules ask for): every row falls
    into a grid cell of twice the tolerance in the most discriminating columns (relative columns on
    a log scale, where that tolerance is a fixed width), so two rows within the tolerance lie in the
    same or neighbouring cells (with room for rounding); only those candidates are compared, in
    every column. The count is exactly that of comparing all pairs.
    """
    n = len(table)
    if n < 2:
        return 0
    table = np.asarray(table, dtype=float)
    tolerance = np.asarray(tolerance, dtype=float)
    relative = np.zeros(table.shape[1], dtype=bool) if relative is None else np.asarray(relative, dtype=bool)
    cells = np.floor(_scale(table, tolerance, relative))
    spread = [len(np.unique(cells[:, c])) for c in range(table.shape[1])]
    columns = sorted(range(table.shape[1]), key=lambda c: -spread[c])[:HASHED_COLUMNS]
    n_cols = len(columns)
    uniques = [np.unique(cells[:, c]) for c in columns]
    strides = np.cumprod([1] + [len(u) for u in uniques[:-1]]).astype(np.int64)
    code = sum(np.searchsorted(u, cells[:, c]).astype(np.int64) * k
               for u, c, k in zip(uniques, columns, strides))
    order = np.argsort(code, kind="stable")
    sorted_code = code[order]
    pairs = 0
    for offset in itertools.product((-1, 0, 1), repeat=n_cols):
        if offset < (0,) * n_cols:
            continue     # each pair of neighbouring cells once
        neighbour = np.zeros(n, dtype=np.int64)
        valid = np.ones(n, dtype=bool)
        for u, c, k, o in zip(uniques, columns, strides, offset):
            wanted = cells[:, c] + o
            at = np.searchsorted(u, wanted)
            valid &= (at < len(u)) & (u[np.minimum(at, len(u) - 1)] == wanted)
            neighbour += np.minimum(at, len(u) - 1).astype(np.int64) * k
        rows = np.nonzero(valid)[0]
        first = np.searchsorted(sorted_code, neighbour[rows], side="left")
        last = np.searchsorted(sorted_code, neighbour[rows], side="right")
        counts = last - first
        i = np.repeat(rows, counts)
        within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        j = order[np.repeat(first, counts) + within]
        if offset == (0,) * n_cols:
            keep = j > i
            i, j = i[keep], j[keep]
        bound = np.where(relative, tolerance * np.maximum(np.abs(table[i]), np.abs(table[j])), tolerance)
        pairs += int(np.all(np.abs(table[i] - table[j]) <= bound, axis=1).sum())
    return pairs


LOG_OFFSET = 1000.0   # above -log of the smallest double: positive and negative answers never share a cell


def _scale(table: np.ndarray, tolerance: np.ndarray, relative: np.ndarray) -> np.ndarray:
    """Each column in units of twice its tolerance: absolute columns as they are, relative ones as
    sign * (log|x| + offset), where answers within a fraction r lie within -log(1 - r) (zero apart)."""
    out = np.empty_like(table)
    for c in range(table.shape[1]):
        column, r = table[:, c], tolerance[c]
        if not relative[c]:
            out[:, c] = column / (2 * r if r > 0 else 1.0)
            continue
        width = 2 * -np.log1p(-r) if 0 < r < 1 else (np.inf if r >= 1 else 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.where(column != 0, np.sign(column) * (np.log(np.abs(column)) + LOG_OFFSET), 0.0)
        out[:, c] = logs / width if np.isfinite(width) else np.sign(column)
    return out
