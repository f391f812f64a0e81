"""The spine: a spec's full solution — the shape's derivation, the numbers in it, the key, all verified.

Regularisation is a slice that this module names in exactly three places: its result is solved
when the spec has the section, its entries join the key, and its check joins the verification.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from . import budget
from .derivation import Derivation
from .derivation import derive as derive_shape
from .model.network import Shape
from .numeric import compiled as numeric
from .numeric import optimizers
from .numeric import verify
from .numeric import verify_optimizers as optimizer_check
from .numeric.compiled import Values
from .regularization import solve as regularization
from .regularization import verify as regularization_check
from .modules.section import ModuleSpec
from .modules.solution import ModuleSolution, solve_modules
from .spec import Spec, load, parse


@dataclass
class Solution:
    spec: Spec
    derivation: Derivation
    values: Values
    key: dict
    report: dict
    regularization: regularization.RegularizationResult | None = None   # when the spec has [regularization]
    optimizer: optimizers.OptimizerRun | None = None   # when [training] names an optimizer or batch_size

    def value(self, plain: str, sample: int = 0) -> float:
        """A number by its plain name (`out_o1`, `dE_total/dw5`, `w5+`)."""
        sym = self.derivation.model.names.by_plain[plain]
        if sym in self.values.totals:
            return self.values.totals[sym]
        return self.values.samples[sample][sym]


def solve(spec: Spec | ModuleSpec, check: bool = True, tex: bool = False) -> Solution | ModuleSolution:
    """Derive (once per shape), substitute the spec's numbers, build the key and verify it.

    The spec's cost is estimated first (`tex`: its worked solution will be typeset too) and a spec
    over the budget is refused before any work starts. A spec of `[[module]]` tables (whose limits
    its section enforced) is solved by the modules slice."""
    if isinstance(spec, ModuleSpec):
        return solve_modules(spec, check)
    budget.check(spec, tex)
    derivation = derive_shape(Shape.of(spec))
    trained = None
    if spec.optimizer is None:
        values = numeric.evaluator(derivation).run(spec)
    else:   # the optimiser's steps replace plain gradient descent's
        values = numeric.evaluator(derivation).run(optimizers.one_step(spec))
        trained = optimizers.run_optimizer(spec, derivation)
        optimizers.apply_to_values(trained, derivation, values)
    key = build_key(spec, derivation, values)
    if trained is not None:
        key["optimizer"] = optimizer_key(trained, derivation)
    regularized = None
    if spec.regularization is not None:
        regularized = regularization.solve_regularization(spec, derivation, values)
        _add_regularization(key, derivation.model, regularized)
    trajectory = values.trajectory
    if regularized is not None and regularized.soft.history is not None:
        trajectory = regularized.soft.trajectory
    report = verify_key(spec, key, trajectory) if check else {}
    return Solution(spec, derivation, values, key, report, regularized, trained)


def one_round(spec: Spec, derivation: Derivation, evaluator: numeric.Evaluator | None = None) -> Values:
    """The numbers of one round as the spec trains, without the key or its check (an exam's draws):
    plain gradient descent's, or with an optimiser p+ after its first step and the loss there."""
    evaluator = evaluator or numeric.evaluator(derivation)
    if spec.optimizer is None:
        return evaluator.run(spec)
    first = optimizers.one_step(spec)
    values = evaluator.run(first)
    optimizers.apply_to_values(optimizers.run_optimizer(first, derivation), derivation, values)
    return values


def verify_key(spec: Spec, key: dict, trajectory=None) -> dict:
    """Every number of `key` checked independently (numpy, finite differences), slices included.

    `trajectory`: the parameters before each descent step and after the last, as derived; with it
    each step is checked from the same state (without it numpy reruns the whole descent)."""
    slices = [regularization_check] if spec.regularization is not None or "regularization" in key else []
    if spec.optimizer is not None or "optimizer" in key:
        slices.append(optimizer_check)
    return verify.verify_key(spec, key, slices, trajectory)


def derive(spec: Spec | dict | str) -> Solution | ModuleSolution:
    """The verified solution of a spec (a `Spec`, a dict in the TOML schema, or a file path)."""
    if isinstance(spec, str):
        spec = load(spec)
    elif isinstance(spec, dict):
        spec = parse(spec)
    return solve(spec)


def build_key(spec: Spec, d: Derivation, values: Values) -> dict:
    """The graders' contract (names and shapes fixed; full double precision)."""
    m = d.model
    L = len(spec.layers) - 1
    forwards, per_output = [], []
    for sample in values.samples:
        forwards.append([{"net": [sample[s] for s in m.net[l]], "out": [sample[s] for s in m.out[l]]}
                         for l in range(1, L + 1)])
        per_output.append([sample[s] for s in m.loss_terms])
    t = values.totals
    key: dict = {
        "forward": forwards[0] if spec.single_sample else forwards,
        "loss": {"per_output": per_output[0] if spec.single_sample else per_output, "total": t[d.loss]},
        "gradients": _parameters(m, lambda p: t[d.gradient[p]]),
        "updated": _parameters(m, lambda p: t[d.updated[p]] if p in d.updated else t[p]),
    }
    if d.loss_after in t:
        key["loss"]["after_step"] = t[d.loss_after]   # a new forward pass with the updated parameters
    if values.history is not None:
        key["history"] = {"loss": list(values.history)}
        key["final"] = _parameters(m, lambda p: values.final[p])
    return key


def optimizer_key(trained: optimizers.OptimizerRun, d: Derivation) -> dict:
    """key["optimizer"]: the rule, its constants and batch size, and the first steps in full
    (the batch, the loss before the step, the gradient, every state and the parameters after it)."""
    sym = trained.symbolic
    m = d.model
    steps = []
    for it in trained.iterations:
        v = it.values
        entry: dict = {"step": it.number, "batch": it.batch, "loss": it.loss,
                       "gradients": _parameters(m, lambda p: it.gradient[p])}
        # A parameter the rule does not move (a fixed bias) keeps its state at the start, 0.
        for s in optimizers.STATES[sym.name]:
            entry[s] = _parameters(m, lambda p: v[sym.new_state[s, p]] if p in sym.updated else 0.0)
        for s in ("m", "v") if sym.name == "adam" else ():
            entry[s + "_hat"] = _parameters(m, lambda p: v[sym.corrected[s, p]] if p in sym.updated else 0.0)
        entry["updated"] = _parameters(m, lambda p: v[sym.updated[p]] if p in sym.updated else v[p])
        steps.append(entry)
    return {**trained.spec.optimizer.record(), "steps": steps}


def _add_regularization(key: dict, m, result) -> None:
    """key["regularization"]; with a lambda and iterations > 1 the history is E + lambda R's."""
    key["regularization"] = result.key(lambda value: _parameters(m, value))
    if result.soft.history is not None:
        key["history"] = {"loss": list(result.soft.history)}
        key["final"] = _parameters(m, lambda p: result.soft.final[p])


def _parameters(m, value) -> dict:
    """Numbers per parameter in the spec's shapes: weights[l][j][k], biases[l] (number or list)."""
    weights = [[[value(w) for w in row] for row in matrix] for matrix in m.weights]
    biases = [value(b) if isinstance(b, sp.Symbol) else [value(x) for x in b] for b in m.biases]
    return {"weights": weights, "biases": biases}
