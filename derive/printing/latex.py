"""Every LaTeX string about mathematics comes from here.

`MathPrinter` is sympy's `LatexPrinter` with our names and two modes: symbolic (symbols print as
their names) and substituted (symbols print as their numbers). A step's symbolic line and its
substituted line are the same expression printed twice, so they cannot disagree. Unevaluated
expressions keep their operand order (w1 i1 + w2 i2 + b1), and negative numbers get parentheses.
"""
from __future__ import annotations

from functools import cached_property
import re
from typing import Mapping

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE, precedence

from ..model.naming import Partial, Sampled
from .names import name_latex
from .numbers import column_numbers, compact_number, format_number, given_latex, scientific_number
from .width import TALL_FOOT, TALL_ROWS, TALL_TOP


class MathPrinter(LatexPrinter):
    """LaTeX printer for derivation expressions; `values` switches to the substituted printing.

    Slots (templates for `Printer.substituted`): W a number standing as a factor or term
    (parenthesised when negative), B a function's bare argument, N a number under a unary minus
    (the sign folds in: e^{-net} with net = -0.01 prints e^{0.01}, never e^{-(-0.01)}).
    """

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
        """A constant written into a rule prints as written (0.5), not as a computed value."""
        return given_latex(float(expr))

    def _negated_slot(self, expr) -> str | None:
        """-x for a slot x: the N slot, whose sign folds into the number."""
        slot = self._slot(expr)
        return None if slot is None else f"\x00N{slot}\x00"

    # -- structure (unevaluated, in the written order) --------------------------------------------
    def _is_negated(self, term) -> bool:
        return isinstance(term, sp.Mul) and len(term.args) >= 2 and term.args[0] == -1

    def _print_Add(self, expr, order=None):
        parts = []
        for i, term in enumerate(expr.args):
            if self._is_negated(term):
                rest = sp.Mul(*term.args[1:], evaluate=False) if len(term.args) > 2 else term.args[1]
                if i == 0 and self._negated_slot(rest) is not None:
                    parts.append(self._negated_slot(rest))
                    continue
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
            if self._negated_slot(rest) is not None:
                return self._negated_slot(rest)
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
            elif (isinstance(previous, sp.Number) and previous != 1 and not isinstance(f, sp.Number)
                  and not text[:1].isdigit() and "\x00" not in text[:2]):   # 5 x^2, but 0.5 \cdot 2^2, 1 \cdot x
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
        slot = self._slot(base)
        if slot is not None:   # a number to a power: in parentheses when negative or m × 10^k
            return f"\x00P{slot}\x00^{{{self._print(exp)}}}"
        value = self._value_of(base)
        if value is not None:
            shown = format_number(value, self._decimals)
            return f"{_power_base(value, shown)}^{{{self._print(exp)}}}"
        text = self._print(base)
        if isinstance(base, (sp.Add, sp.Mul)) or (isinstance(base, sp.Number) and base < 0) or (
                isinstance(base, sp.Symbol) and "^" in text and "\x00" not in text):
            # a name with its own superscript, a^{(3)}_{1}, squared: (a^{(3)}_{1})^{2}, not a double superscript
            text = rf"\left({text}\right)"
        elif "^" in text:
            text = "{" + text + "}"     # a^{(2)}_{1} to a power: no double superscript
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


_SLOT = re.compile("\x00([WBNP])(\\d+)\x00")
# Derive once, print once: keyed by value (the names, the places, the expression), so a printer
# built anew for the same shape finds what an earlier one printed.
_TEMPLATES: dict = {}   # (printer, names, expr) -> (LaTeX with slots, the symbols in slot order)
_SYMBOLIC: dict = {}    # (printer, names, decimals, expr) -> LaTeX
# One key object per name table: a printer's key is the interned one, so a cache hit compares the
# names by identity instead of hashing every (symbol, name) pair of the network again.
_NAMES_KEYS: dict = {}


def _power_base(value: float, shown: str) -> str:
    """A number raised to a power: (−0.5)², (3.4 × 10^{−25})² need their parentheses."""
    return rf"\left({shown}\right)" if value < 0 or r"\times" in shown else shown


class Printer:
    """The printing module's front door: names, numbers, expressions, matrices, equations."""

    math_printer = MathPrinter   # the expression printer; a subclass of Printer may bring its own

    def __init__(self, names: Mapping, decimals: int = 9, given=(), scientific=()):
        """`given`: the symbols whose values are data of the problem (weights, inputs, targets,
        learning rate): they print as written in the spec; every other value is computed and
        prints by the rule of `numbers`. `scientific`: computed quantities that print as m × 10^k
        wherever they appear (a quantity whose column is in that form: one form per quantity)."""
        self.names = names
        self.decimals = decimals
        self.given = frozenset(given)
        self.scientific = frozenset(scientific)

    # Made when first needed: most printers only print names and numbers, and hashing every name of a
    # network (the cache key) costs more than the rest of a printer (6,800 printers for 200 exam variants).
    @cached_property
    def _symbolic(self):
        return self.math_printer({"names": self.names, "decimals": self.decimals})

    @cached_property
    def _names_key(self) -> frozenset:
        key = frozenset(self.names.items())
        return _NAMES_KEYS.setdefault(key, key)

    def name(self, sym: sp.Symbol) -> str:
        return name_latex(self.names[sym])

    def number(self, value: float) -> str:
        """A computed value: exactly `decimals` places (or m \\times 10^{k}, or 0)."""
        return format_number(value, self.decimals)

    def number_digits(self, value: float, places: int) -> str:
        """A computed value at other places than the spec's (a tiny residual or difference)."""
        return format_number(value, places)

    def column(self, values) -> list[str]:
        """A table column of computed values, all in one form (see `numbers.column_numbers`)."""
        return column_numbers(values, self.decimals)

    def given_number(self, value: float) -> str:
        """A value of the problem's data, as written in the spec."""
        return given_latex(value)

    def exact(self, value: float) -> str:
        """A value computed exactly from given data (r² = 0.64, 1 − 2ηλ = 0.996): at most `decimals`
        places, no trailing zeros, so a given 1 stays 1."""
        return compact_number(value, self.decimals)

    def value_of(self, sym: sp.Symbol, value: float) -> str:
        """`sym`'s value: as written when it is given data, else by the rule (m × 10^k for a
        quantity printed so everywhere)."""
        if sym in self.given:
            return given_latex(value)
        if sym in self.scientific:
            return scientific_number(value, self.decimals)
        return format_number(value, self.decimals)

    def symbolic(self, expr: sp.Expr) -> str:
        key = (self.math_printer, self._names_key, self.decimals, expr)
        if key not in _SYMBOLIC:
            _SYMBOLIC[key] = self._symbolic.doprint(expr)
        return _SYMBOLIC[key]

    def substituted(self, expr: sp.Expr, values: Mapping[sp.Symbol, float]) -> str:
        """`expr` with every symbol printed as its number.

        Derive once, substitute many: the expression is printed once with numbered slots where its
        symbols stand; each new set of values only fills the slots.
        """
        if isinstance(expr, sp.Symbol) and expr in values:
            return self.value_of(expr, values[expr])
        key = (self.math_printer, self._names_key, expr)
        if key not in _TEMPLATES:
            symbols = sorted(expr.free_symbols, key=lambda s: s.name)
            slots = {sym: i for i, sym in enumerate(symbols)}
            text = self.math_printer({"names": self.names, "slots": slots}).doprint(expr)
            _TEMPLATES[key] = (text, symbols)
        text, symbols = _TEMPLATES[key]

        def fill(match) -> str:
            sym = symbols[int(match.group(2))]
            value = values[sym]
            if match.group(1) == "N":    # -x: the sign folds into the number
                value = -value
            shown = self.value_of(sym, value)
            if match.group(1) == "P":    # a number to a power
                return _power_base(value, shown)
            if match.group(1) == "W" and (value < 0 or r"\times" in shown):
                return rf"\left({shown}\right)"
            return shown
        return _SLOT.sub(fill, text)

    def chain(self, name: sp.Symbol, expr: sp.Expr, values: Mapping[sp.Symbol, float] | None,
              value: float | None) -> list[str]:
        """The right-hand sides of one step: symbolic = substituted = value, repeats dropped."""
        parts = [self.symbolic(expr)]
        if values is not None:
            parts.append(self.substituted(expr, values))
        if value is not None:   # a step that names given data (dnet/dout = w5) or a whole number shows it as given
            known = name if name in self.given or name in self.scientific else expr
            parts.append(self.value_of(known, value) if isinstance(known, sp.Symbol) else self.number(value))
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

    def matrix(self, rows: list[list[str]], tall: bool = False) -> str:
        """A bmatrix; `tall`: with taller rows and room at the bracket's ends
        (printing.width.TALL_ROWS), so that a column of names with a superscript and a subscript
        (p^{(2)}_{11} over p^{(2)}_{12}) touches neither the row above nor the bracket."""
        cells = [" & ".join(r) for r in rows]
        if not tall:
            return r"\begin{bmatrix} " + r" \\ ".join(cells) + r" \end{bmatrix}"
        cells[0] = TALL_TOP + cells[0]
        cells[-1] = TALL_FOOT + cells[-1]
        return rf"{{{TALL_ROWS}\begin{{bmatrix}} " + r" \\ ".join(cells) + r" \end{bmatrix}}"

    def number_matrix(self, rows, given: bool = False) -> str:
        """A matrix of numbers: computed values, or (`given`) the problem's data as written."""
        shown = given_latex if given else self.number
        return self.matrix([[shown(float(v)) for v in row] for row in rows])

    def number_vector(self, values, given: bool = False) -> str:
        """A column vector of numbers."""
        return self.number_matrix([[v] for v in values], given)
