"""A module spec's solution: the derivation, its key (forward values, loss, gradients, updated
parameters) and the independent check that gates every write."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import DeriveError
from .derivation import ModuleDerivation, derive_spec
from .section import ModuleSpec
from .verify import verify_key


@dataclass
class ModuleSolution:
    spec: ModuleSpec
    derivation: ModuleDerivation
    key: dict
    report: dict
    regularization = None      # what the notebook's parts ask of any solution
    optimizer = None

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
    key = build_key(d)
    report = verify_key(spec, key) if check else {}
    return ModuleSolution(spec, d, key, report)


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

