"""Names of every quantity: the lecture's (i1, h1, o1, w1..w8, b1, b2) or indexed (a^(l)_j, w^(l)_jk).

A name is structured (base, subscript, superscript), never a LaTeX string: the printing module
turns it into LaTeX, the key and the CLI use its plain form (`net_h1`, `dE_total/dw5`, `w5+`).
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp


@dataclass(frozen=True)
class Name:
    """A quantity's name: base with optional subscript and superscript, e.g. net_{h1}, w^{(2)}_{12}."""

    base: str
    sub: str = ""
    sup: str = ""      # a layer index such as "(2)"
    mark: str = ""     # "+" for the value after an update

    @property
    def plain(self) -> str:
        text = self.base + self.sup
        if self.sub:
            short = len(self.base) == 1 and self.sub.isdigit() and not self.sup
            text += self.sub if short else "_" + self.sub
        return text + self.mark


@dataclass(frozen=True)
class Partial:
    """The partial derivative d(num)/d(den) of two named quantities."""

    num: Name
    den: Name

    @property
    def plain(self) -> str:
        return f"d{self.num.plain}/d{self.den.plain}"


@dataclass(frozen=True)
class Sampled:
    """A per-sample copy of a quantity (several samples): E_total^{[s]}."""

    inner: Name | Partial
    sample: int

    @property
    def plain(self) -> str:
        return f"{self.inner.plain}[{self.sample}]"


@dataclass(frozen=True)
class Stated:
    """An optimiser's per-parameter quantity: the step's gradient g_w5, a state before the step
    (v_w5, m_w5) or after it (v_w5+), a bias-corrected moment (m-hat_w5)."""

    base: str          # "g", "v", "m", "s"
    of: Name           # the parameter
    mark: str = ""     # "+" after the step
    hat: bool = False  # bias-corrected

    @property
    def plain(self) -> str:
        return f"{self.base}{'hat' if self.hat else ''}_{self.of.plain}{self.mark}"


class Names:
    """Creates the symbols of one network and remembers each symbol's structured name."""

    def __init__(self) -> None:
        self.of: dict[sp.Symbol, Name | Partial | Sampled | Stated] = {}
        self.by_plain: dict[str, sp.Symbol] = {}

    def symbol(self, name: Name | Partial | Sampled | Stated) -> sp.Symbol:
        plain = name.plain
        if plain in self.by_plain:
            return self.by_plain[plain]
        sym = sp.Symbol(plain, real=True)
        self.of[sym] = name
        self.by_plain[plain] = sym
        return sym

    def partial(self, num: sp.Symbol, den: sp.Symbol) -> sp.Symbol:
        return self.symbol(Partial(self.of[num], self.of[den]))

    def sampled(self, sym: sp.Symbol, sample: int) -> sp.Symbol:
        return self.symbol(Sampled(self.of[sym], sample))

    def plus(self, sym: sp.Symbol) -> sp.Symbol:
        """The updated parameter w^+ after one gradient-descent step."""
        name = self.of[sym]
        assert isinstance(name, Name)
        return self.symbol(Name(name.base, name.sub, name.sup, "+"))


class Scheme:
    """How one naming scheme calls the nodes and parameters of a network with `layers`."""

    def __init__(self, naming: str, layers: tuple[int, ...]):
        self.naming = naming
        self.layers = layers
        self.last = len(layers) - 1

    def _node(self, l: int, j: int) -> str:
        letter = "i" if l == 0 else ("o" if l == self.last else "h")
        return f"{letter}{j + 1}"

    def input(self, j: int) -> Name:
        return Name("i", str(j + 1)) if self.naming == "lecture" else Name("x", str(j + 1))

    def neuron(self, l: int, j: int) -> Name:
        """The label of a neuron in the network diagram: i_1, h_1, o_1 or x_1, a^{(1)}_1."""
        if self.naming == "lecture":
            node = self._node(l, j)
            return Name(node[0], node[1:])
        return Name("x", str(j + 1)) if l == 0 else Name("a", str(j + 1), f"({l})")

    def target(self, k: int) -> Name:
        if self.naming == "lecture":
            return Name("target", self._node(self.last, k))
        return Name("t", str(k + 1))

    def net(self, l: int, j: int) -> Name:
        if self.naming == "lecture":
            return Name("net", self._node(l, j))
        return Name("z", str(j + 1), f"({l})")

    def out(self, l: int, j: int) -> Name:
        if l == 0:
            return self.input(j)
        if self.naming == "lecture":
            return Name("out", self._node(l, j))
        return Name("a", str(j + 1), f"({l})")

    def loss_term(self, k: int) -> Name:
        if self.naming == "lecture":
            return Name("E", self._node(self.last, k))
        return Name("E", str(k + 1))

    def loss_total(self) -> Name:
        return Name("E", "total")

    def weight(self, l: int, j: int, k: int, number: int) -> Name:
        """Weight into neuron j of layer l from neuron k of layer l-1; `number` counts from 1 across layers."""
        if self.naming == "lecture":
            return Name("w", str(number))
        sep = "," if max(self.layers) > 9 else ""
        return Name("w", f"{j + 1}{sep}{k + 1}", f"({l})")

    def bias(self, l: int, j: int | None, number: int) -> Name:
        """Bias of layer l: shared by the layer (j is None) or neuron j's own."""
        if self.naming == "lecture":
            return Name("b", str(number))
        return Name("b", "" if j is None else str(j + 1), f"({l})")

    def learning_rate(self) -> Name:
        return Name("eta")
