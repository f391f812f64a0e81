"""Unevaluated sympy constructors: expressions kept exactly as a teacher writes them.

An evaluated Add or Mul sorts its operands; these keep the written order (w1 i1 + w2 i2 + b1),
so the printing module can print them as the lecture does.
"""
from __future__ import annotations

import sympy as sp


def add(*terms: sp.Expr) -> sp.Expr:
    return sp.Add(*terms, evaluate=False) if len(terms) > 1 else terms[0]


def mul(*factors: sp.Expr) -> sp.Expr:
    return sp.Mul(*factors, evaluate=False) if len(factors) > 1 else factors[0]


def neg(x: sp.Expr) -> sp.Expr:
    return sp.Mul(sp.Integer(-1), x, evaluate=False)


def minus(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    return sp.Add(a, neg(b), evaluate=False)
