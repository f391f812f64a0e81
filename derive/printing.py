"""Every LaTeX string about mathematics comes from here.

`MathPrinter` is sympy's `LatexPrinter` with our names and two modes: symbolic (symbols print as
their names) and substituted (symbols print as their numbers). A step's symbolic line and its
substituted line are the same expression printed twice, so they cannot disagree. Unevaluated
expressions keep their operand order (w1 i1 + w2 i2 + b1), and negative numbers get parentheses.
"""
from __future__ import annotations

import math
import re
from typing import Mapping

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE, precedence

from .naming import Name, Partial, Sampled

GREEK = {"eta": r"\eta", "lambda": r"\lambda", "Omega": r"\Omega", "Lagrangian": r"\mathcal{L}", "delta": r"\delta", "theta": r"\theta", "sigma": r"\sigma"}


def format_number(value: float, decimals: int) -> str:
    """The lecture's display: `decimals` places, trailing zeros dropped (0.3775, 0.593269992).

    A non-zero number that would round to 0 is shown in scientific notation instead.
    """
    if value != value or math.isinf(value):
        return r"\text{NaN}" if value != value else (r"\infty" if value > 0 else r"-\infty")
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("0", "-0"):
        if value == 0:
            return "0"
        mantissa, exponent = f"{value:.3e}".split("e")
        mantissa = mantissa.rstrip("0").rstrip(".")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return text


def plain_number(value: float, decimals: int) -> str:
    """The same rounding as `format_number`, as plain text (for tables of keys, CSV, Moodle)."""
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("0", "-0") and value != 0:
        return f"{value:.3e}"
    return "0" if text == "-0" else text


def name_latex(name: Name | Partial | Sampled, extra_sup: str = "") -> str:
    """LaTeX of a structured name: net_{h1}, w^{(2)+}_{12}, \\frac{\\partial E_{total}}{\\partial w_{5}}."""
    if isinstance(name, Sampled):
        marker = f"[{name.sample}]"
        if isinstance(name.inner, Partial):
            return _partial(name.inner.num, name.inner.den, marker)
        return name_latex(name.inner, marker)
    if isinstance(name, Partial):
        return _partial(name.num, name.den, "")
    base = GREEK.get(name.base, name.base if len(name.base) == 1 else rf"\mathit{{{name.base}}}")
    sup = name.sup + name.mark + extra_sup
    text = base
    if sup:
        text += "^{" + sup + "}"
    if name.sub:
        sub = name.sub if not name.sub.isalpha() or len(name.sub) == 1 else rf"\mathit{{{name.sub}}}"
        text += "_{" + sub + "}"
    return text


def _partial(num: Name, den: Name, marker: str) -> str:
    return rf"\frac{{\partial {name_latex(num, marker)}}}{{\partial {name_latex(den)}}}"


class MathPrinter(LatexPrinter):
    """LaTeX printer for derivation expressions; `values` switches to the substituted printing."""

    _default_settings = {**LatexPrinter._default_settings, "names": None, "values": None,
                         "slots": None, "decimals": 9, "order": "none"}

    def __init__(self, settings=None):
        super().__init__(settings)
        self._names: Mapping = self._settings["names"] or {}
        self._values: Mapping | None = self._settings["values"]
        self._slots: Mapping | None = self._settings["slots"]   # symbol -> slot number (templates)
        self._decimals: int = self._settings["decimals"]

    # -- leaves ---------------------------------------------------------------------------------
    def _value_of(self, expr):
        if self._values is not None and isinstance(expr, sp.Symbol) and expr in self._values:
            return self._values[expr]
        return None

    def _slot(self, expr):
        if self._slots is not None and isinstance(expr, sp.Symbol) and expr in self._slots:
            return self._slots[expr]
        return None

    def _print_Symbol(self, expr, style="plain"):
        slot = self._slot(expr)
        if slot is not None:
            return f"\x00W{slot}\x00"     # a number, parenthesised when negative
        value = self._value_of(expr)
        if value is not None:
            text = format_number(value, self._decimals)
            return f"\\left({text}\\right)" if value < 0 else text
        name = self._names.get(expr)
        return name_latex(name) if name is not None else super()._print_Symbol(expr)

    def _print_Float(self, expr):
        return format_number(float(expr), self._decimals)

    # -- structure (unevaluated, in the written order) --------------------------------------------
    def _is_negated(self, term) -> bool:
        return isinstance(term, sp.Mul) and len(term.args) >= 2 and term.args[0] == -1

    def _print_Add(self, expr, order=None):
        parts = []
        for i, term in enumerate(expr.args):
            if self._is_negated(term):
                rest = sp.Mul(*term.args[1:], evaluate=False) if len(term.args) > 2 else term.args[1]
                text = self._factor(rest, precedence(expr))
                parts.append(("- " if i == 0 else " - ") + text)
            elif isinstance(term, sp.Number) and term < 0 and i > 0:
                parts.append(" - " + self._print(-term))
            elif (isinstance(term, sp.Mul) and term.args[0].is_Number and term.args[0] < 0
                  and term.args[0] != -1):
                # An evaluated term such as -195/4 w2: a minus sign, not + (-195/4) w2.
                positive = sp.Mul(-term.args[0], *term.args[1:], evaluate=False)
                parts.append(("- " if i == 0 else " - ") + self._print(positive))
            else:
                parts.append(("" if i == 0 else " + ") + self._print(term))
        return "".join(parts)

    def _factor(self, expr, level: int) -> str:
        """Print `expr`, parenthesised when it binds less tightly than `level`."""
        text = self._print(expr)
        if precedence(expr) <= level and not isinstance(expr, sp.Symbol) and not (
                isinstance(expr, (sp.Pow,)) and expr.exp == -1):
            if isinstance(expr, (sp.Add, sp.Mul)) or (isinstance(expr, sp.Number) and expr < 0):
                return rf"\left({text}\right)"
        return text

    def _is_name(self, expr) -> bool:
        """A short symbolic name (w_1, i_1) that can stand next to another without a dot."""
        return (isinstance(expr, sp.Symbol) and self._value_of(expr) is None and self._slot(expr) is None
                and not isinstance(self._names.get(expr), (Partial, Sampled)))

    def _print_Mul(self, expr):
        args = list(expr.args)
        if args and args[0] == -1 and len(args) > 1:
            rest = sp.Mul(*args[1:], evaluate=False) if len(args) > 2 else args[1]
            if isinstance(rest, sp.Add):
                return rf"-\left({self._print(rest)}\right)"
            return "-" + self._factor(rest, PRECEDENCE["Mul"])
        numer = [a for a in args if not self._is_denominator(a)]
        denom = [sp.Pow(a.base, -a.exp, evaluate=False) if a.exp != -1 else a.base
                 for a in args if self._is_denominator(a)]
        if denom:
            top = self._join(numer) if numer else "1"
            bottom = self._print(denom[0]) if len(denom) == 1 else self._join(denom)
            return rf"\frac{{{top}}}{{{bottom}}}"
        return self._join(numer)

    @staticmethod
    def _is_denominator(a) -> bool:
        return isinstance(a, sp.Pow) and a.exp.is_Rational and a.exp < 0

    def _join(self, factors) -> str:
        out = ""
        previous = None
        for f in factors:
            text = self._factor(f, precedence(sp.Mul(2, sp.Symbol("x"), evaluate=False)) - 1) \
                if not isinstance(f, sp.Add) else rf"\left({self._print(f)}\right)"
            if previous is None:
                out = text
            elif self._is_name(previous) and (self._is_name(f) or isinstance(f, sp.Add)):
                out += " " + text
            elif (isinstance(previous, sp.Number) and not isinstance(f, sp.Number)
                  and not text[:1].isdigit() and "\x00" not in text[:2]):   # 5 x^2, but 0.5 \cdot 2^2
                out += " " + text
            else:
                out += r" \cdot " + text
            previous = f
        return out

    def _print_Pow(self, expr):
        base, exp = expr.args
        if exp == -1:
            return rf"\frac{{1}}{{{self._print(base)}}}"
        if exp == sp.S.Half:
            return rf"\sqrt{{{self._arg(base)}}}"
        if isinstance(base, sp.exp):
            return super()._print_Pow(expr)
        text = self._print(base)
        if isinstance(base, (sp.Add, sp.Mul)) or (isinstance(base, sp.Number) and base < 0):
            text = rf"\left({text}\right)"
        return f"{text}^{{{self._print(exp)}}}"

    def _arg(self, expr) -> str:
        """A function's argument: a substituted number needs no parentheses of its own there."""
        slot = self._slot(expr)
        if slot is not None:
            return f"\x00B{slot}\x00"     # a number, bare
        value = self._value_of(expr)
        return format_number(value, self._decimals) if value is not None else self._print(expr)

    def _print_exp(self, expr, exp=None):
        return f"e^{{{self._arg(expr.args[0])}}}"

    def _print_log(self, expr, exp=None):
        return rf"\ln\left({self._arg(expr.args[0])}\right)"

    def _print_tanh(self, expr, exp=None):
        return rf"\tanh\left({self._arg(expr.args[0])}\right)"

    def _print_Max(self, expr, exp=None):
        return r"\max\left(" + ", ".join(self._arg(a) for a in expr.args) + r"\right)"

    # Functions typed on the command line (derive chain, derive jacobian): name(argument).
    FUNCTION_NAMES = {"sin": r"\sin", "cos": r"\cos", "tan": r"\tan", "asin": r"\arcsin",
                      "acos": r"\arccos", "atan": r"\arctan", "sinh": r"\sinh", "cosh": r"\cosh",
                      "sigmoid": r"\sigma"}

    def _print_Function(self, expr, exp=None):
        name = self.FUNCTION_NAMES.get(type(expr).__name__)
        if name is None or exp is not None or len(expr.args) != 1:
            return super()._print_Function(expr, exp)
        return rf"{name}\left({self._arg(expr.args[0])}\right)"

    def _print_Abs(self, expr, exp=None):
        return rf"\left|{self._arg(expr.args[0])}\right|"

    def _print_Min(self, expr, exp=None):
        return r"\min\left(" + ", ".join(self._arg(a) for a in expr.args) + r"\right)"

    def _print_Piecewise(self, expr):
        rows = []
        for value, cond in expr.args:
            when = r"\text{otherwise}" if cond is sp.true else r"\text{if } " + self._print(cond)
            rows.append(f"{self._print(value)} & {when}")
        return r"\begin{cases} " + r" \\ ".join(rows) + r" \end{cases}"

    def _print_Rational(self, expr):
        if expr.q == 1:
            return str(expr.p)
        sign = "-" if expr.p < 0 else ""
        return rf"{sign}\frac{{{abs(expr.p)}}}{{{expr.q}}}"


_SLOT = re.compile("\x00([WB])(\\d+)\x00")
_TEMPLATES: dict = {}   # (names, expr) -> (LaTeX with slots, the symbols in slot order)
_SYMBOLIC: dict = {}    # (names, expr) -> LaTeX


class Printer:
    """The printing module's front door: names, numbers, expressions, matrices, equations."""

    math_printer = MathPrinter

    def __init__(self, names: Mapping, decimals: int = 9):
        self.names = names
        self.decimals = decimals
        self._symbolic = self.math_printer({"names": names, "decimals": decimals})

    def name(self, sym: sp.Symbol) -> str:
        return name_latex(self.names[sym])

    def number(self, value: float) -> str:
        return format_number(value, self.decimals)

    def symbolic(self, expr: sp.Expr) -> str:
        key = (id(self.names), expr)
        if key not in _SYMBOLIC:
            _SYMBOLIC[key] = self._symbolic.doprint(expr)
        return _SYMBOLIC[key]

    def substituted(self, expr: sp.Expr, values: Mapping[sp.Symbol, float]) -> str:
        """`expr` with every symbol printed as its number.

        Derive once, substitute many: the expression is printed once with numbered slots where its
        symbols stand; each new set of values only fills the slots.
        """
        if isinstance(expr, sp.Symbol) and expr in values:
            return self.number(values[expr])
        key = (id(self.names), expr)
        if key not in _TEMPLATES:
            symbols = sorted(expr.free_symbols, key=lambda s: s.name)
            slots = {sym: i for i, sym in enumerate(symbols)}
            text = self.math_printer({"names": self.names, "slots": slots}).doprint(expr)
            _TEMPLATES[key] = (text, symbols)
        text, symbols = _TEMPLATES[key]

        def fill(match) -> str:
            value = values[symbols[int(match.group(2))]]
            shown = format_number(value, self.decimals)
            return rf"\left({shown}\right)" if match.group(1) == "W" and value < 0 else shown
        return _SLOT.sub(fill, text)

    def chain(self, name: sp.Symbol, expr: sp.Expr, values: Mapping[sp.Symbol, float] | None,
              value: float | None) -> list[str]:
        """The right-hand sides of one step: symbolic = substituted = value, repeats dropped."""
        parts = [self.symbolic(expr)]
        if values is not None:
            parts.append(self.substituted(expr, values))
        if value is not None:
            parts.append(self.number(value))
        out: list[str] = []
        for p in parts:
            if not out or out[-1] != p:
                out.append(p)
        return out

    def split_sum(self, expr: sp.Expr, per_line: int = 4) -> list[str]:
        """A long sum as several pieces, each a few terms, the later ones starting with + or -."""
        if not isinstance(expr, sp.Add) or len(expr.args) <= per_line:
            return [self.symbolic(expr)]
        pieces = []
        args = list(expr.args)
        for start in range(0, len(args), per_line):
            chunk = args[start:start + per_line]
            text = self._symbolic.doprint(sp.Add(*chunk, evaluate=False) if len(chunk) > 1 else chunk[0])
            if start and not text.startswith("-"):
                text = "+ " + text
            pieces.append(text)
        return pieces

    def matrix(self, rows: list[list[str]]) -> str:
        body = r" \\ ".join(" & ".join(r) for r in rows)
        return r"\begin{bmatrix} " + body + r" \end{bmatrix}"

    def number_matrix(self, rows) -> str:
        return self.matrix([[self.number(v) for v in row] for row in rows])


# -- the chain rule, Jacobians and computation graphs of any expression (derive chain / jacobian) --
_NO_NAMES: dict = {}   # one long-lived mapping: the printing caches key on its id


class CalculusMathPrinter(MathPrinter):
    """The command-line calculus's expressions: a sign in front (-2 x, not (-2) x; -r sin(t), not
    -(r sin(t))), a fraction's coefficient folded into it (1/(2 sqrt(u))), derivatives still to be
    worked out (d/dx [sin(x^2)], du/dx), the step function as an indicator 1_{u > 0}, sign(u)."""

    def _print_Mul(self, expr):
        args = list(expr.args)
        first = args[0] if args else None
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
            elif (isinstance(previous, sp.Number) and not isinstance(f, sp.Number)
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


def latex_width(tex: str) -> float:
    """Roughly how many characters wide a formula prints: fractions as their wider part, scripts
    smaller, matrices as their widest row. Used to break long chains of equalities into rows."""
    return _width(tex.replace(r"\left", "").replace(r"\right", ""))


def _group(tex: str, i: int) -> tuple[str, int]:
    """The brace group starting at tex[i] == "{" and the index after it."""
    depth = 0
    for j in range(i, len(tex)):
        depth += {"{": 1, "}": -1}.get(tex[j], 0)
        if depth == 0:
            return tex[i + 1:j], j + 1
    return tex[i + 1:], len(tex)


def _width(tex: str) -> float:
    width, i = 0.0, 0
    while i < len(tex):
        if tex.startswith(r"\begin{bmatrix}", i):
            end = tex.find(r"\end{bmatrix}", i)
            end = len(tex) if end < 0 else end
            body = tex[i + len(r"\begin{bmatrix}"):end]
            rows = [[_width(c) + 2 for c in row.split("&")] for row in body.split(r"\\")]
            width += max(sum(r) for r in rows) + 1
            i = end + len(r"\end{bmatrix}")
        elif tex.startswith((r"\frac{", r"\dfrac{"), i):
            top, i = _group(tex, tex.index("{", i))
            bottom, i = _group(tex, i) if tex[i:i + 1] == "{" else ("", i)
            width += max(_width(top), _width(bottom))
        elif tex[i] == "\\":
            j = i + 1
            while j < len(tex) and tex[j].isalpha():
                j += 1
            name = tex[i + 1:j] or tex[j:j + 1]
            width += 3 if name in ("sin", "cos", "tan", "exp", "max", "min", "tanh", "ln") else \
                2 if name in ("cdot", "times") else 1
            i = max(j, i + 2)
        elif tex[i] in "^_" and tex[i + 1:i + 2] == "{":
            script, i = _group(tex, i + 1)
            width += 0.7 * _width(script)
        elif tex[i] in "{} ":
            i += 1
        elif tex[i] in "=+-":
            width += 2
            i += 1
        else:
            width += 1
            i += 1
    return width

# -- matrix form of backpropagation (derive snippet --part vector) --------------------------------
_MATRIX_SYMBOLS = {
    "delta": r"\delta^{{({l})}}",
    "grad_a E": r"\nabla_{{a^{{({l})}}}} E",
    "act'": r"f_{{{l}}}'\left(z^{{({l})}}\right)",
    "jacobian^T": r"\left(\frac{{\partial a^{{({l})}}}}{{\partial z^{{({l})}}}}\right)^{{\top}}",
    "W^T": r"\left(W^{{({l})}}\right)^{{\top}}",
    "dE/dW": r"\frac{{\partial E}}{{\partial W^{{({l})}}}}",
    "a^T": r"\left(a^{{({l})}}\right)^{{\top}}",
}


def matrix_symbol(kind: str, layer: int) -> str:
    """Names of the matrix form: delta^(l), W^(l), the activation's derivative f_l'(z^(l)), ..."""
    return _MATRIX_SYMBOLS[kind].format(l=layer)


def _number_vector(self: Printer, values) -> str:
    """A column vector of numbers."""
    return self.matrix([[self.number(float(v))] for v in values])


Printer.number_vector = _number_vector



def hadamard(*parts: str) -> str:
    """Elementwise product of printed vectors: a ⊙ b."""
    return r" \odot ".join(parts)


def product(*parts: str) -> str:
    """Matrix product of printed factors, side by side."""
    return " ".join(parts)


def at_optimum(name: str) -> str:
    """A quantity evaluated at the constrained optimum: R(θ*)."""
    return name + r"\left(\theta^{*}\right)"


def norm_name(penalty: str) -> str:
    """The norm the constraint bounds: ||θ||₂ or ||θ||₁."""
    return r"\|\theta\|_2" if penalty == "l2" else r"\|\theta\|_1"
