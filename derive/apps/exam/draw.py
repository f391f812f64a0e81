"""Exam variants: new numbers per student drawn from a seed, accepted only when they make a fair question.

The symbolic derivation is done once for the network's shape (`derivation.derive` is cached); a
variant costs only the compiled evaluation of its numbers, the acceptance rules and, once accepted,
the same verified `solve` as `derive key`. One `numpy.random.Generator` seeded from the seed draws
every number in a fixed order, so the same spec and seed give the same variants, and variant k does
not depend on how many variants are asked for.

The `[exam]` section (every field optional):

    variants = 30                  # how many (1 to MAX_VARIANTS); --variants overrides
    seed = 2024                    # --seed overrides; without one a seed is drawn and printed
    questions = ["out_o1", "E_total", "dE/dw5", "w1+"]   # default: the worksheet's tasks
    tolerance = 0.0005             # absolute; default 5 units in the last displayed decimal;
                                   # or per question: {default = 0.0005, "dE/dw1" = 0.00005}
    saturation = 4.0               # |net| above which a sigmoid/tanh neuron counts as saturated

    [exam.random]                  # how numbers are drawn: [min, max] or {min, max, decimals}
    decimals = 2                   # default decimals of every range below
    weights = [-1.0, 1.0]          # default [-1, 1]
    biases = [-1.0, 1.0]           # default [-1, 1]
    inputs = [0.0, 1.0]            # only when given; otherwise the spec's inputs are kept
    targets = [0.05, 0.95]         # only when given; or "one_hot" (one class per sample)
"""
from __future__ import annotations

import itertools

from collections import Counter
from dataclasses import dataclass, field, replace
import math
import secrets
from typing import Any, Callable

import numpy as np
import sympy as sp

from ...derivation import Derivation
from ...derivation import derive as derive_shape
from ...errors import DeriveError
from ...layout.problem import worksheet_quantities
from ...limits import MAX_STRESS, MAX_VARIANTS
from ...model.naming import Partial, Sampled
from ...model.network import Shape
from ...numeric import compiled as numeric
from ...printing.numbers import plain_number
from ...solution import Solution, solve
from ...spec import Spec

DRAWS_PER_VARIANT = 1000          # the resampling cap: draws tried for one variant before giving up
MAX_RANDOM_DECIMALS = 6
MAX_RANGE = 1000.0                # drawn numbers lie in [-MAX_RANGE, MAX_RANGE]
DEFAULT_SATURATION = 4.0
RELU_MARGIN = 0.01                # |net| of a ReLU neuron at least this far from its kink
KINDS = ("weights", "biases", "inputs", "targets")
EXAM_FIELDS = ("variants", "seed", "questions", "tolerance", "saturation", "random")
RANDOM_FIELDS = ("decimals",) + KINDS

# The acceptance rules, in the order they are tried; each rejects a draw for the reason given.
RULES = {
    "zero_number": "a drawn weight, bias or input is 0",
    "targets_out_of_reach": "a target lies outside the range of its output's activation "
                            "(sigmoid (0, 1), tanh (-1, 1)) under a squared-error loss",
    "overflow": "the numbers overflow or leave the loss's domain",
    "saturated": "a sigmoid or tanh neuron is saturated (|net| above the saturation limit)",
    "relu_kink": f"a ReLU neuron's net lies within {RELU_MARGIN} of its kink at 0",
    "zero_gradient": "an asked derivative, or the step of an asked update, is within the "
                     "tolerance of 0 or rounds to 0 at the displayed decimals",
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
    "near_zero": "lower [exam] tolerance for that question, or widen the ranges",
    "equal_answers": "ask other quantities, or lower [exam] tolerance",
    "duplicate": "ask for fewer variants, widen the ranges, or lower [exam] tolerance",
}


@dataclass(frozen=True)
class Range:
    """Numbers drawn uniformly from the grid low, low + 10^-decimals, ..., high."""

    low: float
    high: float
    decimals: int

    def grid(self) -> tuple[int, int, int]:
        scale = 10 ** self.decimals
        return math.ceil(self.low * scale - 1e-9), math.floor(self.high * scale + 1e-9), scale


@dataclass(frozen=True)
class Question:
    """One asked quantity: its canonical plain name, symbol, sample (None: a total) and step kind."""

    name: str
    symbol: sp.Symbol
    sample: int | None
    kind: str
    tolerance: float = 0.0                # absolute: an answer within it of the key is right


@dataclass(frozen=True)
class Settings:
    variants: int | None
    seed: int
    seed_drawn: bool                      # no seed was given: this one was drawn (and is printed)
    questions: tuple[Question, ...]
    saturation: float
    ranges: dict[str, Range | str]        # weights, biases always; inputs, targets when drawn
    default_questions: bool = False

    @property
    def tolerances(self) -> np.ndarray:
        return np.array([q.tolerance for q in self.questions])


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


# -- settings ----------------------------------------------------------------------------------
def settings(spec: Spec, variants: int | None = None, seed: int | None = None) -> Settings:
    """The validated [exam] section, with command-line values (when given) taking precedence."""
    raw = spec.extra.get("exam", {})
    fail = _failer(spec.source)
    if not isinstance(raw, dict):
        raise fail("[exam]", "expected a section [exam]")
    for key in raw:
        if key not in EXAM_FIELDS:
            raise fail(f"[exam] {key}", "unknown field; expected one of: " + ", ".join(EXAM_FIELDS))
    if variants is not None:
        n = _integer(fail, variants, "--variants", 1, MAX_VARIANTS)
    elif "variants" in raw:
        n = _integer(fail, raw["variants"], "[exam] variants", 1, MAX_VARIANTS)
    else:
        n = None
    seed_drawn = False
    if seed is not None:
        seed = _integer(fail, seed, "--seed", 0, 2 ** 63 - 1)
    elif "seed" in raw:
        seed = _integer(fail, raw["seed"], "[exam] seed", 0, 2 ** 63 - 1)
    else:
        seed, seed_drawn = secrets.randbelow(1_000_000), True

    d = derive_shape(Shape.of(spec))
    if "questions" in raw:
        names = raw["questions"]
        if not isinstance(names, list) or not names or not all(isinstance(q, str) for q in names):
            raise fail("[exam] questions", "expected a non-empty list of quantity names such as "
                       '["out_o1", "E_total", "dE/dw5", "w1+"]')
        questions = tuple(resolve(d, q, spec.source) for q in names)
        seen: dict[tuple, str] = {}
        for given, q in zip(names, questions):
            same = seen.get(identity(d, q))
            if same is not None:
                raise fail("[exam] questions", f"{given!r} is always equal to {same!r} "
                           "(the same quantity, or a copy of it): ask one of them")
            seen[identity(d, q)] = given
    else:
        try:
            own = numeric.evaluator(d).run(spec)
        except DeriveError:
            own = None
        questions = default_questions(d, own)

    questions = _tolerances(d, questions, raw.get("tolerance", 5 * 10.0 ** -spec.decimals), fail, spec.source)
    saturation = _positive(fail, raw.get("saturation", DEFAULT_SATURATION), "[exam] saturation")
    ranges = _ranges(spec, raw.get("random", {}), fail)
    return Settings(n, seed, seed_drawn, questions, saturation, ranges,
                    default_questions="questions" not in raw)


def _tolerances(d: Derivation, questions: tuple[Question, ...], raw: Any, fail,
                source: str) -> tuple[Question, ...]:
    """[exam] tolerance: one absolute number, or a table of numbers by question with a default."""
    if not isinstance(raw, dict):
        tolerance = _positive(fail, raw, "[exam] tolerance")
        return tuple(replace(q, tolerance=tolerance) for q in questions)
    if "default" not in raw:
        raise fail("[exam] tolerance", 'expected a number, or a table with a default: '
                   '{default = 0.0005, "dE/dw1" = 0.00005}')
    default = _positive(fail, raw["default"], "[exam] tolerance default")
    own: dict[str, float] = {}
    for given, value in raw.items():
        if given == "default":
            continue
        q = resolve(d, given, source)
        if q.name not in {x.name for x in questions}:
            raise fail(f"[exam] tolerance {given}", "not one of the asked questions: "
                       + ", ".join(x.name for x in questions))
        own[q.name] = _positive(fail, value, f"[exam] tolerance {given}")
    return tuple(replace(q, tolerance=own.get(q.name, default)) for q in questions)


def _failer(source: str) -> Callable[[str, str], DeriveError]:
    return lambda where, message: DeriveError(message, file=source, field=where)


def _integer(fail, value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise fail(where, f"expected a whole number from {low} to {high}, got {value!r}")
    return value


def _number(fail, value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise fail(where, f"expected a finite number, got {value!r}")
    return float(value)


def _positive(fail, value: Any, where: str) -> float:
    number = _number(fail, value, where)
    if number <= 0:
        raise fail(where, f"expected a number > 0, got {number:g}")
    return number


def _ranges(spec: Spec, raw: Any, fail) -> dict[str, Range | str]:
    if not isinstance(raw, dict):
        raise fail("[exam.random]", "expected a section [exam.random]")
    for key in raw:
        if key not in RANDOM_FIELDS:
            raise fail(f"[exam.random] {key}", "unknown field; expected one of: " + ", ".join(RANDOM_FIELDS))
    decimals = _integer(fail, raw.get("decimals", 2), "[exam.random] decimals", 0, MAX_RANDOM_DECIMALS)
    ranges: dict[str, Range | str] = {}
    for kind in KINDS:
        if kind not in raw:
            if kind in ("weights", "biases"):
                ranges[kind] = Range(-1.0, 1.0, decimals)
            continue
        where = f"[exam.random] {kind}"
        value = raw[kind]
        if kind == "targets" and value == "one_hot":
            ranges[kind] = "one_hot"
            continue
        if isinstance(value, dict):
            for key in value:
                if key not in ("min", "max", "decimals"):
                    raise fail(f"{where} {key}", "unknown field; expected min, max, decimals")
            if "min" not in value or "max" not in value:
                raise fail(where, "expected {min = ..., max = ...} (and optionally decimals)")
            low, high = value["min"], value["max"]
            own = _integer(fail, value.get("decimals", decimals), f"{where} decimals", 0, MAX_RANDOM_DECIMALS)
        elif isinstance(value, list) and len(value) == 2:
            (low, high), own = value, decimals
        else:
            extra = ' or "one_hot"' if kind == "targets" else ""
            raise fail(where, f"expected [min, max] or {{min = ..., max = ..., decimals = ...}}{extra}, "
                       f"got {value!r}")
        low, high = _number(fail, low, f"{where} min"), _number(fail, high, f"{where} max")
        if low > high:
            raise fail(where, f"min {low:g} is greater than max {high:g}")
        if max(abs(low), abs(high)) > MAX_RANGE:
            raise fail(where, f"expected numbers from -{MAX_RANGE:g} to {MAX_RANGE:g}, got [{low:g}, {high:g}]")
        r = Range(low, high, own)
        lo, hi, _ = r.grid()
        if lo > hi:
            raise fail(where, f"no number with {own} decimals lies in [{low:g}, {high:g}]")
        if kind == "targets" and spec.loss in ("cross_entropy", "binary_cross_entropy") and (
                low < 0 or high > 1):
            raise fail(where, f"{spec.loss} needs targets in [0, 1], got [{low:g}, {high:g}]")
        ranges[kind] = r
    return ranges


# -- questions ---------------------------------------------------------------------------------
def resolve(d: Derivation, given: str, source: str = "<spec>") -> Question:
    """A question name as a quantity of the derivation.

    Accepts the derivation's plain names (`out_o1`, `E_total`, `dE_total/dw5`, `w1+`), the loss under
    either name (`E` or `E_total`, `dE/dw5` or `dE_total/dw5`), and with several samples a
    per-sample quantity with its sample: `out_o1[2]`.
    """
    name = "".join(given.split())
    by_plain = d.model.names.by_plain
    totals = {s.name for s in d.total_steps} | {t for t, _, _ in d.from_samples}
    per_sample = {s.name: s for s in d.sample_steps}
    several = d.model.shape.n_samples > 1
    kinds = _kinds(d)
    loss = d.loss.name   # E_total (one sample) or E (reduced over several)
    candidates = [name]
    for short in ("E_total", "E"):
        if name == short:
            candidates.append(loss)
        elif name.startswith(f"d{short}/"):
            candidates.append(f"d{loss}/" + name[len(short) + 2:])
    for candidate in candidates:
        sym = by_plain.get(candidate)
        if sym in totals:
            return Question(candidate, sym, None, kinds[sym])
        if sym in per_sample and not several:
            return Question(candidate, sym, 0, kinds[sym])
    if name.endswith("]") and "[" in name:
        base, _, index = name[:-1].rpartition("[")
        sym = by_plain.get(base)
        if sym in per_sample and index.isascii() and index.isdigit() and 1 <= int(index) <= d.model.shape.n_samples:
            return Question(name if several else base, sym, int(index) - 1, kinds[sym])
    sym = by_plain.get(name)
    if sym is not None and kinds.get(sym) is None:
        raise DeriveError(f"{given!r} is given in the problem, not computed; valid names: {valid_names(d)}",
                          file=source, field="[exam] questions")
    if sym in per_sample and several:
        raise DeriveError(f"{given!r} is computed for each sample: name the sample, e.g. "
                          f"{name}[1] (samples 1 to {d.model.shape.n_samples})",
                          file=source, field="[exam] questions")
    raise DeriveError(f"this network has no quantity {given!r}; valid names: {valid_names(d)}",
                      file=source, field="[exam] questions")


def _kinds(d: Derivation) -> dict[sp.Symbol, str]:
    kinds = {s.name: s.kind for s in d.steps}
    for t, s, _ in d.from_samples:
        kinds.setdefault(t, kinds[s])
    return kinds


def identity(d: Derivation, q: Question) -> tuple:
    """What a question's number is, following copies: E_total of one output is E_o1, out of a
    linear neuron is its net, a total over one sample is that sample's value."""
    steps = {s.name: s for s in d.steps}
    feeds = {t: (s, k) for t, s, k in d.from_samples}
    sym, sample = q.symbol, q.sample
    while True:
        if sample is None and sym in feeds:
            sym, sample = feeds[sym]
        elif sym in steps and isinstance(steps[sym].expr, sp.Symbol) and steps[sym].expr in steps:
            sym = steps[sym].expr
        else:
            return sym, sample


def valid_names(d: Derivation) -> str:
    """The main askable quantities (forward pass, loss, gradients, updates) as one line."""
    m = d.model
    several = m.shape.n_samples > 1
    suffix = "[s]" if several else ""
    names = [s.name.name + suffix for s in d.sample_steps if s.kind in ("forward", "loss")]
    if several:
        names.append(d.loss.name)
    names += [d.gradient[p].name for p in m.parameters()]
    names += [d.updated[p].name for p in m.parameters() if p in d.updated]
    tail = (f" (s = 1 to {m.shape.n_samples})" if several else "") + \
        "; or any intermediate step, e.g. " + next(s.name.name for s in d.sample_steps if s.kind == "delta")
    return ", ".join(names) + tail


def default_questions(d: Derivation, own: numeric.Values | None = None) -> tuple[Question, ...]:
    """The worksheet's tasks: every net and out, the loss terms and total, an output and a hidden
    weight's gradient and both updated weights (per-sample quantities for every sample), each
    quantity once (out of a linear neuron is its net; E_total of one output is that output's E),
    leaving out what is exactly 0 or exactly an earlier answer for the spec's own numbers `own`
    (with a one-hot target a cross-entropy term stays 0 and E_total is the one other term)."""
    kinds = _kinds(d)
    totals = {s.name for s in d.total_steps} | {t for t, _, _ in d.from_samples}
    n = d.model.shape.n_samples
    out: list[Question] = []
    for sym in worksheet_quantities(d):
        if sym in totals:
            out.append(Question(sym.name, sym, None, kinds[sym]))
        elif n == 1:
            out.append(Question(sym.name, sym, 0, kinds[sym]))
        else:
            out.extend(Question(f"{sym.name}[{s + 1}]", sym, s, kinds[sym]) for s in range(n))
    seen: set = {0.0}
    unique = []
    for q in out:   # a copy of an asked quantity (out of a linear neuron, E_total of one output) once
        keys = {identity(d, q)} | (set() if own is None else {answer(own, q)})
        if not keys & seen:
            seen |= keys
            unique.append(q)
    return tuple(unique)


def is_derivative(d: Derivation, q: Question) -> bool:
    name = d.model.names.of[q.symbol]
    return isinstance(name, Partial) or (isinstance(name, Sampled) and isinstance(name.inner, Partial))


def answer(values: numeric.Values, q: Question) -> float:
    return values.totals[q.symbol] if q.sample is None else values.samples[q.sample][q.symbol]


# -- drawing -----------------------------------------------------------------------------------
class Drawer:
    """Draws the numbers of one variant from the generator, always in the same order:
    weights (layer by layer, row by row), biases, then inputs and targets when they are drawn."""

    def __init__(self, spec: Spec, ranges: dict[str, Range | str]):
        self.spec = spec
        self.ranges = ranges
        self.shapes = [(spec.layers[l + 1], spec.layers[l]) for l in range(len(spec.layers) - 1)]
        self.n_weights = sum(r * c for r, c in self.shapes)
        self.n_biases = sum(1 if isinstance(b, float) else len(b) for b in spec.biases)

    @staticmethod
    def _numbers(rng: np.random.Generator, r: Range, count: int) -> list[float]:
        lo, hi, scale = r.grid()
        # Integers on the grid, divided once: 15 / 100 is the double nearest 0.15, as TOML reads it.
        return [int(k) / scale for k in rng.integers(lo, hi, count, endpoint=True)]

    def draw(self, rng: np.random.Generator) -> tuple[Spec, list[float]]:
        """A new spec with drawn numbers, and the drawn weights, biases and inputs (for zero_number)."""
        spec = self.spec
        flat = self._numbers(rng, self.ranges["weights"], self.n_weights)
        weights, at = [], 0
        for rows, cols in self.shapes:
            weights.append(tuple(tuple(flat[at + j * cols: at + (j + 1) * cols]) for j in range(rows)))
            at += rows * cols
        flat_b = self._numbers(rng, self.ranges["biases"], self.n_biases)
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
            flat_x = self._numbers(rng, self.ranges["inputs"], n_samples * n_in)
            changes["inputs"] = tuple(tuple(flat_x[s * n_in:(s + 1) * n_in]) for s in range(n_samples))
            drawn += flat_x
        targets = self.ranges.get("targets")
        if targets == "one_hot":
            classes = rng.integers(0, n_out, n_samples)
            changes["targets"] = tuple(tuple(1.0 if k == c else 0.0 for k in range(n_out)) for c in classes)
        elif targets is not None:
            flat_t = self._numbers(rng, targets, n_samples * n_out)
            changes["targets"] = tuple(tuple(flat_t[s * n_out:(s + 1) * n_out]) for s in range(n_samples))
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
    half_unit = 0.5 * 10.0 ** -spec.decimals
    questions = settings.questions
    for q, a in zip(questions, answers):
        if is_derivative(d, q) and abs(a) <= max(q.tolerance, half_unit):
            return "zero_gradient", q.name
        if q.kind == "update":   # the step must show: w+ neither equal to w nor guessable as w
            before = values.totals[_parameter_of(d, q.symbol)]
            if abs(a - before) <= q.tolerance or plain_number(a, spec.decimals) == plain_number(
                    before, spec.decimals):
                return "zero_gradient", q.name
    for q, a in zip(questions, answers):
        if abs(a) <= q.tolerance:
            return "near_zero", q.name
    for i, a in enumerate(answers):
        shown = plain_number(a, spec.decimals)
        for j in range(i + 1, len(answers)):
            b = answers[j]
            if abs(a - b) <= max(questions[i].tolerance, questions[j].tolerance) or \
                    plain_number(b, spec.decimals) == shown:
                return "equal_answers", f"{questions[i].name} and {questions[j].name}"
    return None


def _parameter_of(d: Derivation, updated: sp.Symbol) -> sp.Symbol:
    return next(p for p, u in d.updated.items() if u == updated)


def _draw(spec: Spec, settings: Settings, count: int, keep: bool, reject_duplicates: bool,
          progress: Callable[[int], None] | None = None) -> Draws:
    """Draw until `count` variants are accepted; `keep`: verify and keep each one's Solution."""
    rng = np.random.default_rng(settings.seed)
    d = derive_shape(Shape.of(spec))
    evaluator = numeric.evaluator(d)
    drawer = Drawer(spec, settings.ranges)
    out = Draws()
    accepted = np.empty((0, len(settings.questions)))
    tolerances = settings.tolerances
    while len(out.answers) < count:
        for _ in range(DRAWS_PER_VARIANT):
            out.draws += 1
            candidate, drawn = drawer.draw(rng)
            try:
                values = evaluator.run(candidate)
            except DeriveError:
                out.reject("overflow")
                continue
            answers = tuple(answer(values, q) for q in settings.questions)
            reason = rejection(candidate, d, values, answers, settings, drawn)
            if reason is None and reject_duplicates and len(accepted) and bool(
                    np.any(np.all(np.abs(accepted - np.array(answers)) <= tolerances, axis=1))):
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
    return _draw(spec, settings, count, keep=True, reject_duplicates=True, progress=progress).accepted


# -- stress ------------------------------------------------------------------------------------
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
    count = _integer(_failer(spec.source), count, "--stress", 1, MAX_STRESS)
    draws = _draw(spec, settings, count, keep=False, reject_duplicates=False, progress=progress)
    table = np.array(draws.answers)
    spread = [(float(c.min()), float(np.median(c)), float(c.max())) for c in table.T]
    return StressReport(settings.questions, count, draws.draws, draws.rejected, spread,
                        near_duplicates(table, settings.tolerances), spec.decimals, settings.seed,
                        {rule: draws.mostly(rule) for rule in draws.rejected})


HASHED_COLUMNS = 3    # answers hashed into grid cells (3^3 neighbouring cells looked at per cell)


def near_duplicates(table: np.ndarray, tolerance: np.ndarray) -> int:
    """Pairs of rows that agree within `tolerance` (one per column) in every column.

    Linear in the rows for answers that spread (what the acceptance rules ask for): every row falls
    into a grid cell of twice the tolerance in the most discriminating columns, so two rows within
    the tolerance lie in the same or neighbouring cells (with room for rounding); only those
    candidates are compared, in every column. The count is exactly that of comparing all pairs.
    """
    n = len(table)
    if n < 2:
        return 0
    table = np.asarray(table, dtype=float)
    tolerance = np.asarray(tolerance, dtype=float)
    size = np.where(tolerance > 0, 2 * tolerance, 1.0)
    cells = np.floor(table / size)
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
        pairs += int(np.all(np.abs(table[i] - table[j]) <= tolerance, axis=1).sum())
    return pairs
