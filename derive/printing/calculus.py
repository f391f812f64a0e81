"""The printer of `derive chain` and `derive jacobian`: variables as sympy names them, derivative
names, vectors, matrices of expressions and computation-graph labels."""
from __future__ import annotations

from typing import Mapping

import sympy as sp
from sympy.printing.precedence import precedence

from .latex import MathPrinter, Printer
from .numbers import compact_number

_NO_NAMES: dict = {}   # variables print as sympy names them


class CalculusMathPrinter(MathPrinter):
    """The command-line calculus's expressions: a sign in front (-2 x, not (-2) x; -r sin(t), not
    -(r sin(t))), a fraction's coefficient folded into it (1/(2 sqrt(u))), derivatives still to be
    worked out (d/dx [sin(x^2)], du/dx), the step function as an indicator 1_{u > 0}, sign(u)."""

    def _print_Mul(self, expr):
        args = list(expr.args)
        first = args[0] if args else None
        if first == -1 and len(args) == 2 and self._negated_slot(args[1]) is not None:
            return self._negated_slot(args[1])   # -x with x = -2 prints 2, as MathPrinter's
        if isinstance(first, sp.Number) and first < 0 and len(args) > 1:
            rest = args[1:] if first == -1 else [-first] + args[1:]
            positive = sp.Mul(*rest, evaluate=False) if len(rest) > 1 else rest[0]
            if isinstance(positive, sp.Add):
                return rf"-\left({self._print(positive)}\right)"
            text = self._print(positive)
            return rf"-\left({text}\right)" if text.startswith("-") else "-" + text
        numer = [a for a in args if not self._is_denominator(a)]
        denom = [sp.Pow(a.base, -a.exp, evaluate=False) if a.exp != -1 else a.base
                 for a in args if self._is_denominator(a)]
        if not denom:
            return super()._print_Mul(expr)
        if numer and isinstance(numer[0], sp.Rational) and numer[0].q != 1:
            c = numer[0]
            numer = ([sp.Integer(c.p)] if c.p != 1 or len(numer) == 1 else []) + numer[1:]
            denom = [sp.Integer(c.q)] + denom
        if len(numer) == 1 and isinstance(numer[0], sp.Add):
            top = self._print(numer[0])
        else:
            top = self._join(numer) if numer else "1"
        bottom = self._print(denom[0]) if len(denom) == 1 else self._join(denom)
        return rf"\frac{{{top}}}{{{bottom}}}"

    def _print_Pow(self, expr):
        if expr.exp.is_Rational and expr.exp < 0 and expr.exp != -1:
            return rf"\frac{{1}}{{{self._print(sp.Pow(expr.base, -expr.exp, evaluate=False))}}}"
        return super()._print_Pow(expr)

    def _is_name(self, expr) -> bool:
        """Also x^2: a name with a number exponent stands next to a name or function: x^{2} y."""
        if isinstance(expr, sp.Pow) and expr.exp.is_Number:
            return super()._is_name(expr.base)
        return super()._is_name(expr)

    def _join(self, factors) -> str:
        """As MathPrinter's, and a name before a function needs no dot either: -r sin(t), 2 x cos(x^2)."""
        out, previous = "", None
        for f in factors:
            text = self._factor(f, precedence(sp.Mul(2, sp.Symbol("x"), evaluate=False)) - 1) \
                if not isinstance(f, sp.Add) else rf"\left({self._print(f)}\right)"
            if previous is None:
                out = text
            elif self._is_name(previous) and (self._is_name(f) or isinstance(f, sp.Add)
                                              or self._is_function(f)):
                out += " " + text
            elif (isinstance(previous, sp.Number) and previous != 1 and not isinstance(f, sp.Number)
                  and not text[:1].isdigit() and "\x00" not in text[:2] and not text.startswith("-")):
                out += " " + text
            else:
                out += r" \cdot " + text
            previous = f
        return out

    @staticmethod
    def _is_function(expr) -> bool:
        """sin(t) or sin(t)^2: stands next to a name without a dot."""
        if isinstance(expr, sp.Pow) and expr.exp.is_Number and expr.exp > 0:
            expr = expr.base
        return isinstance(expr, sp.Function) and not isinstance(expr, (sp.Max, sp.Min))

    def _print_Derivative(self, expr):
        (x, _), = expr.variable_count
        e = expr.expr
        dx = "d" if e.free_symbols == {x} else r"\partial"
        if isinstance(e, sp.Symbol):
            return rf"\frac{{{dx} {self._print(e)}}}{{{dx} {self._print(x)}}}"
        return rf"\frac{{{dx}}}{{{dx} {self._print(x)}}}\left[{self._print(e)}\right]"

    def _print_Heaviside(self, expr, exp=None):
        return rf"\mathbf{{1}}_{{{self._print(expr.args[0])} > 0}}"

    def _print_sign(self, expr, exp=None):
        return rf"\operatorname{{sign}}\left({self._arg(expr.args[0])}\right)"


class CalculusPrinter(Printer):
    """Variables print as sympy names them (x1 -> x_{1}, alpha -> \\alpha); adds derivative names,
    vectors, matrices of expressions and computation-graph labels."""

    math_printer = CalculusMathPrinter

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

    def chain_formula(self, outer: sp.Expr, u: sp.Symbol, x: sp.Symbol, ordinary: bool) -> str:
        """The chain rule's instance: d/du [f(u)] . du/dx."""
        return (self.symbolic(sp.Derivative(outer, u, evaluate=False)) + r" \cdot "
                + self.derivative(u, x, ordinary))

    @staticmethod
    def note(text: str) -> str:
        """A short plain-text remark after a formula: (chain rule). `text` is our own wording."""
        return rf"\qquad \text{{({text})}}"

    def determinant_name(self, y: str, x: str) -> str:
        return rf"\det\left({self.jacobian_name(y, x)}\right)"

    def determinant(self, rows: list[list[sp.Expr]]) -> str:
        """|a b; c d|: the determinant of a matrix of expressions."""
        body = r" \\ ".join(" & ".join(self.symbolic(e) for e in row) for row in rows)
        return r"\begin{vmatrix} " + body + r" \end{vmatrix}"

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
        dots = self.math_printer({"names": {}, "decimals": self.decimals,
                                  "symbol_names": {a: r"\cdot" for a in args}})
        return dots.doprint(op)

    def labelled(self, sym: sp.Symbol, value: float) -> str:
        """name = value, as on a graph's wire: q = 3."""
        return f"{self.symbolic(sym)} = {self.number(value)}"
