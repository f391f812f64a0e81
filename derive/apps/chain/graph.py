"""A computation graph of an expression, and backpropagation on it, micrograd style.

One node per operation (+, x, exp, sin, (.)^2 ...; constants are folded into their operation: +1,
x(-1)). Each node knows only its operation as a sympy expression in dummy inputs, hence its local
partials; `backward` is a topological sort followed by reverse accumulation, each node passing
grad x local partial to its inputs. Inner functions (`--let q = x + y`) name the node that
computes them, as q in the CS231n notes. `layout` places the nodes in columns for TikZ.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import sympy as sp

from .calculus import value_at
from .rules import diff

_DUMMIES = sp.symbols("u0:32", real=True)


@dataclass(eq=False)
class Node:
    """An input (symbol) or an operation `op` applied to `inputs` (dummies u0, u1, ...)."""

    inputs: list["Node"] = field(default_factory=list)
    op: sp.Expr | None = None          # None for an input variable
    symbol: sp.Symbol | None = None    # the variable, or the inner function this node computes
    value: float | None = None
    grad: float = 0.0
    local: list[float] = field(default_factory=list)   # d op / d input_i at the forward values
    column: int = 0
    row: float = 0.0

    @property
    def dummies(self) -> tuple[sp.Symbol, ...]:
        return _DUMMIES[:len(self.inputs)]


@dataclass
class Graph:
    output: Node
    name: sp.Symbol                    # f
    nodes: list[Node]                  # topological order, inputs first

    @property
    def inputs(self) -> list[Node]:
        return [n for n in self.nodes if n.op is None]

    def edges(self) -> list[tuple[Node, Node, int]]:
        """(from, to, which input of `to`) for every wire."""
        return [(a, n, i) for n in self.nodes for i, a in enumerate(n.inputs)]


def build(expr: sp.Expr, name: sp.Symbol, inner: Mapping[sp.Symbol, sp.Expr]) -> Graph:
    """The graph of `expr` (as written); a symbol with a definition in `inner` is its own subgraph."""
    made: dict[sp.Basic, Node] = {}

    def node(e: sp.Expr) -> Node:
        if e in made:
            return made[e]
        if isinstance(e, sp.Symbol):
            if e in inner:
                n = node(inner[e])
                if n.symbol is None:
                    n.symbol = e
            else:
                n = Node(symbol=e)
        else:
            n = _operation(e, node)
        made[e] = n
        return n

    out = node(expr)
    if len(_DUMMIES) < max((len(n.inputs) for n in _topological(out)), default=0):
        raise ValueError("an operation with more than 32 inputs")
    return Graph(out, name, _topological(out))


def _operation(e: sp.Expr, node) -> Node:
    """One operation: its non-constant arguments become input nodes, constants stay in `op`."""
    if not e.free_symbols:
        raise ValueError("a constant has no node")
    inputs: list[Node] = []
    args = []
    for a in e.args:
        if a.free_symbols:
            args.append(_DUMMIES[len(inputs)])
            inputs.append(node(a))
        else:
            args.append(a)
    op = e.func(*args, evaluate=False) if isinstance(e, (sp.Add, sp.Mul, sp.Pow)) else e.func(*args)
    return Node(inputs=inputs, op=op)


def _topological(out: Node) -> list[Node]:
    order: list[Node] = []
    seen: set[int] = set()

    def visit(n: Node) -> None:
        if id(n) in seen:
            return
        seen.add(id(n))
        for a in n.inputs:
            visit(a)
        order.append(n)

    visit(out)
    return order


def forward(graph: Graph, values: Mapping[sp.Symbol, float]) -> None:
    """Every node's value and its local partials at that point."""
    for n in graph.nodes:
        if n.op is None:
            n.value = values[n.symbol]
            continue
        at = {d: a.value for d, a in zip(n.dummies, n.inputs)}
        n.value = value_at(n.op, at, str(n.symbol or graph.name))
        n.local = [value_at(diff(n.op, d), at, f"the local derivative of {n.symbol or 'a node'}")
                   for d in n.dummies]


def backward(graph: Graph) -> None:
    """Reverse accumulation: d f/d f = 1, then each node adds grad x local partial to its inputs."""
    for n in graph.nodes:
        n.grad = 0.0
    graph.output.grad = 1.0
    for n in reversed(graph.nodes):
        for a, local in zip(n.inputs, n.local):
            a.grad += n.grad * local


def layout(graph: Graph) -> None:
    """Columns by depth (inputs left, output right); rows: inputs in the order met, each operation
    level with the mean of its inputs, nodes of one column kept at least one row apart."""
    rows = 0
    for n in graph.nodes:
        if n.op is None:
            n.column, n.row = 0, float(rows)
            rows += 1
        else:
            n.column = 1 + max(a.column for a in n.inputs)
            n.row = sum(a.row for a in n.inputs) / len(n.inputs)
    for column in {n.column for n in graph.nodes}:
        placed = sorted((n for n in graph.nodes if n.column == column), key=lambda n: n.row)
        for above, below in zip(placed, placed[1:]):
            below.row = max(below.row, above.row + 1)
