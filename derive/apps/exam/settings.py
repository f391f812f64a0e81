"""The `[exam]` section, validated (command-line values take precedence):

Every field is optional:

    variants = 30                  # how many (1 to MAX_VARIANTS); --variants overrides
    seed = 2024                    # --seed overrides; without one a seed is drawn and printed
    questions = ["out_o1", "E_total", "dE/dw5", "w1+"]   # default: the worksheet's tasks
    answer_format = "decimals"     # or "significant": [output] decimals counts significant digits
    tolerance = 0.0005             # absolute; default 5 units in the last displayed decimal;
                                   # or per question: {default = 0.0005, "dE/dw1" = 0.00005};
                                   # relative (a fraction of the answer) with "significant"
    saturation = 4.0               # |net| above which a sigmoid/tanh neuron counts as saturated
    moodle = "cloze"               # or "numerical": the form of moodle.xml
    points = 1                     # whole points per part, or {default = 1, "dE/dw1" = 2}
    penalty = 0.0                  # Moodle's penalty per wrong try
    name, category = TITLE         # question names and the category below $course$/top/
    idnumber = "exam-SEED"         # question ID numbers: PREFIX-v001
    tags = []                      # Moodle tags

    [exam.random]                  # how numbers are drawn: [min, max] or {min, max, decimals}
    decimals = 2                   # default decimals of every range below
    weights = [-1.0, 1.0]          # default [-1, 1]
    biases = [-1.0, 1.0]           # default [-1, 1]
    inputs = [0.0, 1.0]            # only when given; otherwise the spec's inputs are kept
    targets = [0.05, 0.95]         # only when given; or "one_hot" (one class per sample)
"""
from __future__ import annotations

from dataclasses import dataclass, replace
import math
import secrets
from typing import Any, Callable

import numpy as np

from ...derivation import derive as derive_shape
from ...errors import DeriveError
from ...limits import MAX_VARIANTS
from ...model.network import Shape
from ...solution import one_round
from ...spec import Spec
from .questions import Question, default_questions, identity, resolve

MAX_RANDOM_DECIMALS = 6
TOLERANCE_DECIMALS = 15             # places a tolerance is shown with (keys, Moodle): all of its digits
MAX_RANGE = 1000.0                # drawn numbers lie in [-MAX_RANGE, MAX_RANGE]
DEFAULT_SATURATION = 4.0
KINDS = ("weights", "biases", "inputs", "targets")
EXAM_FIELDS = ("variants", "seed", "questions", "tolerance", "saturation", "random", "answer_format",
               "moodle", "points", "penalty", "name", "category", "idnumber", "tags")
ANSWER_FORMATS = ("decimals", "significant")
MOODLE_FORMS = ("cloze", "numerical")
MAX_SIGNIFICANT = 15
MAX_POINTS = 100
RANDOM_FIELDS = ("decimals",) + KINDS


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
class Lms:
    """[exam] fields of the learning platform's import: Moodle's question form, the grading and
    the names under which the questions land (documented defaults: cloze, penalty 0, 1 point a part,
    the title as name and category, idnumber exam-SEED, no tags)."""

    moodle: str                           # "cloze": one question per variant; "numerical": one per part
    penalty: float                        # the fraction lost per wrong try (Moodle's interactive mode)
    name: str                             # question names start with it
    category: str                         # below $course$/top/
    idnumber: str                         # prefix of every question's ID number: PREFIX-v001
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Settings:
    variants: int | None
    seed: int
    seed_drawn: bool                      # no seed was given: this one was drawn (and is printed)
    questions: tuple[Question, ...]
    saturation: float
    ranges: dict[str, Range | str]        # weights, biases always; inputs, targets when drawn
    lms: "Lms" = None                     # how the quiz is imported (Moodle, Canvas, QTI)

    @property
    def tolerances(self) -> np.ndarray:
        return np.array([q.tolerance for q in self.questions])

    def tolerances_at(self, answers) -> np.ndarray:
        """The absolute tolerance of each answer (relative ones scaled by the answer)."""
        return np.array([q.tolerance_at(a) for q, a in zip(self.questions, answers)])


def exam_head(spec, fields: tuple[str, ...], unknown: str, variants: int | None, seed: int | None,
              elsewhere: dict[str, str] | None = None):
    """What every [exam] reader starts with: the section as a table of known fields, the number of
    variants and the seed (command-line values first; without a seed one is drawn and said so).
    `elsewhere`: fields this kind of spec takes from another section, each with the line saying where.
    Returns (raw, fail, variants or None, seed, seed_drawn)."""
    raw = spec.extra.get("exam", {})
    fail = field_failer(spec.source)
    if not isinstance(raw, dict):
        raise fail("[exam]", "expected a section [exam]")
    for key in raw:
        if key in (elsewhere or {}):
            raise fail(f"[exam] {key}", (elsewhere or {})[key])
        if key not in fields:
            raise fail(f"[exam] {key}", f"{unknown}; expected one of: " + ", ".join(fields))
    if variants is not None:
        n = whole_number(fail, variants, "--variants", 1, MAX_VARIANTS)
    elif "variants" in raw:
        n = whole_number(fail, raw["variants"], "[exam] variants", 1, MAX_VARIANTS)
    else:
        n = None
    seed_drawn = False
    if seed is not None:
        seed = whole_number(fail, seed, "--seed", 0, 2 ** 63 - 1)
    elif "seed" in raw:
        seed = whole_number(fail, raw["seed"], "[exam] seed", 0, 2 ** 63 - 1)
    else:
        seed, seed_drawn = secrets.randbelow(1_000_000), True
    return raw, fail, n, seed, seed_drawn


def settings(spec: Spec, variants: int | None = None, seed: int | None = None) -> Settings:
    """The validated [exam] section, with command-line values (when given) taking precedence."""
    # A module spec's exam takes its answers' places from [exam] decimals: here they are [output]
    # decimals, so an [exam] decimals (likely copied from a module spec) is refused, not ignored.
    elsewhere = {"decimals": f"not an exam field for a network of [network] layers: its answers are given, "
                             f"and its worked solutions printed, with [output] decimals (here {spec.decimals}); "
                             "set them there"}
    raw, fail, n, seed, seed_drawn = exam_head(spec, EXAM_FIELDS, "unknown field", variants, seed, elsewhere)

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
            own = one_round(spec, d)
        except DeriveError:
            own = None
        questions = default_questions(d, own)

    answer_format = raw.get("answer_format", "decimals")
    if answer_format not in ANSWER_FORMATS:
        raise fail("[exam] answer_format", f"expected one of: {', '.join(ANSWER_FORMATS)}, got {answer_format!r}")
    significant = answer_format == "significant"
    if significant and not 1 <= spec.decimals <= MAX_SIGNIFICANT:
        raise fail("[output] decimals", f"with answer_format = \"significant\" it is the number of "
                   f"significant digits: expected 1 to {MAX_SIGNIFICANT}, got {spec.decimals}")
    questions = tuple(replace(q, digits=spec.decimals, significant=significant) for q in questions)
    # 5 units of the last digit shown: absolute 5e-d for decimals, relative 5e-d of the answer for
    # significant digits (at least half a unit of the last digit, whatever the leading digit).
    questions = tolerances_and_points(lambda given: resolve(d, given, spec.source), questions, raw,
                                      5 * 10.0 ** -spec.decimals, fail, '"dE/dw1"')
    saturation = positive_number(fail, raw.get("saturation", DEFAULT_SATURATION), "[exam] saturation")
    ranges = random_ranges(spec, raw.get("random", {}), fail)
    return Settings(n, seed, seed_drawn, questions, saturation, ranges, lms_fields(spec, raw, seed, fail))


def relative_below_one(questions: tuple[Question, ...], fail) -> None:
    """With significant digits a tolerance is a fraction of the answer: 1 or more would accept
    anything from 0 to twice the answer (or any sign), so it is refused."""
    for q in questions:
        if q.significant and q.tolerance >= 1:
            raise fail("[exam] tolerance", "with answer_format = \"significant\" the tolerance is a fraction "
                       f"of the answer: expected less than 1 (e.g. 0.005), got {q.tolerance:g} for {q.name}")


def lms_fields(spec: Spec, raw: dict, seed: int, fail) -> Lms:
    moodle = raw.get("moodle", "cloze")
    if moodle not in MOODLE_FORMS:
        raise fail("[exam] moodle", f"expected one of: {', '.join(MOODLE_FORMS)}, got {moodle!r}")
    penalty = _number(fail, raw.get("penalty", 0.0), "[exam] penalty")
    if not 0 <= penalty <= 1:
        raise fail("[exam] penalty", f"expected a fraction from 0 to 1, got {penalty:g}")
    texts = {}
    for key, default in (("name", spec.title), ("category", spec.title), ("idnumber", f"exam-{seed}")):
        value = raw.get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise fail(f"[exam] {key}", f"expected a non-empty text, got {value!r}")
        texts[key] = value.strip()
    tags = raw.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
        raise fail("[exam] tags", f'expected a list of texts such as ["backprop", "exam 2024"], got {tags!r}')
    return Lms(moodle, penalty, texts["name"], texts["category"], texts["idnumber"],
               tuple(t.strip() for t in tags))


def tolerances_and_points(resolve_name: Callable[[str], Question], questions: tuple[Question, ...], raw: dict,
                          tolerance: float, fail, example: str) -> tuple[Question, ...]:
    """[exam] tolerance and points, each one number or a table by question with a default (MLP and
    module exams alike: `resolve_name` reads a question name as its network names it, `example` is
    one such name for the messages); `tolerance` is the default tolerance."""
    questions = _per_question(resolve_name, questions, raw.get("tolerance", tolerance), fail, "tolerance",
                              f'{{default = 0.0005, {example} = 0.00005}}')
    relative_below_one(questions, fail)
    questions = _per_question(resolve_name, questions, raw.get("points", 1.0), fail, "points",
                              f'{{default = 1, {example} = 2}}')
    for q in questions:
        if not float(q.points).is_integer() or q.points > MAX_POINTS:
            raise fail("[exam] points", f"expected whole numbers from 1 to {MAX_POINTS} (a cloze "
                       f"question weighs its parts in whole points), got {q.points:g} for {q.name}")
    return questions


def _per_question(resolve_name: Callable[[str], Question], questions: tuple[Question, ...], raw: Any, fail,
                  key: str, example: str) -> tuple[Question, ...]:
    """[exam] tolerance or points: one number, or a table of numbers by question with a default."""
    if not isinstance(raw, dict):
        value = positive_number(fail, raw, f"[exam] {key}")
        return tuple(replace(q, **{key: value}) for q in questions)
    if "default" not in raw:
        raise fail(f"[exam] {key}", f"expected a number, or a table with a default: {example}")
    default = positive_number(fail, raw["default"], f"[exam] {key} default")
    own: dict[str, float] = {}
    for given, value in raw.items():
        if given == "default":
            continue
        q = resolve_name(given)
        if q.name not in {x.name for x in questions}:
            raise fail(f"[exam] {key} {given}", "not one of the asked questions: "
                       + ", ".join(x.name for x in questions))
        own[q.name] = positive_number(fail, value, f"[exam] {key} {given}")
    return tuple(replace(q, **{key: own.get(q.name, default)}) for q in questions)


def field_failer(source: str) -> Callable[[str, str], DeriveError]:
    return lambda where, message: DeriveError(message, file=source, field=where)


def whole_number(fail, value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise fail(where, f"expected a whole number from {low} to {high}, got {value!r}")
    return value


def _number(fail, value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise fail(where, f"expected a finite number, got {value!r}")
    return float(value)


def positive_number(fail, value: Any, where: str) -> float:
    number = _number(fail, value, where)
    if number <= 0:
        raise fail(where, f"expected a number > 0, got {number:g}")
    return number


def random_ranges(spec: Spec, raw: Any, fail) -> dict[str, Range | str]:
    if not isinstance(raw, dict):
        raise fail("[exam.random]", "expected a section [exam.random]")
    for key in raw:
        if key not in RANDOM_FIELDS:
            raise fail(f"[exam.random] {key}", "unknown field; expected one of: " + ", ".join(RANDOM_FIELDS))
    decimals = whole_number(fail, raw.get("decimals", 2), "[exam.random] decimals", 0, MAX_RANDOM_DECIMALS)
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
            own = whole_number(fail, value.get("decimals", decimals), f"{where} decimals", 0, MAX_RANDOM_DECIMALS)
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
