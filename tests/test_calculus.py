"""The chain rule, Jacobians and computation graphs of any expression (issue 6, parts 2-4).

Every number is checked against something independent: sympy differentiating the composed
function directly, or central finite differences.
"""
from __future__ import annotations

import math

import pytest
import sympy as sp
from mpmath import cos as mcos, mp, mpf

from derive.apps.chain import graph as graphs, rules
from derive.apps.chain.calculus import chain_rule, jacobian
from derive.apps.chain.expressions import parse, parse_point, sigmoid, symbol
from derive.apps.chain.verify import check_partials
from derive.errors import DeriveError, VerificationError
from derive.printing.calculus import CalculusPrinter

x, y, z, q = (symbol(n) for n in "xyzq")


def rule(expr: str, lets: dict[str, str] | None = None, wrt=None, at=None, name="f", printer=None):
    inner = {symbol(k): parse(v) for k, v in (lets or {}).items()}
    return chain_rule(symbol(name), parse(expr), inner, wrt, at, printer)


def composed(expr: str, lets: dict[str, str]) -> sp.Expr:
    """f with every inner function written out, to differentiate directly."""
    e = parse(expr).evaluated
    for _ in range(len(lets) + 1):
        e = e.xreplace({symbol(k): parse(v).evaluated for k, v in lets.items()})
    return e


def same(a: sp.Expr, b: sp.Expr, points: int = 4) -> bool:
    """Two expressions agree at a few points (away from 0, where |x|' and sign(x) differ in form)."""
    symbols = sorted(a.free_symbols | b.free_symbols, key=str)
    for k in range(points):
        at = {s: 0.3 + 0.37 * k + 0.11 * i for i, s in enumerate(symbols)}
        if not math.isclose(float(a.subs(at)), float(b.subs(at)), rel_tol=1e-12, abs_tol=1e-12):
            return False
    return True


# -- parsing --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, token", [
    ("__import__('os')", "'__import__'"),
    ("x.__class__", "'.'"),
    ("(1).real", "'.'"),
    ("lambda: x", "'lambda'"),
    ("'os'", "strings"),
    ("foo(x)", "unknown function 'foo'"),
    ("eval(x)", "unknown function 'eval'"),
    ("x[0]", "'['"),
    ("x if y else z", "'if'"),
    ("x; y", "';'"),
    ("x = y = z", "'='"),
    ("sin", "'sin' is a function"),
    ("Symbol(x)", "'Symbol'"),
    ("9**9**9", "too large"),
    ("2j", "'2j'"),
])
def test_anything_but_arithmetic_is_refused_and_named(text, token):
    with pytest.raises(DeriveError) as err:
        parse(text)
    assert token in str(err.value)


def test_refused_code_is_never_run(tmp_path):
    marker = tmp_path / "ran"
    with pytest.raises(DeriveError):
        parse(f"__import__('os').system('touch {marker}')")
    assert not marker.exists()


def test_a_parsed_expression_keeps_its_written_order():
    p = parse("(x + y)*z")
    assert p.written.args == (x + y, z)
    assert p.evaluated == (x + y) * z
    assert parse("-(a + b)").written.args[0] == -1       # not distributed to -a - b


def test_lecture_notation_parses():
    assert parse("0.5x^2").evaluated == sp.Float(0.5) * x**2
    assert parse("sigmoid(x)").evaluated.diff(x).subs(x, 0) == sp.Rational(1, 4)
    assert parse("relu(x)").evaluated == sp.Max(0, x)
    assert parse_point(["x=-2,y=5", "z=pi/4"]) == {"x": -2.0, "y": 5.0, "z": math.pi / 4}


# -- the chain rule -------------------------------------------------------------------------------------

def test_sin_example_df_dx_is_cos_half_x_squared_times_x():
    r = rule("sin(y)", {"y": "0.5*x**2"}, at={"x": 2})
    (g,) = r.gradients
    assert [(d.num, d.den) for d in g.paths[0]] == [(symbol("f"), y), (y, x)]
    assert g.expression == x * sp.cos(sp.Float(0.5) * x**2)
    assert g.value == pytest.approx(math.cos(2) * 2, abs=1e-12)
    assert [l.expr for l in r.locals] == [sp.cos(y), x]          # local partials only


def test_sin_example_prints_as_the_lecture_writes_it():
    r = rule("sin(y)", {"y": "0.5*x**2"})
    p = CalculusPrinter()
    (g,) = r.gradients
    assert p.paths(g.paths) == r"\frac{d f}{d y} \cdot \frac{d y}{d x}"
    assert p.symbolic(g.product) == r"\cos\left(y\right) \cdot x"
    assert p.symbolic(g.expanded) == r"\cos\left(0.5 x^{2}\right) \cdot x"
    assert p.substituted(g.expanded, {x: 2.0}) == r"\cos\left(0.5 \cdot 2^{2}\right) \cdot 2"


def test_cs231n_example_q_is_3_f_is_minus_12_gradients_minus_4_minus_4_3():
    r = rule("q*z", {"q": "x + y"}, wrt=["x", "y", "z"], at={"x": -2, "y": 5, "z": -4})
    assert r.values[q] == 3 and r.value == -12
    assert [g.value for g in r.gradients] == [-4, -4, 3]


def test_vector_valued_inner_functions_sum_over_every_path():
    lets = {"y1": "x**2", "y2": "3*x"}
    r = rule("y1*y2", lets, at={"x": 2}, name="z")
    (g,) = r.gradients
    assert len(g.paths) == 2
    assert g.expression == 9 * x**2 and g.value == 36
    assert same(g.expression, sp.diff(composed("y1*y2", lets), x))


@pytest.mark.parametrize("expr, lets, at", [
    ("sin(y)", {"y": "0.5*x**2"}, {"x": 0.7}),
    ("u*v + x", {"u": "exp(-x*w)", "v": "tanh(u + w)"}, {"x": 0.3, "w": -1.2}),
    ("log(1 + h^2)", {"h": "sigmoid(a*x + b)"}, {"x": 0.5, "a": 2.0, "b": -1.0}),
    ("sqrt(s)", {"s": "x^2 + y^2", "y": "2*x"}, {"x": 1.5}),
])
def test_chain_rule_equals_differentiating_the_composed_function(expr, lets, at):
    r = rule(expr, lets, at=at)
    whole = composed(expr, lets)
    point = {symbol(k): v for k, v in at.items()}
    for g in r.gradients:
        direct = sp.diff(whole, g.derivative.den)
        assert same(g.expression, direct)
        assert g.value == pytest.approx(float(direct.subs(point)), rel=1e-12)


def test_bad_questions_are_clear_errors():
    with pytest.raises(DeriveError, match="w does not occur"):
        rule("x*y", wrt=["w"])
    with pytest.raises(DeriveError, match="missing a value for y"):
        rule("x*y", at={"x": 1})
    with pytest.raises(DeriveError, match="circular"):
        rule("sin(y)", {"y": "u", "u": "y + x"})
    with pytest.raises(DeriveError, match="undefined"):
        rule("1/x", at={"x": 0})
    with pytest.raises(DeriveError, match="not a real number"):
        rule("log(x)", at={"x": -1})


# -- the computation graph ------------------------------------------------------------------------------

def graph_of(expr: str, lets: dict[str, str] | None, at: dict[str, float]):
    r = rule(expr, lets, at=at)
    inner = {symbol(k): parse(v).written for k, v in (lets or {}).items()}
    g = graphs.build(parse(expr).written, symbol("f"), inner)
    graphs.forward(g, r.values)
    graphs.backward(g)
    return r, g


def test_cs231n_graph_forward_values_and_backward_gradients():
    r, g = graph_of("(x + y)*z", None, {"x": -2, "y": 5, "z": -4})
    ops = [n for n in g.nodes if n.op is not None]
    assert [n.value for n in ops] == [3, -12]                    # q = x + y, f = q z
    assert {str(n.symbol): n.grad for n in g.inputs} == {"x": -4, "y": -4, "z": 3}
    assert ops[0].grad == -4                                      # df/dq = z


@pytest.mark.parametrize("expr, lets, at", [
    ("1/(1 + exp(-(w0*x0 + w1*x1 + w2)))", None, {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}),
    ("sigmoid(w0*x0 + w1*x1 + w2)", None, {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}),
    ("x*x + x", None, {"x": 3}),
    ("exp(-(x - y)^2)/sqrt(1 + z^2)", None, {"x": 0.4, "y": -0.3, "z": 2}),
    ("relu(x - 1)*y - tanh(x*y)", None, {"x": 1.7, "y": -0.6}),
    ("u*u + sin(u)", {"u": "x*y + 1"}, {"x": 0.5, "y": 2}),
])
def test_backprop_on_the_graph_equals_the_chain_rule(expr, lets, at):
    r, g = graph_of(expr, lets, at)
    assert g.output.value == pytest.approx(r.value, rel=1e-12)
    by_symbol = {n.symbol: n.grad for n in g.inputs}
    for grad in r.gradients:
        assert by_symbol[grad.derivative.den] == pytest.approx(grad.value, rel=1e-9, abs=1e-12)


def test_cs231n_sigmoid_gradients():
    # The CS231n notes: w = [2, -3, -3], x = [-1, -2]: dw = [-0.2, -0.39, 0.2], dx = [0.39, -0.59].
    r, _ = graph_of("sigmoid(w0*x0 + w1*x1 + w2)", None, {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3})
    grads = {str(g.derivative.den): round(g.value, 2) for g in r.gradients}
    assert grads == {"w0": -0.2, "x0": 0.39, "w1": -0.39, "x1": -0.59, "w2": 0.2}


def test_a_shared_inner_function_is_one_node_whose_gradients_add_up():
    _, g = graph_of("u*u + sin(u)", {"u": "x*y + 1"}, {"x": 0.5, "y": 2})
    (u,) = [n for n in g.nodes if n.symbol == symbol("u")]
    assert len([e for e in g.edges() if e[0] is u]) == 3       # u * u and sin(u)
    assert u.grad == pytest.approx(2 * 2 + math.cos(2))            # 2u + cos(u), at u = 2


# -- Jacobians ------------------------------------------------------------------------------------------

def numeric_jacobian(texts, names, point, h=1e-6):
    fs = [sp.lambdify([symbol(n) for n in names], parse(t).evaluated) for t in texts]
    base = [point[n] for n in names]
    rows = []
    for f in fs:
        row = []
        for j in range(len(names)):
            up, down = list(base), list(base)
            up[j] += h
            down[j] -= h
            row.append((f(*up) - f(*down)) / (2 * h))
        rows.append(row)
    return rows


def test_jacobian_against_finite_differences():
    texts = ["x1*x2 + sin(x3)", "exp(x1 - x3)/(1 + x2^2)", "tanh(x1*x2*x3)"]
    point = {"x1": 0.3, "x2": -1.1, "x3": 0.8}
    j = jacobian([parse(t) for t in texts], ["x1", "x2", "x3"], point)
    assert len(j.entries) == 3 and all(len(r) == 3 for r in j.entries)
    expected = numeric_jacobian(texts, ["x1", "x2", "x3"], point)
    for row, want in zip(j.values, expected):
        assert row == pytest.approx(want, rel=1e-6, abs=1e-8)


def test_vector_chain_rule_equals_direct_differentiation():
    texts = ["x1*x2", "sin(x1) + x3^2"]
    point = {"x1": 0.4, "x2": -2.0, "x3": 1.5}
    j = jacobian([parse(t) for t in texts], None, point, ["a", "b"], ("z", parse("a*exp(b)")))
    x1, x2, x3 = (symbol(n) for n in ("x1", "x2", "x3"))
    whole = parse("x1*x2").evaluated * sp.exp(parse("sin(x1) + x3^2").evaluated)
    at = {x1: 0.4, x2: -2.0, x3: 1.5}
    for xj, expr, value in zip((x1, x2, x3), j.chain.expressions, j.chain.values):
        assert same(expr, sp.diff(whole, xj))
        assert value == pytest.approx(float(sp.diff(whole, xj).subs(at)), rel=1e-12)


def test_outer_function_must_depend_on_x_only_through_y():
    with pytest.raises(DeriveError, match="only through"):
        jacobian([parse("x1*x2")], None, None, ["y1"], ("z", parse("y1*x1")))


def test_command_line_partials_are_checked_by_finite_differences():
    x, y = sp.symbols("x y")
    f = sp.sin(x) * y ** 2
    point = {x: 0.7, y: -1.3}
    check_partials(f, [x, y], point, {x: math.cos(0.7) * 1.69, y: 2 * math.sin(0.7) * -1.3}, "df")
    with pytest.raises(VerificationError, match="df"):
        check_partials(f, [x, y], point, {x: math.cos(0.7) * 1.69 + 1e-3}, "df")
    # At a kink there is no derivative to compare with: |x| at 0 is not checked.
    check_partials(sp.Abs(x), [x], {x: 0.0}, {x: 0.0}, "d|x|")


# -- rule by rule ---------------------------------------------------------------------------------------

TEXTBOOK = [   # f(x), f'(x) as a textbook prints it, the rules in the order shown
    ("x**3", "3*x**2", ["power"]),
    ("3*x**4", "12*x**3", ["constant multiple", "power"]),
    ("x**2 + 3*x", "2*x + 3", ["sum", "power", "constant multiple", "variable"]),
    ("sin(x**2)", "2*x*cos(x**2)", ["chain", "trig", "power"]),
    ("x**2*sin(x)", "x**2*cos(x) + 2*x*sin(x)", ["product", "power", "trig"]),
    ("sin(x)/x", "(x*cos(x) - sin(x))/x**2", ["quotient", "trig", "variable"]),
    ("(x**2 + 1)**3", "6*x*(x**2 + 1)**2", ["chain", "power", "sum", "power"]),
    ("exp(2*x)", "2*exp(2*x)", ["chain", "exp", "constant multiple", "variable"]),
    ("log(x**2 + 1)", "2*x/(x**2 + 1)", ["chain", "log", "sum", "power"]),
    ("sqrt(x)", "1/(2*sqrt(x))", ["sqrt"]),
    ("sqrt(1 - x**2)", "-x/sqrt(1 - x**2)", ["chain", "sqrt", "sum", "constant multiple", "power"]),
    ("1/x", "-1/x**2", ["power"]),
    ("x**(-2)", "-2/x**3", ["power"]),
    ("x**(3/2)", "3*sqrt(x)/2", ["power"]),
    ("sigmoid(x)", "sigmoid(x)*(1 - sigmoid(x))", ["sigmoid"]),
    ("sigmoid(3*x)", "3*sigmoid(3*x)*(1 - sigmoid(3*x))", ["chain", "sigmoid", "constant multiple", "variable"]),
    ("tanh(x**2)", "2*x*(1 - tanh(x**2)**2)", ["chain", "tanh", "power"]),
    ("exp(sin(x))", "cos(x)*exp(sin(x))", ["chain", "exp", "trig"]),
    ("sin(cos(x**2))", "-2*x*sin(x**2)*cos(cos(x**2))", ["chain", "trig", "chain", "trig", "power"]),
    ("log(cos(x))", "-tan(x)", ["chain", "log", "trig"]),
    ("cos(x)**2", "-2*sin(x)*cos(x)", ["chain", "power", "trig"]),
    ("x*exp(x)", "(x + 1)*exp(x)", ["product", "variable", "exp"]),
    ("exp(x)/(1 + x)", "x*exp(x)/(x + 1)**2", ["quotient", "exp", "sum", "variable"]),
    ("atan(2*x)", "2/(4*x**2 + 1)", ["chain", "inverse trig", "constant multiple", "variable"]),
    ("2**x", "2**x*log(2)", ["exp"]),
    ("x**x", "x**x*(log(x) + 1)", ["general power", "variable", "variable"]),
    ("sinh(x)*cosh(x)", "sinh(x)**2 + cosh(x)**2", ["product", "hyperbolic", "hyperbolic"]),
    ("(2*x + 1)**(-1/2)", "-1/(2*x + 1)**(3/2)", ["chain", "power", "sum", "constant multiple", "variable"]),
    ("1/(1 + exp(-x))", "exp(-x)/(1 + exp(-x))**2",
     ["chain", "power", "sum", "chain", "exp", "constant multiple", "variable"]),
    ("0.5*x**2", "x", ["constant multiple", "power"]),
]


@pytest.mark.parametrize("text, answer, rules", TEXTBOOK, ids=[t for t, _, _ in TEXTBOOK])
def test_textbook_derivatives_rule_by_rule(text, answer, rules):
    r = rule(text, printer=CalculusPrinter().symbolic)
    (g,) = r.gradients
    assert g.step.rules() == rules
    expected = sp.sympify(answer, locals={"x": x, "sigmoid": sigmoid})
    assert sp.simplify(g.expression - expected) == 0
    assert sp.simplify(g.expression - sp.diff(parse(text).evaluated, x)) == 0


def test_nested_chains_name_their_inner_functions_u_v_in_order():
    r = rule("sin(cos(x**2))")
    chains = [s for s in r.gradients[0].step.flat() if s.inner is not None]
    assert [(str(u), str(g)) for u, g in (s.inner for s in chains)] == [("u", "cos(x**2)"), ("v", "x**2")]
    r = rule("sin(u**2)")          # a variable called u: the inner function gets the next name
    assert str(r.gradients[0].step.inner[0]) == "v"


def test_the_final_form_is_simplified_but_keeps_the_chain():
    p = CalculusPrinter()
    # cos(x)/sin(x): the quotient rule gives -(sin^2 + cos^2)/sin^2; a textbook writes -1/sin^2
    (g,) = rule("cos(x)/sin(x)", printer=p.symbolic).gradients
    assert g.expression == -1 / sp.sin(x) ** 2
    # (x^2 + 1)^3: 6 x (x^2 + 1)^2, not the expanded polynomial 6x^5 + 12x^3 + 6x
    (g,) = rule("(x**2 + 1)**3", printer=p.symbolic).gradients
    assert g.expression.has(x**2 + 1)
    # sin(x)^2: 2 sin(x) cos(x), with u = sin(x) in sight; sin(2x) is shorter but hides the chain
    (g,) = rule("sin(x)**2", printer=p.symbolic).gradients
    assert g.expression.doit() == 2 * sp.sin(x) * sp.cos(x) and not g.expression.has(sp.sin(2 * x))


def test_a_wrong_rule_is_a_verification_error(monkeypatch):
    monkeypatch.setattr(rules, "_table", lambda e: ("trig", sp.sin(e.args[0])))   # sin' = sin: wrong
    with pytest.raises(VerificationError, match="df/dx"):
        rule("sin(x)")


def test_a_wrong_result_is_caught_where_the_domain_is_narrow():
    for text in ("asin(x + 5)", "log(x - 100)", "sqrt(x - 700)*x"):
        e = parse(text).written
        step = rules.derive(e, x)
        doubled = rules.Step(step.rule, e, x, step.formula, 2 * step.result, step.steps, step.inner)
        with pytest.raises(VerificationError):
            rules.check(doubled, e, x, "df/dx")
        rules.check(step, e, x, "df/dx")


def test_relu_has_derivative_0_at_0_in_the_rules_the_local_derivatives_and_the_graph():
    assert rule("relu(x)", at={"x": 0.0}).gradients[0].value == 0
    assert rule("relu(x)", at={"x": 1e-300}).gradients[0].value == 1
    assert rule("2*y", {"y": "relu(x)"}, at={"x": 0.0}).gradients[0].value == 0
    _, g = graph_of("relu(x)", None, {"x": 0.0})
    assert g.inputs[0].grad == 0


def test_cs231n_sigmoid_circuit_to_1e_9():
    r = rule("sigmoid(w0*x0 + w1*x1 + w2)", at={"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3},
             printer=CalculusPrinter().symbolic)
    s = 1 / (1 + math.exp(-1.0))                  # w . x = -2 + 6 - 3 = 1
    local = s * (1 - s)                           # 0.19661193324148185
    want = {"w0": -1 * local, "x0": 2 * local, "w1": -2 * local, "x1": -3 * local, "w2": local}
    got = {str(g.derivative.den): g.value for g in r.gradients}
    assert list(got) == ["w0", "x0", "w1", "x1", "w2"]
    for name, value in want.items():
        assert got[name] == pytest.approx(value, abs=1e-9)
    assert [round(v, 6) for v in got.values()] == [-0.196612, 0.393224, -0.393224, -0.589836, 0.196612]
    assert r.gradients[0].step.rules()[:2] == ["chain", "sigmoid"]


def test_values_are_accurate_where_doubles_are_not():
    # sin at 1e9: the derivative is cos(1e9) of the double nearest 1e9, to double precision
    (g,) = rule("sin(x)", at={"x": 1e9}).gradients
    with mp.workdps(50):
        assert g.value == float(mcos(mpf(1e9)))
    # 1 - tanh(u)^2 at u = 20 cancels 17 digits in doubles
    (g,) = rule("tanh(x)", at={"x": 20.0}).gradients
    assert g.value == pytest.approx(4 * math.exp(-40) / (1 + math.exp(-40)) ** 2, rel=1e-12)


def test_exact_zeros_print_0():
    j = jacobian([parse("r*cos(t)"), parse("r*sin(t)")], ["r", "t"], {"r": 2.0, "t": 0.5},
                 ["y1", "y2"], ("z", parse("y1**2 + y2**2")), CalculusPrinter().symbolic)
    assert j.chain.values == [4.0, 0.0]
    assert j.simplified == symbol("r") and j.determinant_value == 2.0


def test_spherical_determinant_is_rho_squared_sin_phi():
    rho, phi = symbol("rho"), symbol("phi")
    j = jacobian([parse("rho*sin(phi)*cos(theta)"), parse("rho*sin(phi)*sin(theta)"), parse("rho*cos(phi)")],
                 None, {"rho": 2.0, "phi": 0.5, "theta": 1.0}, printer=CalculusPrinter().symbolic)
    assert j.simplified == rho**2 * sp.sin(phi)
    assert j.determinant_value == pytest.approx(4 * math.sin(0.5), rel=1e-15)


def test_variables_come_in_the_order_written():
    assert [str(g.derivative.den) for g in rule("max(y, x)").gradients] == ["y", "x"]
    assert [str(g.derivative.den) for g in rule("max(x, y)").gradients] == ["x", "y"]
    assert [str(g.derivative.den) for g in rule("b*q", {"q": "z + a"}).gradients] == ["b", "z", "a"]
