"""The printing module: the lecture's number display, operand order, and one expression printed twice."""

import pytest
import sympy as sp

import derive
from derive.printing.latex import Printer
from derive.printing.numbers import format_number, plain_number


@pytest.fixture(scope="module")
def lecture():
    solution = derive.derive("examples/lecture.toml")
    m = solution.derivation.model
    printer = Printer(m.names.of, 9, given=m.given())
    values = solution.values.samples[0] | solution.values.totals
    return solution, printer, values


@pytest.mark.parametrize("value, shown", [
    (0.3775, "0.377500000"), (0.7513650695523157, "0.751365070"), (0.5113012702387375, "0.511301270"),
    (0.00043856773447434685, "0.000438568"), (0.15, "0.150000000"), (1.0, "1.000000000"),
    (-0.0190491182582781, "-0.019049118"), (0.0, "0"), (-1e-13, r"-1.00000000 \times 10^{-13}"),
    (3.510187782978859e-12, r"3.51018778 \times 10^{-12}"),
])
def test_numbers_are_shown_as_the_lecture_rounds_them(value, shown):
    assert format_number(value, 9) == shown


def test_plain_numbers_for_tables_and_csv():
    assert plain_number(0.7513650695523157, 9) == "0.751365070"
    assert plain_number(-0.0, 9) == "0"
    assert plain_number(2e-12, 9) == "0.000000000002"


def test_net_h1_keeps_the_lecture_order_w1_i1_plus_w2_i2_plus_b1(lecture):
    solution, printer, values = lecture
    step = solution.derivation.step("net_h1")
    assert printer.symbolic(step.expr) == r"w_{1} i_{1} + w_{2} i_{2} + b_{1} \cdot 1"
    assert printer.substituted(step.expr, values) == r"0.15 \cdot 0.05 + 0.2 \cdot 0.1 + 0.35 \cdot 1"
    assert printer.name(step.name) == r"\mathit{net}_{h1}"


def test_out_o1_is_one_over_one_plus_e_to_the_minus_net(lecture):
    solution, printer, values = lecture
    step = solution.derivation.step("out_o1")
    assert printer.chain(step.name, step.expr, values, values[step.name]) == [
        r"\frac{1}{1 + e^{-\mathit{net}_{o1}}}", r"\frac{1}{1 + e^{-1.105905967}}", "0.751365070"]


def test_loss_derivative_reads_minus_target_minus_out(lecture):
    solution, printer, values = lecture
    step = solution.derivation.step("dE_total/dout_o1")
    assert printer.symbolic(step.expr) == r"-\left(\mathit{target}_{o1} - \mathit{out}_{o1}\right)"
    assert printer.substituted(step.expr, values) == r"-\left(0.01 - 0.751365070\right)"


def test_negative_numbers_in_substitutions_get_parentheses(lecture):
    solution, printer, values = lecture
    step = solution.derivation.step("w7+")
    assert printer.substituted(step.expr, values) == r"0.5 - 0.5 \cdot \left(-0.022602540\right)"


def test_symbolic_and_substituted_lines_are_one_expression_printed_twice(lecture):
    """Put each symbol's printed value back in place of its printed name: the lines coincide."""
    solution, printer, values = lecture
    for step in solution.derivation.sample_steps + solution.derivation.total_steps:
        symbolic = printer.symbolic(step.expr)
        substituted = printer.substituted(step.expr, values)
        rebuilt = symbolic
        # Longest names first, so that w_{1} does not clobber part of a longer name.
        for sym in sorted(step.expr.free_symbols, key=lambda s: -len(printer.name(s))):
            shown = printer.value_of(sym, values[sym])
            if values[sym] < 0 and not isinstance(step.expr, sp.Symbol):
                shown = rf"\left({shown}\right)"
            rebuilt = rebuilt.replace(printer.name(sym), shown)
        if isinstance(step.expr, sp.Symbol):
            rebuilt = printer.value_of(step.expr, values[step.expr])
        def plain(text):  # numbers take a \cdot where names stand side by side
            return " ".join(text.replace(r"\cdot", " ").split())
        assert plain(rebuilt) == plain(substituted), step.name


def test_the_slides_typo_0_751366507_is_not_printed(lecture):
    solution, printer, values = lecture
    for step in solution.derivation.steps:
        assert "0.751366507" not in printer.substituted(step.expr, values)
