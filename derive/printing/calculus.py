"""The printer of `derive chain` and `derive jacobian`: variables as sympy names them, derivative
names, vectors, matrices of expressions and computation-graph labels."""
from __future__ import annotations

from typing import Mapping

import sympy as sp

from .latex import MathPrinter, Printer
from .numbers import compact_number

_NO_NAMES: dict = {}   # variables print as sympy names them


class CalculusPrinter(Printer):
    """Variables print as sympy names them (x1 -> x_{1}, alpha -> \\alpha); adds derivative names,
    vectors, matrices of expressions and computation-graph labels."""

    def __init__(self, decimals: int = 9):
        super().__init__(_NO_NAMES, decimals)

    def name(self, sym: sp.Symbol) -> str:
        return self.symbolic(sym)

    def number(self, value: float) -> str:
        return compact_number(value, self.decimals)

    def value_of(self, sym: sp.Symbol, value: float) -> str:
        return compact_number(value, self.decimals)

    def derivative(self, num: sp.Symbol, den: sp.Symbol, ordinary: bool = False,
                   display: bool = False) -> str:
        """d f / d x (one variable) or the partial; `display` keeps full size inside a matrix."""
        d = "d" if ordinary else r"\partial"
        frac = r"\dfrac" if display else r"\frac"
        return rf"{frac}{{{d} {self.symbolic(num)}}}{{{d} {self.symbolic(den)}}}"

    def paths(self, chains) -> str:
        """The chain rule's shape: a sum over paths of products of local derivatives (records with
        num, den, ordinary): df/dy . dy/dx + ..."""
        return " + ".join(r" \cdot ".join(self.derivative(d.num, d.den, d.ordinary) for d in chain)
                          for chain in chains)

    @staticmethod
    def vector(name: str) -> str:
        return rf"\mathbf{{{name}}}"

    def jacobian_name(self, y: str, x: str) -> str:
        return rf"\frac{{\partial {self.vector(y)}}}{{\partial {self.vector(x)}}}"

    def gradient_name(self, z: sp.Symbol, x: str) -> str:
        return rf"\frac{{\partial {self.symbolic(z)}}}{{\partial {self.vector(x)}}}"

    def vector_chain_rule(self, z: sp.Symbol, y: str, x: str) -> str:
        """(dy/dx)^T dz/dy."""
        return rf"\left({self.jacobian_name(y, x)}\right)^{{\top}} {self.gradient_name(z, y)}"

    def derivative_matrix(self, rows) -> str:
        """A matrix of derivative names from records with num, den, ordinary."""
        return self.matrix([[self.derivative(d.num, d.den, d.ordinary, display=True) for d in row]
                            for row in rows])

    def expression_matrix(self, rows: list[list[sp.Expr]],
                          values: Mapping[sp.Symbol, float] | None = None) -> str:
        """A bmatrix of expressions, symbolic or (with values) the same expressions substituted."""
        show = self.symbolic if values is None else (lambda e: self.substituted(e, values))
        return self.matrix([[show(e) for e in row] for row in rows])

    @staticmethod
    def product(*factors: str) -> str:
        """Matrices (or names) side by side: a matrix product."""
        return " ".join(factors)

    def operation(self, op: sp.Expr, args: list[sp.Symbol]) -> str:
        """A computation-graph node's label; `op` is the node's operation in the dummies `args`:
        +, +1, \\times, \\times(-1), (\\cdot)^{2}, 1/\\cdot, e^{\\cdot}, \\sin(\\cdot) ..."""
        constants = [a for a in op.args if not a.free_symbols]
        if isinstance(op, (sp.Add, sp.Mul)):
            sign = "+" if isinstance(op, sp.Add) else r"\times"
            if not constants:
                return sign
            c = sp.Add(*constants) if isinstance(op, sp.Add) else sp.Mul(*constants)
            if isinstance(op, sp.Add):
                return ("-" if c < 0 else "+") + self.symbolic(abs(c))
            text = self.symbolic(c)
            return sign + (f"({text})" if c.is_negative else " " + text)
        if isinstance(op, sp.Pow) and op.base in args and not op.exp.free_symbols:
            if op.exp == -1:
                return r"1/\cdot"
            if op.exp != sp.S.Half:
                return rf"(\cdot)^{{{self.symbolic(op.exp)}}}"
        dots = MathPrinter({"names": {}, "decimals": self.decimals,
                            "symbol_names": {a: r"\cdot" for a in args}})
        return dots.doprint(op)

    def labelled(self, sym: sp.Symbol, value: float) -> str:
        """name = value, as on a graph's wire: q = 3."""
        return f"{self.symbolic(sym)} = {self.number(value)}"
