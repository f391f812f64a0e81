"""Numbers into the derivation: the step expressions compiled once into plain Python functions.

Derive once, substitute many: a shape's steps are compiled to one function per stage (per sample,
totals); new weights, new samples, new variants and every gradient-descent iteration only call it.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
import math

import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

from ..derivation import Derivation
from ..errors import DeriveError
from ..spec import Spec


class _CodePrinter(PythonCodePrinter):
    """Python source for an expression whose symbols are local variables v0, v1, ..."""

    def __init__(self, variables: dict[sp.Symbol, str]):
        super().__init__({"fully_qualified_modules": True})
        self._variables = variables

    def _print_Symbol(self, expr):
        return self._variables[expr]

    def _print_Max(self, expr):
        return "max(" + ", ".join(self._print(a) for a in expr.args) + ")"


class Compiled:
    """`steps` evaluated in order from the values of `leaves`: one call returns every step value."""

    def __init__(self, leaves: list[sp.Symbol], steps: list[tuple[sp.Symbol, sp.Expr]], label: str):
        variables = {sym: f"v{i}" for i, sym in enumerate(leaves)}
        for i, (sym, _) in enumerate(steps):
            variables[sym] = f"s{i}"
        printer = _CodePrinter(variables)
        lines = [f"def {label}(leaves):"]
        if leaves:
            lines.append("    " + ", ".join(f"v{i}" for i in range(len(leaves))) + ", = leaves")
        for i, (_, expr) in enumerate(steps):
            lines.append(f"    s{i} = {printer.doprint(expr)}")
        lines.append("    return [" + ", ".join(f"s{i}" for i in range(len(steps))) + "]")
        namespace: dict = {"math": math}
        exec(compile("\n".join(lines), f"<derive:{label}>", "exec"), namespace)
        self.function = namespace[label]
        self.leaves = leaves
        self.names = [sym for sym, _ in steps]

    def __call__(self, values: list[float]) -> list[float]:
        return self.function(values)


@dataclass
class Values:
    """Every number of one round: per-sample step values, the totals, and the iteration history."""

    samples: list[dict[sp.Symbol, float]]   # leaves and steps of each sample
    totals: dict[sp.Symbol, float]          # parameters, eta, totals and updates
    history: list[float] | None = None      # loss before each step and after the last
    final: dict[sp.Symbol, float] | None = None


class Evaluator:
    """The compiled functions of one derivation."""

    def __init__(self, derivation: Derivation):
        self.derivation = d = derivation
        m = d.model
        self.params = m.parameters()
        sample_leaves = self.params + m.inputs + m.targets
        self.sample = Compiled(sample_leaves, [(s.name, s.expr) for s in d.sample_steps], "sample")
        self.total_leaves = self.params + [m.eta] + [t for t, _, _ in d.from_samples]
        self.total = Compiled(self.total_leaves, [(s.name, s.expr) for s in d.total_steps], "total")
        self._index = {sym: i for i, sym in enumerate(self.sample.names)}
        # Where each value the totals read from the samples comes from.
        self._feeds = [(s, self._index[sym]) for _, sym, s in d.from_samples]
        at = {sym: i for i, sym in enumerate(self.total_leaves + self.total.names)}
        self._loss_at = at[d.loss]
        self._gradient_at = [at[d.gradient[p]] for p in self.params]

    def parameter_values(self, spec: Spec) -> list[float]:
        values = [w for matrix in spec.weights for row in matrix for w in row]
        for b in spec.biases:
            values.extend(b if isinstance(b, tuple) else [b])
        return values

    def _round(self, params: list[float], spec: Spec, keep: bool):
        samples = []
        per_sample_values = []
        for x, t in zip(spec.inputs, spec.targets):
            leaves = params + list(x) + list(t)
            try:
                out = self.sample(leaves)
            except (OverflowError, ValueError, ZeroDivisionError) as exc:
                raise _overflow(spec, str(exc)) from None
            per_sample_values.append(out)
            if keep:
                if not all(map(math.isfinite, out)):   # float overflow gives inf/nan, no exception
                    raise _overflow(spec, "a value is not finite")
                samples.append(dict(zip(self.sample.leaves, leaves)) | dict(zip(self.sample.names, out)))
        fed = [per_sample_values[s][i] for s, i in self._feeds]
        total_leaves = params + [spec.learning_rate] + fed
        out = self.total(total_leaves)
        if keep and not all(map(math.isfinite, out)):
            raise _overflow(spec, "a value is not finite")
        totals = dict(zip(self.total_leaves, total_leaves)) | dict(zip(self.total.names, out))
        return samples, totals

    def loss_and_gradient(self, params: list[float], spec: Spec) -> tuple[float, list[float]]:
        """The loss and its gradient (parameter order) at `params`: no dicts, for optimisers."""
        per_sample = [self.sample(params + list(x) + list(t)) for x, t in zip(spec.inputs, spec.targets)]
        leaves = params + [spec.learning_rate] + [per_sample[s][i] for s, i in self._feeds]
        values = leaves + self.total(leaves)
        return values[self._loss_at], [values[i] for i in self._gradient_at]

    def loss_and_update(self, params: list[float], spec: Spec) -> tuple[float, list[float]]:
        _, totals = self._round(params, spec, keep=False)
        d = self.derivation
        return totals[d.loss], [totals[d.updated[p]] if p in d.updated else v
                                for p, v in zip(self.params, params)]

    def loss_after(self, updated: list[float], spec: Spec) -> float | None:
        """The loss of a new forward pass with the updated parameters (None when it is not finite):
        what one step of gradient descent achieved."""
        try:
            loss, _ = self.loss_and_gradient(updated, spec)
        except (OverflowError, ValueError, ZeroDivisionError):
            return None
        return loss if math.isfinite(loss) else None

    def run(self, spec: Spec) -> Values:
        params = self.parameter_values(spec)
        samples, totals = self._round(params, spec, keep=True)
        d = self.derivation
        after = self.loss_after([totals[d.updated[p]] if p in d.updated else totals[p] for p in self.params], spec)
        if after is not None:
            totals[d.loss_after] = after
        values = Values(samples, totals)
        if spec.iterations > 1:
            history = []
            current = params
            for _ in range(spec.iterations):
                loss, current = self.loss_and_update(current, spec)
                history.append(loss)
            history.append(self.loss_and_update(current, spec)[0])
            for v in history + current:
                if not math.isfinite(v):
                    raise DeriveError("gradient descent diverged (the loss is no longer finite); "
                                      "choose a smaller learning_rate", file=spec.source,
                                      field="[training] learning_rate")
            values.history = history
            values.final = dict(zip(self.params, current))
        return values


def _overflow(spec: Spec, cause: str) -> DeriveError:
    return DeriveError(f"the numbers overflow or leave the loss's domain ({cause}): "
                       "a neuron saturates; choose smaller weights or inputs",
                       file=spec.source, field="[parameters]")


_EVALUATORS: OrderedDict = OrderedDict()   # the derivation's shape -> its Evaluator, least recent first
EVALUATORS_KEPT = 32                        # as many as `derivation.derive` keeps derivations


def evaluator(derivation: Derivation) -> Evaluator:
    """The compiled functions of a derivation, compiled once per shape (the derivation depends on
    the shape only); the least recently used are dropped beyond `EVALUATORS_KEPT`."""
    key = derivation.model.shape
    if key in _EVALUATORS:
        _EVALUATORS.move_to_end(key)
    else:
        _EVALUATORS[key] = Evaluator(derivation)
        if len(_EVALUATORS) > EVALUATORS_KEPT:
            _EVALUATORS.popitem(last=False)
    return _EVALUATORS[key]
