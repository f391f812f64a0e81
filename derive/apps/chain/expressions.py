"""Expressions typed on the command line, parsed safely into sympy.

sympy's `parse_expr` ends in `eval`, so nothing reaches it before every token has been checked:
numbers, names and the operators + - * / ** ^ ( ) , only. A name followed by "(" must be one of
the whitelisted functions; any other name becomes a real `Symbol`. Names never resolve to
anything else (no builtins, no attributes, no dunder names), and a bad token is named in the
error. Each expression is parsed twice: as written (operand order kept, for printing) and
evaluated (for differentiation and numbers).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
import io
import keyword
import math
import re
import sys
import tokenize

import sympy as sp
from sympy.parsing.sympy_parser import (convert_xor, implicit_multiplication, parse_expr,
                                        standard_transformations)

from ...errors import DeriveError


class sigmoid(sp.Function):  # noqa: N801 - named as the user types it, and as str() prints it
    """The logistic function 1/(1 + e^(-x)), with the derivative the lecture writes: s(1 - s)."""

    @classmethod
    def eval(cls, arg):
        if arg.is_Number:
            return 1 / (1 + sp.exp(-arg))
        return None

    def fdiff(self, argindex=1):
        s = sigmoid(self.args[0])
        return s * (1 - s)

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_rewrite_as_exp(self, arg, **kwargs):
        return 1 / (1 + sp.exp(-arg))

    def _eval_evalf(self, prec):
        return self.rewrite(sp.exp)._eval_evalf(prec)


def _relu(x):
    return sp.Max(0, x)


FUNCTIONS = {
    "sin": sp.sin, "cos": sp.cos, "tan": sp.tan,
    "asin": sp.asin, "acos": sp.acos, "atan": sp.atan,
    "arcsin": sp.asin, "arccos": sp.acos, "arctan": sp.atan,
    "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh,
    "exp": sp.exp, "log": sp.log, "ln": sp.log, "sqrt": sp.sqrt,
    "abs": sp.Abs, "Abs": sp.Abs, "sigmoid": sigmoid, "relu": _relu,
    "max": sp.Max, "Max": sp.Max, "min": sp.Min, "Min": sp.Min,
}
CONSTANTS = {"pi": sp.pi}
# Names the parser's own generated code calls; a variable may not shadow them.
_PARSER_NAMES = {"Integer": sp.Integer, "Float": sp.Float, "Rational": sp.Rational,
                 "Symbol": sp.Symbol, "Add": sp.Add, "Mul": sp.Mul, "Pow": sp.Pow}
_OPERATORS = {"+", "-", "*", "/", "**", "^", "(", ")", ","}
_NUMBER = re.compile(r"(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def _unary_minus(tokens, local_dict, global_dict):
    """A leading minus (at the start, after "(" or ",") becomes (-1)*, so -(a + b) keeps its
    parentheses in the written form instead of being distributed to -a - b."""
    out = []
    for i, (kind, text) in enumerate(tokens):
        if kind == tokenize.OP and text == "-" and (i == 0 or tokens[i - 1][1] in ("(", ",")):
            out += [(tokenize.OP, "("), (tokenize.OP, "-"), (tokenize.NUMBER, "1"), (tokenize.OP, ")"),
                    (tokenize.OP, "*")]
        else:
            out.append((kind, text))
    return out


_TRANSFORMATIONS = (_unary_minus,) + standard_transformations + (convert_xor, implicit_multiplication)
_MAX_EXPONENT = 10_000
# Limits checked before any work (README, "Limits"): every accepted expression parses in well under
# a second, and the calculus on it is bounded by `budget`.
MAX_LENGTH = 20_000     # characters of one expression
MAX_TOKENS = 5_000      # numbers, names and operators
MAX_DEPTH = 40          # nested parentheses (a function's call counts as one)
MAX_TOWER = 6           # a ** b ** c ...: exponents stacked
MAX_DIGITS = 30         # digits of one number
MAX_MAGNITUDE = 300     # a number's size: 1e-300 .. 1e300 (doubles reach about 1.8e308)
MAX_NAME = 40           # characters of a variable's name
_SIGNS = {"+", "-"}


def shown(text: str, limit: int = 80) -> str:
    """Input echoed in a message: quoted, and cut to about `limit` characters."""
    text = str(text)
    return repr(text) if len(text) <= limit else repr(text[:limit - 3] + "...") + f" ({len(text)} characters)"


@contextmanager
def _deep():
    """sympy's parser recurses once per operator of a long sum; MAX_TOKENS bounds the depth."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 20 * MAX_TOKENS))
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def symbol(name: str) -> sp.Symbol:
    """The one way to make a variable: real, so |x|' = sign(x) and sqrt(x^2) stays honest."""
    return sp.Symbol(name, real=True)


@dataclass(frozen=True)
class Parsed:
    """One expression: as written (unevaluated, for printing) and evaluated (for calculus)."""

    text: str
    written: sp.Expr
    evaluated: sp.Expr
    names: tuple[str, ...] = ()   # the variables (and inner functions) in the order first written


def _tokens(text: str, what: str) -> list[tokenize.TokenInfo]:
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        raise DeriveError(f"syntax error in {shown(text)}: unbalanced parentheses", field=what) from None
    return [t for t in tokens if t.type not in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER)
            and not (t.type == tokenize.ERRORTOKEN and not t.string.strip())]


def check_tokens(text: str, what: str) -> list[str]:
    """Refuse anything but numbers, variables, whitelisted calls and arithmetic; return the names."""
    if not text.strip():
        raise DeriveError("the expression is empty", field=what)
    if len(text) > MAX_LENGTH:
        raise DeriveError(f"the expression has {len(text)} characters, more than the limit of "
                          f"{MAX_LENGTH}", field=what)
    tokens = _tokens(text.strip(), what)
    if len(tokens) > MAX_TOKENS:
        raise DeriveError(f"the expression has {len(tokens)} tokens, more than the limit of {MAX_TOKENS}",
                          field=what)
    _check_structure(tokens, text, what)
    names: list[str] = []
    for i, tok in enumerate(tokens):
        s = tok.string
        following = tokens[i + 1].string if i + 1 < len(tokens) else ""
        if tok.type == tokenize.NUMBER:
            _check_number(tok, tokens[i + 1] if i + 1 < len(tokens) else None, text, what)
        elif tok.type == tokenize.NAME:
            if len(s) > MAX_NAME:
                raise DeriveError(f"the name {shown(s, 40)} is longer than {MAX_NAME} characters",
                                  field=what)
            if "__" in s or s.startswith("_"):
                raise DeriveError(f"name {shown(s)} is not allowed in {shown(text)} (no names starting with '_')",
                                  field=what)
            if keyword.iskeyword(s) or s in _PARSER_NAMES:
                raise DeriveError(f"{shown(s)} is a reserved word, not allowed in {shown(text)}", field=what)
            if not _NAME.fullmatch(s):
                raise DeriveError(f"bad name {shown(s)} in {shown(text)} (letters, digits, '_')", field=what)
            if following == "(":
                if s not in FUNCTIONS:
                    raise DeriveError(f"unknown function {shown(s)} in {shown(text)} (known: "
                                      f"{', '.join(sorted(FUNCTIONS))}; write {s}*(...) for a product)",
                                      field=what)
            elif s in FUNCTIONS:
                raise DeriveError(f"{shown(s)} is a function: write {s}(...) in {shown(text)}", field=what)
            elif s not in CONSTANTS and s not in names:
                names.append(s)
        elif tok.type == tokenize.OP and s in _OPERATORS:
            pass
        elif tok.type == tokenize.STRING:
            raise DeriveError(f"strings are not allowed: {s} in {shown(text)}", field=what)
        else:
            raise DeriveError(f"unexpected {shown(s)} in {shown(text)} (allowed: numbers, names, functions, "
                              "+ - * / ** ^ and parentheses)", field=what)
    return names


def _check_number(tok, following, text: str, what: str) -> None:
    """One number: decimal notation, at most MAX_DIGITS digits, within the float range, not run into
    another number (1.5.5) or into an e that is not an exponent (1e*x)."""
    s = tok.string
    if not _NUMBER.fullmatch(s):
        raise DeriveError(f"bad number {shown(s)} in {shown(text)} (write decimals such as 0.5 or 1e-3)",
                          field=what)
    adjacent = following is not None and following.start == tok.end
    if adjacent and following.type == tokenize.NUMBER:
        raise DeriveError(f"bad number {shown(s + following.string)} in {shown(text)} (one decimal point "
                          "per number)", field=what)
    if adjacent and following.type == tokenize.NAME and following.string in ("e", "E"):
        raise DeriveError(f"bad number {shown(s + following.string)} in {shown(text)} (an exponent needs "
                          "digits: 1e3; for e write exp(1))", field=what)
    if following is not None and following.type == tokenize.NUMBER:
        raise DeriveError(f"expected an operator between {shown(s)} and {shown(following.string)} in "
                          f"{shown(text)}", field=what)
    mantissa, _, exponent = s.lower().partition("e")
    digits = len(mantissa.replace(".", "").lstrip("0"))
    if digits > MAX_DIGITS:
        raise DeriveError(f"the number {shown(s, 40)} has {digits} digits, more than the limit of "
                          f"{MAX_DIGITS}", field=what)
    if exponent and abs(int(exponent)) > MAX_MAGNITUDE:
        raise DeriveError(f"the number {shown(s)} is beyond the float range (1e-{MAX_MAGNITUDE} to "
                          f"1e{MAX_MAGNITUDE})", field=what)


def _check_structure(tokens, text: str, what: str) -> None:
    """Balanced parentheses, at most MAX_DEPTH deep; at most MAX_TOWER stacked exponents; no more than
    two signs in a row."""
    depth, towers, signs = 0, [0], 0
    for tok in tokens:
        s = tok.string
        if tok.type != tokenize.OP:
            signs = 0
            continue
        if s == "(":
            depth += 1
            towers.append(0)
            if depth > MAX_DEPTH:
                raise DeriveError(f"parentheses nested more than {MAX_DEPTH} deep in {shown(text)}",
                                  field=what)
        elif s == ")":
            depth -= 1
            if depth < 0:
                raise DeriveError(f"unbalanced parentheses in {shown(text)}: ')' at column "
                                  f"{tok.start[1] + 1} closes nothing", field=what)
            towers.pop()
        elif s in ("**", "^"):
            towers[-1] += 1
            if towers[-1] > MAX_TOWER:
                raise DeriveError(f"more than {MAX_TOWER} exponents stacked (a ** b ** ...) in "
                                  f"{shown(text)}", field=what)
        elif s in ("+", "-", "*", "/", ","):
            towers[-1] = 0
        signs = signs + 1 if s in _SIGNS else 0
        if signs > 2:
            raise DeriveError(f"more than two signs in a row in {shown(text)}", field=what)
    if depth > 0:
        raise DeriveError(f"unbalanced parentheses in {shown(text)}: {depth} '(' not closed", field=what)


def _combined(node: sp.Basic, parts: list[float]) -> float:
    """log10 of the size of a constant node from its parts' sizes, without evaluating big numbers."""
    if isinstance(node, sp.Mul):
        return sum(parts)
    if isinstance(node, sp.Add):
        return max(parts) + math.log10(len(parts))
    if isinstance(node, sp.Pow):
        base, exp = parts
        if exp > 6:
            return math.inf
        e = float(_evaluate(node.exp).evalf(20))
        if base == -math.inf:
            if e <= 0:
                raise ValueError(f"{node} is undefined" if e == 0 else f"division by zero in {node}")
            return -math.inf
        return e * base
    if max(parts, default=0) > MAX_MAGNITUDE:
        return math.inf
    value = complex(_evaluate(node).evalf(20))
    return math.log10(abs(value)) if value else -math.inf


def _log10_rational(r: sp.Rational) -> float:
    def log10_int(n: int) -> float:
        n = abs(n)
        return -math.inf if n == 0 else math.log10(n) if n < 10 ** 300 else len(str(n)) - 1
    return log10_int(r.p) - log10_int(r.q)


def _check_magnitudes(expr: sp.Basic, text: str, what: str) -> None:
    """Every constant part of the written tree within 1e-300 .. 1e300, sized bottom-up without
    evaluating it, so (3**10000)**10000 is refused at once (naming 3**10000)."""
    def visit(node: sp.Basic) -> float | None:
        if isinstance(node, sp.Float):
            return math.log10(abs(float(node))) if float(node) != 0 else -math.inf
        if isinstance(node, sp.Number):
            return -math.inf if node.is_zero else _log10_rational(node)
        if isinstance(node, sp.NumberSymbol):
            return math.log10(float(node))
        if not node.args:
            return None
        parts = [visit(a) for a in node.args]
        if any(part is None for part in parts):
            return None
        size = _combined(node, parts)
        if size != -math.inf and abs(size) > MAX_MAGNITUDE:
            raise DeriveError(f"the number {shown(str(node), 40)} is too large or too small: beyond the "
                              f"float range (1e-"
                              f"{MAX_MAGNITUDE} to 1e{MAX_MAGNITUDE}) in {shown(text)}", field=what)
        return size
    visit(expr)


def _evaluate(expr: sp.Basic) -> sp.Basic:
    """The same tree rebuilt with evaluation (an unevaluated parse, made canonical)."""
    if not expr.args:
        return expr
    return expr.func(*[_evaluate(a) for a in expr.args])


def _tidy_written(expr: sp.Basic) -> sp.Basic:
    """Fold pure-number parts of a written tree (x - 1*1 -> x - 1) and drop factors of 1."""
    if not expr.args or isinstance(expr, sp.Number):
        return expr
    if not expr.free_symbols:
        return _evaluate(expr)
    args = [_tidy_written(a) for a in expr.args]
    if isinstance(expr, sp.Mul):
        args = [a for a in args if a != 1] or [sp.Integer(1)]
        numbers = [a for a in args if isinstance(a, sp.Number)]
        if len(numbers) > 1:   # -2x is parsed as (-1)*2*x
            first = args.index(numbers[0])
            args = [a for a in args if not isinstance(a, sp.Number)]
            args.insert(first, sp.Mul(*numbers))
        return args[0] if len(args) == 1 else sp.Mul(*args, evaluate=False)
    if isinstance(expr, sp.Add):
        args = [a for a in args if a != 0] or [sp.Integer(0)]
        return args[0] if len(args) == 1 else sp.Add(*args, evaluate=False)
    if isinstance(expr, sp.Pow):
        return sp.Pow(*args, evaluate=False)
    return expr.func(*args)


def _check_exponents(expr: sp.Basic, text: str, what: str) -> None:
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Pow) and node.exp.is_number:
            size = abs(complex(node.exp.evalf(15)))
            if size > _MAX_EXPONENT:
                raise DeriveError(f"exponent {shown(str(node.exp))} is too large in {shown(text)}", field=what)


def parse(text: str, what: str = "expression") -> Parsed:
    """Parse one expression safely; `what` names the argument in errors (e.g. "--let y")."""
    text = text.strip()
    names = check_tokens(text, what)
    local = {n: symbol(n) for n in names}
    namespace = {"__builtins__": {}, **_PARSER_NAMES, **FUNCTIONS, **CONSTANTS}
    results = []
    for evaluate in (False, True):
        try:
            with _deep():
                expr = parse_expr(text, local_dict=dict(local), global_dict=dict(namespace),
                                  transformations=_TRANSFORMATIONS, evaluate=evaluate)
                if evaluate is False and isinstance(expr, sp.Expr):
                    _check_magnitudes(expr, text, what)
                    _check_exponents(expr, text, what)
                    expr = _tidy_written(expr)
        except (SyntaxError, TypeError, ValueError, AttributeError, ZeroDivisionError, IndexError,
                tokenize.TokenError) as exc:
            detail = str(exc).split("\n")[0] if not isinstance(exc, SyntaxError) else "invalid syntax"
            raise DeriveError(f"cannot parse {shown(text)}: {detail}", field=what) from None
        if not isinstance(expr, sp.Expr):
            raise DeriveError(f"{shown(text)} is not a mathematical expression", field=what)
        results.append(expr)
    written, evaluated = results
    if evaluated.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise DeriveError(f"{shown(text)} is undefined (division by zero?)", field=what)
    return Parsed(text, written, evaluated, tuple(names))


def parse_name(text: str, what: str) -> str:
    """One variable name (for --wrt, --let and --at)."""
    name = text.strip()
    if len(name) > MAX_NAME:
        raise DeriveError(f"the name {shown(name, 40)} is longer than {MAX_NAME} characters", field=what)
    if not _NAME.fullmatch(name) or "__" in name:
        raise DeriveError(f"bad variable name {shown(name, 40)} (letters, digits, '_', starting with a letter)",
                          field=what)
    if keyword.iskeyword(name) or name in _PARSER_NAMES or name in CONSTANTS:
        raise DeriveError(f"{shown(name, 40)} is a reserved word, not a variable name", field=what)
    if name in FUNCTIONS:
        raise DeriveError(f"{shown(name, 40)} is a function, not a variable name", field=what)
    return name


def parse_names(text: str, what: str) -> list[str]:
    """A comma-separated list of distinct variable names: "x,y,z"."""
    names = [parse_name(part, what) for part in text.split(",")]
    for name in names:
        if names.count(name) > 1:
            raise DeriveError(f"{shown(name, 40)} is listed twice", field=what)
    return names


def split_definition(text: str, what: str, default: str | None = None) -> tuple[str, str]:
    """"y = 0.5*x**2" -> ("y", "0.5*x**2"); without "=", the default name (or an error)."""
    if "=" in text:
        name, _, rhs = text.partition("=")
        if "=" in rhs:
            raise DeriveError(f"expected one '=' in {shown(text)} (name = expression)", field=what)
        return parse_name(name, what), rhs
    if default is None:
        raise DeriveError(f"expected name = expression, got {shown(text)}", field=what)
    return default, text


def parse_point(texts: list[str], what: str = "--at") -> dict[str, float]:
    """"x=-2,y=5,z=-4" (possibly several) -> {"x": -2.0, ...}; values may be expressions (pi/4)."""
    point: dict[str, float] = {}
    for text in texts:
        for part in text.split(","):
            if not part.strip():
                continue
            name, rhs = split_definition(part, what)
            if name in point:
                raise DeriveError(f"{shown(name, 40)} is given twice", field=what)
            parsed = parse(rhs, f"{what} {name}")
            if parsed.evaluated.free_symbols:
                raise DeriveError(f"the value of {shown(name, 40)} must be a number, got {shown(rhs.strip())}",
                                  field=what)
            value = complex(parsed.evaluated.evalf())
            if value.imag:
                raise DeriveError(f"the value of {shown(name, 40)} is not real", field=what)
            point[name] = value.real
    return point
