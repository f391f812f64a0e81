"""Read a TOML spec and validate every field, so that later stages can trust it.

Every problem becomes a `DeriveError` naming the file, the field and what was expected.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
import tomllib
from typing import Any

from .choices import ACTIVATIONS, LOSSES, NAMINGS, resolve_naming
from .errors import DeriveError
from .fields import FieldReader, show
from .text import read_title
from .modules.section import ModuleSpec, parse_modules
from .regularization.section import Regularization, parse_section
from .training import FIELDS as TRAINING_FIELDS
from .training import Optimizer, parse_optimizer, refuse_with_regularization

# Limits that keep a written-out derivation readable and a run short (documented in the README).
MAX_LAYERS = 8
MAX_NEURONS = 32
MAX_PARAMETERS = 1500
MAX_SAMPLES = 64
MAX_ITERATIONS = 1_000_000
MAX_DECIMALS = 15

Bias = float | tuple[float, ...]


@dataclass(frozen=True)
class Spec:
    """A validated spec: plain numbers and names, nothing left to check."""

    title: str
    layers: tuple[int, ...]
    activations: tuple[str, ...]          # one per non-input layer
    loss: str
    naming: str                           # resolved: "lecture" or "indexed"
    inputs: tuple[tuple[float, ...], ...]  # one tuple per sample
    targets: tuple[tuple[float, ...], ...]
    single_sample: bool                   # inputs were given as one flat list
    reduction: str
    weights: tuple[tuple[tuple[float, ...], ...], ...]   # weights[l][j][k]
    biases: tuple[Bias, ...]              # biases[l]: shared number or one per neuron
    learning_rate: float = 0.5
    update_biases: bool = False
    iterations: int = 1
    decimals: int = 9
    source: str = "<spec>"
    naming_requested: str = "auto"
    extra: dict = field(default_factory=dict, compare=False)   # sections later stages read
    regularization: Regularization | None = None   # [regularization], validated by its own reader
    optimizer: Optimizer | None = None   # [training] optimizer and batch_size (None: plain descent)

    @property
    def shared_biases(self) -> tuple[bool, ...]:
        return tuple(not isinstance(b, tuple) for b in self.biases)

    def to_dict(self) -> dict:
        """The spec as the TOML schema's dict (for keys.json and re-reading)."""
        inputs: Any = list(self.inputs[0]) if self.single_sample else [list(s) for s in self.inputs]
        targets: Any = list(self.targets[0]) if self.single_sample else [list(s) for s in self.targets]
        data = {
            "title": self.title,
            "network": {"layers": list(self.layers), "activation": list(self.activations),
                        "loss": self.loss, "naming": self.naming_requested},
            "data": {"inputs": inputs, "targets": targets, "reduction": self.reduction},
            "parameters": {"weights": [[list(r) for r in m] for m in self.weights],
                           "biases": [list(b) if isinstance(b, tuple) else b for b in self.biases]},
            "training": {"learning_rate": self.learning_rate, "update_biases": self.update_biases,
                         "iterations": self.iterations,
                         **(self.optimizer.record() if self.optimizer is not None else {})},
            "output": {"decimals": self.decimals},
        }
        for section, value in self.extra.items():
            data[section] = value
        return data


SECTIONS = {
    "": {"title"},
    "network": {"layers", "activation", "loss", "naming"},
    "data": {"inputs", "targets", "reduction"},
    "parameters": {"weights", "biases"},
    "training": {"learning_rate", "update_biases", "iterations", *TRAINING_FIELDS},
    "output": {"decimals"},
}
# Sections validated by later stages (regularisation, exams); the spec keeps them as given.
EXTRA_SECTIONS: set[str] = {"regularization", "exam", "slides"}


def load(path: str | Path) -> Spec | ModuleSpec:
    """Read and validate a spec file."""
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DeriveError("no such file", file=source) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DeriveError(f"cannot read the file ({exc.__class__.__name__}: {exc})", file=source) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DeriveError(f"malformed TOML: {exc}", file=source) from None
    return parse(raw, source)


def parse(raw: dict, source: str = "<spec>") -> Spec | ModuleSpec:
    """Validate a spec given as a dict (the TOML schema); one with `[[module]]` tables is read by the
    modules slice's section and becomes a `ModuleSpec`."""
    if "module" in raw:
        return parse_modules(raw, source)
    r = FieldReader(source)
    for key, value in raw.items():
        if isinstance(value, dict):
            if key not in SECTIONS and key not in EXTRA_SECTIONS:
                known = ", ".join(f"[{s}]" for s in list(SECTIONS)[1:] + sorted(EXTRA_SECTIONS))
                raise r.fail(f"[{key}]", f"unknown section; expected one of: {known}")
            if key in SECTIONS:
                for sub in value:
                    if sub not in SECTIONS[key]:
                        raise r.fail(f"[{key}] {sub}", "unknown field; expected one of: "
                                     + ", ".join(sorted(SECTIONS[key])))
        elif key not in SECTIONS[""]:
            raise r.fail(key, "unknown field; expected title or a section such as [network]")

    def section(name: str) -> dict:
        value = raw.get(name, {})
        if not isinstance(value, dict):
            raise r.fail(name, f"expected a section [{name}]")
        return value

    def need(sec: dict, name: str, key: str) -> Any:
        if key not in sec:
            raise r.fail(f"[{name}] {key}", "missing field")
        return sec[key]

    title = read_title(raw, r)

    net = section("network")
    layers_raw = need(net, "network", "layers")
    if not isinstance(layers_raw, list) or not 2 <= len(layers_raw) <= MAX_LAYERS:
        raise r.fail("[network] layers", f"expected a list of 2 to {MAX_LAYERS} layer sizes "
                     "(inputs, hidden layers..., outputs), got " + show(layers_raw))
    layers = tuple(r.integer(n, f"[network] layers[{i}]", 1, MAX_NEURONS) for i, n in enumerate(layers_raw))
    n_layers = len(layers) - 1
    n_weights = sum(layers[l] * layers[l + 1] for l in range(n_layers))
    if n_weights + sum(layers[1:]) > MAX_PARAMETERS:
        raise r.fail("[network] layers", f"network too large to write out: {n_weights} weights; "
                     f"at most {MAX_PARAMETERS} parameters")

    act_raw = net.get("activation", "sigmoid")
    if isinstance(act_raw, list):
        if len(act_raw) != n_layers:
            raise r.fail("[network] activation", f"expected one activation per non-input layer "
                         f"({n_layers}), got {len(act_raw)}")
        activations = tuple(r.choice(a, f"[network] activation[{i}]", ACTIVATIONS) for i, a in enumerate(act_raw))
    else:
        activations = (r.choice(act_raw, "[network] activation", ACTIVATIONS),) * n_layers
    for i, a in enumerate(activations[:-1]):
        if a == "softmax":
            raise r.fail("[network] activation", f"softmax is only for the output layer, "
                         f"not hidden layer {i + 1}")
    if activations[-1] == "softmax" and layers[-1] < 2:
        raise r.fail("[network] activation", "softmax needs at least 2 output neurons")
    loss = r.choice(net.get("loss", "half_sse"), "[network] loss", LOSSES)
    if loss in ("cross_entropy", "binary_cross_entropy") and activations[-1] not in ("sigmoid", "softmax"):
        raise r.fail("[network] loss", f"{loss} takes the log of the outputs: the output layer "
                     f"needs sigmoid or softmax, not {activations[-1]}")
    naming_requested = r.choice(net.get("naming", "auto"), "[network] naming", NAMINGS)
    if naming_requested == "lecture" and len(layers) > 3:
        raise r.fail("[network] naming", "lecture names (i, h, o) fit at most one hidden layer; "
                     "use naming = \"indexed\" or \"auto\"")
    naming = resolve_naming(naming_requested, layers)

    data = section("data")
    inputs_raw = need(data, "data", "inputs")
    targets_raw = need(data, "data", "targets")
    single = isinstance(inputs_raw, list) and not any(isinstance(v, list) for v in inputs_raw)
    if single:
        inputs = (r.vector(inputs_raw, "[data] inputs", layers[0], "one per input neuron"),)
        targets = (r.vector(targets_raw, "[data] targets", layers[-1], "one per output neuron"),)
    else:
        if not isinstance(inputs_raw, list) or not 1 <= len(inputs_raw) <= MAX_SAMPLES:
            raise r.fail("[data] inputs", f"expected one sample (a list of numbers) or 1 to "
                         f"{MAX_SAMPLES} samples (a list of lists)")
        inputs = tuple(r.vector(s, f"[data] inputs[{i}]", layers[0], "one per input neuron")
                       for i, s in enumerate(inputs_raw))
        if not isinstance(targets_raw, list) or len(targets_raw) != len(inputs_raw) or not all(
                isinstance(t, list) for t in targets_raw):
            raise r.fail("[data] targets", f"expected {len(inputs_raw)} lists of targets, "
                         "one per sample in inputs")
        targets = tuple(r.vector(s, f"[data] targets[{i}]", layers[-1], "one per output neuron")
                        for i, s in enumerate(targets_raw))
    if loss in ("cross_entropy", "binary_cross_entropy"):
        for s, sample in enumerate(targets):
            for k, t in enumerate(sample):
                if not 0.0 <= t <= 1.0:
                    where = "[data] targets" + ("" if single else f"[{s}]") + f"[{k}]"
                    raise r.fail(where, f"{loss} needs targets in [0, 1], got {t:g}")
    reduction = r.choice(data.get("reduction", "sum"), "[data] reduction", ("sum", "mean"))

    params = section("parameters")
    weights_raw = need(params, "parameters", "weights")
    biases_raw = need(params, "parameters", "biases")
    if not isinstance(weights_raw, list) or len(weights_raw) != n_layers:
        raise r.fail("[parameters] weights", f"expected {n_layers} weight matrices (one per layer "
                     f"after the inputs), got {_count(weights_raw)}")
    weights = []
    for l, matrix in enumerate(weights_raw):
        rows, cols = layers[l + 1], layers[l]
        shape = f"{rows}x{cols} ({rows} neurons in layer {l + 1}, each with {cols} inputs from layer {l})"
        where = f"[parameters] weights[{l}]"
        if not isinstance(matrix, list) or len(matrix) != rows or not all(
                isinstance(row, list) and len(row) == cols for row in matrix):
            raise r.fail(where, f"expected shape {shape}, got {_shape(matrix)}")
        weights.append(tuple(tuple(r.number(v, f"{where}[{j}][{k}]") for k, v in enumerate(row))
                             for j, row in enumerate(matrix)))
    if not isinstance(biases_raw, list) or len(biases_raw) != n_layers:
        raise r.fail("[parameters] biases", f"expected {n_layers} entries (one per layer after the "
                     f"inputs: a number shared by the layer, or a list with one per neuron), "
                     f"got {_count(biases_raw)}")
    biases: list[Bias] = []
    for l, b in enumerate(biases_raw):
        where = f"[parameters] biases[{l}]"
        if isinstance(b, list):
            biases.append(r.vector(b, where, layers[l + 1], f"one per neuron of layer {l + 1}"))
        else:
            biases.append(r.number(b, where))

    train = section("training")
    lr = r.number(train.get("learning_rate", 0.5), "[training] learning_rate")
    if lr <= 0:
        raise r.fail("[training] learning_rate", f"expected a number > 0, got {lr:g}")
    update_biases = r.boolean(train.get("update_biases", False), "[training] update_biases")
    iterations = r.integer(train.get("iterations", 1), "[training] iterations", 1, MAX_ITERATIONS)
    out = section("output")
    decimals = r.integer(out.get("decimals", 9), "[output] decimals", 1, MAX_DECIMALS)

    extra = {k: raw[k] for k in EXTRA_SECTIONS if k in raw}
    regularization = None
    if "regularization" in raw:
        regularization = parse_section(raw["regularization"], source, update_biases)
    optimizer = parse_optimizer(train, source, len(inputs), ("learning_rate", "update_biases", "iterations"))
    if regularization is not None:
        refuse_with_regularization(r, optimizer)
    return Spec(title=title, layers=layers, activations=activations, loss=loss, naming=naming,
                inputs=inputs, targets=targets, single_sample=single, reduction=reduction,
                weights=tuple(weights), biases=tuple(biases), learning_rate=lr,
                update_biases=update_biases, iterations=iterations, decimals=decimals,
                source=source, naming_requested=naming_requested, extra=extra,
                regularization=regularization, optimizer=optimizer)


def _count(value: Any) -> str:
    return str(len(value)) if isinstance(value, list) else show(value)


def _shape(value: Any) -> str:
    if not isinstance(value, list):
        return show(value)
    if all(isinstance(row, list) for row in value):
        lengths = sorted({len(row) for row in value})
        cols = str(lengths[0]) if len(lengths) == 1 else "/".join(map(str, lengths))
        return f"{len(value)}x{cols}"
    return f"a list of {len(value)} numbers"
