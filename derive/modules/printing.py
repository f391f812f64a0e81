"""The LaTeX of a module spec's pages that is not a step's expression: each rule's general
formula, the names of whole maps, and the TikZ pictures (a grid of values: the input, a kernel, a
feature map; the unrolled RNN chain). Every number in them is printed by `printing`'s rules."""
from __future__ import annotations

from dataclasses import dataclass

from ..printing.numbers import format_number, given_number
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


def _reads(m: Module, modules) -> str:
    """The name of what module m reads: x for the data, else the previous module's output."""
    if m.index == 0 or all(n.kind == "residual" for n in modules[:m.index]):
        return "x"
    prev = modules[m.index - 1]
    if prev.kind == "flatten":
        prev = modules[m.index - 2]
    if prev.kind == "residual":
        return _reads(prev, modules)       # a residual block's first module reads the block's x
    return output_name(prev, modules)


def output_name(m: Module, modules, inside: bool = False) -> str:
    """The letter of a module's output map: a (activation), p (pooled), y (residual sum), h (rnn);
    `inside`: the module's own output, before a residual block that ends with it adds x."""
    if m.kind in ("maxpool", "avgpool"):
        own = f"p{_sup(m)}"
    elif m.kind == "rnn":
        own = "h"
    elif m.kind == "flatten":
        own = output_name(modules[m.index - 1], modules)
    else:
        own = f"a{_sup(m)}"
    end = {r.index + r.wraps: r for r in modules if r.kind == "residual"}
    if m.index in end and not inside:
        return f"y{_sup(end[m.index])}"
    return own


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
        return rf"z{s}_{{k}} = \sum_{{j}} w{s}_{{kj}}\, {x}_{{j}} + b{s}_{{k}}"
    if op == "linear" and m.kind == "rnn":
        j = "_{t}" if m.out_shape[0] == 1 else "_{t,j}"
        return (rf"z{j} = \sum_{{k}} U_{{jk}}\, x_{{t,k}} + \sum_{{k}} W_{{jk}}\, h_{{t-1,k}} + b_{{j}}"
                if m.out_shape[0] > 1 or m.in_shape[1] > 1 else r"z_{t} = U x_{t} + W h_{t-1} + b")
    if op == "relu":
        return rf"a{s} = \max\left(0, z{s}\right)"
    if op == "sigmoid":
        return rf"a{s} = \frac{{1}}{{1 + e^{{-z{s}}}}}"
    if op == "tanh":
        return r"h_{t} = \tanh\left(z_{t}\right)" if m.kind == "rnn" else rf"a{s} = \tanh\left(z{s}\right)"
    if op == "identity":
        return rf"a{s} = z{s}"
    if op == "softmax":
        return rf"a{s}_{{k}} = \frac{{e^{{z{s}_{{k}}}}}}{{\sum_{{j}} e^{{z{s}_{{j}}}}}}"
    if op == "max":
        return rf"p{s}_{{ij}} = \max_{{u,v}} {x}_{{{m.stride}(i-1)+u,\,{m.stride}(j-1)+v}}" if len(m.size) == 2 \
            else rf"p{s}_{{i}} = \max_{{u}} {x}_{{{m.stride}(i-1)+u}}"
    if op == "avg":
        n = 1
        for k in m.size:
            n *= k
        return rf"p{s}_{{ij}} = \frac{{1}}{{{n}}}\sum_{{u,v}} {x}_{{{m.stride}(i-1)+u,\,{m.stride}(j-1)+v}}" \
            if len(m.size) == 2 else rf"p{s}_{{i}} = \frac{{1}}{{{n}}}\sum_{{u}} {x}_{{{m.stride}(i-1)+u}}"
    if op == "add":
        inner = output_name(modules[m.index + m.wraps], modules, inside=True)
        return rf"y{s} = x + f(x) = {x} + {inner}"
    return None


def loss_rule(loss: str, m: Module, modules) -> str:
    """The loss's general formula, in the last module's output."""
    y = output_name(m, modules)
    n = m.out_shape[0]
    if loss == "cross_entropy":
        return rf"E = -\sum_{{k}} t_{{k}} \ln {y}_{{k}}"
    factor = r"\frac{1}{2}" if loss == "half_sse" else rf"\frac{{1}}{{{n}}}"
    return rf"E = {factor}\sum_{{k}} \left(t_{{k}} - {y}_{{k}}\right)^{{2}}"


def backward_rule(rule: str, m: Module, modules) -> str | None:
    """The general formula of a backward step (module m is the one whose section shows it)."""
    s = _sup(m)
    x = _reads(m, modules)
    if rule == "act-relu":
        return rf"\delta{s} = \frac{{\partial E}}{{\partial a{s}}} \cdot \mathrm{{ReLU}}'(z{s}),\quad " \
               rf"\mathrm{{ReLU}}'(z) = 1 \text{{ if }} z > 0 \text{{ else }} 0"
    if rule == "act-sigmoid":
        return rf"\delta{s} = \frac{{\partial E}}{{\partial a{s}}} \cdot a{s}\left(1 - a{s}\right)"
    if rule == "act-tanh":
        if m.kind == "rnn":
            return r"\delta_{t} = \frac{\partial E}{\partial h_{t}} \cdot \left(1 - h_{t}^{2}\right)"
        return rf"\delta{s} = \frac{{\partial E}}{{\partial a{s}}} \cdot \left(1 - (a{s})^{{2}}\right)"
    if rule == "act-identity":
        return rf"\delta{s} = \frac{{\partial E}}{{\partial a{s}}} \cdot 1"
    if rule == "act-softmax":
        return (rf"\delta{s}_{{k}} = \sum_{{j}} \frac{{\partial E}}{{\partial a{s}_{{j}}}}\, "
                rf"\frac{{\partial a{s}_{{j}}}}{{\partial z{s}_{{k}}}}")
    if rule == "softmax-ce":
        return rf"\delta{s}_{{k}} = \frac{{\partial E}}{{\partial z{s}_{{k}}}} = a{s}_{{k}} - t_{{k}}"
    if rule == "loss":
        return None
    if rule == "dense-weights":
        return rf"\frac{{\partial E}}{{\partial w{s}_{{kj}}}} = \delta{s}_{{k}}\, {x}_{{j}}"
    if rule == "dense-biases":
        return rf"\frac{{\partial E}}{{\partial b{s}_{{k}}}} = \delta{s}_{{k}}"
    if rule == "dense-input":
        return rf"\frac{{\partial E}}{{\partial {x}_{{j}}}} = \sum_{{k}} \delta{s}_{{k}}\, w{s}_{{kj}}"
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
        inner = output_name(modules[m.index + m.wraps], modules, inside=True)
        return rf"\frac{{\partial E}}{{\partial {inner}}} = \frac{{\partial E}}{{\partial y{s}}} \cdot 1"
    if rule == "residual":
        return (rf"\frac{{\partial E}}{{\partial x}} = \frac{{\partial E}}{{\partial y{s}}} \cdot 1 + "
                rf"\frac{{\partial E}}{{\partial f}}\,\frac{{\partial f}}{{\partial x}}")
    if rule == "rnn-state":
        return r"\frac{\partial E}{\partial h_{t,k}} = \sum_{j} \delta_{t+1,j}\, W_{jk}"
    if rule == "rnn-input":
        return r"\frac{\partial E}{\partial x_{t,k}} = \sum_{j} \delta_{t,j}\, U_{jk}"
    if rule == "rnn-input_weights":
        return r"\frac{\partial E}{\partial U_{jk}} = \sum_{t=1}^{T} \delta_{t,j}\, x_{t,k}"
    if rule == "rnn-recurrent_weights":
        return r"\frac{\partial E}{\partial W_{jk}} = \sum_{t=1}^{T} \delta_{t,j}\, h_{t-1,k}"
    if rule == "rnn-biases":
        return r"\frac{\partial E}{\partial b_{j}} = \sum_{t=1}^{T} \delta_{t,j}"
    return None


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
    texts = [["" if blank else (given_number(v) if given else format_number(v, decimals)) for v in row]
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
