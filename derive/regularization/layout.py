"""The regularisation part as a student meets it: the worksheet's tasks and a worked solution that
argues like the lecture's slides (hard constraint, soft constraint, Lagrangian, min-max, the
constant that does not move the argmin), then the numbers.

Arrangement only: the numbers come from `regularization`, every LaTeX string about mathematics
from `printing`. Prose is plain words for students: no solver, library or option names.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..layout.blocks import Block, Line, Section
from ..layout.problem import worksheet_tasks
from ..model.unevaluated import add as _add
from ..model.unevaluated import mul as _mul
from ..model.unevaluated import neg as _neg
from ..printing import matrix as tex
from ..printing.latex import Printer
from ..printing.width import latex_width
from ..solution import Solution
from .path_plot import ARTICLE, SLIDE, path_plot

NARROW_WIDTH = 55          # latex_width units of a display row in a plain 10 pt article (345 pt)
WRITTEN_OUT_UP_TO = 8       # R = w1² + ... written term by term (and with numbers) up to this many terms
INTEGERS_UP_TO = 10 ** 7    # θ(λ) with integer coefficients while they stay this small, else decimals


@dataclass(frozen=True)
class Math:
    """A piece of inline mathematics inside a sentence (LaTeX from the printing package)."""

    text: str
    display: bool = False     # set on its own line (fractions, long formulas)


def shown(text: str) -> Math:
    """Mathematics set on its own line inside a paragraph."""
    return Math(text, True)


@dataclass(frozen=True)
class Term:
    """A technical term kept in one piece on the line (not hyphenated)."""

    text: str


def para(*parts) -> dict:
    """A paragraph: plain text (escaped by the template), terms and inline mathematics, in order."""
    return {"kind": "para", "parts": [{"math": isinstance(x, Math), "display": isinstance(x, Math) and x.display,
                                       "term": isinstance(x, Term), "text": x if isinstance(x, str) else x.text}
                                      for x in parts]}


def display(*lines: Line) -> dict:
    """One aligned display; a chain of equalities too wide for a plain article's column (lecture
    notes) goes on with one right-hand side per row."""
    rows = []
    for line in lines:
        if line.continued or len(line.rhs) < 2 or latex_width(
                line.lhs + " = " + " = ".join(line.rhs)) <= NARROW_WIDTH:
            rows.append(line)
            continue
        rows.append(Line(line.lhs, [line.rhs[0]]))
        current: list[str] = []
        for part in line.rhs[1:]:
            if current and latex_width(" = ".join(current + [part])) > NARROW_WIDTH - latex_width(line.lhs):
                rows.append(Line("", current))
                current = []
            current.append(part)
        rows.append(Line("", current, line.note))
    return {"kind": "display", "lines": Block(None, rows).lines}


def _printer(solution: Solution) -> Printer:
    m = solution.derivation.model
    given = solution.derivation.given() + [solution.regularization.symbolic.lam]
    return Printer(m.names.of, solution.spec.decimals, given=given)


def _line(p: Printer, name, expr, values, value) -> Line:
    missing = [s for s in expr.free_symbols if s not in values]
    rhs = p.chain(name, expr, None if missing else values, value)
    return Line(p.name(name), rhs)


def _shown(value: float, decimals: int) -> float:
    """A difference as displayed: rounded to the displayed places, 0 (not -0) below them."""
    rounded = round(value, decimals)
    return 0.0 if rounded == 0 else rounded


# -- shared wording ---------------------------------------------------------------------------------

class Words:
    """The names and phrases every part of the regularisation pages shares."""

    def __init__(self, solution: Solution):
        r = solution.regularization
        self.solution = solution
        self.r = r
        self.p = _printer(solution)
        self.d = solution.derivation
        self.m = self.d.model
        self.sym = r.symbolic
        self.l2 = r.config.penalty == "l2"
        self.loss = self.p.name(self.d.loss)
        self.lam = self.p.name(self.sym.lam)
        self.eta = self.p.name(self.m.eta)
        self.radius = self.p.name(self.sym.radius)
        self.bound = tex.squared(self.radius) if self.l2 else self.radius     # the bound on R
        self.norm = tex.penalty_norm(r.config.penalty)
        self.samples = len(solution.spec.inputs)
        self.mean = solution.spec.reduction == "mean" or self.samples == 1
        L = self.m.shape.depth
        self.weight = self.m.weights[L - 1][0][0]                            # w5 in the lecture
        theta = self.sym.theta
        if len(theta) <= WRITTEN_OUT_UP_TO:
            self.theta = tex.breakable_tuple([self.p.name(t) for t in theta])
        else:
            self.theta = tex.parenthesised(tex.ellipsis_list([self.p.name(theta[0])], self.p.name(theta[-1])))

    def number(self, value: float) -> str:
        return self.p.number(value)

    def within(self, residual: float, exact: str, bound: str) -> list:
        """How closely an equation holds, in words a student reads: a residual below the last
        displayed place is rounding (never "within 2.08166817 × 10^-17"), a larger one is a number."""
        decimals = self.solution.spec.decimals
        if abs(residual) < 0.5 * 10.0 ** -decimals:
            return [exact + f" up to rounding (what is left lies below the last of the {decimals} decimal places shown)"]
        return [bound, Math(self.p.number(residual))]

    def eq(self, *parts: str) -> Math:
        """a = b = c as inline mathematics."""
        return Math(tex.relation(*[x for part in parts for x in (part, "=")][:-1]))

    def which(self) -> str:
        """What θ holds, in words."""
        if self.r.config.include_biases:
            return "the weights and the biases"
        return "the weights; the biases are not penalised"

    def penalty_words(self) -> str:
        return "the sum of the squares" if self.l2 else "the sum of the absolute values"

    def penalty_sum(self) -> str:
        """w1² + ... + w8² (shortened when long)."""
        theta = self.sym.theta
        if len(theta) <= WRITTEN_OUT_UP_TO:
            return self.p.symbolic(self.sym.penalty_expr)
        terms = [self.p.symbolic(a) for a in self.sym.penalty_expr.args]
        return tex.ellipsis_sum(terms[:2], terms[-1])


# -- the soft constraint with the spec's λ ----------------------------------------------------------

def soft_section(w: Words) -> tuple[Section, list[dict]]:
    """R, E_R = E + λR, one regularised partial in full, the weight-decay identity derived once, a table."""
    p, soft, sym, d = w.p, w.r.soft, w.sym, w.d
    values = soft.values
    steps = list(zip(soft.steps, soft.step_values))
    out = Section("Regularisation as a soft constraint")
    pieces = []
    pieces.append(para("The soft constraint adds the penalty ", Math(tex.PENALTY), ", weighted by ", Math(w.lam),
                       ", to the loss. ", Math(tex.PENALTY), f" is {w.penalty_words()} of ",
                       Math(tex.relation(r"\theta", "=", w.theta)), f", {w.which()}. With ",
                       w.eq(w.lam, w.p.given_number(soft.lam)), ":"))
    lines = []
    for s, v in steps:
        if s.kind == "penalty":
            if len(sym.theta) <= WRITTEN_OUT_UP_TO:
                lines.append(_line(p, s.name, s.expr, values, v))
            else:
                lines.append(Line(p.name(s.name), [w.penalty_sum(), p.number(v)]))
        elif s.kind == "objective":
            lines.append(_line(p, s.name, s.expr, values, v))
    pieces.append(display(*lines))

    weight = w.weight
    name = w.p.name(weight)
    partial = next(s for s, _ in steps if s.kind == "penalty_derivative" and s.name == sym.model.names.partial(
        sym.term, weight))
    gradient = next((s, v) for s, v in steps if s.kind == "regularized_gradient" and s.name == sym.gradient[weight])
    rule = _add(d.gradient[weight], partial.expr)
    if w.l2:
        pieces.append(para(Math(tex.PENALTY), " contains ", Math(name), " only in its term ",
                           Math(p.symbolic(sp.Pow(weight, 2, evaluate=False))), ", whose derivative is ",
                           Math(p.symbolic(_mul(sp.Integer(2), weight))), ". So the regularised partial is "
                           "the loss's partial plus ", Math(p.symbolic(partial.expr)), ":"))
    else:
        pieces.append(para(Math(tex.PENALTY), " contains ", Math(name), " only in ",
                           Math(p.symbolic(sp.Abs(weight, evaluate=False))), ", whose derivative is ",
                           Math(p.symbolic(sp.sign(weight))), " (at 0 we take 0, a subgradient). So the "
                           "regularised partial is the loss's partial plus ", Math(p.symbolic(partial.expr)), ":"))
    parts = [p.symbolic(rule), p.substituted(rule, values), p.substituted(gradient[0].expr, values),
             p.number(gradient[1])]
    pieces.append(display(Line(p.name(gradient[0].name), _unique(parts))))

    update = next(s for s, _ in steps if s.kind == "regularized_update" and s.name == sym.updated[weight])
    decay = next(s for s, _ in steps if s.kind == "weight_decay" and s.name == sym.updated[weight])
    value = values[update.name]
    middle = _add(weight, _neg(_mul(w.m.eta, rule)))
    factor = 1 - 2 * w.solution.spec.learning_rate * soft.lam
    if w.l2:
        pieces.append(para("One gradient-descent step on ", Math(p.name(sym.objective)), ", rearranged: "
                           "this is the weight-decay form, in which every step first shrinks the weight by the "
                           "factor ", w.eq(p.symbolic(_add(sp.Integer(1), _neg(_mul(sp.Integer(2), w.m.eta, sym.lam)))),
                                           w.p.exact(factor)), " and then takes the loss's own step:"))
    else:
        pieces.append(para("One gradient-descent step on ", Math(p.name(sym.objective)), ", rearranged: "
                           "every step first moves the weight by ", Math(p.symbolic(_mul(w.m.eta, sym.lam))),
                           " towards 0 and then takes the loss's own step:"))
    pieces.append(display(Line(p.name(update.name), [p.symbolic(update.expr), p.symbolic(middle),
                                                      p.symbolic(decay.expr)])))
    pieces.append(para("With the numbers, both forms give the same weight:"))
    pieces.append(display(Line(p.name(update.name), [p.substituted(update.expr, values), p.number(value)]),
                          Line("", [p.substituted(decay.expr, values), p.number(value)])))
    rows = [{"name": p.name(t.parameter), "value": p.value_of(t.parameter, t.value)} for t in soft.table]
    for key in ("gradient", "regularized_gradient", "updated", "regularized_updated"):
        present = [i for i, t in enumerate(soft.table) if getattr(t, key) is not None]
        shown = dict(zip(present, p.column([getattr(soft.table[i], key) for i in present])))  # one form a column
        # A parameter the step leaves as it is (a bias when biases stay fixed) keeps its value after
        # the step, as the summary shows it; it has no regularised gradient only when it is not trained.
        kept = key in ("updated", "regularized_updated")
        for i, row in enumerate(rows):
            row[key] = shown.get(i, row["value"] if kept else "")
    out.blocks = pieces
    return out, rows


def _unique(parts: list[str]) -> list[str]:
    out: list[str] = []
    for x in parts:
        if not out or out[-1] != x:
            out.append(x)
    return out


# -- the lecture's argument ---------------------------------------------------------------------------

def argument_section(w: Words) -> Section:
    """Hard problem, soft problem, Lagrangian, min-max, and why λ* makes them the same problem."""
    h = w.r.hard
    n = str(w.samples)
    out = Section("Regularisation as a hard constraint")
    b = out.blocks
    b.append(para("The lecture trains by minimising the empirical loss, the average of the loss ", Math("l"),
                  " over the ", Math("n"), " samples:"))
    b.append(display(Line(tex.empirical_loss(None, True), [])))
    if w.samples == 1:
        b.append(para("Here there is one sample, ", Math("n = 1"), ", and ", Math("l"), " is the network's total "
                      "loss, so ", w.eq(tex.EMPIRICAL_LOSS, tex.function_of(w.loss, r"\theta")), "."))
    elif w.mean:
        b.append(para(f"Here there are {n} samples and the problem averages their losses, so ",
                      w.eq(tex.EMPIRICAL_LOSS, tex.function_of(w.loss, r"\theta")), "."))
    else:
        b.append(para(f"Here the problem sums the losses of the {n} samples instead of averaging them, so the "
                      "objective solved below is"))
        b.append(display(Line(tex.empirical_loss(n, False), [tex.function_of(w.loss, r"\theta")])))
        b.append(para("The slides' ", Math(tex.fraction("1", "n")), " only rescales ", Math(r"\lambda^{*}"),
                      ": minimising ", Math(tex.relation(tex.fraction("1", n), tex.EMPIRICAL_LOSS, "+",
                                                          r"\lambda", tex.PENALTY)),
                      " is minimising ", Math(tex.relation(tex.EMPIRICAL_LOSS, "+", n + r"\lambda", tex.PENALTY)),
                      ", so with the average the multiplier would be ", Math(tex.fraction(r"\lambda^{*}", n)),
                      "."))
    b.append(para("As a hard constraint, regularisation keeps only the parameters whose penalty ",
                  Math(tex.PENALTY), " is at most a bound ", Math(tex.BOUND), ":"))
    b.append(display(Line(tex.hard_problem(tex.EMPIRICAL_LOSS, tex.relation(tex.PENALTY, r"\le", tex.BOUND)), [])))
    r_value = w.p.given_number(h.radius)
    if w.l2:
        b.append(para("For ", Math(r"l_2"), " regularisation ", w.eq(tex.PENALTY, w.norm),
                      f", {w.penalty_words()} of the parameters in ", Math(r"\theta"), ". The problem bounds the norm "
                      "itself, ",
                      Math(tex.relation(r"\|\theta\|_2", r"\le", w.radius)), " with ", w.eq(w.radius, r_value),
                      " (the radius of a ball), so the bound on ", Math(tex.PENALTY), " is ",
                      w.eq(w.bound, w.p.exact(h.radius ** 2)), ":"))
        b.append(display(Line(tex.hard_problem(tex.EMPIRICAL_LOSS, tex.relation(
            w.norm, r"\le", w.bound, "=", w.p.exact(h.radius ** 2))), [])))
    else:
        b.append(para("For ", Math(r"l_1"), " regularisation ", w.eq(tex.PENALTY, w.norm),
                      f", {w.penalty_words()} of the parameters in ", Math(r"\theta"), ", and the bound is ",
                      w.eq(w.radius, r_value), ":"))
        b.append(display(Line(tex.hard_problem(tex.EMPIRICAL_LOSS, tex.relation(w.norm, r"\le", r_value)), [])))
    b.append(para("As a soft constraint, the penalty is added to the loss instead, weighted by a "
                  "regularisation parameter ", Math(r"\lambda^{*} > 0"), ":"))
    b.append(display(Line(tex.soft_problem(tex.EMPIRICAL_LOSS, r"\lambda^{*}", tex.PENALTY), []),
                     Line(tex.soft_problem(tex.EMPIRICAL_LOSS, r"\lambda^{*}", w.norm), [])))
    b.append(para("The two are the same problem for the right ", Math(r"\lambda^{*}"), ". The lecture shows it "
                  "with a Lagrange multiplier ", Math(r"\lambda \ge 0"), " for the constraint:"))
    lines = [Line(tex.lagrangian(r"\lambda", tex.PENALTY, tex.BOUND), [])]
    lines.append(Line(tex.lagrangian(r"\lambda", w.norm, w.bound), []))
    b.append(display(*lines))
    b.append(para("For a ", Math(r"\theta"), " that breaks the constraint, ",
                  Math(tex.relation(w.norm, "-", w.bound, ">", "0")), " and the maximum over ",
                  Math(r"\lambda \ge 0"), " is infinite; for a ", Math(r"\theta"), " that keeps it, the maximum is ",
                  Math(tex.EMPIRICAL_LOSS), ", at ", Math(r"\lambda = 0"), ". So minimising the maximum is the hard "
                  "problem, and its solution is ", Math(r"\theta^{*}"), ":"))
    b.append(display(Line(tex.argmin_max(), [])))
    b.append(para("Let ", Math(r"\lambda^{*}"), " be the corresponding maximiser,  ", Math(tex.maximiser()),
                  ". Then ", Math(r"\theta^{*}"), " also minimises ", Math(tex.LAGRANGIAN_AT_STAR),
                  ", and at ", Math(r"\lambda = \lambda^{*}"), ":"))
    b.append(display(Line(tex.lagrangian_expanded(w.norm, w.bound), [])))
    b.append(para("The last term, ", Math(tex.relation(r"\lambda^{*}", w.bound)), ", does not depend on ",
                  Math(r"\theta"), ": a constant does not move the argmin. So"))
    b.append(display(Line(tex.argmin_at_star(w.norm), [])))
    b.append(para("which is the soft problem with ", Math(r"\lambda = \lambda^{*}"), ": hard and soft "
                  "constraint have the same solution ", Math(r"\theta^{*}"), "."))
    if h.linear is None:
        b.append(para("This argument is exact when the problem is convex, as for a linear model with a squared "
                      "loss. A network's loss is not convex in ", Math(r"\theta"), ", so here it holds only "
                      "locally, near a minimiser; below, the soft problem at ", Math(r"\lambda^{*}"),
                      " is solved on its own to check it for this network."))
    return out


# -- the hard constraint solved -----------------------------------------------------------------------

def _by_powers(expr: sp.Expr, variable: sp.Symbol, integers: bool = False) -> sp.Expr:
    """A polynomial written by ascending powers of `variable` (unevaluated, so printed in that order)."""
    poly = sp.Poly(sp.expand(expr), variable)
    terms = []
    for (k,), c in sorted(poly.terms(), key=lambda t: t[0][0]):
        c = sp.Integer(c) if integers else c
        power = sp.Integer(1) if k == 0 else (variable if k == 1 else sp.Pow(variable, k, evaluate=False))
        if k == 0:
            terms.append(c)
        elif c == 1:
            terms.append(power)
        elif c == -1:
            terms.append(_neg(power))
        else:
            terms.append(_mul(c, power))
    return _add(*terms) if terms else sp.Integer(0)


def _integer_fraction(expr: sp.Expr, variable: sp.Symbol) -> tuple[sp.Expr, sp.Expr]:
    """num/den with integer coefficients (no common factor, den's constant term positive), by powers."""
    num, den = sp.fraction(sp.cancel(sp.together(expr)))
    coefficients = sp.Poly(num, variable).all_coeffs() + sp.Poly(den, variable).all_coeffs()
    scale = sp.ilcm(*[sp.Rational(c).q for c in coefficients])
    num, den = sp.expand(num * scale), sp.expand(den * scale)
    ints = [int(c) for c in sp.Poly(num, variable).all_coeffs() + sp.Poly(den, variable).all_coeffs()]
    g = sp.igcd(*ints) if len(ints) > 1 else abs(ints[0])
    sign = -1 if sp.Poly(den, variable).all_coeffs()[-1] < 0 else 1
    num, den = sp.expand(sign * num / g), sp.expand(sign * den / g)
    largest = max(abs(int(c)) for c in sp.Poly(num, variable).all_coeffs() + sp.Poly(den, variable).all_coeffs())
    if largest > INTEGERS_UP_TO:   # one number format: decimals throughout, the denominator's constant 1
        lead = sp.Poly(den, variable).all_coeffs()[-1]
        as_float = lambda e: sp.Poly(e / lead, variable).as_expr().xreplace(  # noqa: E731
            {c: sp.Float(c) for c in sp.Poly(e / lead, variable).coeffs()})
        return _by_powers(as_float(num), variable), _by_powers(as_float(den), variable)
    return _by_powers(num, variable, True), _by_powers(den, variable, True)


def _quadratic_in_order(expr: sp.Expr, variables: list[sp.Symbol]) -> sp.Expr:
    """½θᵀHθ − cᵀθ + const as a teacher writes it: squares, products, linear terms, the constant."""
    poly = sp.Poly(sp.expand(expr), *variables)
    terms = dict(poly.terms())

    def order(monomial):
        degree = sum(monomial)
        return (-degree, [-e for e in monomial])
    ordered = []
    for monomial in sorted(terms, key=order):
        c = terms[monomial]
        factors = [v if e == 1 else sp.Pow(v, e, evaluate=False) for v, e in zip(variables, monomial) if e]
        if not factors:
            ordered.append(c)
            continue
        body = _mul(*factors)
        ordered.append(body if c == 1 else _neg(body) if c == -1 else _mul(c, body))
    return _add(*ordered)


def _equation_in_order(lhs: sp.Expr, variables: list[sp.Symbol], lam: sp.Symbol) -> tuple[sp.Expr, sp.Expr]:
    """A stationarity equation as (coefficient polynomial in λ)·v + ... = constant."""
    expr = sp.expand(lhs.doit())
    zero = {v: 0 for v in variables}
    terms = []
    for v in variables:
        c = sp.expand(expr.coeff(v))
        if c == 0:
            continue
        c = _by_powers(c, lam)
        terms.append(v if c == 1 else _mul(c, v))
    constant = -expr.xreplace(zero)
    return _add(*terms), constant


def _long(p: Printer, lhs: str, expr) -> list[Line]:
    """lhs = a long sum, continued over several lines."""
    pieces = p.split_sum(expr)
    return [Line(lhs, [pieces[0]])] + [Line("", [piece], continued=True) for piece in pieces[1:]]


def hard_section(w: Words) -> Section:
    """θ*, λ*: exactly for the linear model (θ(λ), the norm equation), numerically for a network."""
    p, h, sym = w.p, w.r.hard, w.sym
    out = Section("Solving the hard constraint")
    b = out.blocks
    lam = sym.lam
    if h.linear is not None:
        lin = h.linear
        variables = lin.variables
        b.append(para("The model is linear and the loss squared, so ", Math(w.loss), " is a quadratic in the "
                      "parameters:"))
        b.append(display(*_long(p, w.loss, _quadratic_in_order(lin.loss_expr, variables))))
        b.append(para("For a fixed ", Math(r"\lambda"), ", the minimiser of ", Math(tex.LAGRANGIAN),
                      " over the parameters sets its gradient to zero (the constant ", Math(r"\lambda " + w.bound),
                      " drops out). That is one linear equation per parameter:"))
        rows = []
        for eq in lin.equations:
            left, right = _equation_in_order(eq.lhs, variables, lam)
            rows.append(Line(p.symbolic(left), [p.symbolic(right)]))
        b.append(display(*rows))
        if lin.theta_of_lambda is not None:
            b.append(para("Solved for the parameters as functions of ", Math(r"\lambda"), ":"))
            fractions = {v: _integer_fraction(e, lam) for v, e in lin.theta_of_lambda.items()}
            b.append(display(*[Line(tex.function_of(p.name(v), p.name(lam)),
                                    [tex.fraction(p.symbolic(num), p.symbolic(den))])
                               for v, (num, den) in fractions.items()]))
            if w.l2 and h.active:
                penalised = [v for v in variables if v in set(sym.theta)]
                dens = {fractions[v][1] for v in penalised}
                if len(dens) == 1:
                    den = dens.pop()
                    top = tex.relation(*[x for v in penalised for x in (
                        tex.squared(tex.parenthesised(p.symbolic(fractions[v][0]))), "+")][:-1])
                    lhs = tex.fraction(top, tex.squared(tex.parenthesised(p.symbolic(den))))
                else:
                    lhs = tex.relation(*[x for v in penalised for x in (tex.squared(tex.parenthesised(
                        tex.fraction(p.symbolic(fractions[v][0]), p.symbolic(fractions[v][1])))), "+")][:-1])
                b.append(para("The multiplier ", Math(r"\lambda^{*}"), " makes ", Math(r"\theta(\lambda)"),
                              " meet the bound. This is the norm equation ",
                              Math(tex.relation(r"\|\theta(\lambda)\|_2^2", "=", w.bound)),
                              "; the norm falls as ", Math(r"\lambda"), " grows, so it has one root:"))
                b.append(display(Line(lhs, [w.bound, p.exact(h.radius ** 2)])))
                b.append(para("Its root, found by halving an interval that brackets it until it is exact to "
                              "the computer's precision, is ", Math(r"\lambda^{*}"), ":"))
        elif h.active and w.l2:
            b.append(para("With this many unknowns ", Math(r"\theta(\lambda)"), " is not written out: for each ",
                          Math(r"\lambda"), " it is the solution of this linear system, and ", Math(r"\lambda^{*}"),
                          " is the ", Math(r"\lambda"), " at which ", Math(tex.relation(w.norm, "=", w.bound)),
                          ", found by halving an interval that brackets it:"))
        elif h.active:
            b.append(para(Math(r"\theta^{*}"), " was found by gradient steps projected onto the region ",
                          Math(tex.relation(w.norm, r"\le", w.radius)), ", then made exact by solving the "
                          "equations above with the signs of its entries fixed:"))
    else:
        ball = "ball" if w.l2 else "region"
        b.append(para("The network's loss is not a quadratic, so ", Math(r"\theta^{*}"), " is found "
                      f"numerically: gradient steps on the loss, each projected back onto the {ball} ",
                      Math(tex.relation(r"\|\theta\|_2" if w.l2 else w.norm, r"\le", w.radius)),
                      ", starting from the given weights, until every component of the gradient of ",
                      Math(tex.LAGRANGIAN_AT_STAR), *w.within(h.kkt_residual, " is zero", " is at most "),
                      ". Then ", Math(r"\lambda^{*}"), " is the ", Math(r"\lambda"), " that fits ",
                      Math(tex.relation(r"\nabla \hat{L}(\theta^{*})", "+", r"\lambda \nabla R(\theta^{*})",
                                        "=", "0")), " best over the weights:"))
    lines = [Line(p.name(sym.lambda_star), [p.number(h.lambda_star)]),
             Line(tex.relation(tex.function_of("R", tex.theta_star()), "=",
                               w.norm.replace(r"\theta", tex.theta_star())), [p.number(h.penalty)]),
             Line(tex.relation(tex.function_of(r"\hat{L}", tex.theta_star()), "=",
                               tex.function_of(w.loss, tex.theta_star())), [p.number(h.loss)])]
    b.append(display(*lines))
    if h.active:
        b.append(para("The constraint is active: the unconstrained minimum lies outside, so ",
                      Math(r"\theta^{*}"), " lies on the boundary, ",
                      Math(tex.relation(tex.function_of("R", tex.theta_star()), "=", w.bound)), ", and ",
                      Math(r"\lambda^{*} > 0"), ". The constant of the Lagrangian at ", Math(r"\lambda^{*}"), " is ",
                      w.eq(tex.relation(r"\lambda^{*}", w.bound),
                           tex.product_of(p.number(h.lambda_star), p.exact(h.radius ** 2 if w.l2 else h.radius)),
                           p.number(h.lambda_star * (h.radius ** 2 if w.l2 else h.radius))),
                      "; it shifts the value of ", Math(tex.LAGRANGIAN_AT_STAR), ", not its minimiser."))
    else:
        b.append(para("The constraint is inactive: the unconstrained minimum already satisfies it, so ",
                      Math(r"\lambda^{*} = 0"), " and the soft problem has no penalty."))
    return out


def equivalence_context(w: Words) -> dict:
    """θ* beside the soft problem solved at λ*, the differences as displayed, and the path figure."""
    p, h = w.p, w.r.hard
    e = h.equivalence
    decimals = w.solution.spec.decimals
    shown = {k: _shown(e.difference[k], decimals) for k in w.sym.variables}
    variables = w.sym.variables
    columns = {key: dict(zip(variables, p.column([source[k] for k in variables])))      # one form a column
               for key, source in (("hard", e.hard), ("soft", e.soft), ("difference", shown))}
    rows = [{"name": p.name(k), **{key: columns[key][k] for key in columns}} for k in variables]
    agree = all(v == 0 for v in shown.values())
    if h.linear is not None and w.l2:
        how = "exactly, from its linear equations with "
    else:
        how = "on its own by gradient steps from the given weights, with "
    intro = para("The soft problem, solved " + how, w.eq(r"\lambda", r"\lambda^{*}", p.number(e.lam)),
                 ", beside ", Math(r"\theta^{*}"), " of the hard problem (the difference rounded to "
                 f"{decimals} decimal places):")
    if not e.converged:
        outcome = para("The soft solve did not settle, so this comparison says nothing.")
    elif agree:
        outcome = para(f"The two agree in all {decimals} decimal places"
                       + (": for this network, from these weights, the equivalence holds."
                          if h.linear is None else ", as the argument says."))
    elif e.note:
        outcome = para("The two differ: " + e.note + ".")
    else:
        outcome = para("The two differ in the last decimal places shown.")
    path = h.path
    coords = " ".join(f"({lam:.6e},{norm:.6e})" for lam, norm in path.points if lam > 0)
    lams = [lam for lam, _ in path.points if lam > 0]
    norm_name = tex.norm_name(path.norm)
    soft_lam = w.r.config.lam
    xmin, xmax = (min(lams), max(lams)) if lams else (1e-3, 1.0)
    inside = soft_lam is not None and soft_lam > 0 and xmin <= soft_lam <= xmax
    caption = para("The regularisation path: ", Math(norm_name), " of the soft problem's solution for each ",
                   Math(r"\lambda"), ". It falls as ", Math(r"\lambda"), " grows and crosses the radius ",
                   w.eq(w.radius, p.given_number(path.radius)), " at ", Math(r"\lambda^{*}"), "."
                   + ("" if soft_lam is None else " ")
                   + ("" if soft_lam is None else "The dotted line marks the soft part's " if inside
                      else "The soft part's "),
                   *([] if soft_lam is None else [
                       w.eq(w.lam, p.given_number(soft_lam)), "." if inside else " lies outside the plotted range."]))
    title = para("The soft problem at ", Math(r"\lambda^{*}"), " beside ", Math(r"\theta^{*}"))
    labels = {"radius": tex.relation(w.radius, "=", p.given_number(path.radius)),
              "lambda_star": tex.relation(r"\lambda^{*}", "=", p.number(path.lambda_star)),
              "soft_lambda": tex.relation(w.lam, "=", p.given_number(soft_lam)) if inside else None}
    # The figure's data, so that a fragment for a narrower column draws it again at its own size.
    data = {"points": [(lam, norm) for lam, norm in path.points if lam > 0], "radius": path.radius,
            "lambda_star": path.lambda_star, "soft_lam": soft_lam if inside else None, "labels": labels}
    figures = {"plot": path_plot(**data, size=ARTICLE), "slide_plot": path_plot(**data, size=SLIDE), "path_data": data}
    return {"title": title, "intro": intro, "rows": rows, "outcome": outcome, "caption": caption, "coords": coords,
            "radius": f"{path.radius:.6e}", "lambda_star_plot": f"{path.lambda_star:.6e}",
            "norm": norm_name, "soft_lambda": f"{soft_lam:.6e}" if inside else None,
            "show_path": bool(coords) and h.lambda_star > 0, **figures}


def kkt_paragraph(w: Words) -> dict:
    """For the curious: the KKT conditions, after the lecture's argument."""
    h = w.r.hard
    star = r"\theta^{*}"
    R = tex.function_of("R", star)
    return para("For the curious: the conditions that the pair ", Math(r"(\theta^{*}, \lambda^{*})"),
                " satisfies are called the KKT conditions: ", Term("stationarity"), ", ",
                Math(tex.relation(r"\nabla \hat{L}(\theta^{*})", "+", r"\lambda^{*} \nabla R(\theta^{*})", "=", "0")),
                "; ", Term("primal feasibility"), ", ", Math(tex.relation(R, r"\le", w.bound)), "; ",
                Term("dual feasibility"), ", ", Math(r"\lambda^{*} \ge 0"), "; and ", Term("complementary slackness"),
                ", ", Math(tex.relation(r"\lambda^{*}", "[" + R, "-", w.bound + "]", "=", "0")),
                " (the constraint is active or ", Math(r"\lambda^{*} = 0"),
                "). At the numbers above each holds", *w.within(h.kkt_residual, "", " to within "), ".")


def regularization_context(solution: Solution, heading: str = "section") -> dict | None:
    """The template context of the regularisation part; `heading` is section (solutions) or paragraph."""
    r = solution.regularization
    if r is None:
        return None
    w = Words(solution)
    soft, table = soft_section(w)
    context = {"heading": heading, "soft": [soft] if r.has_soft else [], "table": table if r.has_soft else [],
               "lam": w.p.given_number(r.soft.lam), "hard": [], "equivalence": None, "kkt": None}
    if r.hard is not None:
        context["hard"] = [argument_section(w), hard_section(w)]
        context["equivalence"] = equivalence_context(w)
        context["kkt"] = kkt_paragraph(w)
    return context


def regularization_sections(solution: Solution) -> list[Section]:
    """The sections of the regularisation part, in order."""
    context = regularization_context(solution)
    return (context["soft"] + context["hard"]) if context else []


# -- the worksheet's tasks --------------------------------------------------------------------------

def regularization_worksheet(solution: Solution) -> dict | None:
    """The regularisation tasks of the handout: numbers given, space sized to the task, no answers."""
    r = solution.regularization
    if r is None:
        return None
    w = Words(solution)
    p, sym = w.p, w.sym
    weight, name = w.weight, w.p.name(w.weight)
    objective = p.name(sym.objective)
    given = [para("The penalty is ", w.eq(tex.PENALTY, w.norm), f", {w.penalty_words()} of ",
                  Math(tex.relation(r"\theta", "=", w.theta)), f", {w.which()}.")]
    tasks = []
    if r.has_soft:
        given.append(para("Soft constraint: ", w.eq(w.lam, w.p.given_number(r.config.lam)), "."))
    if r.hard is not None:
        bound = "the norm " if w.l2 else ""
        given.append(para(f"Hard constraint: {bound}", Math(tex.relation(
            r"\|\theta\|_2" if w.l2 else w.norm, r"\le", w.radius)), " with ", w.eq(w.radius, w.p.given_number(r.config.radius)),
            "."))
    if r.has_soft:
        tasks.append((para("Compute the penalty ", Math(tex.PENALTY), " at the given weights."), "2.5cm"))
        tasks.append((para("Write the soft objective ", Math(tex.relation(objective, "=", w.loss, "+", w.lam, "R")),
                           " and compute it."), "2cm"))
        rule = p.symbolic(_add(w.d.gradient[weight], next(
            s.expr for s in sym.soft_steps if s.kind == "penalty_derivative"
            and s.name == sym.model.names.partial(sym.term, weight))))
        tasks.append((para("Show that", shown(tex.relation(p.name(sym.gradient[weight]), "=", rule))
                           , "and compute it."), "3.5cm"))
        decay = next(s.expr for s in sym.soft_steps if s.kind == "weight_decay" and s.name == sym.updated[weight])
        update = next(s.expr for s in sym.soft_steps if s.kind == "regularized_update"
                      and s.name == sym.updated[weight])
        tasks.append((para("Compute ", Math(p.name(sym.updated[weight])), ", the weight ", Math(name),
                           " after one gradient-descent step on ", Math(objective), ", in both forms,",
                           shown(tex.relation(p.symbolic(update), r"\quad\text{and}\quad", p.symbolic(decay))),
                           "(the weight-decay form). Show that the two forms are equal."), "4.5cm"))
    if r.hard is not None:
        tasks.append((para("State the hard-constraint problem for ", w.eq(w.radius, w.p.given_number(r.config.radius)),
                           ": which bound does it put on ", Math(tex.PENALTY), "? Do the given weights "
                           "satisfy it?"), "3cm"))
        tasks.append((para("Write the Lagrangian ", Math(tex.LAGRANGIAN), " of the hard problem. Explain why "
                           "its solution is", shown(tex.argmin_max()), "and why, with ", Math(r"\lambda^{*}"),
                           " the maximiser, minimising ", Math(tex.LAGRANGIAN_AT_STAR), " over ",
                           Math(r"\theta"), " is the soft problem with ", Math(r"\lambda = \lambda^{*}"), "."),
                      "6cm"))
        lin = r.hard.linear
        if lin is not None and lin.theta_of_lambda is not None and w.l2:
            tasks.append((para("Set the gradient of ", Math(tex.LAGRANGIAN), " with respect to the parameters "
                               "to zero and solve for ", Math(r"\theta(\lambda)"), ". Then find ",
                               Math(r"\lambda^{*}"), " from ", Math(tex.relation(r"\|\theta(\lambda)\|_2", "=",
                                                                                 w.radius)),
                               ", and ", Math(r"\theta^{*}"), "."), "9cm"))
    first = len(worksheet_tasks(solution.derivation)) + 1
    # The lines a task's own text takes (two, one for the gap above it, and three more per formula set
    # on its own line): the template keeps them on one page with the answer space below them.
    return {"given": given, "first": first,
            "tasks": [{"text": t, "space": s, "lines": 3 + 3 * sum(part["display"] for part in t["parts"])}
                      for t, s in tasks]}
