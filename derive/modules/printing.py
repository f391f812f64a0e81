"""The LaTeX of a module spec's pages that is not a step's expression: each rule's general
formula, the names of whole maps, and the TikZ pictures (a grid of values: the input, a kernel, a
feature map; the unrolled RNN chain). Every number in them is printed by `printing`'s rules."""
from __future__ import annotations

from dataclasses import dataclass

from ..model.naming import Name
from ..printing.names import name_latex
from ..printing.numbers import format_number, given_latex
from .graph import target_base
from .section import Module


@dataclass(frozen=True)
class Picture:
    """A TikZ picture and its size in cm (what a frame scales it by)."""

    tex: str
    width: float
    height: float


QUAD = 0.4     # cm between two pictures side by side (\quad at 11 pt)


def side_by_side(pictures: list[Picture]) -> Picture:
    return Picture(r"\quad ".join(p.tex for p in pictures), sum(p.width for p in pictures)
                   + QUAD * (len(pictures) - 1), max(p.height for p in pictures))


def _sup(m: Module) -> str:
    return "" if m.kind == "rnn" else f"^{{({m.index + 1})}}"


def _element(m: Module) -> str:
    """The index of one entry of a module's output, as its worked lines write it: k in a dense
    layer, ij (f,ij with several filters) in a 2-d map, i (f,i) in a 1-d one."""
    if m.kind not in ("conv1d", "conv2d"):
        return "k"
    fi = "f," if m.out_shape[0] > 1 else ""
    return fi + ("ij" if m.kind == "conv2d" else "i")


def _source(m: Module, modules) -> Module | None:
    """The module whose output module m reads (through a flatten; a residual block's first module
    reads the block's input); None for the data."""
    if m.index == 0 or all(n.kind == "residual" for n in modules[:m.index]):
        return None
    prev = modules[m.index - 1]
    if prev.kind == "flatten" and not flattens_map(prev):     # a vector flattened is itself
        prev = modules[m.index - 2]
    if prev.kind == "residual":
        return _source(prev, modules)
    return prev


def flattens_map(m: Module) -> bool:
    """Whether a flatten module makes a vector of a map: its vector then has a name of its own,
    a^{(3)} with one index (a^{(3)}_{3} = p^{(2)}_{21}), which the next module's rules and lines use."""
    return m.kind == "flatten" and len(m.in_shape) > 1


def _last_state(rnn: Module, modules) -> bool:
    """Whether the module's output is an RNN's last state as such (not the sum of a block ending with it)."""
    return rnn.kind == "rnn" and output_name(rnn, modules) == "h"


def _reads(m: Module, modules) -> str:
    """The name of what module m reads: x for the data, else the previous module's output (an
    RNN's: its last state h_T, the vector its time steps end with)."""
    src = _source(m, modules)
    if src is None:
        return "x"
    if _last_state(src, modules):
        return f"h_{{{src.in_shape[0]}}}"
    return output_name(src, modules)


def _entry(m: Module, modules, ix: str) -> str:
    """Entry ix of what module m reads, as the lines name it: x_{j}, a^{(1)}_{j}; an RNN's last
    state h_{T,j} (h_T with one unit), since its states are named by time step and unit."""
    src = _source(m, modules)
    if src is not None and _last_state(src, modules):
        return RnnNames(src).at("h", str(src.in_shape[0]), ix)
    return f"{_reads(m, modules)}_{{{ix}}}"


def output_name(m: Module, modules, inside: bool = False) -> str:
    """The letter of a module's output map: a (activation), p (pooled), y (residual sum), h (rnn);
    `inside`: the module's own output, before a residual block that ends with it adds x."""
    if m.kind in ("maxpool", "avgpool"):
        own = f"p{_sup(m)}"
    elif m.kind == "rnn":
        own = "h"
    elif m.kind == "flatten":
        own = f"a{_sup(m)}" if flattens_map(m) else output_name(modules[m.index - 1], modules)
    else:
        own = f"a{_sup(m)}"
    end = {r.index + r.wraps: r for r in modules if r.kind == "residual"}
    if m.index in end and not inside:
        return f"y{_sup(end[m.index])}"
    return own


def block_input(r: Module, modules) -> str:
    """A residual block's input in the network's names (a^{(1)}; x only when it is the data): the
    letter x means the network's input on every page, never a block's."""
    return _reads(r, modules)


def block_output(r: Module, modules) -> str:
    """The output of a residual block's wrapped modules f, before the sum: a^{(4)} = f(a^{(1)})."""
    return output_name(modules[r.index + r.wraps], modules, inside=True)


def residual_sum(r: Module, modules) -> str:
    """The block's rule in the network's names: y^{(2)} = a^{(1)} + f(a^{(1)})."""
    x = block_input(r, modules)
    return rf"y{_sup(r)} = {x} + f({x})"


def residual_parts(r: Module, modules) -> dict:
    """The pieces of prose about a residual block, as math: its sum with f's output named
    (y^{(2)} = a^{(1)} + a^{(4)}), f's output (a^{(4)} = f(a^{(1)})), the block's input and output."""
    x, inner, y = block_input(r, modules), block_output(r, modules), f"y{_sup(r)}"
    return {"sum": residual_sum(r, modules), "named": f"{y} = {x} + {inner}", "f": WRAPPED,
            "output": rf"{inner} = f({x})", "input": x, "y": y}


WRAPPED = "f"                           # the function a residual block wraps
SHARED = ("U", "W", "b")                # an RNN's weights and bias, the same at every time step


def gradient_of(letter: str) -> str:
    """∂E/∂U: the gradient of a whole parameter, as a step's title names it."""
    return rf"\partial E/\partial {letter}"


def relu_off(z: str) -> str:
    """Where ReLU passes no gradient: z ≤ 0."""
    return rf"{z} \le 0"


def relu_off_at(z: str, value: str) -> str:
    """One entry where ReLU is off, with its value: z_1 = -0.0170 ≤ 0."""
    return rf"{z} = {value} \le 0"


def time_step(t: int) -> str:
    return f"t = {t}"


def loss_after(name: str, value: str | None = None) -> str:
    """The loss after the step: E^{+}, or E^{+} = value."""
    return f"{name}^{{+}}" + (f" = {value}" if value is not None else "")


INITIAL_STATE = "h_{0}"     # an RNN's state before its first time step


def beside(value: str, name: str, other: str) -> str:
    """A second given value on the line of the first: b = [...],  h_0 = [...]."""
    return rf"{value},\qquad {name} = {other}"


def state_name(t: int) -> str:
    """h_t: an RNN's state after time step t."""
    return f"h_{{{t}}}"


def sequence_names(steps: int) -> list[str]:
    """x_1 ... x_T: an RNN's input at each time step, as its picture labels them."""
    return [f"x_{{{t + 1}}}" for t in range(steps)]


def flattened(name: str) -> str:
    """flatten(p^{(2)}): the vector a flatten module makes of a map."""
    return rf"\operatorname{{flatten}}\left({name}\right)"


def sample_tag(s: int) -> str:
    """The superscript of sample s (0-based) when there are several: ^{[2]}."""
    return f"^{{[{s + 1}]}}"


def sequence_label(tag: str) -> str:
    """The label of an RNN's input grid: x, whose row t is x_t."""
    return f"x{tag}" + r"\ (\text{row } t \text{ is } x_{t})"


def input_label(tag: str, channel: int | None) -> str:
    """The label of a conv input grid: x (one channel), x_2 (channel 2 of several)."""
    return f"x{tag}" + (f"_{{{channel + 1}}}" if channel is not None else "")


def kernel_label(m: Module, index: str) -> str:
    """K^{(1)}, or K^{(1)}_{2,1} (filter 2, channel 1) when there are several."""
    return f"K^{{({m.index + 1})}}" + (f"_{{{index}}}" if index else "")


def columns_label(m: Module, start: int, end: int) -> str:
    """A wide weight matrix drawn in parts: w^{(3)} (columns 1 to 8)."""
    return rf"w^{{({m.index + 1})}}\ (\text{{columns {start} to {end}}})"


def listed(names: list[str]) -> str:
    """Names side by side in one formula: w^{(2)}, b^{(2)}."""
    return ",\\ ".join(names)


def tensor_name(base: str, sup: str) -> str:
    """The name of a whole tensor: K^{(1)} for the entries K^{(1)}_{11}; η for eta."""
    return {"eta": r"\eta"}.get(base, base) + (f"^{{{sup}}}" if sup else "")


def map_gradient(base: str, sup: str, pre_activation: bool) -> str:
    """The gradient of a whole map, as a grid's label: δ^{(1)} for pre-activations, else ∂E/∂a^{(1)}."""
    sup = f"^{{{sup}}}" if sup else ""
    return rf"\delta{sup}" if pre_activation else rf"\partial E / \partial {base}{sup}"


def every_entry(label: str) -> str:
    """A worksheet's task for a whole map: every entry of it, the zeros too."""
    return label + r"\ \text{(every entry)}"


def channel_label(label: str, c: int, data: bool) -> str:
    """One grid of a map with several, by the index its rule sums over: a module's maps one per filter,
    δ^{(1)} (f = 2); the data's channels ∂E/∂x (c = 2)."""
    return label + f"\\ ({'c' if data else 'f'} = {c + 1})"


def forward_rule(m: Module, modules, op: str) -> str | None:
    """The general formula of a module's forward step."""
    s = _sup(m)
    x = _reads(m, modules)
    if op == "linear" and m.kind in ("conv1d", "conv2d"):
        c = r"\sum_{c}" if m.in_shape[0] > 1 else ""
        ch = "c," if m.in_shape[0] > 1 else ""
        fi = "f," if m.out_shape[0] > 1 else ""
        f = "_{f}" if m.out_shape[0] > 1 else ""
        if m.kind == "conv1d":
            return (rf"z{s}_{{{fi}i}} = {c}\sum_{{u=1}}^{{{m.size[0]}}} K{s}_{{{fi}{ch}u}}\, "
                    rf"{x}_{{{ch}{_at(m, 'i', 'u')}}} + b{s}{f}")
        return (rf"z{s}_{{{fi}ij}} = {c}\sum_{{u=1}}^{{{m.size[0]}}}\sum_{{v=1}}^{{{m.size[1]}}} "
                rf"K{s}_{{{fi}{ch}uv}}\, {x}_{{{ch}{_at(m, 'i', 'u')},\,{_at(m, 'j', 'v')}}} + b{s}{f}")
    if op == "linear" and m.kind == "dense":
        if m.in_shape[0] == 1:      # one input: no sum (an RNN of one unit gives its h_T alone)
            return rf"z{s}_{{k}} = w{s}_{{k1}}\, {_entry(m, modules, '1')} + b{s}_{{k}}"
        return rf"z{s}_{{k}} = \sum_{{j}} w{s}_{{kj}}\, {_entry(m, modules, 'j')} + b{s}_{{k}}"
    if op == "linear" and m.kind == "rnn":
        r = RnnNames(m)
        return rf"{r.at('z', 't')} = {r.input_term()} + {r.state_term()} + {r.bias()}"
    e = f"_{{{_element(m)}}}"      # the entry the worked lines name: a^{(2)}_{1} under a^{(2)}_{k}
    if op == "relu":
        return rf"a{s}{e} = \max\left(0, z{s}{e}\right)"
    if op == "sigmoid":
        return rf"a{s}{e} = \frac{{1}}{{1 + e^{{-z{s}{e}}}}}"
    if op == "tanh":
        if m.kind == "rnn":
            r = RnnNames(m)
            return rf"{r.at('h', 't')} = \tanh\left({r.at('z', 't')}\right)"
        return rf"a{s}{e} = \tanh\left(z{s}{e}\right)"
    if op == "identity":
        return rf"a{s}{e} = z{s}{e}"
    if op == "softmax":
        return rf"a{s}_{{k}} = \frac{{e^{{z{s}_{{k}}}}}}{{\sum_{{j}} e^{{z{s}_{{j}}}}}}"
    if op == "max":
        return rf"p{s}_{{ij}} = \max_{{{_window(m)}}} {x}_{{{m.stride}(i-1)+u,\,{m.stride}(j-1)+v}}" \
            if len(m.size) == 2 else rf"p{s}_{{i}} = \max_{{{_window(m)}}} {x}_{{{m.stride}(i-1)+u}}"
    if op == "avg":
        n = 1
        for k in m.size:
            n *= k
        return rf"p{s}_{{ij}} = \frac{{1}}{{{n}}}\sum_{{{_window(m)}}} {x}_{{{m.stride}(i-1)+u,\,{m.stride}(j-1)+v}}" \
            if len(m.size) == 2 else rf"p{s}_{{i}} = \frac{{1}}{{{n}}}\sum_{{{_window(m)}}} {x}_{{{m.stride}(i-1)+u}}"
    if op == "add":
        return rf"{residual_sum(m, modules)} = {x} + {block_output(m, modules)}"
    return None


def target(modules, k: str = "k", stepped: bool = False) -> str:
    """The target k: t_{k}, or target_{k} in a recurrent network or under an optimiser (t counts
    the time steps or the optimiser's steps there)."""
    return name_latex(Name(target_base(modules, stepped), k))


def _window(m: Module) -> str:
    """A pooling window's offsets with their range: u, v ∈ {1, 2} for a 2×2 window (u ∈ {1, 2} and
    v ∈ {1, 2, 3} for a 2×3 one)."""
    def values(n: int) -> str:
        return r"\{" + ", ".join(str(k + 1) for k in range(n)) + r"\}"
    letters = "uv"[:len(m.size)]
    if len(set(m.size)) == 1:
        return rf"{','.join(letters)} \in {values(m.size[0])}"
    return r",\ ".join(rf"{u} \in {values(n)}" for u, n in zip(letters, m.size))


def unread(m: Module) -> tuple[int, ...]:
    """The trailing rows and columns (or values) of a pooled map that fall in no window."""
    return tuple(n - ((o - 1) * m.stride + k) for n, o, k in zip(m.in_shape[1:], m.out_shape[1:], m.size))


def loss_rule(loss: str, m: Module, modules, stepped: bool = False) -> str:
    """The loss's general formula, in the last module's output (`stepped`: under an optimiser,
    whose steps t counts: the target is target_k)."""
    t = target(modules, stepped=stepped)
    y = RnnNames(m).at("h", str(m.in_shape[0]), "k") if m.kind == "rnn" else f"{output_name(m, modules)}_{{k}}"
    n = m.out_shape[0]
    if loss == "cross_entropy":
        return rf"E = -\sum_{{k}} {t} \ln {y}"
    factor = r"\frac{1}{2}" if loss == "half_sse" else rf"\frac{{1}}{{{n}}}"
    return rf"E = {factor}\sum_{{k}} \left({t} - {y}\right)^{{2}}"


def _loss_gradient(loss: str, m: Module, modules, stepped: bool = False) -> str:
    """The loss's gradient at the last module's output k, the rule its step works."""
    y = RnnNames(m).at("h", str(m.in_shape[0]), "k") if m.kind == "rnn" else f"{output_name(m, modules)}_{{k}}"
    n = m.out_shape[0]
    factor = "" if loss == "half_sse" else "2" if n == 1 else rf"\frac{{2}}{{{n}}}"
    return rf"\frac{{\partial E}}{{\partial {y}}} = -{factor}\left({target(modules, stepped=stepped)} - {y}\right)"


# ReLU's derivative, said after the rule that uses it as a formula of its own: a line may break between
# the two, never inside this one (the braces make it one piece: no line ends at its "z >").
RELU_RULE = r"{\operatorname{ReLU}'(z) = 1 \text{ if } z > 0,\ 0 \text{ otherwise}}"


def backward_rule(rule: str, m: Module, modules, loss: str, stepped: bool = False) -> str | None:
    """The general formula of a backward step (module m is the one whose section shows it)."""
    s = _sup(m)
    x = _reads(m, modules)
    e = f"_{{{_element(m)}}}"      # the entry the worked lines name: δ^{(1)}_{12} under δ^{(1)}_{ij}
    if rule == "act-relu":        # followed by RELU_RULE, its own formula
        return rf"\delta{s}{e} = \frac{{\partial E}}{{\partial a{s}{e}}} \cdot \operatorname{{ReLU}}'(z{s}{e})"
    if rule == "act-sigmoid":
        return rf"\delta{s}{e} = \frac{{\partial E}}{{\partial a{s}{e}}} \cdot a{s}{e}\left(1 - a{s}{e}\right)"
    if rule == "act-tanh":
        if m.kind == "rnn":
            r = RnnNames(m)
            h = r.at("h", "t")
            return rf"{r.at(DELTA, 't')} = \frac{{\partial E}}{{\partial {h}}} \cdot \left(1 - {h}^{{2}}\right)"
        return rf"\delta{s}{e} = \frac{{\partial E}}{{\partial a{s}{e}}} \cdot \left(1 - (a{s}{e})^{{2}}\right)"
    if rule == "act-identity":
        return rf"\delta{s}{e} = \frac{{\partial E}}{{\partial a{s}{e}}} \cdot 1"
    if rule == "act-softmax":
        return (rf"\delta{s}_{{k}} = \sum_{{j}} \frac{{\partial E}}{{\partial a{s}_{{j}}}}\, "
                rf"\frac{{\partial a{s}_{{j}}}}{{\partial z{s}_{{k}}}}")
    if rule == "softmax-ce":
        return rf"\delta{s}_{{k}} = \frac{{\partial E}}{{\partial z{s}_{{k}}}} = a{s}_{{k}} - {target(modules, stepped=stepped)}"
    if rule == "loss":
        return _loss_gradient(loss, m, modules, stepped)
    if rule == "dense-weights":
        j = "1" if m.in_shape[0] == 1 else "j"
        return rf"\frac{{\partial E}}{{\partial w{s}_{{k{j}}}}} = \delta{s}_{{k}}\, {_entry(m, modules, j)}"
    if rule == "dense-biases":
        return rf"\frac{{\partial E}}{{\partial b{s}_{{k}}}} = \delta{s}_{{k}}"
    if rule == "dense-input":
        j = "1" if m.in_shape[0] == 1 else "j"
        return rf"\frac{{\partial E}}{{\partial {_entry(m, modules, j)}}} = \sum_{{k}} \delta{s}_{{k}}\, w{s}_{{k{j}}}"
    if rule in ("conv2d-kernels", "conv1d-kernels", "conv2d-biases", "conv1d-biases", "conv2d-input",
                "conv1d-input"):
        return _conv_backward(rule.split("-")[1], m, s, x)
    if rule == "maxpool":
        return (rf"\frac{{\partial E}}{{\partial {x}}} = \frac{{\partial E}}{{\partial p{s}}} \text{{ at each "
                rf"window's maximum, }} 0 \text{{ elsewhere}}")
    if rule == "avgpool":
        n = 1
        for k in m.size:
            n *= k
        return rf"\frac{{\partial E}}{{\partial {x}}} = \frac{{1}}{{{n}}}\,\frac{{\partial E}}{{\partial p{s}}} \text{{ in each window}}"
    if rule == "residual-output":
        inner = block_output(m, modules)
        return rf"\frac{{\partial E}}{{\partial {inner}}} = \frac{{\partial E}}{{\partial y{s}}} \cdot 1"
    if rule == "residual":
        inner = block_output(m, modules)
        # the path through f first, then the skip connection: the order of the worked lines
        return (rf"\frac{{\partial E}}{{\partial {x}}} = \frac{{\partial E}}{{\partial {inner}}}\,"
                rf"\frac{{\partial {inner}}}{{\partial {x}}} + \frac{{\partial E}}{{\partial y{s}}} \cdot 1")
    if rule.startswith("rnn-"):
        return RnnNames(m).backward(rule[4:])
    return None


DELTA = r"\delta"


class RnnNames:
    """An Elman cell's entries as its worked lines name them (modules.graph): h_{t,j}, z_{t,j} and
    δ_{t,j} (h_t, z_t, δ_t with one unit), x_{t,k} (x_t with one feature), U_{jk}, W_{jk} and b_j
    (U_{j1} with one feature, W_{11} and b with one unit), so that each rule is written in the
    letters and indices of the lines under it."""

    def __init__(self, m: Module):
        self.one = m.out_shape[0] == 1          # one hidden unit
        self.single = m.in_shape[1] == 1        # one feature per time step
        self.j = "1" if self.one else "j"
        self.k = "1" if self.single else "k"
        self.steps = m.in_shape[0]              # T, written as the number the pages give

    def at(self, letter: str, t: str, j: str = "j") -> str:
        """h_{t,j}, z_{t,j}, δ_{t,j}: one hidden unit's entry at time t."""
        return f"{letter}_{{{t}}}" if self.one else f"{letter}_{{{t},{j}}}"

    def x(self, t: str) -> str:
        return f"x_{{{t}}}" if self.single else f"x_{{{t},k}}"

    def input_term(self) -> str:
        if self.single:
            return rf"U_{{{self.j}1}}\, {self.x('t')}"
        return rf"\sum_{{k}} U_{{{self.j}k}}\, {self.x('t')}"

    def state_term(self) -> str:
        if self.one:
            return rf"W_{{11}}\, {self.at('h', 't-1')}"
        return rf"\sum_{{k}} W_{{jk}}\, {self.at('h', 't-1', 'k')}"

    def bias(self) -> str:
        return "b" if self.one else "b_{j}"

    def backward(self, what: str) -> str:
        """The rule of a backward step: the state's and the input's gradient, and each shared
        parameter's gradient summed over the time steps."""
        d = r"\frac{\partial E}"
        sum_j = "" if self.one else r"\sum_{j} "
        sum_t = rf"\sum_{{t=1}}^{{{self.steps}}} "
        delta = self.at(DELTA, "t")
        if what == "state":
            w = f"W_{{{self.j}{'1' if self.one else 'k'}}}"
            return rf"{d}{{\partial {self.at('h', 't', 'k')}}} = {sum_j}{self.at(DELTA, 't+1')}\, {w}"
        if what == "input":
            return rf"{d}{{\partial {self.x('t')}}} = {sum_j}{delta}\, U_{{{self.j}{self.k}}}"
        if what == "input_weights":
            return rf"{d}{{\partial U_{{{self.j}{self.k}}}}} = {sum_t}{delta}\, {self.x('t')}"
        if what == "recurrent_weights":
            k = "1" if self.one else "k"
            return rf"{d}{{\partial W_{{{self.j}{k}}}}} = {sum_t}{delta}\, {self.at('h', 't-1', 'k')}"
        return rf"{d}{{\partial {self.bias()}}} = {sum_t}{delta}"


def _conv_backward(what: str, m: Module, s: str, x: str) -> str:
    """The kernel's, the bias's and the input's gradient of a convolution, with the filter f and the
    channel c written only where there are several."""
    two = m.kind == "conv2d"
    f = "f," if m.out_shape[0] > 1 else ""
    c = "c," if m.in_shape[0] > 1 else ""
    sum_f = r"\sum_{f}" if m.out_shape[0] > 1 else ""
    out_ix = "ij" if two else "i"
    kernel_ix = "uv" if two else "u"
    if what == "kernels":
        at = f"{_at(m, 'i', 'u')},\\,{_at(m, 'j', 'v')}" if two else _at(m, "i", "u")
        return (rf"\frac{{\partial E}}{{\partial K{s}_{{{f}{c}{kernel_ix}}}}} = \sum_{{{'i,j' if two else 'i'}}} "
                rf"\delta{s}_{{{f}{out_ix}}}\, {x}_{{{c}{at}}}")
    if what == "biases":
        fb = "_{f}" if m.out_shape[0] > 1 else ""
        return (rf"\frac{{\partial E}}{{\partial b{s}{fb}}} = \sum_{{{'i,j' if two else 'i'}}} "
                rf"\delta{s}_{{{f}{out_ix}}}")
    x_ix = "pq" if two else "p"
    lhs = rf"\frac{{\partial E}}{{\partial {x}_{{{c}{x_ix}}}}}"
    if m.stride == 1:
        shift = 1 + m.padding
        d = f"p-u+{shift},\\,q-v+{shift}" if two else f"p-u+{shift}"
        return rf"{lhs} = {sum_f}\sum_{{{'u,v' if two else 'u'}}} \delta{s}_{{{f}{d}}}\, K{s}_{{{f}{c}{kernel_ix}}}"
    where = (f"{_at(m, 'i', 'u')} = p,\\ {_at(m, 'j', 'v')} = q" if two else f"{_at(m, 'i', 'u')} = p")
    return (rf"{lhs} = {sum_f}\sum_{{{where}}} \delta{s}_{{{f}{out_ix}}}\, K{s}_{{{f}{c}{kernel_ix}}}")


def _at(m: Module, i: str, u: str) -> str:
    if m.stride == 1:
        return f"{i}+{u}-{1 + m.padding}"
    shift = f"-{m.padding}" if m.padding else ""
    return f"{m.stride}({i}-1)+{u}{shift}"


MAX_GRID = 15.0     # cm: the widest grid (the text is 16.6 cm wide, a worksheet task's list item 15.7)
DIGIT = 0.16        # cm a character of a \scriptsize number takes, to be safe (digits 0.14, a minus 0.22)
UPDATE_RULE = r"\theta^{+} = \theta - \eta\, \frac{\partial E}{\partial \theta}"


def grid(values, given: bool, decimals: int, label: str, blank: bool = False) -> Picture:
    """A TikZ grid of numbers (rows of a map or kernel) with its name above it; `blank`: empty cells
    for a worksheet to fill in. Given data print as written, computed values by the rule."""
    rows, cols = len(values), len(values[0])
    texts = [["" if blank else (given_latex(v) if given else format_number(v, decimals)) for v in row]
             for row in values]
    longest = max((len(t) for row in texts for t in row), default=1)
    if blank:
        longest = decimals + 3
    # a cell holds its number and the node's inner sep (0.35 cm); a grid of a long map is narrowed
    # to MAX_GRID, in \tiny when its numbers need it
    # given numbers print as written: -0.4 in a 0.85 cm cell touched its left border, so a given
    # number has the same room as a computed one, 0.35 cm around it
    width = max(1.0, DIGIT * longest + 0.35)
    font = r"\footnotesize" if given else r"\scriptsize"
    if width * cols > MAX_GRID:
        width = MAX_GRID / cols
        font = r"\tiny" if width < DIGIT * longest + 0.35 else font
    out = [rf"\begin{{tikzpicture}}[x={width:.2f}cm, y=0.6cm, baseline=(current bounding box.center)]",
           rf"\draw[step=1] (0,0) grid ({cols},{-rows});",
           rf"\node[above] at ({cols / 2:.2f},0) {{${label}$}};"]
    for i, row in enumerate(texts):
        for j, text in enumerate(row):
            if text:
                out.append(rf"\node[font={font}] at ({j + 0.5:.2f},{-i - 0.5:.2f}) {{${text}$}};")
    out.append(r"\end{tikzpicture}")
    return Picture("\n".join(out), width * cols, 0.6 * rows + 0.6)


def rnn_chain(steps: int, names: list[str], head: list[tuple[str, str, str]] = ()) -> Picture:
    """The unrolled RNN: h_0 -> h_1 -> ... -> h_T, x_t entering each step from below, the same U, W
    and b at every step; then the modules after it (`head`: each one's output name, the label of the
    arrow into it, its activation in words) up to the loss E. `names`: the LaTeX of x_1..x_T."""
    dx = 2.2 if steps <= 5 else 1.9
    out = [r"\begin{tikzpicture}[cell/.style={draw, rounded corners, minimum width=1.1cm, minimum height=0.7cm}]",
           r"\node[cell] (h0) at (0,0) {$h_{0}$};"]
    for t in range(1, steps + 1):
        out.append(rf"\node[cell] (h{t}) at ({dx * t:.2f},0) {{$h_{{{t}}}$}};")
        out.append(rf"\node (x{t}) at ({dx * t:.2f},-1.4) {{${names[t - 1]}$}};")
        out.append(rf"\draw[->] (x{t}) -- node[right, font=\scriptsize] {{$U,\ b$}} (h{t});")
        out.append(rf"\draw[->] (h{t - 1}) -- node[above, font=\scriptsize] {{$W$}} (h{t});")
    below = f"h{steps}"
    for k, (name, arrow, activation) in enumerate(head):
        out.append(rf"\node[cell] (m{k}) at ({dx * steps:.2f},{1.6 * (k + 1):.2f}) {{${name}$}};")
        out.append(rf"\node[right, font=\scriptsize] at (m{k}.east) {{{activation}}};")
        out.append(rf"\draw[->] ({below}) -- node[left, font=\scriptsize] {{${arrow}$}} (m{k});")
        below = f"m{k}"
    out.append(rf"\node (out) at ({dx * steps:.2f},{1.6 * len(head) + 1.4:.2f}) {{$E$}};")
    out.append(rf"\draw[->, dashed] ({below}) -- (out);")
    out.append(r"\end{tikzpicture}")
    return Picture("\n".join(out), dx * steps + 1.1 + (1.4 if head else 0), 3.6 + 1.6 * len(head))
