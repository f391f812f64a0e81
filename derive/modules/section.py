"""The `[[module]]` tables of a spec, validated: each module's kind, fields, parameters and shapes.

A spec that lists modules (`[[module]]`) instead of `[network] layers` is read here, beside the
MLP spec and free of sympy: every field is checked and every shape worked out before any
mathematics is loaded, and every problem is one line naming the file, `module[i].field` and what
was expected. The later stages of the modules slice trust the `ModuleSpec` this returns.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..fields import FieldReader, show
from ..text import read_title
from ..training import FIELDS as OPTIMIZER_FIELDS
from ..training import Optimizer, parse_optimizer

KINDS = ("dense", "conv1d", "conv2d", "maxpool", "avgpool", "flatten", "residual", "rnn")
ACTIVATIONS = ("relu", "sigmoid", "tanh", "linear", "softmax")
LOSSES = ("half_sse", "mse", "cross_entropy")
FIELDS: dict[str, tuple[str, ...]] = {
    "dense": ("kind", "units", "activation", "weights", "biases"),
    "conv2d": ("kind", "filters", "kernel", "stride", "padding", "activation", "kernels", "biases"),
    "conv1d": ("kind", "filters", "kernel", "stride", "padding", "activation", "kernels", "biases"),
    "maxpool": ("kind", "size", "stride"),
    "avgpool": ("kind", "size", "stride"),
    "flatten": ("kind",),
    "residual": ("kind", "wraps"),
    "rnn": ("kind", "units", "activation", "input_weights", "recurrent_weights", "biases", "initial_state"),
}
# The sections a module spec may have besides its modules, with their fields.
SECTIONS = {"network": ("loss",), "data": ("inputs", "targets"),
            "training": ("learning_rate", "iterations", *OPTIMIZER_FIELDS), "output": ("decimals",)}

# Limits that keep every number of a module spec on a page (documented in the README).
MAX_MODULES = 8
MAX_SIDE = 8          # conv2d inputs up to 8 x 8
MAX_LENGTH = 16       # conv1d inputs up to 16 long
MAX_CHANNELS = 3
MAX_FILTERS = 4
MAX_STEPS = 6         # rnn: T <= 6
MAX_FEATURES = 4
MAX_HIDDEN = 4
MAX_UNITS = 16
MAX_DENSE_INPUTS = 32
MAX_SAMPLES = 4
MAX_DECIMALS = 12
DEFAULT_DECIMALS = 9  # [output] decimals when not given
MAX_MAX_WINDOW = 4    # entries of a pooling window (its max(...) or (...)/n is one unbreakable line)
MAX_AVG_WINDOW = 4
MAX_SOFTMAX = 4       # softmax outputs (the denominator of each is one unbreakable line)
MAX_QUANTITIES = 800  # computed quantities over all samples (each is a forward and a backward step)
MAX_ITERATIONS = 1000  # training steps of a module spec (each a forward and backward pass of every sample)


@dataclass(frozen=True)
class Module:
    """One validated module: its kind, shapes and parameters (nested tuples in the table's shapes)."""

    index: int                               # its place in the spec, from 0 (module[index])
    kind: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    activation: str | None = None
    params: tuple[tuple[str, Any], ...] = ()  # (name, nested tuples), in the order the table names them
    size: tuple[int, ...] = ()               # a kernel's or a pool window's size
    stride: int = 1
    padding: int = 0
    wraps: int = 0                           # residual: how many of the next modules form f

    def param(self, name: str) -> Any:
        return dict(self.params)[name]

    @property
    def where(self) -> str:
        return f"module[{self.index}] ({self.kind})"


@dataclass(frozen=True)
class ModuleSpec:
    """A validated module spec: the modules, the data, the loss and one gradient-descent step."""

    title: str
    modules: tuple[Module, ...]
    inputs: tuple[Any, ...]                  # one nested tuple per sample, in the first module's shape
    targets: tuple[tuple[float, ...], ...]
    single_sample: bool
    loss: str
    learning_rate: float = 0.5
    decimals: int = DEFAULT_DECIMALS
    source: str = "<spec>"
    iterations: int = 1
    optimizer: Optimizer | None = None       # [training] optimizer and batch_size (None: plain descent)
    extra: dict = field(default_factory=dict, compare=False)

    def training(self) -> dict:
        """[training] as the spec writes it: iterations and the optimiser only when given."""
        out: dict = {"learning_rate": self.learning_rate}
        if self.iterations > 1:
            out["iterations"] = self.iterations
        return out | (self.optimizer.record() if self.optimizer is not None else {})

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.modules[0].in_shape

    def to_dict(self) -> dict:
        """The spec as the TOML schema's dict (for key.json and re-reading)."""
        def listed(value):
            return [listed(v) for v in value] if isinstance(value, tuple) else value
        modules = []
        for m in self.modules:
            table: dict = {"kind": m.kind}
            if m.kind in ("dense", "rnn"):
                table["units"] = m.out_shape[0]
            if m.kind in ("conv1d", "conv2d"):
                table["filters"] = m.out_shape[0]
            if m.activation is not None and m.kind != "rnn":
                table["activation"] = m.activation
            if m.kind in ("conv1d", "conv2d", "maxpool", "avgpool"):
                table["kernel" if m.kind.startswith("conv") else "size"] = list(m.size)
                table["stride"] = m.stride
            if m.kind.startswith("conv"):
                table["padding"] = m.padding
            if m.kind == "residual":
                table["wraps"] = m.wraps
            table.update({name: listed(value) for name, value in m.params})
            modules.append(table)
        inputs = listed(self.inputs[0]) if self.single_sample else [listed(s) for s in self.inputs]
        targets = list(self.targets[0]) if self.single_sample else [list(t) for t in self.targets]
        return {"title": self.title, "module": modules, "network": {"loss": self.loss},
                "data": {"inputs": inputs, "targets": targets},
                "training": self.training(), "output": {"decimals": self.decimals},
                **self.extra}


def shape_text(shape: tuple[int, ...]) -> str:
    return "×".join(map(str, shape))


def depth(value: Any) -> int:
    """How deeply lists nest in `value` (following first elements): 0 for a number."""
    d = 0
    while isinstance(value, list) and value:
        d += 1
        value = value[0]
    return d + (1 if isinstance(value, list) else 0)


def _got(value: Any) -> str:
    """The shape of what was given, as an error line shows it: 2×3, or a value."""
    if not isinstance(value, list):
        return show(value)
    shape = []
    level = [value]
    while all(isinstance(v, list) for v in level) and level:
        lengths = {len(v) for v in level}
        if len(lengths) != 1:
            return shape_text(tuple(shape)) + ("×" if shape else "") + "/".join(map(str, sorted(lengths)))
        shape.append(lengths.pop())
        level = [x for v in level for x in v]
    return shape_text(tuple(shape)) if shape else "an empty list"


def tensor(r: FieldReader, value: Any, where: str, shape: tuple[int, ...], what: str) -> Any:
    """Nested lists of numbers of exactly `shape`, as nested tuples; else one line naming `where`."""
    def read(v, at, rest):
        if not rest:
            return r.number(v, at)
        if not isinstance(v, list) or len(v) != rest[0]:
            raise r.fail(where, f"expected shape {shape_text(shape)} ({what}), got {_got(value)}")
        return tuple(read(x, f"{at}[{i}]", rest[1:]) for i, x in enumerate(v))
    return read(value, where, shape)


def parse_modules(raw: dict, source: str) -> ModuleSpec:
    """Validate a spec with `[[module]]` tables; every problem is one DeriveError naming the field."""
    r = FieldReader(source)
    for key, value in raw.items():
        if key in ("title", "module", "slides", "exam"):   # [slides]: derive slides; [exam]: derive exam
            continue
        if key in ("regularization", "parameters") or key not in SECTIONS:
            if key == "parameters":
                raise r.fail("[parameters]", "a spec with [[module]] tables gives each module's parameters "
                             "in its own table (weights, biases, kernels, ...), not in [parameters]")
            if key == "regularization":
                raise r.fail(f"[{key}]", f"[{key}] is not yet supported with [[module]] tables")
            raise r.fail(f"[{key}]" if isinstance(value, dict) else key, "unknown section or field; a spec "
                         "with [[module]] tables has title, [[module]], " + ", ".join(f"[{s}]" for s in SECTIONS))
        if not isinstance(value, dict):
            raise r.fail(key, f"expected a section [{key}]")
        for sub in value:
            if sub not in SECTIONS[key]:
                extra = " ([network] layers and [[module]] tables are two ways of describing the network; " \
                        "give one)" if sub in ("layers", "activation") else ""
                raise r.fail(f"[{key}] {sub}", "unknown field for a spec with [[module]] tables; expected "
                             "one of: " + ", ".join(SECTIONS[key]) + extra)
    title = read_title(raw, r)
    tables = raw["module"]
    if not isinstance(tables, list) or not tables or not all(isinstance(t, dict) for t in tables):
        raise r.fail("module", "expected [[module]] tables (an array of tables), one per module")
    if len(tables) > MAX_MODULES:
        raise r.fail("module", f"expected at most {MAX_MODULES} modules, got {len(tables)}")
    network, data = raw.get("network", {}), raw.get("data", {})
    train, out = raw.get("training", {}), raw.get("output", {})
    kinds = []
    for i, table in enumerate(tables):
        kind = r.choice(table.get("kind"), f"module[{i}].kind", KINDS) if "kind" in table else None
        if kind is None:
            raise r.fail(f"module[{i}].kind", "missing field; expected one of: " + ", ".join(KINDS))
        for name in table:
            if name not in FIELDS[kind]:
                raise r.fail(f"module[{i}].{name}", f"unknown field for kind = \"{kind}\"; expected one "
                             "of: " + ", ".join(FIELDS[kind]))
        kinds.append(kind)
    for name in ("inputs", "targets"):
        if name not in data:
            raise r.fail(f"[data] {name}", "missing field")
    first = next((i for i, k in enumerate(kinds) if k != "residual"), None)
    if first is None or kinds[first] not in ("dense", "conv1d", "conv2d", "rnn"):
        where = f"module[{first}].kind" if first is not None else "module[0].kind"
        raise r.fail(where, "the first module (after residual) reads the data: expected dense, conv1d, "
                     "conv2d or rnn, got " + (show(kinds[first]) if first is not None else "only residuals"))

    samples, single = _samples(r, data["inputs"], tables[first], kinds[first], first)
    shape = _shape_of(samples[0])
    modules: list[Module] = []
    for i, table in enumerate(tables):
        module = _module(r, i, kinds[i], table, shape, len(tables))
        modules.append(module)
        shape = module.out_shape
        _check_residuals(r, modules)     # a block is checked where it ends, before what reads it
        _check_quantities(r, modules, len(samples))
    if len(shape) != 1:
        raise r.fail(f"module[{len(modules) - 1}]", f"the last module gives a {shape_text(shape)} map; the "
                     "loss compares a vector with the targets: end with flatten and a dense module")
    for m in modules[:-1]:
        if m.activation == "softmax":
            raise r.fail(f"module[{m.index}].activation", "softmax is only for the last module")
    loss = r.choice(network.get("loss", "half_sse"), "[network] loss", LOSSES)
    last = modules[-1]
    if loss == "cross_entropy" and last.activation != "softmax":
        raise r.fail("[network] loss", "cross_entropy takes the log of the outputs: the last module needs "
                     "activation = \"softmax\"")
    if last.activation == "softmax" and shape[0] < 2:
        raise r.fail(f"module[{last.index}].activation", "softmax needs at least 2 outputs")
    if last.activation == "softmax" and shape[0] > MAX_SOFTMAX:
        raise r.fail(f"module[{last.index}].activation", f"softmax over at most {MAX_SOFTMAX} outputs is written "
                     f"out (each denominator is one line), got {shape[0]}")
    n_out = shape[0]
    targets_raw = data["targets"]
    if single:
        targets = (r.vector(targets_raw, "[data] targets", n_out, "one per output"),)
    else:
        if not isinstance(targets_raw, list) or len(targets_raw) != len(samples) or not all(
                isinstance(t, list) for t in targets_raw):
            raise r.fail("[data] targets", f"expected {len(samples)} lists of targets, one per sample in inputs")
        targets = tuple(r.vector(t, f"[data] targets[{s}]", n_out, "one per output")
                        for s, t in enumerate(targets_raw))
    if loss == "cross_entropy":
        for s, sample in enumerate(targets):
            for k, t in enumerate(sample):
                if not 0.0 <= t <= 1.0:
                    where = "[data] targets" + ("" if single else f"[{s}]") + f"[{k}]"
                    raise r.fail(where, f"cross_entropy needs targets in [0, 1], got {t:g}")
    lr = r.number(train.get("learning_rate", 0.5), "[training] learning_rate")
    if lr <= 0:
        raise r.fail("[training] learning_rate", f"expected a number > 0, got {lr:g}")
    iterations = r.integer(train.get("iterations", 1), "[training] iterations", 1, MAX_ITERATIONS)
    optimizer = parse_optimizer(train, source, len(samples), ("learning_rate", "iterations"))
    decimals = r.integer(out.get("decimals", DEFAULT_DECIMALS), "[output] decimals", 1, MAX_DECIMALS)
    return ModuleSpec(title=title, modules=tuple(modules), inputs=tuple(samples), targets=targets,
                      single_sample=single, loss=loss, learning_rate=lr, decimals=decimals, source=source,
                      iterations=iterations, optimizer=optimizer,
                      extra={k: raw[k] for k in ("slides", "exam") if k in raw})


def _check_quantities(r: FieldReader, modules: list[Module], samples: int) -> None:
    """The modules so far compute at most MAX_QUANTITIES numbers over the samples (checked as each is
    read, so the limit is named before what follows it)."""
    quantities = samples * sum(_quantities(m) for m in modules)
    if quantities > MAX_QUANTITIES:
        raise r.fail("module", f"the network computes {quantities} quantities over its {samples} "
                     f"sample{'s' if samples > 1 else ''} (pre-activations, activations, pooled values, "
                     f"sums, states) up to {modules[-1].where}; a worked solution writes out at most "
                     f"{MAX_QUANTITIES}: use smaller inputs, fewer filters or fewer samples")


def _size(shape: tuple[int, ...]) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


def _quantities(m: Module) -> int:
    """The scalar quantities a module computes for one sample (z and a, or p, y, z and h)."""
    if m.kind in ("dense", "conv1d", "conv2d"):
        return 2 * _size(m.out_shape)
    if m.kind == "rnn":
        return 2 * m.in_shape[0] * m.out_shape[0]
    if m.kind == "flatten":
        return 0
    return _size(m.out_shape)


def _shape_of(value: Any) -> tuple[int, ...]:
    shape = []
    while isinstance(value, tuple):
        shape.append(len(value))
        value = value[0]
    return tuple(shape)


def _samples(r: FieldReader, raw: Any, table: dict, kind: str, index: int) -> tuple[tuple, bool]:
    """The samples of `[data] inputs` in the shape the first module reads, and whether one was given
    bare (not in a list of samples). A one-channel conv input may leave out its channel level."""
    rank = {"dense": 1, "rnn": 2, "conv1d": 2, "conv2d": 3}[kind]
    what = {"dense": "[features]", "rnn": "[time][features]", "conv1d": "[channels][length]",
            "conv2d": "[channels][height][width]"}[kind]
    d = depth(raw)
    if d == 0 or not isinstance(raw, list):
        raise r.fail("[data] inputs", f"expected the input of module[{index}] ({kind}) as {what}, got {show(raw)}")
    channels = 1
    if kind.startswith("conv"):
        kernels = table.get("kernels")
        if depth(kernels) == rank + 1 and isinstance(kernels, list) and isinstance(kernels[0], list):
            channels = len(kernels[0])
    bare = kind.startswith("conv") and channels == 1     # the channel level may be left out
    if bare and d == rank - 1:
        samples, single = [[raw]], True
    elif bare and d == rank:
        samples, single = ([raw], True) if len(raw) == 1 else ([[s] for s in raw], False)
    elif d == rank:
        samples, single = [raw], True
    elif d == rank + 1:
        samples, single = list(raw), False
    else:
        raise r.fail("[data] inputs", f"expected the input of module[{index}] ({kind}) as {what}, or a list of "
                     f"such samples; got {d} levels of lists")
    if len(samples) > MAX_SAMPLES:
        raise r.fail("[data] inputs", f"expected at most {MAX_SAMPLES} samples, got {len(samples)}")
    first = samples[0]
    shape = []
    v = first
    for _ in range(rank):
        if not isinstance(v, list) or not v:
            raise r.fail("[data] inputs", f"expected the input of module[{index}] ({kind}) as {what}, "
                         f"got {_got(first)}")
        shape.append(len(v))
        v = v[0]
    read = []
    for s, sample in enumerate(samples):
        where = "[data] inputs" + ("" if single else f"[{s}]")
        read.append(tensor(r, sample, where, tuple(shape), f"{what}, as the first sample"))
    return tuple(read), single


def _int_pair(r: FieldReader, value: Any, where: str, n: int, low: int, high: int) -> tuple[int, ...]:
    """A size given as [a, b] (or [a] in one dimension), or one whole number for every dimension."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value] * n
    if not isinstance(value, list) or len(value) != n:
        raise r.fail(where, f"expected {n} whole number{'s' if n > 1 else ''} such as "
                     f"{[2] * n}, got {show(value)}")
    return tuple(r.integer(v, f"{where}[{i}]", low, high) for i, v in enumerate(value))


def _module(r: FieldReader, i: int, kind: str, table: dict, shape: tuple[int, ...], count: int) -> Module:
    at = f"module[{i}]"

    def need(name: str) -> Any:
        if name not in table:
            raise r.fail(f"{at}.{name}", "missing field")
        return table[name]

    def activation(default: str) -> str:
        return r.choice(table.get("activation", default), f"{at}.activation", ACTIVATIONS)

    if kind == "residual":
        wraps = r.integer(table.get("wraps", 1), f"{at}.wraps", 1, MAX_MODULES)
        if i + wraps >= count:
            raise r.fail(f"{at}.wraps", f"wraps = {wraps} reaches past the last module; f(x) must be the "
                         "next modules")
        return Module(i, kind, shape, shape, wraps=wraps)
    if kind == "flatten":
        n = 1
        for s in shape:
            n *= s
        if n > MAX_DENSE_INPUTS:
            raise r.fail(at, f"flattening a {shape_text(shape)} map gives {n} numbers; at most {MAX_DENSE_INPUTS}")
        return Module(i, kind, shape, (n,))
    if kind in ("maxpool", "avgpool"):
        if len(shape) not in (2, 3) or i == 0:
            raise r.fail(at, f"{kind} reads a feature map of conv1d or conv2d, got a {shape_text(shape)} vector")
        dims = len(shape) - 1
        size = _int_pair(r, need("size"), f"{at}.size", dims, 1, MAX_SIDE)
        entries = _size(size)
        most = MAX_MAX_WINDOW if kind == "maxpool" else MAX_AVG_WINDOW
        if entries > most:
            raise r.fail(f"{at}.size", f"a {kind} window of at most {most} entries is written out in one line, "
                         f"got {shape_text(size)}")
        stride = r.integer(table.get("stride", size[0]), f"{at}.stride", 1, MAX_SIDE)
        out = []
        for d, (n, k) in enumerate(zip(shape[1:], size)):
            if k > n:
                raise r.fail(f"{at}.size", f"the window {shape_text(size)} is larger than the "
                             f"{shape_text(shape[1:])} map")
            out.append((n - k) // stride + 1)
        return Module(i, kind, shape, (shape[0], *out), size=size, stride=stride)
    if kind == "dense":
        if len(shape) != 1:
            raise r.fail(at, f"dense reads a vector, got a {shape_text(shape)} map: put a flatten module before it")
        if shape[0] > MAX_DENSE_INPUTS:
            raise r.fail(at, f"dense reads at most {MAX_DENSE_INPUTS} inputs, got {shape[0]}")
        units = r.integer(need("units"), f"{at}.units", 1, MAX_UNITS)
        weights = tensor(r, need("weights"), f"{at}.weights", (units, shape[0]),
                         f"{units} unit{'s' if units > 1 else ''}, each with {shape[0]} inputs")
        biases = tensor(r, need("biases"), f"{at}.biases", (units,), "one per unit")
        return Module(i, kind, shape, (units,), activation("sigmoid"),
                      (("weights", weights), ("biases", biases)))
    if kind == "rnn":
        if i != 0 or len(shape) != 2:
            raise r.fail(at, "rnn reads the data as [time][features]: it must be the first module")
        steps, features = shape
        if steps > MAX_STEPS:
            raise r.fail("[data] inputs", f"an rnn is unrolled over at most {MAX_STEPS} time steps, got {steps}")
        if features > MAX_FEATURES:
            raise r.fail("[data] inputs", f"an rnn reads at most {MAX_FEATURES} features a step, got {features}")
        units = r.integer(need("units"), f"{at}.units", 1, MAX_HIDDEN)
        if table.get("activation", "tanh") != "tanh":
            raise r.fail(f"{at}.activation", f"the Elman cell here uses tanh, got {show(table['activation'])}")
        wx = tensor(r, need("input_weights"), f"{at}.input_weights", (units, features),
                    f"{units} hidden units, each with {features} input features")
        wh = tensor(r, need("recurrent_weights"), f"{at}.recurrent_weights", (units, units),
                    f"{units} hidden units, each with the {units} previous states")
        b = tensor(r, need("biases"), f"{at}.biases", (units,), "one per hidden unit")
        h0 = tensor(r, table.get("initial_state", [0.0] * units), f"{at}.initial_state", (units,),
                    "one per hidden unit")
        return Module(i, kind, shape, (units,), "tanh",
                      (("input_weights", wx), ("recurrent_weights", wh), ("biases", b), ("initial_state", h0)))
    # conv1d, conv2d
    dims = 2 if kind == "conv2d" else 1
    if len(shape) != dims + 1:
        want = "[channels][height][width]" if dims == 2 else "[channels][length]"
        raise r.fail(at, f"{kind} reads a {want} map, got {shape_text(shape)}")
    limit = MAX_SIDE if dims == 2 else MAX_LENGTH
    channels = shape[0]
    if channels > MAX_CHANNELS:
        raise r.fail(at, f"{kind} reads at most {MAX_CHANNELS} channels, got {channels}")
    for n in shape[1:]:
        if n > limit:
            raise r.fail("[data] inputs" if i == 0 else at, f"{kind} inputs are at most "
                         f"{shape_text((limit,) * dims)}, got {shape_text(shape[1:])}")
    kernels_raw = need("kernels")
    d = depth(kernels_raw)
    filters_given = "filters" in table
    filters = r.integer(table.get("filters", 1), f"{at}.filters", 1, MAX_FILTERS)
    if d == dims + 2:
        if isinstance(kernels_raw, list) and not filters_given:
            filters = r.integer(len(kernels_raw), f"{at}.kernels (filters)", 1, MAX_FILTERS)
    elif d == dims + 1 and channels == 1:
        if isinstance(kernels_raw, list) and not filters_given:
            filters = r.integer(len(kernels_raw), f"{at}.kernels (filters)", 1, MAX_FILTERS)
        kernels_raw = [[k] for k in kernels_raw] if isinstance(kernels_raw, list) else kernels_raw
    elif d == dims and channels == 1 and filters == 1:
        kernels_raw = [[kernels_raw]]
    else:
        raise r.fail(f"{at}.kernels", f"expected [filters][channels]{'[height][width]' if dims == 2 else '[length]'}"
                     f" ({channels} channel{'s' if channels > 1 else ''} in), got {_got(kernels_raw)}")
    size_raw = table.get("kernel")
    if size_raw is None:
        first = kernels_raw[0][0] if isinstance(kernels_raw, list) and kernels_raw and isinstance(
            kernels_raw[0], list) and kernels_raw[0] else None
        size_raw = [len(first), len(first[0])] if dims == 2 and isinstance(first, list) and first and isinstance(
            first[0], list) else [len(first)] if isinstance(first, list) else None
        if size_raw is None:
            raise r.fail(f"{at}.kernels", f"expected [filters][channels]... numbers, got {_got(table['kernels'])}")
    size = _int_pair(r, size_raw, f"{at}.kernel", dims, 1, limit)
    stride = r.integer(table.get("stride", 1), f"{at}.stride", 1, limit)
    padding = r.integer(table.get("padding", 0), f"{at}.padding", 0, 2)
    kernels = tensor(r, kernels_raw, f"{at}.kernels", (filters, channels, *size),
                     f"{filters} filter{'s' if filters > 1 else ''} × {channels} channel"
                     f"{'s' if channels > 1 else ''} × {shape_text(size)}")
    biases_raw = need("biases")
    if not isinstance(biases_raw, list) and filters == 1:
        biases_raw = [biases_raw]
    biases = tensor(r, biases_raw, f"{at}.biases", (filters,), "one per filter")
    out = []
    for n, k in zip(shape[1:], size):
        if k > n + 2 * padding:
            raise r.fail(f"{at}.kernel", f"the kernel {shape_text(size)} is larger than the "
                         f"{'padded ' if padding else ''}{shape_text(shape[1:])} input")
        out.append((n + 2 * padding - k) // stride + 1)
    return Module(i, kind, shape, (filters, *out), activation("relu"),
                  (("kernels", kernels), ("biases", biases)), size=size, stride=stride, padding=padding)


def _check_residuals(r: FieldReader, modules: list[Module]) -> None:
    """y = x + f(x) for the block that ends with the last module read: f (the next `wraps`
    modules) must give x's shape; blocks do not nest."""
    last = modules[-1]
    for m in modules:
        if m.kind != "residual" or m.index + m.wraps != last.index:
            continue
        inner = modules[m.index + 1:]
        for n in inner:
            if n.kind == "residual":
                raise r.fail(f"module[{n.index}]", f"a residual inside the block of {m.where} is not supported")
        if last.out_shape != m.in_shape:
            x, fx = shape_text(m.in_shape), shape_text(last.out_shape)
            raise r.fail(f"module[{m.index}] (residual)", f"residual shapes {x} and {fx} disagree: x is {x} but "
                         f"f(x), the output of module[{last.index}] ({last.kind}), is {fx}")
