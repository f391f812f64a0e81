"""Differentiation rule by rule, as a textbook does it, on sympy expressions.

`derive(expr, x)` never calls sympy's `diff` on the whole: it looks at the outermost operation of
`expr` and applies one rule (constant, variable, power, sum, constant multiple, product, quotient,
chain, exp, log, trig, ...), recursing into the parts that rule needs. Each application is a `Step`
with the rule's name, the rule's formula instantiated for this expression (sub-derivatives still to
be worked out are unevaluated `Derivative`s), the result, and the steps of its parts. A function
applied to anything but the variable itself is a chain: its argument gets the next free name
u, v, w, ... and the outer function is differentiated by that name.

`check(steps, expr, x)` proves the result equal to sympy's derivative; `textbook(...)` picks the
form of the final answer a textbook would print. ReLU (and max, min, |x|) have derivative 0 at the
kink, as in the networks.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import random

import sympy as sp

from ...errors import VerificationError
from ...model.unevaluated import add, mul, neg
from .evaluation import modest, try_value
from .expressions import sigmoid

NAMES = ("u", "v", "w", "p", "q", "r", "s")

TRIG = (sp.sin, sp.cos, sp.tan)
INVERSE_TRIG = (sp.asin, sp.acos, sp.atan)
HYPERBOLIC = (sp.sinh, sp.cosh)

RULE_TEXT = {
    "constant": "constant rule", "variable": "derivative of the variable", "power": "power rule",
    "sum": "sum rule", "constant multiple": "constant multiple rule", "product": "product rule",
    "quotient": "quotient rule", "chain": "chain rule", "exp": "exponential rule", "log": "logarithm rule",
    "trig": "trigonometric rule", "inverse trig": "inverse trigonometric rule",
    "hyperbolic": "hyperbolic rule", "sqrt": "square-root rule", "sigmoid": "sigmoid rule",
    "tanh": "tanh rule", "relu": "ReLU rule", "abs": "absolute-value rule", "max": "max rule",
    "min": "min rule", "general power": "general power rule",
}


@dataclass(frozen=True)
class Step:
    """d/d`variable` of `expression` = `formula` (the rule's instance) = `result`."""

    rule: str
    expression: sp.Expr
    variable: sp.Symbol
    formula: sp.Expr
    result: sp.Expr
    steps: tuple["Step", ...] = ()
    inner: tuple[sp.Symbol, sp.Expr] | None = None   # chain rule: u = the inner function

    def flat(self) -> list["Step"]:
        """This step and every step under it, in the order they are shown (pre-order)."""
        return [self] + [s for step in self.steps for s in step.flat()]

    def rules(self) -> list[str]:
        return [s.rule for s in self.flat()]


def diff(expr: sp.Expr, x: sp.Symbol) -> sp.Expr:
    """sympy's derivative with the networks' convention at kinks: Heaviside(0) = 0, so ReLU'(0) = 0."""
    result = sp.diff(expr, x)
    steps = {h: sp.Heaviside(h.args[0], 0) for h in result.atoms(sp.Heaviside)}
    return result.xreplace(steps) if steps else result


def d(expr: sp.Expr, x: sp.Symbol) -> sp.Expr:
    """A derivative still to be worked out, as a formula shows it."""
    return sp.Derivative(expr, x, evaluate=False)


def times(*factors: sp.Expr) -> sp.Expr:
    """An unevaluated product without factors of 1; 0 if any factor is 0; numbers in front."""
    factors = tuple(sp.sympify(f) for f in factors)
    numbers = [f for f in factors if isinstance(f, sp.Number)]
    if any(f == 0 for f in numbers):
        return sp.Integer(0)
    rest = [f for f in factors if not isinstance(f, sp.Number)]
    flat: list[sp.Expr] = []
    for f in rest:
        if isinstance(f, sp.Mul) and f.args and isinstance(f.args[0], sp.Number):
            numbers.append(f.args[0])
            flat.extend(f.args[1:])
        else:
            flat.append(f)
    c = tidy(sp.Mul(*numbers)) if numbers else sp.Integer(1)
    if c == 0:
        return sp.Integer(0)
    if c == 1:
        return mul(*flat) if flat else sp.Integer(1)
    if not flat:
        return c
    if c < 0:
        return neg(mul(*flat)) if c == -1 else neg(mul(-c, *flat))
    return mul(c, *flat)


def plus(*terms: sp.Expr) -> sp.Expr:
    kept = [t for t in terms if t != 0]
    return add(*kept) if kept else sp.Integer(0)


def evaluate(expr: sp.Basic) -> sp.Basic:
    """The same tree rebuilt with evaluation (Derivative placeholders are not expected here)."""
    if not expr.args or isinstance(expr, sp.Number):
        return expr
    if isinstance(expr, sp.Heaviside):
        return sp.Heaviside(*[evaluate(a) for a in expr.args])
    return expr.func(*[evaluate(a) for a in expr.args])


def tidy(expr: sp.Expr) -> sp.Expr:
    """Whole floats become integers (0.5 * 2 x = 1.0 x is shown as x)."""
    floats = {f: sp.Integer(int(f)) for f in expr.atoms(sp.Float) if float(f).is_integer()}
    return expr.xreplace(floats) if floats else expr


@dataclass
class _Names:
    """Fresh names for inner functions: u, v, w, ... skipping names already in use."""

    taken: set = field(default_factory=set)
    used: int = 0

    def next(self) -> sp.Symbol:
        while True:
            i = self.used
            self.used += 1
            name = NAMES[i] if i < len(NAMES) else f"u_{i - len(NAMES) + 1}"
            if name not in self.taken:
                return sp.Symbol(name, real=True)


def derive(expr: sp.Expr, x: sp.Symbol, taken: set[str] | None = None) -> Step:
    """Differentiate `expr` by `x` rule by rule; `taken` are names inner functions must not get."""
    names = _Names({str(s) for s in expr.free_symbols} | set(taken or ()))
    return _derive(expr, x, names)


def _leaf(rule: str, expr, x, result) -> Step:
    return Step(rule, expr, x, result, result)


def _derive(expr: sp.Expr, x: sp.Symbol, names: _Names) -> Step:
    if x not in expr.free_symbols:
        return _leaf("constant", expr, x, sp.Integer(0))
    if expr == x:
        return _leaf("variable", expr, x, sp.Integer(1))
    if isinstance(expr, sp.Add):
        return _sum(expr, x, names)
    if isinstance(expr, sp.Mul):
        return _mul(expr, x, names)
    if isinstance(expr, sp.Pow):
        return _pow(expr, x, names)
    if isinstance(expr, (sp.Max, sp.Min)):
        return _extremum(expr, x, names)
    if isinstance(expr, sp.Function) and len(expr.args) == 1:
        arg = expr.args[0]
        if arg != x:
            return _chain(expr, arg, x, names)
        rule, result = _table(expr)
        return _leaf(rule, expr, x, result)
    result = diff(expr, x)   # nothing the parser admits gets here; kept for completeness
    return _leaf("derivative", expr, x, result)


def _table(expr: sp.Expr) -> tuple[str, sp.Expr]:
    """The derivative of a function of the variable itself: (rule, f'(x))."""
    a = expr.args[0]
    if isinstance(expr, sp.exp):
        return "exp", expr
    if isinstance(expr, sp.log):
        return "log", sp.Pow(a, -1, evaluate=False)
    if isinstance(expr, sp.sin):
        return "trig", sp.cos(a)
    if isinstance(expr, sp.cos):
        return "trig", neg(sp.sin(a))
    if isinstance(expr, sp.tan):
        return "trig", sp.Pow(sp.cos(a), -2, evaluate=False)
    if isinstance(expr, sp.asin):
        return "inverse trig", sp.Pow(add(sp.Integer(1), neg(sp.Pow(a, 2, evaluate=False))), -sp.S.Half,
                                      evaluate=False)
    if isinstance(expr, sp.acos):
        return "inverse trig", neg(sp.Pow(add(sp.Integer(1), neg(sp.Pow(a, 2, evaluate=False))),
                                          -sp.S.Half, evaluate=False))
    if isinstance(expr, sp.atan):
        return "inverse trig", sp.Pow(add(sp.Integer(1), sp.Pow(a, 2, evaluate=False)), -1, evaluate=False)
    if isinstance(expr, sp.sinh):
        return "hyperbolic", sp.cosh(a)
    if isinstance(expr, sp.cosh):
        return "hyperbolic", sp.sinh(a)
    if isinstance(expr, sp.tanh):
        return "tanh", add(sp.Integer(1), neg(sp.Pow(sp.tanh(a), 2, evaluate=False)))
    if isinstance(expr, sigmoid):
        return "sigmoid", mul(sigmoid(a), add(sp.Integer(1), neg(sigmoid(a))))
    if isinstance(expr, sp.Abs):
        return "abs", sp.sign(a)
    return "derivative", diff(expr, a)


def _chain(expr: sp.Expr, arg: sp.Expr, x: sp.Symbol, names: _Names, rebuild=None) -> Step:
    """f(g(x)): u = g(x), df/dx = df/du . du/dx."""
    u = names.next()
    outer_expr = rebuild(u) if rebuild else expr.func(u)
    outer = _derive(outer_expr, u, names)
    inner = _derive(arg, x, names)
    formula = mul(d(outer_expr, u), d(u, x))
    result = times(tidy(outer.result.xreplace({u: arg})), inner.result)
    return Step("chain", expr, x, formula, result, (outer, inner), (u, arg))


def _sum(expr: sp.Add, x, names) -> Step:
    terms = [t for t in expr.args if x in t.free_symbols]   # the others are constants: 0
    parts = [_derive(t, x, names) for t in terms]
    formula = add(*[d(t, x) for t in terms])
    return Step("sum", expr, x, formula, plus(*[p.result for p in parts]), tuple(parts))


def _mul(expr: sp.Mul, x, names) -> Step:
    factors = list(expr.args)
    constants = [f for f in factors if x not in f.free_symbols]
    others = [f for f in factors if x in f.free_symbols]
    if constants:
        c, g = mul(*constants), mul(*others)
        part = _derive(g, x, names)
        return Step("constant multiple", expr, x, times(c, d(g, x)), times(c, part.result), (part,))
    below = [f for f in others if isinstance(f, sp.Pow) and f.exp.is_number and f.exp.is_negative]
    above = [f for f in others if f not in below]
    if below and above:
        u = mul(*above)
        v = mul(*[sp.Pow(f.base, -f.exp, evaluate=False) if f.exp != -1 else f.base for f in below])
        du, dv = _derive(u, x, names), _derive(v, x, names)
        over = sp.Pow(v, 2, evaluate=False) if not (isinstance(v, sp.Pow) and v.exp.is_number) \
            else sp.Pow(v.base, 2 * v.exp, evaluate=False)
        formula = mul(add(mul(d(u, x), v), neg(mul(u, d(v, x)))), sp.Pow(over, -1, evaluate=False))
        top = plus(times(du.result, v), times(-1, u, dv.result))
        result = mul(top, sp.Pow(over, -1, evaluate=False)) if top != 0 else sp.Integer(0)
        return Step("quotient", expr, x, formula, result, (du, dv))
    # (u v w)' = u' v w + u v' w + u v w'
    parts = [_derive(f, x, names) for f in others]
    formula = add(*[mul(*[d(f, x) if j == i else f for j, f in enumerate(others)])
                    for i in range(len(others))])
    result = plus(*[times(*[parts[i].result if j == i else f for j, f in enumerate(others)])
                    for i in range(len(others))])
    return Step("product", expr, x, formula, result, tuple(parts))


def _pow(expr: sp.Pow, x, names) -> Step:
    base, exp = expr.args
    if x not in exp.free_symbols:
        if exp == sp.S.Half:
            if base != x:
                return _chain(expr, base, x, names, rebuild=sp.sqrt)
            result = sp.Pow(mul(sp.Integer(2), expr), -1, evaluate=False)
            return _leaf("sqrt", expr, x, result)
        if base != x:
            return _chain(expr, base, x, names, rebuild=lambda u: sp.Pow(u, exp, evaluate=False))
        lowered = sp.Add(exp, -1) if not exp.is_Number else exp - 1
        formula = times(exp, sp.Pow(x, add(exp, sp.Integer(-1)), evaluate=False))
        result = times(exp, x if lowered == 1 else sp.Integer(1) if lowered == 0 else
                       sp.Pow(x, lowered, evaluate=False))
        return Step("power", expr, x, formula, tidy(result))
    if x not in base.free_symbols:
        if exp != x:
            return _chain(expr, exp, x, names, rebuild=lambda u: sp.Pow(base, u, evaluate=False))
        result = expr if base == sp.E else times(expr, sp.log(base))
        return _leaf("exp", expr, x, result)
    # f(x)^g(x) = e^(g ln f): d/dx = f^g (g' ln f + g f'/f)
    dg, df = _derive(exp, x, names), _derive(base, x, names)
    formula = mul(expr, add(mul(d(exp, x), sp.log(base)), mul(exp, d(base, x), sp.Pow(base, -1, evaluate=False))))
    result = times(expr, plus(times(dg.result, sp.log(base)),
                              times(exp, df.result, sp.Pow(base, -1, evaluate=False))))
    return Step("general power", expr, x, formula, result, (dg, df))


def _step(a: sp.Expr) -> sp.Expr:
    return sp.Heaviside(a, 0)


def _extremum(expr, x, names) -> Step:
    """relu(g) = max(0, g) and max/min of two expressions: derivative 0 at a tie (the kink)."""
    is_max = isinstance(expr, sp.Max)
    args = list(expr.args)
    constants = [a for a in args if x not in a.free_symbols]
    others = [a for a in args if x in a.free_symbols]
    if len(others) == 1 and len(args) == 2:
        (g,), (c,) = others, constants
        rebuild = (lambda u: expr.func(c, u))
        if g != x:
            return _chain(expr, g, x, names, rebuild=rebuild)
        rule = "relu" if is_max and c == 0 else ("max" if is_max else "min")
        result = _step(x - c if is_max else c - x)
        return _leaf(rule, expr, x, result)
    if len(args) == 2:
        a, b = args
        da, db = _derive(a, x, names), _derive(b, x, names)
        first, second = (_step(a - b), _step(b - a)) if is_max else (_step(b - a), _step(a - b))
        formula = add(mul(first, d(a, x)), mul(second, d(b, x)))
        result = plus(times(first, da.result), times(second, db.result))
        return Step("max" if is_max else "min", expr, x, formula, result, (da, db))
    return _leaf("max" if is_max else "min", expr, x, diff(expr, x))


# -- checking and the final form ------------------------------------------------------------------------

def check(step: Step, expr: sp.Expr, x: sp.Symbol, where: str) -> sp.Expr:
    """The steps' result (evaluated) must equal sympy's derivative of `expr`; returns it.

    Equal when the difference expands to 0, or (kinks aside) it vanishes at several points to 10
    digits (typed decimals carry a double's precision, so the two may round differently); a difference is a VerificationError (exit 3). Where no point of 200 tried is in the
    domain, nothing more is proved here (the values at --at are still checked by differences)."""
    ours = tidy(evaluate(step.result))
    theirs = diff(evaluate(expr), x)
    difference = ours - theirs
    if difference == 0 or (modest(difference, 60) and sp.expand(difference) == 0):
        return ours
    symbols = sorted(difference.free_symbols, key=str)
    rng = random.Random(1)
    tried = 0
    for attempt in range(200):    # points near 1 first, then of any size (asin(x + 5) lives near -5)
        point = {s: (rng.uniform(0.1, 2.0) if attempt < 20 else 10 ** rng.uniform(-2, 3))
                 * rng.choice((1, -1)) for s in symbols}
        value, size = try_value(difference, point, 40), try_value(theirs, point, 40)
        if value is None or size is None:
            continue
        if abs(value) > 1e-10 * max(abs(size), abs(size + value)) + 1e-25:   # decimals are doubles
            raise VerificationError(f"internal check failed for {where}: the rules give {ours}, "
                                    f"sympy {theirs}"[:300])
        tried += 1
        if tried == 4:
            break
    return ours


def chain_names(step: Step) -> list[sp.Expr]:
    """The inner functions the chain steps named (u = ...), outermost first."""
    return [s.inner[1] for s in step.flat() if s.inner is not None]


def _shown(expr: sp.Expr) -> sp.Expr:
    """expr without its reciprocals 1/u (what is left shows the chain's inner functions)."""
    return expr.replace(lambda n: isinstance(n, sp.Pow) and n.exp == -1, lambda n: sp.Integer(1))


SIMPLIFY_UP_TO = 30   # operations: larger results are shown as the rules built them (sympy's
MAX_SIMPLIFIED = 16   # simplify takes up to a second on such a result; at most 16 a command)
DETERMINANT_UP_TO = 80   # a determinant (one a command) may be larger: spherical coordinates' is 55


def textbook(expr: sp.Expr, printer, inner: list[sp.Expr] = (), written: sp.Expr | None = None,
             simplify: bool = True, operations: int = SIMPLIFY_UP_TO) -> sp.Expr:
    """The final answer as a textbook writes it: of the rules' result, its simplify and its trigsimp,
    the shortest printed (with `simplify` False only the first two; on a tie the rules' own `written` form, in the order the rules built it),
    among those that keep every inner function the chain rule named (`inner`)
    that the result shows other than as a reciprocal: sin(x)^2 gives 2 sin(x) cos(x), not sin(2x),
    but log(cos x) gives -tan x (from -sin(x) / cos(x)); a power of a sum is not expanded either."""
    candidates = ([tidy(written)] if written is not None else []) + [expr]
    if simplify and modest(expr, operations):
        for form in (sp.simplify(expr), sp.trigsimp(expr)):
            form = tidy(form)
            if form not in candidates and not form.has(sp.Piecewise):
                candidates.append(form)
    shown = _shown(expr)
    keep = [k for k in (tidy(evaluate(i)) for i in inner) if shown.has(k)]
    keep += [p.base for p in shown.atoms(sp.Pow) if isinstance(p.base, sp.Add)]   # (1 + x^2)^2 stays
    fair = [c for c in candidates if all(c.has(k) for k in keep)]
    return min(fair, key=lambda c: (len(printer(c)), candidates.index(c)))
