"""`derive exam --stress K`: the spread of every answer over K draws, rejections per rule, near-duplicates.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
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

    def text(self) -> str:
        p = lambda v: plain_number(v, self.decimals)   # noqa: E731
        width = max(len("question"), *(len(q.name) for q in self.questions))
        lines = [f"{self.count} variants accepted from {self.draws} draws (seed {self.seed}); "
                 "nothing written", "",
                 f"{'question':<{width}}  {'min':>14}  {'median':>14}  {'max':>14}"]
        for q, (lo, mid, hi) in zip(self.questions, self.spread):
            lines.append(f"{q.name:<{width}}  {p(lo):>14}  {p(mid):>14}  {p(hi):>14}")
        lines += ["", "rejected draws by rule:"]
        rule_width = max(len(r) for r in RULES)
        for rule in RULES:
            if rule == "duplicate":
                continue
            n = self.rejected.get(rule, 0)
            share = f"{100 * n / self.draws:5.1f} %" if self.draws else ""
            lines.append(f"  {rule:<{rule_width}}  {n:>7}  {share}  {RULES[rule]}{self.mostly.get(rule, '')}")
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
                        near_duplicates(table, settings.tolerances), spec.decimals, settings.seed,
                        {rule: draws.mostly(rule) for rule in draws.rejected})


def near_duplicates(table: np.ndarray, tolerance: np.ndarray) -> int:
    """Pairs of rows that agree within `tolerance` (one per column) in every column, found by a
    sweep over the rows sorted by column 0."""
    order = np.argsort(table[:, 0], kind="stable")
    rows = table[order]
    pairs = 0
    for i in range(len(rows)):
        j = i + 1
        while j < len(rows) and rows[j, 0] - rows[i, 0] <= tolerance[0]:
            if np.all(np.abs(rows[j] - rows[i]) <= tolerance):
                pairs += 1
            j += 1
    return pairs
