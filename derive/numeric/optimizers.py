"""The optimisers' update rules as sympy steps, derived once per shape and rule, and their numbers.

Each rule is written as `torch.optim` documents it, per parameter p with the step's gradient g
(the state starts at 0, so momentum's first velocity is g itself, as PyTorch's buffer is):

    sgd       p+ = p - eta g
    momentum  v+ = mu v + g;                 p+ = p - eta v+
    nesterov  v+ = mu v + g;                 p+ = p - eta (g + mu v+)
    rmsprop   s+ = alpha s + (1 - alpha) g^2;  p+ = p - eta g / (sqrt(s+) + epsilon)
    adam      m+ = beta1 m + (1 - beta1) g;  v+ = beta2 v + (1 - beta2) g^2;
              m-hat = m+ / (1 - beta1^t);    v-hat = v+ / (1 - beta2^t);
              p+ = p - eta m-hat / (sqrt(v-hat) + epsilon)

The steps are compiled like the derivation's (`Compiled`); every iteration only calls them. The
gradient of a step is the spec's reduction (sum or mean) over its mini-batch: batches of
`batch_size` samples taken in order, the last one of a pass smaller when the samples do not
divide evenly, then again from the first sample.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
import math
from typing import Any, Callable

import sympy as sp

from ..derivation import Derivation, Step
from ..derivation import derive as derive_shape
from ..errors import DeriveError
from ..model.naming import Name, Stated
from ..model.network import Shape
from ..model.unevaluated import add as _add
from ..model.unevaluated import mul as _mul
from ..spec import Spec
from ..training import CONSTANTS
from .compiled import Compiled, Values, evaluator

SHOWN_STEPS = 3          # the iterations whose every number the key and the solution keep
STATES = {"sgd": (), "momentum": ("v",), "nesterov": ("v",), "rmsprop": ("s",), "adam": ("m", "v")}
CONSTANT_NAMES = {"momentum": Name("mu"), "alpha": Name("alpha"), "beta1": Name("beta", "1"),
                  "beta2": Name("beta", "2"), "epsilon": Name("epsilon")}


@dataclass
class SymbolicOptimizer:
    """One rule's steps for every trained parameter of a shape, and their compiled form."""

    name: str
    trained: list[sp.Symbol]                     # the parameters the rule moves
    constants: dict[str, sp.Symbol]              # "beta1" -> β1
    step_number: sp.Symbol                       # t
    gradient: dict[sp.Symbol, sp.Symbol]         # p -> g_p
    state: dict[tuple[str, sp.Symbol], sp.Symbol]      # ("m", p) -> m_p (before the step)
    new_state: dict[tuple[str, sp.Symbol], sp.Symbol]  # ("m", p) -> m_p+ (after it)
    updated: dict[sp.Symbol, sp.Symbol]          # p -> p+
    corrected: dict[tuple[str, sp.Symbol], sp.Symbol]  # ("m", p) -> m-hat_p (adam)
    steps: list[Step]                            # per parameter: new states, corrections, update
    leaves: list[sp.Symbol]
    compiled: Compiled
    eta: sp.Symbol


def _one_minus(x: sp.Expr) -> sp.Expr:
    return _add(sp.Integer(1), _mul(sp.Integer(-1), x))


def _minus(p: sp.Symbol, step: sp.Expr) -> sp.Expr:
    return _add(p, _mul(sp.Integer(-1), step))


def _over(top: sp.Expr, bottom: sp.Expr) -> sp.Expr:
    return _mul(top, sp.Pow(bottom, -1, evaluate=False))


def derive_optimizer(shape: Shape, name: str) -> SymbolicOptimizer:
    """Derived once per shape and rule, kept with the shape's derivation (whose model
    holds the names it registers)."""
    return derive_shape(shape).derived(("optimizer", name),
                                       lambda: _derive_optimizer(shape, name))


def _derive_optimizer(shape: Shape, name: str) -> SymbolicOptimizer:
    """The update rule `name` written out for every trained parameter of `shape`."""
    d = derive_shape(shape)
    m = d.model
    names = m.names
    weights = {w for matrix in m.weights for row in matrix for w in row}
    trained = [p for p in m.parameters() if p in weights or shape.update_biases]
    return symbolic_rule(name, trained, m.eta, names.symbol, names.of.__getitem__, names.plus)


def symbolic_rule(name: str, trained: list[sp.Symbol], eta: sp.Symbol, symbol: Callable[[Any], sp.Symbol],
                  of: Callable[[sp.Symbol], Any], plus: Callable[[sp.Symbol], sp.Symbol]) -> SymbolicOptimizer:
    """The rule `name` for the parameters `trained`, compiled: the one place each rule is written.

    `symbol` makes (or finds) the symbol of a structured name, `of` gives a parameter's name and
    `plus` its symbol after the step; an MLP and a module spec name their quantities their own way."""
    constants = {c: symbol(CONSTANT_NAMES[c]) for c in CONSTANTS[name]}
    t = symbol(Name("t"))
    gradient, state, new_state, updated, corrected = {}, {}, {}, {}, {}
    steps: list[Step] = []
    for p in trained:
        owner = of(p)
        g = gradient[p] = symbol(Stated("g", owner))
        for s in STATES[name]:
            state[s, p] = symbol(Stated(s, owner))
            new_state[s, p] = symbol(Stated(s, owner, "+"))
        new = updated[p] = plus(p)
        if name == "sgd":
            steps.append(Step(new, _minus(p, _mul(eta, g)), "update"))
        elif name in ("momentum", "nesterov"):
            mu, v, v1 = constants["momentum"], state["v", p], new_state["v", p]
            steps.append(Step(v1, _add(_mul(mu, v), g), "state", note="velocity"))
            direction = v1 if name == "momentum" else _add(g, _mul(mu, v1))
            steps.append(Step(new, _minus(p, _mul(eta, direction)), "update"))
        elif name == "rmsprop":
            alpha, s0, s1 = constants["alpha"], state["s", p], new_state["s", p]
            steps.append(Step(s1, _add(_mul(alpha, s0), _mul(_one_minus(alpha), sp.Pow(g, 2, evaluate=False))),
                              "state", note="mean square"))
            steps.append(Step(new, _minus(p, _over(_mul(eta, g), _add(sp.sqrt(s1), constants["epsilon"]))),
                              "update"))
        else:
            b1, b2, eps = constants["beta1"], constants["beta2"], constants["epsilon"]
            m1, v1 = new_state["m", p], new_state["v", p]
            m_hat = corrected["m", p] = symbol(Stated("m", owner, hat=True))
            v_hat = corrected["v", p] = symbol(Stated("v", owner, hat=True))
            steps.append(Step(m1, _add(_mul(b1, state["m", p]), _mul(_one_minus(b1), g)), "state",
                              note="first moment"))
            steps.append(Step(v1, _add(_mul(b2, state["v", p]), _mul(_one_minus(b2), sp.Pow(g, 2, evaluate=False))),
                              "state", note="second moment"))
            steps.append(Step(m_hat, _over(m1, _one_minus(sp.Pow(b1, t, evaluate=False))), "correction"))
            steps.append(Step(v_hat, _over(v1, _one_minus(sp.Pow(b2, t, evaluate=False))), "correction"))
            steps.append(Step(new, _minus(p, _over(_mul(eta, m_hat), _add(sp.sqrt(v_hat), eps))), "update"))
    leaves = (trained + [eta] + list(constants.values()) + [t] + [gradient[p] for p in trained]
              + [state[s, p] for p in trained for s in STATES[name]])
    compiled = Compiled(leaves, [(s.name, s.expr) for s in steps], f"optimizer_{name}")
    return SymbolicOptimizer(name, trained, constants, t, gradient, state, new_state, updated,
                             corrected, steps, leaves, compiled, eta)


class Stepper:
    """One rule's steps on plain numbers: the trained parameters' values and gradients in, the
    parameters and states after the step out (the states kept here, starting at 0)."""

    def __init__(self, sym: SymbolicOptimizer, config):
        self.sym = sym
        self.constants = [config.constant(c) for c in sym.constants]
        self.states = [0.0] * (len(sym.trained) * len(STATES[sym.name]))
        # by a dict: list.index compares sympy symbols one by one, quadratic in the parameters (3.4 s of
        # set-up per run on a 404-parameter network, paid again by every exam variant)
        output_at = {name: i for i, name in enumerate(sym.compiled.names)}
        self.update_at = [output_at[sym.updated[p]] for p in sym.trained]
        self.state_at = [output_at[sym.new_state[s, p]] for p in sym.trained for s in STATES[sym.name]]

    def step(self, trained: list[float], gradient: list[float], learning_rate: float, t: int):
        """(the rule's leaves, every step value, the trained parameters after the step)."""
        leaves = trained + [learning_rate] + self.constants + [float(t)] + gradient + self.states
        out = self.sym.compiled(leaves)
        self.states = [out[at] for at in self.state_at]
        return leaves, out, [out[at] for at in self.update_at]


@dataclass
class Iteration:
    """One step of the optimiser with every number: the batch (sample numbers from 1), the loss
    before the step, and each symbol's value (parameters, gradients, states, corrections, updates);
    `gradient` holds every parameter's, trained or not, in the derivation's order."""

    number: int
    batch: list[int]
    loss: float
    values: dict[sp.Symbol, float]
    gradient: dict[sp.Symbol, float]


@dataclass
class OptimizerRun:
    """The optimiser's steps: the first `SHOWN_STEPS` in full, the loss history and the final parameters."""

    symbolic: SymbolicOptimizer
    spec: Spec
    iterations: list[Iteration] = field(default_factory=list)
    history: list[float] = field(default_factory=list)    # loss before each step and after the last
    final: dict[sp.Symbol, float] = field(default_factory=dict)


def batches(n_samples: int, batch_size: int, step: int) -> list[int]:
    """The sample indices (from 0) of step `step` (from 1): in order, a smaller last batch per pass."""
    per_pass = -(-n_samples // batch_size)
    start = ((step - 1) % per_pass) * batch_size
    return list(range(start, min(start + batch_size, n_samples)))


def run_optimizer(spec: Spec, d: Derivation) -> OptimizerRun:
    """Train with the spec's optimiser for `iterations` steps; diverging is a one-line error."""
    config = spec.optimizer
    sym = derive_optimizer(d.model.shape, config.name)
    ev = evaluator(d)
    params = ev.params
    position = {p: i for i, p in enumerate(params)}
    trained_at = [position[p] for p in sym.trained]
    sample_index = {s: i for i, s in enumerate(ev.sample.names)}
    gradient_at = [sample_index[d.sample_gradient[p]] for p in params]
    current = ev.parameter_values(spec)
    stepper = Stepper(sym, config)
    result = OptimizerRun(sym, spec)
    n = len(spec.inputs)
    try:
        for step in range(1, spec.iterations + 2):
            loss, full_gradient = ev.loss_and_gradient(current, spec)
            result.history.append(loss)
            if step > spec.iterations:
                break
            batch = batches(n, config.batch_size, step)
            if len(batch) == n:
                gradient = full_gradient
            else:
                gradient = _batch_gradient(ev, spec, current, batch, gradient_at)
            leaves, out, moved = stepper.step([current[i] for i in trained_at], [gradient[i] for i in trained_at],
                                              spec.learning_rate, step)
            if step <= SHOWN_STEPS:
                result.iterations.append(shown(sym, step, batch, loss, dict(zip(params, current)), leaves, out,
                                               dict(zip(params, gradient))))
            current = list(current)
            for i, value in zip(trained_at, moved):
                current[i] = value
        finite = all(map(math.isfinite, result.history + current))
    except (OverflowError, ValueError, ZeroDivisionError):
        finite = False
    if not finite:
        raise diverged(config.name, spec.source)
    result.final = dict(zip(params, current))
    return result


def shown(sym: SymbolicOptimizer, step: int, batch: list[int], loss: float, before: dict, leaves: list[float],
          out: list[float], gradient: dict) -> Iteration:
    """A step kept with every number: the parameters before it, the rule's leaves and step values."""
    values = before | dict(zip(sym.leaves, leaves)) | dict(zip(sym.compiled.names, out))
    return Iteration(step, [i + 1 for i in batch], loss, values, gradient)


def diverged(name: str, source: str) -> DeriveError:
    return DeriveError(f"training with {name} diverged (the loss is no longer finite); "
                       "choose a smaller learning_rate", file=source, field="[training] learning_rate")


def _batch_gradient(ev, spec: Spec, params: list[float], batch: list[int], gradient_at: list[int]) -> list[float]:
    """The spec's reduction of the per-sample gradients over one batch."""
    total = [0.0] * len(gradient_at)
    for s in batch:
        out = ev.sample(params + list(spec.inputs[s]) + list(spec.targets[s]))
        total = [a + out[i] for a, i in zip(total, gradient_at)]
    if spec.reduction == "mean":
        total = [v / len(batch) for v in total]
    return total


def apply_to_values(run: OptimizerRun, d: Derivation, values: Values) -> None:
    """The numbers of one round as the optimiser makes them: p+ after the first step, the loss of
    a new forward pass there, and (iterations > 1) the history and the final parameters."""
    first = run.iterations[0].values
    for p, plus in d.updated.items():
        values.totals[plus] = first[run.symbolic.updated[p]]
    values.totals[d.loss_after] = run.history[1]
    if run.spec.iterations > 1:
        values.history = list(run.history)
        values.final = dict(run.final)


def one_step(spec: Spec) -> Spec:
    """The spec for the plain round the derivation evaluates (the optimiser does the iterations)."""
    return replace(spec, iterations=1)
