"""Exam variants: new numbers per student drawn from a seed, accepted only when they make a fair question.

The symbolic derivation is done once for the network's shape (`derivation.derive` is cached); a
variant costs only the compiled evaluation of its numbers, the acceptance rules and, once accepted,
the same verified `solve` as `derive key`. One `numpy.random.Generator` seeded from the seed draws
every number in a fixed order, so the same spec and seed give the same variants, and variant k does
not depend on how many variants are asked for.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np
import sympy as sp

from ...derivation import Derivation
from ...derivation import derive as derive_shape
from ...errors import DeriveError
from ...model.network import Shape
from ...numeric import compiled as numeric
from ...solution import Solution, one_round, solve
from ...spec import Spec
from .questions import answer, is_derivative
from .settings import Range, Settings

DRAWS_PER_VARIANT = 1000          # the resampling cap: draws tried for one variant before giving up
RELU_MARGIN = 0.01                # |net| of a ReLU neuron at least this far from its kink
SIGNIFICANT_FLOOR = 1e-6          # with significant digits, a derivative smaller than this counts as 0
# An asked answer (not an updated parameter, whose step has its own rule) at least this many times its
# tolerance: the tolerance is then at most 5 % of the answer, and at the default tolerance of 4 places
# (0.0005) the answer is at least 0.01, shown with 3 significant digits or more, so the rounded values
# of its worked lines still check by hand (an answer of 0.0064 ± 0.0005 came from values of 0.0002 to
# 0.0005, whose products at 4 places do not). Answers asked to significant digits have a relative
# tolerance and are exempt.
SMALL_ANSWER = 20
# The acceptance rules, in the order they are tried; each rejects a draw for the reason given.
RULES = {
    "zero_number": "a drawn weight, bias or input is 0",
    "targets_out_of_reach": "a target lies outside the range of its output's activation "
                            "(sigmoid (0, 1), tanh (-1, 1)) under a squared-error loss",
    "overflow": "the numbers overflow or leave the loss's domain",
    "saturated": "a sigmoid or tanh neuron is saturated (|net| above the saturation limit)",
    "relu_kink": f"a ReLU neuron's net lies within {RELU_MARGIN} of its kink at 0",
    "zero_gradient": "an asked derivative, or the step of an asked update, is within the "
                     "tolerance of 0 or rounds to 0 at the displayed decimals (with significant "
                     f"digits: is below {SIGNIFICANT_FLOOR:g} in size)",
    "small_answer": f"an asked answer other than an update is less than {SMALL_ANSWER} times its tolerance "
                    "(too few digits to check by hand)",
    "near_zero": "another asked answer is within its tolerance of 0 (guessable)",
    "equal_answers": "two asked answers agree within the tolerance",
    "duplicate": "every answer agrees within the tolerance with an earlier variant's",
}
HINTS = {
    "zero_number": "widen the ranges or use more decimals in [exam.random]",
    "targets_out_of_reach": "draw targets inside the activation's range ([exam.random] targets) "
                            "or change [data] targets",
    "overflow": "choose smaller ranges in [exam.random]",
    "saturated": "choose smaller ranges for weights, biases or inputs in [exam.random], "
                 "or raise [exam] saturation",
    "relu_kink": "choose ranges that keep ReLU nets away from 0",
    "zero_gradient": "raise [output] decimals, ask other quantities, or widen the ranges",
    "small_answer": "lower [exam] tolerance for that question, raise [exam] decimals, or widen the ranges",
    "near_zero": "lower [exam] tolerance for that question, or widen the ranges",
    "equal_answers": "ask other quantities, or lower [exam] tolerance",
    "duplicate": "ask for fewer variants, widen the ranges, or lower [exam] tolerance",
}


@dataclass
class Variant:
    number: int                           # 1-based
    spec: Spec
    solution: Solution
    answers: tuple[float, ...]

    def spec_dict(self) -> dict:
        """The variant's complete spec in the TOML schema, without the [exam] section."""
        data = self.spec.to_dict()
        data.pop("exam", None)
        return data


@dataclass
class Draws:
    """What drawing produced: accepted variants (or their answers only) and the rejections."""

    accepted: list = field(default_factory=list)
    answers: list[tuple[float, ...]] = field(default_factory=list)
    rejected: Counter = field(default_factory=Counter)
    culprits: dict[str, Counter] = field(default_factory=dict)   # rule -> what broke it, how often
    draws: int = 0

    def reject(self, rule: str, culprit: str | None = None) -> None:
        self.rejected[rule] += 1
        if culprit is not None:
            self.culprits.setdefault(rule, Counter())[culprit] += 1

    def mostly(self, rule: str) -> str:
        """' (mostly out_o1)': what broke a rule most often, when known."""
        culprits = self.culprits.get(rule)
        return f" (mostly {culprits.most_common(1)[0][0]})" if culprits else ""


def grid_numbers(rng: np.random.Generator, r: Range, count: int) -> list[float]:
    """`count` numbers on the range's grid, in the generator's order."""
    lo, hi, scale = r.grid()
    # Integers on the grid, divided once: 15 / 100 is the double nearest 0.15, as TOML reads it.
    return [int(k) / scale for k in rng.integers(lo, hi, count, endpoint=True)]


def drawn_targets(rng: np.random.Generator, targets, n_samples: int, n_out: int) -> tuple | None:
    """Every sample's targets from `[exam.random] targets`: "one_hot" (a class per sample) or a range
    (each entry on its grid); None when targets are not drawn. Shared by MLP and module exams, so
    that both draw them in the same order from the generator."""
    if targets == "one_hot":
        classes = rng.integers(0, n_out, n_samples)
        return tuple(tuple(1.0 if k == c else 0.0 for k in range(n_out)) for c in classes)
    if targets is None:
        return None
    flat = grid_numbers(rng, targets, n_samples * n_out)
    return tuple(tuple(flat[s * n_out:(s + 1) * n_out]) for s in range(n_samples))


class Drawer:
    """Draws the numbers of one variant from the generator, always in the same order:
    weights (layer by layer, row by row), biases, then inputs and targets when they are drawn."""

    def __init__(self, spec: Spec, ranges: dict[str, Range | str]):
        self.spec = spec
        self.ranges = ranges
        self.shapes = [(spec.layers[l + 1], spec.layers[l]) for l in range(len(spec.layers) - 1)]
        self.n_weights = sum(r * c for r, c in self.shapes)
        self.n_biases = sum(1 if isinstance(b, float) else len(b) for b in spec.biases)

    def draw(self, rng: np.random.Generator) -> tuple[Spec, list[float]]:
        """A new spec with drawn numbers, and the drawn weights, biases and inputs (for zero_number)."""
        spec = self.spec
        flat = grid_numbers(rng, self.ranges["weights"], self.n_weights)
        weights, at = [], 0
        for rows, cols in self.shapes:
            weights.append(tuple(tuple(flat[at + j * cols: at + (j + 1) * cols]) for j in range(rows)))
            at += rows * cols
        flat_b = grid_numbers(rng, self.ranges["biases"], self.n_biases)
        biases, at = [], 0
        for b in spec.biases:
            if isinstance(b, float):
                biases.append(flat_b[at])
                at += 1
            else:
                biases.append(tuple(flat_b[at: at + len(b)]))
                at += len(b)
        drawn = flat + flat_b
        changes: dict = {"weights": tuple(weights), "biases": tuple(biases)}
        n_samples, n_in, n_out = len(spec.inputs), spec.layers[0], spec.layers[-1]
        if "inputs" in self.ranges:
            flat_x = grid_numbers(rng, self.ranges["inputs"], n_samples * n_in)
            changes["inputs"] = tuple(tuple(flat_x[s * n_in:(s + 1) * n_in]) for s in range(n_samples))
            drawn += flat_x
        targets = drawn_targets(rng, self.ranges.get("targets"), n_samples, n_out)
        if targets is not None:
            changes["targets"] = targets
        return replace(spec, **changes), drawn


def rejection(spec: Spec, d: Derivation, values: numeric.Values, answers: tuple[float, ...],
              settings: Settings, drawn: list[float]) -> tuple[str, str | None] | None:
    """The first acceptance rule a drawn variant breaks (see RULES) and the question or neuron that
    broke it, or None when the variant is fine."""
    m = d.model
    if any(v == 0 for v in drawn):
        return "zero_number", None
    if spec.loss in ("half_sse", "mse") and spec.activations[-1] in ("sigmoid", "tanh"):
        low = 0.0 if spec.activations[-1] == "sigmoid" else -1.0
        for sample in spec.targets:
            for t, target in zip(sample, m.targets):
                if not low < t < 1.0:
                    return "targets_out_of_reach", target.name
    for sample in values.samples:
        for l, act in enumerate(spec.activations, start=1):
            for z in m.net[l]:
                if act in ("sigmoid", "tanh") and abs(sample[z]) > settings.saturation:
                    return "saturated", z.name
                if act == "relu" and abs(sample[z]) < RELU_MARGIN:
                    return "relu_kink", z.name
    questions = settings.questions
    derivative = [is_derivative(d, q) for q in questions]
    before = [values.totals[_parameter_of(d, q.symbol)] if q.kind == "update" else None for q in questions]
    return answer_rejection(questions, answers, derivative, before)


def answer_rejection(questions, answers: tuple[float, ...], derivative: list[bool],
                     before: list[float | None]) -> tuple[str, str | None] | None:
    """The answer rules (zero_gradient, small_answer, near_zero, equal_answers) of RULES: `derivative` says which
    questions ask a derivative, `before` the value of an updated parameter before its step (else None).
    Shared by the exams of MLP and of module specs."""
    for q, a, deriv, b in zip(questions, answers, derivative, before):
        zero = SIGNIFICANT_FLOOR if q.significant else max(q.tolerance, 0.5 * 10.0 ** -q.digits)
        if deriv and abs(a) <= zero:
            return "zero_gradient", q.name
        if q.kind == "update":   # the step must show: w+ neither equal to w nor guessable as w
            if abs(a - b) <= q.tolerance_at(a) or q.shown(a) == q.shown(b):
                return "zero_gradient", q.name
    for q, a in zip(questions, answers):
        if not q.significant and q.kind != "update" and abs(a) < SMALL_ANSWER * q.tolerance:
            return "small_answer", q.name
    for q, a in zip(questions, answers):
        if not q.significant and abs(a) <= q.tolerance:
            return "near_zero", q.name
    for i, a in enumerate(answers):
        shown = questions[i].shown(a)
        for j in range(i + 1, len(answers)):
            b = answers[j]
            if abs(a - b) <= max(questions[i].tolerance_at(a), questions[j].tolerance_at(b)) or \
                    questions[j].shown(b) == shown:
                return "equal_answers", f"{questions[i].name} and {questions[j].name}"
    return None


def _parameter_of(d: Derivation, updated: sp.Symbol) -> sp.Symbol:
    return next(p for p, u in d.updated.items() if u == updated)


def draw_variants(spec: Spec, settings: Settings, count: int, keep: bool, reject_duplicates: bool,
          progress: Callable[[int], None] | None = None) -> Draws:
    """Draw until `count` variants are accepted; `keep`: verify and keep each one's Solution."""
    rng = np.random.default_rng(settings.seed)
    d = derive_shape(Shape.of(spec))
    evaluator = numeric.evaluator(d)
    drawer = Drawer(spec, settings.ranges)
    out = Draws()
    accepted = np.empty((0, len(settings.questions)))
    while len(out.answers) < count:
        for _ in range(DRAWS_PER_VARIANT):
            out.draws += 1
            candidate, drawn = drawer.draw(rng)
            try:   # with an optimiser, the updates asked are its first step's
                values = one_round(candidate, d, evaluator)
            except DeriveError:
                out.reject("overflow")
                continue
            answers = tuple(answer(values, q) for q in settings.questions)
            reason = rejection(candidate, d, values, answers, settings, drawn)
            if reason is None and reject_duplicates and len(accepted) and bool(np.any(np.all(
                    np.abs(accepted - np.array(answers)) <= settings.tolerances_at(answers), axis=1))):
                reason = "duplicate", None
            if reason is not None:
                out.reject(*reason)
                continue
            break
        else:
            raise _unmeetable(spec, out, len(out.answers) + 1)
        number = len(out.answers) + 1
        out.answers.append(answers)
        if reject_duplicates:
            accepted = np.vstack([accepted, answers])
        if keep:
            candidate = replace(candidate, source=f"{spec.source} (variant {number})")
            out.accepted.append(Variant(number, candidate, solve(candidate), answers))
        if progress is not None:
            progress(number)
    return out


def _unmeetable(spec: Spec, draws: Draws, number: int) -> DeriveError:
    counts = ", ".join(f"{rule} {n}" for rule, n in draws.rejected.most_common())
    worst = draws.rejected.most_common(1)[0][0]
    return DeriveError(f"the acceptance rules cannot be met: {DRAWS_PER_VARIANT} draws in a row were "
                       f"rejected for variant {number} (rejections so far: {counts}); mostly "
                       f"'{worst}'{draws.mostly(worst)}: {RULES[worst]}; {HINTS[worst]}",
                       file=spec.source, field="[exam.random]")


def variants(spec: Spec, settings: Settings, count: int,
             progress: Callable[[int], None] | None = None) -> list[Variant]:
    """`count` accepted variants, each verified like `derive key` (numpy and finite differences)."""
    return draw_variants(spec, settings, count, keep=True, reject_duplicates=True, progress=progress).accepted
