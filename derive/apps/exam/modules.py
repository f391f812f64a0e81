"""`derive exam` on a spec of [[module]] tables: one network per student, drawn, checked, solved.

Each variant draws every parameter of every module (kernels and weights from `[exam.random]
weights`, biases from `biases`; an RNN's initial state is kept) from one seeded generator, module by
module in the spec's order, each tensor row by row, then (as an MLP exam's, only when `[exam.random]`
gives them) every sample's inputs and targets (`"one_hot"`: one class per sample), so the same spec
and seed give the same variants and variant k does not depend on how many are asked for. A draw is rejected, as the MLP
exam's are, when a drawn number is 0, when the numbers overflow, when a sigmoid or tanh
pre-activation lies beyond `[exam] saturation` (the MLP's rule and default: a saturated unit passes
almost no gradient), when a ReLU pre-activation lies within MARGIN of its kink or two maxima of a
max-pool window within MARGIN of each other (the engine refuses a spec within 1e-5; an exam keeps
the MLP exam's ReLU margin, so that a student's rounded values land on the same side), when a ReLU
module of MIXED_RELU or more pre-activations has them all of one sign (its worked solution would never
show ReLU off, or never on), or when the answers break the MLP exam's answer rules (a zero gradient, a step that
does not show, an answer other than an update under 20 times its tolerance, answers equal within the
tolerance, a duplicate of an earlier variant). An accepted
variant is solved and verified by the module engine (numpy and finite differences) like
`derive key`.

Questions are the plain names `derive snippet --step` takes (`E`, `dE/dK(1)_11`, `K(1)_11+`,
`z(1)_11`); without `[exam] questions`: the loss, the first kernel or weight gradient of every
module with parameters (from the output module back, as the worked solution derives them), and the
first module's first updated kernel or weight. With `[training]
optimizer` an updated parameter is the optimiser's first step (every state starting at 0).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Any, Callable

import numpy as np

from ...errors import DeriveError
from ...limits import MAX_STRESS
from ...modules.derivation import ModuleDerivation, derive_modules, forward_values, kink, leaf_values
from ...modules.graph import Graph, build
from ...modules.section import DEFAULT_DECIMALS, ModuleSpec
from ...modules.solution import solve_modules
from ...numeric.compiled import Compiled
from ...modules.training import apply, train
from .draw import HINTS, RELU_MARGIN, RULES, Variant, answer_rejection, drawn_targets, grid_numbers
from .questions import Question
from .settings import (ANSWER_FORMATS, DEFAULT_SATURATION, Range, Settings, exam_head, field_failer, lms_fields,
                       positive_number, random_ranges, tolerances_and_points, whole_number)
from .stress import StressReport, near_duplicates

MODULE_DRAWS = 200               # draws tried for one variant before giving up (a draw costs a derivation)
DEFAULT_DIGITS = 4               # [exam] decimals: the places an answer is given with
WEIGHT_PARAMS = ("kernels", "weights", "input_weights", "recurrent_weights")   # drawn from [exam.random] weights
KEPT_PARAMS = ("initial_state",)                                               # not drawn
EXAM_FIELDS = ("variants", "seed", "questions", "decimals", "tolerance", "points", "saturation", "random",
               "answer_format", "moodle", "penalty", "name", "category", "idnumber", "tags")
RANDOM_FIELDS = ("decimals", "weights", "biases", "inputs", "targets")
# The MLP's rules and the module engine's two: a stress report lists these.
MODULE_RULES = dict(RULES)
MARGIN = RELU_MARGIN             # a ReLU pre-activation from 0, two max-pool maxima apart, at least
# A ReLU module with at least this many pre-activations (all samples together) must have both signs
# among them, so that its worked solution shows ReLU on (z > 0, slope 1) and off (z < 0, slope 0), as
# the lecture's example does. Fewer are kept as drawn: one entry cannot have both, and forcing one
# of two or three units off would silence a third to a half of the module (a dense unit that is off
# takes every gradient of its weights to 0, which the answer rules then reject), where from 4 on one
# entry off is at most a quarter (one of cnn.toml's 25 map entries).
MIXED_RELU = 4
MODULE_RULES |= {"max_tie": f"two entries of a max-pool window lie within {MARGIN} of each other",
                 "relu_kink": f"a ReLU pre-activation lies within {MARGIN} of its kink at 0",
                 "relu_one_sign": f"the pre-activations of a ReLU module with at least {MIXED_RELU} of them "
                                  "all have one sign (ReLU never switches off, or never on)"}
MODULE_HINTS = HINTS | {"saturated": "choose smaller ranges for weights or biases in [exam.random], or raise "
                                     "[exam] saturation",
                        "max_tie": "widen the ranges or use more decimals in [exam.random]",
                        "relu_kink": "use more decimals in [exam.random], or other ranges",
                        "relu_one_sign": "give [exam.random] weights and biases ranges of both signs (a bias "
                                         "shifts all of its map's pre-activations alike)"}


@dataclass(frozen=True)
class Quantities:
    """The askable quantities of a module spec by plain name: symbol and step kind."""

    by_name: dict

    @staticmethod
    def of(d: ModuleDerivation) -> "Quantities":
        by_name: dict = {}
        loss_syms = {n.sym for n in d.graph.nodes if n.role == "loss"}
        for st in d.forward:
            by_name[d.names[st.target].plain] = (st.target, "loss" if st.target in loss_syms else "forward")
        for st in d.backward:
            by_name[d.names[st.target].plain] = (st.target, "backward")
        for plus in d.updated.values():   # p+ of gradient descent, or of an optimiser's first step
            by_name[d.names[plus].plain] = (plus, "update")
        return Quantities(by_name)

    def question(self, given: str, source: str, digits: int) -> Question:
        name = "".join(given.split())
        if name not in self.by_name:
            examples = [n for n, (_, kind) in self.by_name.items() if kind in ("loss", "update")][:3]
            examples += [n for n, (_, kind) in self.by_name.items() if kind == "backward"][-2:]
            raise DeriveError(f"this network has no quantity {given!r}; names are like: " + ", ".join(examples),
                              file=source, field="[exam] questions")
        sym, kind = self.by_name[name]
        return Question(name, sym, None, kind, digits=digits)


def default_names(d: ModuleDerivation) -> list[str]:
    """The loss, one kernel or weight gradient per module with parameters, one updated parameter, in
    the order the worked solution derives them: backpropagation reaches the last module's gradient
    first (and a student needs its δ for the earlier ones), so the gradients are asked from the
    output back, then the first module's update."""
    g = d.graph
    first = None
    gradients = []
    for params in g.params:
        weight = next((params[k] for k in WEIGHT_PARAMS if k in params), None)
        if weight is None:
            continue
        while isinstance(weight, list):
            weight = weight[0]
        gradients.append(d.gradient[weight])
        first = first or weight
    order = {st.target: i for i, st in enumerate(d.backward)}
    gradients.sort(key=lambda s: order.get(s, len(order)))
    names = [d.names[g.loss].plain] + [d.names[s].plain for s in gradients]
    if first is not None:
        names.append(d.names[d.updated[first]].plain)
    return names


def module_settings(spec: ModuleSpec, variants: int | None = None, seed: int | None = None) -> Settings:
    """The [exam] section of a module spec, validated (command-line values take precedence)."""
    raw, fail, n, seed, seed_drawn = exam_head(spec, EXAM_FIELDS, "unknown field for a spec with [[module]] tables",
                                               variants, seed)
    if spec.iterations > 1:
        raise fail("[training] iterations", "an exam of a spec with [[module]] tables asks for the first step; "
                   "several iterations are not yet supported there (remove iterations for the exam)")
    answer_format = raw.get("answer_format", "decimals")
    if answer_format not in ANSWER_FORMATS:
        raise fail("[exam] answer_format", f"expected one of: {', '.join(ANSWER_FORMATS)}, got {answer_format!r}")
    significant = answer_format == "significant"
    # [exam] decimals: places, or (significant) significant digits
    digits = whole_number(fail, raw.get("decimals", DEFAULT_DIGITS), "[exam] decimals", 1, 8)
    # The steps and their names only: every draw replaces the spec's own parameters, so their values
    # (a ReLU pre-activation at 0, a max-pool tie, an overflow) are never used and not refused here;
    # each draw, with the kept data, targets and initial state, is checked as the engine checks a spec.
    d = derive_modules(build(spec), checked=False)
    quantities = Quantities.of(d)
    names = raw.get("questions", None)
    if names is not None and (not isinstance(names, list) or not names or not all(isinstance(q, str) for q in names)):
        raise fail("[exam] questions", "expected a non-empty list of quantity names such as "
                   '["E", "dE/dK(1)_11", "K(1)_11+"]')
    questions = tuple(quantities.question(q, spec.source, digits) for q in names or default_names(d))
    seen: set = set()
    for q in questions:
        if q.name in seen:
            raise fail("[exam] questions", f"{q.name!r} is asked twice")
        seen.add(q.name)
    questions = tuple(replace(q, significant=significant) for q in questions)
    questions = tolerances_and_points(lambda given: quantities.question(given, spec.source, digits), questions,
                                      raw, 5 * 10.0 ** -digits, fail, '"dE/dK(1)_11"')
    random = raw.get("random", {})
    if isinstance(random, dict):
        for key in random:
            if key not in RANDOM_FIELDS:
                raise fail(f"[exam.random] {key}", "unknown field for a spec with [[module]] tables; expected "
                           "one of: " + ", ".join(RANDOM_FIELDS) + " (kernels are drawn from the weights' range)")
    ranges = random_ranges(spec, random, fail)
    saturation = positive_number(fail, raw.get("saturation", DEFAULT_SATURATION), "[exam] saturation")
    return Settings(n, seed, seed_drawn, questions, saturation, ranges, lms_fields(spec, raw, seed, fail))


def decimals_note(spec: ModuleSpec) -> str | None:
    """A note on standard error when the spec sets [output] decimals (other than its default) but no
    [exam] decimals: a module exam's answers and worked solutions use the latter (an MLP exam's the
    former, which is easy to carry over), so the teacher is told which one counts."""
    exam = spec.extra.get("exam", {})
    if "decimals" in exam or spec.decimals == DEFAULT_DECIMALS:
        return None
    return (f"note: the answers and worked solutions of this exam use [exam] decimals (not given: "
            f"{DEFAULT_DIGITS}), not [output] decimals = {spec.decimals}; set [exam] decimals to change them\n")


def _shape(value: Any) -> tuple[int, ...]:
    return (len(value), *_shape(value[0])) if isinstance(value, tuple) else ()


def _fill(shape: tuple[int, ...], numbers: list[float], at: int = 0) -> tuple[Any, int]:
    if not shape:
        return numbers[at], at + 1
    out = []
    for _ in range(shape[0]):
        item, at = _fill(shape[1:], numbers, at)
        out.append(item)
    return tuple(out), at


def draw_parameters(spec: ModuleSpec, ranges: dict[str, Range | str],
                    rng: np.random.Generator) -> tuple[ModuleSpec, list[float]]:
    """A new spec with every module's kernels, weights and biases drawn (and the data, when
    `ranges` has inputs or targets), and the drawn numbers but targets (for zero_number)."""
    modules, drawn = [], []
    for m in spec.modules:
        params = []
        for name, value in m.params:
            if name in KEPT_PARAMS:
                params.append((name, value))
                continue
            shape = _shape(value)
            count = int(np.prod(shape)) if shape else 1
            numbers = grid_numbers(rng, ranges["biases" if name == "biases" else "weights"], count)
            drawn += numbers
            params.append((name, _fill(shape, numbers)[0]))
        modules.append(replace(m, params=tuple(params)))
    changes: dict = {"modules": tuple(modules)}
    if "inputs" in ranges:
        samples = []
        for sample in spec.inputs:
            shape = _shape(sample)
            numbers = grid_numbers(rng, ranges["inputs"], int(np.prod(shape)))
            drawn += numbers
            samples.append(_fill(shape, numbers)[0])
        changes["inputs"] = tuple(samples)
    targets = drawn_targets(rng, ranges.get("targets"), len(spec.targets), len(spec.targets[0]))
    if targets is not None:
        changes["targets"] = targets
    return replace(spec, **changes), drawn


def _relu_one_sign(g: Graph, values: dict) -> str | None:
    """The place of the first ReLU module with MIXED_RELU or more pre-activations, all of one sign."""
    signs: dict[int, list[bool]] = {}
    for node in g.nodes:
        if node.op == "relu":
            signs.setdefault(node.module, []).append(values[node.parents[0]] > 0)
    for module, positive in signs.items():
        if len(positive) >= MIXED_RELU and len(set(positive)) == 1:
            return g.spec.modules[module].where
    return None


@dataclass(frozen=True)
class Screen:
    """The spec's graph, built once, and its forward pass compiled to plain Python: a draw shares the
    graph's symbols and expressions (they depend on the modules' shapes and the loss only), so each
    draw is the graph given its own numbers, and most draws are refused on the compiled values
    without sympy's slower evaluation (a draw that passes is checked again on sympy's values, which
    the solution prints, so the accepted variants are sympy's)."""

    template: Graph
    leaves: list
    forward: Compiled

    @staticmethod
    def of(spec: ModuleSpec) -> "Screen":
        g = build(spec)
        leaves = list(leaf_values(g))
        return Screen(g, leaves, Compiled(leaves, [(n.sym, n.expr) for n in g.nodes if n.expr is not None],
                                          "module_forward"))

    def values(self, g: Graph) -> dict | None:
        """Every node's value at `g`'s numbers as floats; None when the numbers overflow."""
        given = leaf_values(g)
        try:
            out = self.forward([given[s] for s in self.leaves])
        except (OverflowError, ValueError, ZeroDivisionError):
            return None
        return given | dict(zip(self.forward.names, out))


def _value_rejection(g: Graph, values: dict | None, settings: Settings) -> tuple[str, Any] | None:
    """The rules on a draw's forward values (overflow, saturation, ReLU's kink, a max-pool tie, a
    ReLU module of one sign), as (reason, culprit); None when it passes them."""
    if values is None or not all(np.isfinite(v) for v in values.values()):
        return "overflow", None
    for node in g.nodes:
        if node.op in ("sigmoid", "tanh") and abs(values[node.parents[0]]) > settings.saturation:
            return "saturated", node.parents[0]
    found = kink(g, values, MARGIN)
    if found is not None:
        return found[0], found[2]
    one_sign = _relu_one_sign(g, values)
    if one_sign is not None:
        return "relu_one_sign", one_sign
    return None


def _rejection(candidate: ModuleSpec, drawn: list[float], settings: Settings, screen: Screen) -> tuple[str, Any]:
    """(reason, culprit) for a rejected draw, or (None, (derivation, answers)) for an accepted one."""
    if any(v == 0 for v in drawn):
        return "zero_number", None
    last = candidate.modules[-1].activation
    if candidate.loss in ("half_sse", "mse") and last in ("sigmoid", "tanh"):
        low = 0.0 if last == "sigmoid" else -1.0
        if not all(low < t < 1.0 for sample in candidate.targets for t in sample):
            return "targets_out_of_reach", None
    g = replace(screen.template, spec=candidate)
    found = _value_rejection(g, screen.values(g), settings)
    if found is not None:
        return found
    values = forward_values(g, leaf_values(g))
    found = _value_rejection(g, values, settings)
    if found is not None:
        return found
    try:
        d = derive_modules(g, forward=values)
        if candidate.optimizer is not None:      # p+ is the optimiser's first step
            apply(train(d), d)
    except DeriveError:
        return "overflow", None
    questions = settings.questions
    answers = tuple(d.values[q.symbol] for q in questions)
    parameter = {u: p for p, u in d.updated.items()}
    before = [d.values[parameter[q.symbol]] if q.kind == "update" else None for q in questions]
    reason = answer_rejection(questions, answers, [q.kind == "backward" for q in questions], before)
    if reason is not None:
        return reason
    return None, (d, answers)


@dataclass
class ModuleDraws:
    """The accepted draws (each a spec and its answers, not yet verified) and the rejections."""

    accepted: list[tuple[ModuleSpec, tuple[float, ...]]]
    rejected: Counter
    draws: int


def module_draws(spec: ModuleSpec, settings: Settings, count: int, reject_duplicates: bool = True,
                 progress: Callable[[int], None] | None = None) -> ModuleDraws:
    """`count` draws that pass the acceptance rules (with `reject_duplicates`, none within the
    tolerance of an earlier one in every answer), from the seeded generator; MODULE_DRAWS rejected in
    a row is one line naming the rule."""
    rng = np.random.default_rng(settings.seed)
    screen = Screen.of(spec)
    out: list[tuple[ModuleSpec, tuple[float, ...]]] = []
    accepted = np.empty((0, len(settings.questions)))
    rejected: Counter = Counter()
    draws = 0
    while len(out) < count:
        for _ in range(MODULE_DRAWS):
            draws += 1
            candidate, drawn = draw_parameters(spec, settings.ranges, rng)
            reason, culprit = _rejection(candidate, drawn, settings, screen)
            if reason is None:
                answers = culprit[1]
                if reject_duplicates and len(accepted) and bool(np.any(np.all(
                        np.abs(accepted - np.array(answers)) <= settings.tolerances_at(answers), axis=1))):
                    reason = "duplicate"
            if reason is not None:
                rejected[reason] += 1
                continue
            break
        else:
            counts = ", ".join(f"{rule} {k}" for rule, k in rejected.most_common())
            worst = rejected.most_common(1)[0][0]
            raise DeriveError(f"the acceptance rules cannot be met: {MODULE_DRAWS} draws in a row were rejected "
                              f"for variant {len(out) + 1} (rejections so far: {counts}); mostly '{worst}': "
                              f"{MODULE_RULES[worst]}; {MODULE_HINTS[worst]}", file=spec.source, field="[exam.random]")
        if reject_duplicates:
            accepted = np.vstack([accepted, answers])
        out.append((candidate, answers))
        if progress is not None:
            progress(len(out))
    return ModuleDraws(out, rejected, draws)


def module_variants(spec: ModuleSpec, settings: Settings, count: int,
                    progress: Callable[[int], None] | None = None) -> list[Variant]:
    """`count` accepted variants, each solved and verified by the module engine's independent check.
    A variant's worked solution prints its values with the digits its answers are asked to (as the
    MLP exam's, whose [output] decimals is both), not the spec's own [output] decimals."""
    out: list[Variant] = []
    digits = settings.questions[0].digits
    for number, (candidate, _) in enumerate(module_draws(spec, settings, count).accepted, start=1):
        candidate = replace(candidate, source=f"{spec.source} (variant {number})", decimals=digits)
        solution = solve_modules(candidate)          # verified: numpy and finite differences, or exit 3
        out.append(Variant(number, candidate, solution,
                           tuple(solution.derivation.values[q.symbol] for q in settings.questions)))
        if progress is not None:
            progress(number)
    return out


def module_stress(spec: ModuleSpec, settings: Settings, count: int,
                  progress: Callable[[int], None] | None = None) -> StressReport:
    """`derive exam --stress K` on a module spec: K draws under the acceptance rules (duplicates
    counted, not redrawn), neither verified nor written; each answer's spread and the rejections."""
    count = whole_number(field_failer(spec.source), count, "--stress", 1, MAX_STRESS)
    draws = module_draws(spec, settings, count, reject_duplicates=False, progress=progress)
    table = np.array([answers for _, answers in draws.accepted])
    spread = [(float(c.min()), float(np.median(c)), float(c.max())) for c in table.T]
    return StressReport(settings.questions, count, draws.draws, draws.rejected, spread,
                        near_duplicates(table, settings.tolerances,
                                        np.array([q.significant for q in settings.questions])),
                        settings.questions[0].digits, settings.seed,      # as asked, as an MLP exam's report
                        rules=MODULE_RULES)
