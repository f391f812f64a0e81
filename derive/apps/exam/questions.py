"""The asked quantities of an exam: names resolved to steps, what counts as the same quantity,
the default questions (the worksheet's tasks) and each answer.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ...derivation import Derivation
from ...errors import DeriveError
from ...layout.problem import worksheet_quantities
from ...model.naming import Partial, Sampled
from ...numeric import compiled as numeric
from ...printing.numbers import format_number, given_number, plain_number


@dataclass(frozen=True)
class Question:
    """One asked quantity: its canonical plain name, symbol, sample (None: a total) and step kind."""

    name: str
    symbol: sp.Symbol
    sample: int | None
    kind: str
    tolerance: float = 0.0                # absolute, or relative (a fraction of the answer) if significant
    digits: int = 4                       # decimal places, or significant digits if significant
    significant: bool = False             # [exam] answer_format = "significant"
    points: float = 1.0                   # [exam] points: the part's weight in the LMS

    def places(self, value: float) -> int:
        """The decimal places `value` is shown with: `digits`, or (significant) as many as leave
        `digits` significant digits after rounding (0.000412 to 3 significant digits: 6 places)."""
        if not self.significant or value == 0:
            return self.digits
        exponent = int(f"{value:.{self.digits - 1}e}".split("e")[1])   # after rounding: 0.000999 -> 1.00e-3
        return max(0, self.digits - 1 - exponent)

    def shown(self, value: float) -> str:
        """The answer as a student gives it (plain text: keys, CSV, LMS)."""
        return plain_number(value, self.places(value))

    def latex(self, value: float) -> str:
        """The answer as LaTeX (key tables), with the same digits as `shown`."""
        return format_number(value, self.places(value))

    def tolerance_at(self, value: float) -> float:
        """The absolute tolerance of the answer `value`: relative tolerances scale with it."""
        return self.tolerance * abs(value) if self.significant else self.tolerance

    def rounding(self) -> str:
        """How to round, in the question's words."""
        if self.significant:
            return f"to {self.digits} significant digits"
        return f"to {self.digits} decimal places"


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


def tolerance_plain(value: float) -> str:
    """A tolerance (or a bound answer ± tolerance) for machines: 12 significant digits, which
    drop the float noise of a relative tolerance times its answer, in fixed notation."""
    return given_number(float(f"{value:.12g}"))


def is_derivative(d: Derivation, q: Question) -> bool:
    name = d.model.names.of[q.symbol]
    return isinstance(name, Partial) or (isinstance(name, Sampled) and isinstance(name.inner, Partial))


def answer(values: numeric.Values, q: Question) -> float:
    return values.totals[q.symbol] if q.sample is None else values.samples[q.sample][q.symbol]
