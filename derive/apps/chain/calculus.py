"""The chain rule and the Jacobian for any expression, as plain records.

A chain problem is a function f of variables, possibly through named inner functions
(`--let y = 0.5*x**2`). As in the lecture and in `derivation`, each function knows only its
local partials (the rules of `rules` differentiate f = sin(y) by y, and y = 0.5 x^2 by x); the
chain rule multiplies them along every path from f to a variable and sums the paths. Without inner
functions the rules work on f itself and find its chains (u = ...) on their own. Every rule result
is proved equal to sympy's derivative; values come from `evaluation`. `budget` refuses, before any
work, what would take too long. The records hold sympy expressions; `printing` typesets them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import sympy as sp

from . import budget, evaluation
from ...errors import DeriveError
from ...model.unevaluated import add, mul
from .expressions import Parsed, shown, symbol
from .rules import DETERMINANT_UP_TO, MAX_SIMPLIFIED, Step, chain_names, check, derive, diff, textbook


@dataclass(frozen=True)
class Derivative:
    """The name d num / d den: ordinary (d) when num depends on one variable, else partial."""

    num: sp.Symbol
    den: sp.Symbol
    ordinary: bool = False


@dataclass(frozen=True)
class Definition:
    """One function of the forward pass: name = expr (as written) = value."""

    name: sp.Symbol
    expr: sp.Expr
    value: float | None


@dataclass(frozen=True)
class Local:
    """A local partial: d f / d y = cos(y), worked rule by rule on f's own expression only."""

    derivative: Derivative
    expr: sp.Expr
    value: float | None
    step: Step | None = None


@dataclass(frozen=True)
class Gradient:
    """d f / d x: the sum over paths of products of local partials, in three forms and a value.

    `product` has the local expressions (inner functions by name), `expanded` the same with every
    inner function written out in the variables, `expression` is that sum evaluated by sympy.
    """

    derivative: Derivative
    paths: tuple[tuple[Derivative, ...], ...]
    product: sp.Expr
    expanded: sp.Expr
    expression: sp.Expr
    value: float | None
    step: Step | None = None          # without inner functions: the rules applied to f itself


@dataclass
class ChainRule:
    function: sp.Symbol
    definitions: list[Definition]    # inner functions in forward order, f last
    locals: list[Local]
    gradients: list[Gradient]
    expression: sp.Expr               # f in the variables only (evaluated)
    variables: list[sp.Symbol]        # every variable f depends on (the leaves)
    values: dict[sp.Symbol, float] | None  # leaves and inner functions at --at
    value: float | None


def tidy(expr: sp.Expr) -> sp.Expr:
    """Whole floats become integers (d/dx 0.5 x^2 = 1.0 x is shown as x)."""
    floats = {f: sp.Integer(int(f)) for f in expr.atoms(sp.Float) if float(f).is_integer()}
    return expr.xreplace(floats) if floats else expr


def ordered_symbols(expr: sp.Expr) -> list[sp.Symbol]:
    """The symbols of an expression in the order they are written."""
    out: list[sp.Symbol] = []
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Symbol) and node not in out:
            out.append(node)
    return out


def value_at(expr: sp.Expr, values: Mapping[sp.Symbol, float], what: str) -> float:
    """A real number, or a DeriveError saying which quantity is undefined at the point."""
    return evaluation.value(expr, values, what)


def _cut(text: str) -> str:
    """A list of names in a message, cut to about 80 characters."""
    return text if len(text) <= 80 else text[:77] + "..."


def point_values(point: Mapping[str, float] | None, variables: list[sp.Symbol],
                 inner: Mapping[sp.Symbol, object] = {}) -> dict[sp.Symbol, float] | None:
    """--at as {Symbol: value}: every variable given, nothing unknown, no inner function."""
    if point is None:
        return None
    names = {str(v) for v in variables}
    for name in point:
        if symbol(name) in inner:
            raise DeriveError(f"{name} is an inner function (computed from its definition); "
                              "give only the variables", field="--at")
        if name not in names:
            raise DeriveError(f"{name} does not occur in the expression", field="--at")
    missing = [str(v) for v in variables if str(v) not in point]
    if missing:
        raise DeriveError(f"missing a value for {_cut(', '.join(missing))}", field="--at")
    return {v: float(point[str(v)]) for v in variables}


def check_wrt(wrt: list[str] | None, variables: list[sp.Symbol], inner: Mapping = {}) -> list[sp.Symbol]:
    """The --wrt variables as symbols; by default every variable in the order written."""
    if wrt is None:
        return list(variables)
    out = []
    for name in wrt:
        s = symbol(name)
        if s in inner:
            raise DeriveError(f"{name} is an inner function; differentiate with respect to the "
                              "variables it depends on", field="--wrt")
        if s not in variables:
            raise DeriveError(f"{name} does not occur in the expression", field="--wrt")
        out.append(s)
    return out


def _order_inner(function: sp.Symbol, body: Parsed, inner: dict[sp.Symbol, Parsed]) -> list[sp.Symbol]:
    """Inner functions f uses, each after those it depends on (forward order); cycles refused."""
    order: list[sp.Symbol] = []
    visiting: list[sp.Symbol] = []

    def visit(name: sp.Symbol, parsed: Parsed) -> None:
        if name in order:
            return
        if name in visiting:
            cycle = " -> ".join(str(s) for s in visiting[visiting.index(name):] + [name])
            raise DeriveError(f"the definitions are circular: {cycle}", field="--let")
        visiting.append(name)
        for s in ordered_symbols(parsed.written):
            if s == function:
                cycle = " -> ".join(str(v) for v in visiting + [s])
                raise DeriveError(f"the definitions are circular: {cycle}", field="--let" if inner
                                  else "expression")
            if s in inner:
                visit(s, inner[s])
        visiting.pop()
        order.append(name)

    visit(function, body)
    return order[:-1]


def _by_rules(function, expr, x, variables, values, taken, printer, simplify: bool) -> Gradient:
    """df/dx worked rule by rule; the answer in the form a textbook prints (sympy's simplify is
    tried only when `simplify`)."""
    step = derive(expr, x, taken)
    result = check(step, expr, x, f"d{function}/d{x}")
    final = textbook(result, printer, chain_names(step), step.result, simplify) if printer else result
    value = value_at(final, values, f"d{function}/d{x}") if values else None
    total = Derivative(function, x, len(variables) == 1)
    return Gradient(total, ((Derivative(function, x, len(variables) == 1),),), step.result, step.result,
                    final, value, step)


def chain_rule(function: sp.Symbol, body: Parsed, inner: dict[sp.Symbol, Parsed],
               wrt: list[str] | None, point: Mapping[str, float] | None, printer=None) -> ChainRule:
    """Work the chain rule of f (= body) through the inner functions, for each --wrt variable;
    `printer` (a function to LaTeX) chooses the shortest textbook form of each answer."""
    if function in inner:
        raise DeriveError(f"{function} is both the function and an inner function", field="--let")
    order = _order_inner(function, body, inner)
    written = {**{s: inner[s].written for s in order}, function: body.written}
    budget.check(body.written, written, order)
    evaluated = {**{s: inner[s].evaluated for s in order}, function: body.evaluated}
    in_variables: dict[sp.Symbol, sp.Expr] = {}  # each function written out in the variables
    for s in order + [function]:
        in_variables[s] = tidy(evaluated[s].xreplace(in_variables))
    variables = _leaves(body, inner, function)
    if not variables:
        raise DeriveError(f"{shown(body.text)} depends on no variable", field="expression")
    targets = check_wrt(wrt, variables, written)
    values = point_values(point, variables, written)
    if values is not None:
        for s in order + [function]:
            values[s] = value_at(in_variables[s], values, str(s))

    def ordinary(s: sp.Symbol) -> bool:
        return len(evaluated[s].free_symbols) == 1

    definitions = [Definition(s, written[s], values[s] if values else None) for s in order + [function]]
    locals_: dict[tuple[sp.Symbol, sp.Symbol], Local] = {}

    taken = {str(s) for s in variables} | {str(s) for s in written}

    def local(a: sp.Symbol, b: sp.Symbol) -> Derivative:
        if (a, b) not in locals_:
            step = derive(written[a], b, taken)
            check(step, written[a], b, f"d{a}/d{b}")
            expr = tidy(diff(evaluated[a], b))
            value = value_at(expr, values, f"d{a}/d{b}") if values else None
            locals_[(a, b)] = Local(Derivative(a, b, ordinary(a)), expr, value, step)
        return locals_[(a, b)].derivative

    def paths(a: sp.Symbol, target: sp.Symbol) -> list[list[sp.Symbol]]:
        out = []
        for s in ordered_symbols(written[a]):
            if s == target:
                out.append([a, s])
            elif s in written:
                out.extend([a] + p for p in paths(s, target))
        return out

    gradients = []
    for x in targets:
        if not order:     # no inner functions: the rules on f itself, the chain rule found by them
            gradients.append(_by_rules(function, written[function], x, variables, values, taken, printer,
                                       len(gradients) < MAX_SIMPLIFIED))
            continue
        routes = paths(function, x)
        chains = tuple(tuple(local(p[i], p[i + 1]) for i in range(len(p) - 1)) for p in routes)
        factors = [[locals_[(d.num, d.den)].expr for d in chain] for chain in chains]
        product = add(*[mul(*f) for f in factors])
        expanded = add(*[mul(*[tidy(e.xreplace(in_variables)) for e in f]) for f in factors])
        expression = tidy(sp.Add(*[sp.Mul(*[e.xreplace(in_variables) for e in f]) for f in factors]))
        value = value_at(expression, values, f"d{function}/d{x}") if values else None
        total = Derivative(function, x, len(variables) == 1)
        gradients.append(Gradient(total, chains, product, expanded, expression, value))
    return ChainRule(function, definitions, list(locals_.values()), gradients,
                     in_variables[function], variables, values,
                     values[function] if values else None)


def _leaves(body: Parsed, inner: Mapping[sp.Symbol, Parsed], function: sp.Symbol) -> list[sp.Symbol]:
    """The variables under f in the order first written, each inner function read in place."""
    out: list[sp.Symbol] = []
    done: set = set()

    def visit(parsed: Parsed) -> None:
        for name in parsed.names:
            s = symbol(name)
            if s in inner:
                if s not in done:
                    done.add(s)
                    visit(inner[s])
            elif s not in out and s != function:
                out.append(s)
    visit(body)
    return out


# -- Jacobian and the vector chain rule --------------------------------------------------------------

@dataclass(frozen=True)
class VectorChain:
    """z = g(y): dz/dx = (dy/dx)^T dz/dy, entry j = sum_i dy_i/dx_j dz/dy_i."""

    function: sp.Symbol
    expr: sp.Expr                    # g as written, in y (and constants)
    evaluated: sp.Expr               # g evaluated by sympy
    outer: list[Local]               # dz/dy_i in y
    products: list[sp.Expr]          # per x_j: sum_i J_ij dz/dy_i (names y kept)
    expressions: list[sp.Expr]       # the same in x only, evaluated
    values: list[float] | None
    value: float | None


@dataclass
class Jacobian:
    outputs: list[sp.Symbol]         # y_1 .. y_m
    components: list[sp.Expr]        # as written
    inputs: list[sp.Symbol]          # x_1 .. x_n (--wrt)
    entries: list[list[sp.Expr]]     # J[i][j] = d y_i / d x_j
    values: list[list[float]] | None
    point: dict[sp.Symbol, float] | None   # variables and outputs at --at
    chain: VectorChain | None
    determinant: sp.Expr | None = None          # square Jacobians: det, expanded by sympy
    simplified: sp.Expr | None = None           # the same as a textbook writes it (r for polar)
    determinant_value: float | None = None


MAX_DETERMINANT = 6   # the determinant of a square Jacobian up to 6 x 6,
MAX_DETERMINANT_SIZE = 300   # with entries of at most 300 operations together (a dense 6 x 6 of
                             # such entries takes about 10 s; the expansion has up to 720 products)


def jacobian(components: list[Parsed], wrt: list[str] | None, point: Mapping[str, float] | None,
             outputs: list[str] | None = None, outer: tuple[str, Parsed] | None = None,
             printer=None) -> Jacobian:
    """The Jacobian dy/dx of y = (components) and, given z = g(y), the vector chain rule; for a
    square Jacobian its determinant (`printer`, a function to LaTeX, picks the textbook form)."""
    if not components:
        raise DeriveError("no components given", field="expression")
    budget.check_all([c.written for c in components] + ([outer[1].written] if outer else []))
    names = outputs or [f"y{i + 1}" for i in range(len(components))]
    if len(names) != len(components):
        raise DeriveError(f"{len(names)} names for {len(components)} components", field="--outer")
    ys = [symbol(n) for n in names]
    variables: list[sp.Symbol] = []
    for c in components:
        variables += [symbol(n) for n in c.names if symbol(n) not in variables]
    for y in ys:
        if y in variables:
            raise DeriveError(f"{y} names a component and is also a variable of the components",
                              field="--outer")
    if not variables:
        raise DeriveError("the components depend on no variable", field="expression")
    inputs = check_wrt(wrt, variables)
    g_vars: list[sp.Symbol] = []
    if outer is not None:
        g_vars = [s for s in ordered_symbols(outer[1].written) if s not in ys]
        if not set(ys) & outer[1].written.free_symbols:
            raise DeriveError(f"the outer function uses none of the components {', '.join(names)} "
                              "(name them after 'in': \"EXPR in y1,y2\")", field="--outer")
        through = [str(s) for s in g_vars if s in inputs]
        if through:
            raise DeriveError(f"the outer function may depend on {', '.join(through)} only through "
                              f"{', '.join(names)}", field="--outer")
    values = point_values(point, variables + [s for s in g_vars if s not in variables])
    entries = [[tidy(diff(c.evaluated, x)) for x in inputs] for c in components]
    numbers = None
    if values is not None:
        for y, c in zip(ys, components):
            values[y] = value_at(c.evaluated, values, str(y))
        numbers = [[value_at(e, values, f"d{y}/d{x}") for e, x in zip(row, inputs)]
                   for y, row in zip(ys, entries)]
    chain = _vector_chain(outer, ys, components, inputs, entries, values) if outer else None
    det = simplified = det_value = None
    size = sum(sp.count_ops(e) + 1 for row in entries for e in row)
    if len(components) == len(inputs) <= MAX_DETERMINANT and size <= MAX_DETERMINANT_SIZE:
        det = sp.Matrix(entries).det(method="berkowitz")
        det = tidy(sp.expand(det) if evaluation.modest(det, 200) else det)
        simplified = textbook(det, printer, operations=DETERMINANT_UP_TO) if printer else det
        det_value = value_at(simplified, values, "the determinant") if values is not None else None
    return Jacobian(ys, [c.written for c in components], inputs, entries, numbers, values, chain,
                    det, simplified, det_value)


def _vector_chain(outer: tuple[str, Parsed], ys, components, inputs, entries, values) -> VectorChain:
    name, g = outer
    z = symbol(name)
    if z in ys or z in inputs:
        raise DeriveError(f"{z} is already a variable or a component", field="--outer")
    grad = [tidy(diff(g.evaluated, y)) for y in ys]
    outer_locals = [Local(Derivative(z, y, len(g.evaluated.free_symbols) == 1), e,
                          value_at(e, values, f"d{z}/d{y}") if values else None)
                    for y, e in zip(ys, grad)]
    in_x = {y: c.evaluated for y, c in zip(ys, components)}
    products, expressions = [], []
    for j in range(len(inputs)):
        products.append(add(*[mul(*[entries[i][j], grad[i]]) for i in range(len(ys))]))
        expressions.append(tidy(sp.Add(*[entries[i][j] * grad[i].xreplace(in_x)
                                          for i in range(len(ys))])))
    numbers = [value_at(e, values, f"d{z}/d{x}") for e, x in zip(expressions, inputs)] if values else None
    value = value_at(g.evaluated, values, str(z)) if values else None
    return VectorChain(z, g.written, g.evaluated, outer_locals, products, expressions, numbers, value)
