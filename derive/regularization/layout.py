"""The regularisation part of a worked solution: soft constraint, hard constraint, equivalence.

Arrangement only: the numbers come from `regularization`, every LaTeX string about mathematics
from `printing`.
"""
from __future__ import annotations

import sympy as sp

from ..layout.blocks import PAGE_WIDTH, Block, Line, Section
from ..printing.latex import Printer
from ..printing.matrix import at_optimum, norm_name
from ..printing.numbers import text_number
from ..printing.width import latex_width
from ..solution import Solution

CONDITION_TEXT = {"stationarity": "stationarity", "primal_feasibility": "primal feasibility",
                  "dual_feasibility": "dual feasibility",
                  "complementary_slackness": "complementary slackness"}


def _printer(solution: Solution) -> Printer:
    m = solution.derivation.model
    given = solution.derivation.given() + [solution.regularization.symbolic.lam]
    return Printer(m.names.of, solution.spec.decimals, given=given)


def _line(p: Printer, name, expr, values, value) -> Line:
    missing = [s for s in expr.free_symbols if s not in values]
    rhs = p.chain(name, expr, None if missing else values, value)
    return Line(p.name(name), rhs)


def soft_sections(solution: Solution) -> list[Section]:
    r = solution.regularization
    p = _printer(solution)
    soft, sym = r.soft, r.symbolic
    values = soft.values
    steps = list(zip(soft.steps, soft.step_values))
    lam = p.given_number(soft.lam)
    l1 = r.config.penalty == "l1"
    what = "the sum of the absolute values" if l1 else "the sum of the squares"
    which = "weights and biases" if r.config.include_biases else "weights"
    out = Section("Regularisation as a soft constraint")
    first = [(s, v) for s, v in steps if s.kind in ("penalty", "objective")]
    out.blocks.append(Block(
        f"The penalty R is {what} of the {which}; the soft constraint adds λR to the loss, "
        f"with λ = {lam}:", [_line(p, s.name, s.expr, values, v) for s, v in first]))
    partials = [(s, v) for s, v in steps if s.kind == "penalty_derivative"]
    if partials:
        s0, v0 = partials[0]
        term = [p.symbolic(s0.definition[1])]
        if latex_width(term[0]) > PAGE_WIDTH:   # too long written out: Ω = λR, R as defined above
            term = [p.symbolic(sp.Mul(sym.lam, sym.penalty_symbol, evaluate=False))]
        lines = [Line(p.name(s0.definition[0]), term)]
        lines += [_line(p, s.name, s.expr, values, v) for s, v in partials]
        text = ("The penalty term Ω = λR, differentiated parameter by parameter"
                + (" (|w| has no derivative at 0: the subgradient sign(w) is used, 0 at w = 0):" if l1 else
                   "; for L2 each partial is 2λw:"))
        out.blocks.append(Block(text, lines))
    grads = [(s, v) for s, v in steps if s.kind == "regularized_gradient"]
    note = next((s.note for s, _ in grads if s.note), None)
    out.blocks.append(Block("The regularised gradient adds it to the loss's gradient"
                            + (f" ({note})" if note else "") + ":",
                            [_line(p, s.name, s.expr, values, v) for s, v in grads]))
    updates = [(s, v) for s, v in steps if s.kind in ("regularized_update", "weight_decay")]
    decay = ("every step moves w by ηλ towards 0 before the gradient step" if l1 else
             "the same update in its weight-decay form: every step first shrinks w by the factor "
             "1 − 2ηλ")
    out.blocks.append(Block(f"One gradient-descent step on E + λR, and {decay}:",
                            [_line(p, s.name, s.expr, values, v) for s, v in updates]))
    rows = [{"name": p.name(t.parameter), "value": p.value_of(t.parameter, t.value), "gradient": p.number(t.gradient),
             "regularized_gradient": p.number(t.regularized_gradient),
             "updated": "" if t.updated is None else p.number(t.updated),
             "regularized_updated": "" if t.regularized_updated is None else p.number(t.regularized_updated)}
            for t in soft.table]
    return [out], rows


def _long(p: Printer, lhs: str, expr) -> list[Line]:
    """lhs = a long sum, continued over several lines."""
    pieces = p.split_sum(expr)
    return [Line(lhs, [pieces[0]])] + [Line("", [piece], continued=True) for piece in pieces[1:]]


def hard_sections(solution: Solution) -> list[Section]:
    r = solution.regularization
    h = r.hard
    p = _printer(solution)
    sym = r.symbolic
    out = Section("Regularisation as a hard constraint")
    bound = "r²" if r.config.penalty == "l2" else "r"
    lag, lag_expr = h.lagrangian
    out.blocks.append(Block(
        f"Minimise the loss subject to R ≤ {bound} with r = {p.given_number(h.radius)}. The Lagrangian "
        "adds the constraint with a multiplier λ ≥ 0:", [Line(p.name(lag), [p.symbolic(lag_expr)])]))
    kkt = []
    for c in h.conditions:
        for relation in c.relations:
            kkt.append(Line(p.symbolic(relation), [], note=CONDITION_TEXT[c.name]))
    out.blocks.append(Block("At a solution θ* with multiplier λ*, the KKT conditions hold:", kkt))
    if h.linear is not None:
        lin = h.linear
        loss = _long(p, p.name(solution.derivation.loss), lin.loss_expr)
        lines = [line for eq in lin.equations for line in _long(p, "0", eq.lhs)]
        out.blocks.append(Block("The model is linear with a squared loss, so the loss is a quadratic in "
                                "the parameters:", loss))
        out.blocks.append(Block("Stationarity of the Lagrangian is a linear system, one equation per "
                                "parameter:", lines))
        formula = lin.rounded_formula()
        if formula:
            out.blocks.append(Block("Solved for the parameters as functions of λ "
                                    "(coefficients rounded for display):",
                                    [Line(p.name(v), [p.symbolic(e)]) for v, e in formula.items()]))
        if lin.norm_equation is not None:
            out.blocks.append(Block("The multiplier λ* is the root of the norm equation (the norm "
                                    "falls as λ grows, so a bracketing root finder finds it):",
                                    [Line(p.symbolic(lin.norm_equation.lhs), [p.symbolic(lin.norm_equation.rhs)])]))
    state = ("active: the unconstrained minimum lies outside, so θ* is on the boundary and "
             "λ* > 0" if h.active else
             "inactive: the unconstrained minimum already satisfies it, so λ* = 0")
    result = [Line(p.name(sym.lambda_star), [p.number(h.lambda_star)])]
    result.append(Line(at_optimum(p.name(sym.penalty_symbol)), [p.number(h.penalty)]))
    result.append(Line(at_optimum(p.name(solution.derivation.loss)), [p.number(h.loss)]))
    out.blocks.append(Block(f"Solved: {h.method}. The constraint is {state}. The largest KKT residual is "
                            f"{text_number(h.kkt_residual, 2)}.", result))
    return [out]


def equivalence_context(solution: Solution) -> dict:
    h = solution.regularization.hard
    p = _printer(solution)
    e = h.equivalence
    rows = [{"name": p.name(k), "hard": p.number(e.hard[k]), "soft": p.number(e.soft[k]),
             "difference": p.number_digits(e.difference[k], 2)} for k in e.hard]
    path = h.path
    coords = " ".join(f"({lam:.6e},{norm:.6e})" for lam, norm in path.points if lam > 0)
    lams = [lam for lam, _ in path.points if lam > 0]
    return {"lambda_star": p.number(e.lam), "rows": rows, "max_difference": p.number_digits(e.max_difference, 2),
            "note": e.note, "method": e.method, "coords": coords,
            "radius": f"{path.radius:.6e}", "lambda_star_plot": f"{path.lambda_star:.6e}",
            "xmin": f"{min(lams):.6e}" if lams else "1e-3", "xmax": f"{max(lams):.6e}" if lams else "1",
            "norm": norm_name(path.norm),
            "radius_shown": p.given_number(path.radius),
            "show_path": bool(coords) and h.lambda_star > 0}


def regularization_context(solution: Solution) -> dict | None:
    r = solution.regularization
    if r is None:
        return None
    soft, table = soft_sections(solution)
    context = {"soft": soft if r.has_soft else [], "table": table if r.has_soft else [],
               "lam": _printer(solution).given_number(r.soft.lam), "hard": [], "equivalence": None}
    if r.hard is not None:
        context["hard"] = hard_sections(solution)
        context["equivalence"] = equivalence_context(solution)
    return context


def regularization_sections(solution: Solution) -> list[Section]:
    """The sections of the regularisation part (for snippets)."""
    context = regularization_context(solution)
    return (context["soft"] + context["hard"]) if context else []
