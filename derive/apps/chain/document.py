"""`derive chain` and `derive jacobian`: the chain rule, Jacobians and computation graphs of any
expression, as a LaTeX fragment (or a document with --standalone) or as JSON.

Arguments -> `expressions` (safe parsing) -> `calculus` / `graph` (records, numbers) -> display
lines made with the printer -> the `calculus.tex` template (or JSON). Nothing is written unless
everything succeeded.
"""
from __future__ import annotations

import sys

import numpy as np
import sympy as sp

from . import graph as graphs
from ...errors import DeriveError, VerificationError
from ...layout.blocks import Block, Line, Section
from ...output.folders import dumps_json, write_file
from ...output.render import render
from ...printing.calculus import CalculusPrinter
from ...printing.width import latex_width
from .calculus import ChainRule, Derivative, Jacobian, chain_rule, jacobian, value_at
from .expressions import parse, parse_names, parse_point, split_definition, symbol
from .layout import step_json, step_lines
from .rules import RULE_TEXT, times
from .verify import check_partials

PACKAGES = r"\usepackage{amsmath,tikz}"
WIDTH = 60          # about 5.5 pt each (latex_width): a row of an article's text width
GRAPH_DECIMALS = 3  # at most this many places on a graph's wires, as in the CS231n notes


def _check_options(args) -> None:
    if not 0 <= args.decimals <= 15:
        raise DeriveError(f"expected 0 to 15 decimal places, got {args.decimals}", field="--decimals")
    if args.json and (args.standalone or getattr(args, "graph", False)):
        raise DeriveError("cannot be combined with " + ("--standalone" if args.standalone else "--graph")
                          + " (JSON holds expressions and numbers, not LaTeX)", field="--json")


def _emit(args, text: str) -> int:
    if args.output:
        write_file(args.output, text)
    else:
        sys.stdout.write(text)
    return 0


def _latex(args, sections: list[Section], graph: dict | None = None) -> str:
    context = {"sections": sections, "graph": graph, "packages": PACKAGES}
    return render("calculus_document.tex" if args.standalone else "calculus.tex", context)


def _rhs(forms: list[str]) -> list[str]:
    """Right-hand sides with consecutive repeats dropped."""
    out: list[str] = []
    for form in forms:
        if not out or out[-1] != form:
            out.append(form)
    return out


def _rows(lhs: str, forms: list[str]) -> list[Line]:
    """lhs = form = form ..., continued on further rows (= form) when it would be too wide."""
    forms = _rhs(forms)
    rows = [Line(lhs, [forms[0]])]
    used = latex_width(lhs) + 2 + latex_width(forms[0])
    for form in forms[1:]:
        width = 2 + latex_width(form)    # " = form"
        if used + width > WIDTH:
            rows.append(Line("", [form]))
            used = latex_width(lhs) + width
        else:
            rows[-1].rhs.append(form)
            used += width
    return rows


def _simpler(expr: sp.Expr, than: sp.Expr) -> bool:
    return sp.count_ops(expr) < sp.count_ops(than)


# -- derive chain ---------------------------------------------------------------------------------------

def run_chain(args) -> int:
    _check_options(args)
    name, text = split_definition(args.expression, "expression", default="f")
    body = parse(text, "expression")
    inner = {}
    for definition in args.let:
        let_name, let_text = split_definition(definition, "--let")
        if symbol(let_name) in inner:
            raise DeriveError(f"{let_name} is defined twice", field="--let")
        inner[symbol(let_name)] = parse(let_text, f"--let {let_name}")
    wrt = parse_names(args.wrt, "--wrt") if args.wrt else None
    point = parse_point(args.at) if args.at else None
    p = CalculusPrinter(args.decimals)
    rule = chain_rule(symbol(name), body, inner, wrt, point, p.symbolic)
    if rule.values is not None:   # trust, but verify: finite differences of the composed function
        check_partials(rule.expression, rule.variables, rule.values,
                       {g.derivative.den: g.value for g in rule.gradients}, f"d{rule.function}")
    if args.json:
        return _emit(args, dumps_json(chain_json(rule)))
    graph = None
    if args.graph:
        graph = graph_context(rule, {s: d.written for s, d in inner.items()},
                              CalculusPrinter(min(args.decimals, GRAPH_DECIMALS)))
    return _emit(args, _latex(args, chain_sections(rule, p, args.brief), graph))


def chain_json(rule: ChainRule) -> dict:
    data: dict = {"function": str(rule.expression)}
    if rule.value is not None:
        data["value"] = rule.value
    gradient = {}
    for g in rule.gradients:
        entry: dict = {"expression": str(g.expression)}
        if g.value is not None:
            entry["value"] = g.value
        entry["steps"] = [step_json(g.step)] if g.step is not None else [_paths_json(rule, g)]
        gradient[str(g.derivative.den)] = entry
    data["gradient"] = gradient
    return data


def _paths_json(rule: ChainRule, g) -> dict:
    """Through named inner functions: the chain rule over the paths, each local derivative's steps."""
    locals_ = {(l.derivative.num, l.derivative.den): l for l in rule.locals}
    body = next(d.expr for d in rule.definitions if d.name == rule.function)
    parts = []
    for chain in g.paths:
        for d in chain:
            step = locals_[(d.num, d.den)].step
            if step is not None and step_json(step) not in parts:
                parts.append(step_json(step))
    return {"rule": "chain", "expression": str(body), "result": str(g.expression), "steps": parts}


def chain_sections(rule: ChainRule, p: CalculusPrinter, brief: bool = False) -> list[Section]:
    values = rule.values
    nested = len(rule.definitions) > 1
    what = "The function" + (" and its inner functions" if nested else "")
    definitions = Block(what + (", evaluated at the point:" if values else ":"), [
        row for d in rule.definitions for row in _rows(p.name(d.name), p.chain(d.name, d.expr, values, d.value))])
    sections = [Section("Function", [definitions])]
    if nested:
        local_lines = []
        for l in rule.locals:
            rows = _rows(p.derivative(l.derivative.num, l.derivative.den, l.derivative.ordinary),
                         p.chain(l.derivative.num, l.expr, values, l.value))
            if l.step is not None and not l.step.steps:
                rows[0].rhs[-1] += p.note(RULE_TEXT.get(l.step.rule, l.step.rule))
            local_lines += rows
            if l.step is not None and l.step.steps:
                local_lines += step_lines(l.step, p, brief)
        sections.append(Section("Local derivatives", [Block(
            "Local derivatives: each function differentiated by its own arguments only, rule by rule:",
            local_lines)]))
    else:
        for g in rule.gradients:
            sections.append(Section("Rules", [Block(
                f"The derivative with respect to {g.derivative.den}, rule by rule"
                + (" (elementary steps folded):" if brief else ":"),
                step_lines(g.step, p, brief, p.derivative(g.derivative.num, g.derivative.den,
                                                          g.derivative.ordinary)))]))
    lines = []
    for g in rule.gradients:
        if g.step is not None:     # worked by the rules above
            d = g.derivative
            lhs = p.derivative(d.num, d.den, d.ordinary)
            in_u = at = None
            if g.step.inner is not None:     # the chain in u first: dsigma/du . du/dx
                u, inner = g.step.inner
                outer, part = g.step.steps
                in_u = times(outer.result, part.result)
                if values is not None:
                    at = {**values, u: value_at(inner, values, str(u))}
            forms = ([p.symbolic(in_u)] if in_u is not None else []) + [p.symbolic(g.step.result),
                                                                         p.symbolic(g.expression)]
            if values is not None:
                forms.append(p.substituted(in_u, at) if in_u is not None else
                             p.substituted(g.expression, values))
                forms.append(p.number(g.value))
            room = WIDTH - latex_width(lhs) - 2
            lines += _rows(lhs, [f for f in forms[:-1] if latex_width(f) <= room] + forms[-1:])
            continue
        d = g.derivative
        forms = []
        if nested and (len(g.paths) > 1 or len(g.paths[0]) > 1):
            forms.append(p.paths(g.paths))
        forms += [p.symbolic(g.product), p.symbolic(g.expanded)]
        last = g.expanded
        if _simpler(g.expression, g.expanded):
            forms.append(p.symbolic(g.expression))
            last = g.expression
        if values is not None:
            forms += [p.substituted(last, values), p.number(g.value)]
        lines += _rows(p.derivative(d.num, d.den, d.ordinary), forms)
    text = ("The chain rule: the product of the local derivatives along each path from "
            f"{rule.function} to the variable, summed over the paths:") if nested else \
        "The derivatives:"
    sections.append(Section("Chain rule", [Block(text, lines)]))
    return sections


def graph_context(rule: ChainRule, inner: dict, p: CalculusPrinter) -> dict:
    """The computation graph as TikZ records: nodes placed in columns, wires with value/gradient."""
    body = next(d.expr for d in rule.definitions if d.name == rule.function)
    try:
        g = graphs.build(body, rule.function, inner)
    except ValueError as exc:
        raise DeriveError(f"cannot draw the graph: {exc}", field="--graph") from None
    if rule.values is not None:
        graphs.forward(g, rule.values)
        graphs.backward(g)
        _check_graph(g, rule)
    graphs.layout(g)
    ids = {id(n): f"n{i}" for i, n in enumerate(g.nodes)}
    wires = []
    for a, n, i in g.edges():
        value = gradient = None
        if rule.values is not None:
            named = a.op is not None and a.symbol is not None
            value = p.labelled(a.symbol, a.value) if named else p.number(a.value)
            gradient = p.number(n.grad * n.local[i])
        wires.append({"source": ids[id(a)], "target": ids[id(n)], "value": value, "gradient": gradient})
    if rule.values is not None:
        wires.append({"source": ids[id(g.output)], "target": "out", "value": p.number(g.output.value),
                      "gradient": p.number(1.0)})
    else:
        wires.append({"source": ids[id(g.output)], "target": "out", "value": None, "gradient": None})
    width = max([len(w["value"] or "") for w in wires] + [len(w["gradient"] or "") for w in wires])
    dx = max(2.4, 1.2 + 0.14 * width)
    nodes = [{"id": ids[id(n)], "style": "var" if n.op is None else "op",
              "label": p.name(n.symbol) if n.op is None else p.operation(n.op, list(n.dummies)),
              "x": f"{n.column * dx:.2f}", "y": f"{-1.6 * n.row + 0.0:.2f}"} for n in g.nodes]
    last = g.output
    nodes.append({"id": "out", "style": "var", "label": p.name(rule.function),
                  "x": f"{(last.column + 1) * dx:.2f}", "y": f"{-1.6 * last.row + 0.0:.2f}"})
    return {"nodes": nodes, "wires": wires, "numbers": rule.values is not None}


def _check_graph(g: graphs.Graph, rule: ChainRule) -> None:
    """Backpropagation on the graph must give the chain rule's numbers."""
    by_symbol = {n.symbol: n for n in g.inputs}
    for grad in rule.gradients:
        node = by_symbol[grad.derivative.den]
        if abs(node.grad - grad.value) > 1e-9 * max(1.0, abs(grad.value)):
            raise VerificationError(f"the graph gives d{rule.function}/d{node.symbol} = {node.grad}, "
                                    f"the chain rule {grad.value}")


# -- derive jacobian ------------------------------------------------------------------------------------

def _split_components(text: str) -> list[str]:
    """Split "x1*x2, max(x1, x2)" at the commas outside parentheses."""
    parts, depth, current = [], 0, ""
    for c in text:
        depth += (c == "(") - (c == ")")
        if c == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += c
    parts.append(current)
    return parts


def _outer(text: str) -> tuple[str, str, list[str] | None]:
    """--outer "z = y1*y2 in y1,y2" -> ("z", "y1*y2", ["y1", "y2"])."""
    names = None
    head, sep, tail = text.rpartition(" in ")
    if sep:
        text, names = head, parse_names(tail, "--outer")
    name, expr = split_definition(text, "--outer", default="z")
    return name, expr, names


def run_jacobian(args) -> int:
    _check_options(args)
    components = [parse(c, f"component {i + 1}")
                  for i, c in enumerate(_split_components(args.expression))]
    wrt = parse_names(args.wrt, "--wrt") if args.wrt else None
    point = parse_point(args.at) if args.at else None
    outer = outputs = None
    if args.outer:
        name, text, outputs = _outer(args.outer)
        outer = (name, parse(text, "--outer"))
    p = CalculusPrinter(args.decimals)
    j = jacobian(components, wrt, point, outputs, outer, p.symbolic)
    if j.determinant_value is not None:   # the determinant of the numbers, computed independently
        independent = float(np.linalg.det(np.array(j.values, dtype=float)))
        scale = float(np.prod([max(1.0, max(abs(v) for v in row)) for row in j.values]))
        if abs(independent - j.determinant_value) > 1e-9 * scale:
            raise VerificationError(f"internal check failed for the determinant: derived "
                                    f"{j.determinant_value:.17g}, from the numbers {independent:.17g}")
    if j.point is not None:       # trust, but verify: finite differences, entry by entry
        for y, c, row in zip(j.outputs, components, j.values):
            _check(c.evaluated, j.point, dict(zip(j.inputs, row)), f"d{y}")
        if j.chain is not None:
            composed = j.chain.evaluated.xreplace({y: c.evaluated for y, c in zip(j.outputs, components)})
            _check(composed, j.point, dict(zip(j.inputs, j.chain.values)), f"d{j.chain.function}")
    if args.json:
        return _emit(args, dumps_json(jacobian_json(j)))
    return _emit(args, _latex(args, jacobian_sections(j, p)))


def _check(expr: sp.Expr, point: dict, partials: dict, where: str) -> None:
    variables = sorted(expr.free_symbols, key=str)
    check_partials(expr, variables, point, partials, where)


def jacobian_json(j: Jacobian) -> dict:
    data: dict = {"jacobian": [[str(e) for e in row] for row in j.entries]}
    if j.values is not None:
        data["values"] = j.values
    if j.determinant is not None:
        data["determinant"] = {"expression": str(j.simplified),
                               **({"value": j.determinant_value} if j.determinant_value is not None else {})}
    if j.chain is not None:
        c = j.chain
        outer: dict = {"function": str(c.evaluated)}
        if c.value is not None:
            outer["value"] = c.value
        outer["gradient"] = {str(l.derivative.den): {"expression": str(l.expr),
                                                     **({"value": l.value} if l.value is not None else {})}
                             for l in c.outer}
        data["outer"] = outer
        data["gradient"] = {str(x): {"expression": str(e), **({"value": v} if v is not None else {})}
                            for x, e, v in zip(j.inputs, c.expressions, c.values or [None] * len(j.inputs))}
    return data


def _vector_name(symbols: list[sp.Symbol], default: str) -> str:
    """x for x1, x2, x3; the default when the names share no stem."""
    stems = {s.name.rstrip("0123456789").rstrip("_") for s in symbols}
    stem = stems.pop() if len(stems) == 1 else ""
    return stem if stem.isalpha() and len(stem) == 1 else default


def jacobian_sections(j: Jacobian, p: CalculusPrinter) -> list[Section]:
    values = j.point
    y, x = _vector_name(j.outputs, "y"), _vector_name(j.inputs, "x")
    if y == x:
        y = "y" if x != "y" else "u"
    components = Block("The components" + (", evaluated at the point:" if values else ":"), [
        row for s, e in zip(j.outputs, j.components)
        for row in _rows(p.name(s), p.chain(s, e, values, values[s] if values else None))])
    names = [[Derivative(s, v) for v in j.inputs] for s in j.outputs]
    forms = [p.derivative_matrix(names), p.expression_matrix(j.entries)]
    if values is not None:
        forms += [p.expression_matrix(j.entries, values), p.number_matrix(j.values)]
    matrix = Block("The Jacobian: row i holds the partial derivatives of component i:",
                   _rows(p.jacobian_name(y, x), forms))
    sections = [Section("Components", [components]), Section("Jacobian", [matrix])]
    if j.determinant is not None:
        forms = [p.determinant(j.entries), p.symbolic(j.determinant), p.symbolic(j.simplified)]
        if latex_width(forms[1]) > WIDTH:     # a long expansion (3 x 3 and up): only its simplified form
            del forms[1]
        if values is not None:
            forms += [p.substituted(j.simplified, values), p.number(j.determinant_value)]
        sections.append(Section("Determinant", [Block(
            "The Jacobian is square: its determinant (the factor by which the map scales areas and "
            "volumes near a point):", _rows(p.determinant_name(y, x), forms))]))
    if j.chain is not None:
        c = j.chain
        outer = _rows(p.name(c.function), p.chain(c.function, c.expr, values, c.value))
        grad = [p.derivative_matrix([[l.derivative] for l in c.outer]),
                p.expression_matrix([[l.expr] for l in c.outer])]
        if values is not None:
            grad += [p.expression_matrix([[l.expr] for l in c.outer], values),
                     p.number_matrix([[l.value] for l in c.outer])]
        outer += _rows(p.gradient_name(c.function, y), grad)
        transposed = [[j.entries[i][k] for i in range(len(j.outputs))] for k in range(len(j.inputs))]
        chain = [p.vector_chain_rule(c.function, y, x),
                 p.product(p.expression_matrix(transposed),
                           p.expression_matrix([[l.expr] for l in c.outer])),
                 p.expression_matrix([[e] for e in c.products])]
        if values is not None:
            chain += [p.expression_matrix([[e] for e in c.products], values),
                      p.number_matrix([[v] for v in c.values])]
        outer += _rows(p.gradient_name(c.function, x), chain)
        sections.append(Section("Vector chain rule", [Block(
            "The vector chain rule: the transposed Jacobian times the gradient of the outer "
            "function:", outer)]))
    return sections

