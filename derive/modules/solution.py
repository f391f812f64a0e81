"""A module spec's solution: the derivation, its key (forward values, loss, gradients, updated
parameters) and the independent check that gates every write."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import DeriveError
from ..numeric.optimizers import STATES, OptimizerRun
from .derivation import ModuleDerivation, derive_spec
from .section import ModuleSpec
from .training import apply, train
from .verify import verify_key


@dataclass
class ModuleSolution:
    spec: ModuleSpec
    derivation: ModuleDerivation
    key: dict
    report: dict
    training: OptimizerRun | None = None     # iterations > 1 or an optimiser: every step's numbers
    regularization = None      # what the notebook's parts ask of any solution

    @property
    def optimizer(self) -> OptimizerRun | None:
        """The optimiser's run when the spec names one (plain descent over iterations has none)."""
        return self.training if self.spec.optimizer is not None else None

    def value(self, plain: str, sample: int = 0) -> float:
        """A number by its plain name (`z(1)_11`, `dE/dK(1)_11`, `K(1)_11+`, `E`); with several samples
        a per-sample quantity is `z(1)_11[2]` (or the `sample`, from 0)."""
        d = self.derivation
        names = {}
        for sym, name in d.names.items():
            if sym in d.values:
                names.setdefault(name.plain, sym)
        if plain not in names and not self.spec.single_sample and "[" not in plain:
            plain = f"{plain}[{sample + 1}]"
        if plain not in names:
            raise DeriveError(f"no quantity named {plain!r}; names are like: "
                              + ", ".join(list(names)[:6]), file=self.spec.source)
        return d.values[names[plain]]


def solve_modules(spec: ModuleSpec, check: bool = True) -> ModuleSolution:
    d = derive_spec(spec)
    run = None
    if spec.optimizer is not None or spec.iterations > 1:
        run = train(d)
        apply(run, d)
    key = build_key(d)
    if run is not None:
        add_training(key, d, run)
    report = verify_key(spec, key) if check else {}
    return ModuleSolution(spec, d, key, report, run)


def _numbers(tensor: Any, value) -> Any:
    return [_numbers(t, value) for t in tensor] if isinstance(tensor, list) else value(tensor)


def build_key(d: ModuleDerivation) -> dict:
    """The graders' contract: per module (in the spec's order) the values of each sample's forward
    pass, the gradient of each parameter, the parameters after one step of gradient descent."""
    g, v = d.graph, d.values
    spec = g.spec
    forwards = []
    for s in range(len(spec.inputs)):
        entries = []
        for m in spec.modules:
            entry: dict = {"kind": m.kind}
            if g.pre[s][m.index] is not None:
                entry["z"] = _numbers(g.pre[s][m.index], v.get)
            if m.kind == "rnn":
                entry["states"] = _numbers(g.states[s], v.get)
            entry["out"] = _numbers(g.outputs[s][m.index], v.get)
            entries.append(entry)
        forwards.append(entries)
    data_gradient = [_numbers(g.inputs[s], lambda x: v[d.gradient[x]]) for s in range(len(spec.inputs))]
    gradients, updated = [], []
    for m, params in zip(spec.modules, g.params):
        gradients.append({name: _numbers(syms, lambda p: v[d.gradient[p]]) for name, syms in params.items()})
        updated.append({name: _numbers(syms, lambda p: v[d.updated[p]]) for name, syms in params.items()})
    loss: dict = {"total": v[g.loss]}
    if not spec.single_sample:
        loss["per_sample"] = [v[e] for e in g.sample_loss]
    loss["after_step"] = d.loss_after
    single = spec.single_sample
    return {
        "modules": [{"kind": m.kind, "input_shape": list(m.in_shape), "output_shape": list(m.out_shape)}
                    for m in spec.modules],
        "forward": forwards[0] if single else forwards,
        "loss": loss,
        "gradients": gradients,
        "input_gradient": data_gradient[0] if single else data_gradient,
        "updated": updated,
    }



def _per_module(d: ModuleDerivation, value) -> list[dict]:
    """Numbers per parameter in the key's shape: per module, parameter name -> nested lists."""
    return [{name: _numbers(syms, value) for name, syms in params.items()} for params in d.graph.params]


def add_training(key: dict, d: ModuleDerivation, run: OptimizerRun) -> None:
    """key["optimizer"] (when the spec names one: the rule, its constants and batch size, the first
    steps in full), and with iterations > 1 the loss history and the final parameters."""
    spec = d.graph.spec
    sym = run.symbolic
    if spec.optimizer is not None:
        steps = []
        for it in run.iterations:
            v = it.values
            entry: dict = {"step": it.number, "batch": it.batch, "loss": it.loss,
                           "gradients": _per_module(d, lambda p: it.gradient[p])}
            for s in STATES[sym.name]:
                entry[s] = _per_module(d, lambda p: v[sym.new_state[s, p]])
            for s in ("m", "v") if sym.name == "adam" else ():
                entry[s + "_hat"] = _per_module(d, lambda p: v[sym.corrected[s, p]])
            entry["updated"] = _per_module(d, lambda p: v[sym.updated[p]])
            steps.append(entry)
        key["optimizer"] = {**spec.optimizer.record(), "steps": steps}
    if spec.iterations > 1:
        key["history"] = {"loss": list(run.history)}
        key["final"] = _per_module(d, lambda p: run.final[p])
