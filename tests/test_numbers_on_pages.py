"""Numbers as promised, on the real pages: computed values at exactly the spec's decimals (trailing
zeros kept), given data as written, no e-notation, the same rule in PDFs, CSV and Moodle."""
from __future__ import annotations

import csv
import io
import json
import re

import pytest

import derive
from derive.layout.solution import solutions_context
from derive.layout.steps import summary_rows
from derive.printing.numbers import given_latex

from conftest import ROOT, matrix_spec, toml_text
from helpers import pdf_text, run_cli

NUMBER = re.compile(r"(?<![\w.])-?\d+\.\d+(?![\w.])")
LECTURE_GIVEN = {"0.05", "0.1", "0.01", "0.99", "0.15", "0.2", "0.25", "0.3", "0.4", "0.45", "0.5", "0.55",
                 "0.35", "0.6"}


@pytest.fixture(scope="module")
def lecture_pages(tmp_path_factory):
    out = tmp_path_factory.mktemp("lecture") / "out"
    assert run_cli("worksheet", ROOT / "examples" / "lecture.toml", "--out", out).returncode == 0
    return pdf_text(out / "solutions.pdf")


def test_the_lecture_prints_w7_plus_as_0_511301270(lecture_pages):
    assert "0.511301270" in lecture_pages
    assert "0.377500000" in lecture_pages          # net_h1: 9 places, trailing zeros kept


def test_every_number_in_the_lecture_solution_is_given_or_has_9_decimals(lecture_pages):
    numbers = NUMBER.findall(lecture_pages)
    assert len(numbers) > 150
    wrong = [n for n in numbers if n.lstrip("-") not in LECTURE_GIVEN and len(n.split(".")[1]) != 9]
    assert wrong == []
    assert "0.150000000" not in lecture_pages       # given data as written: 0.15
    assert not re.search(r"\de-?\d", lecture_pages)  # no e-notation
    assert "eta" not in lecture_pages.replace("theta", "")


@pytest.fixture(scope="module")
def exam(tmp_path_factory):
    out = tmp_path_factory.mktemp("exam") / "out"
    result = run_cli("exam", ROOT / "examples" / "exam.toml", "--variants", "4", "--seed", "3", "--out", out)
    assert result.returncode == 0, result.stderr
    return out


def test_exam_keys_at_4_decimals_keep_trailing_zeros_everywhere(exam):
    keys = json.loads((exam / "keys.json").read_text())
    rows = list(csv.DictReader(io.StringIO((exam / "keys-long.csv").read_text())))
    for row in rows:
        assert re.fullmatch(r"-?\d+\.\d{4}|0|-?0\.0000\d+", row["answer"]), row
        float(row["answer"])                                 # machine-readable
        assert "e" not in row["tolerance"] and float(row["tolerance"]) > 0
    out_o1 = {int(r["variant"]): r["answer"] for r in rows if r["question"] == "out_o1"}
    assert out_o1 == {e["variant"]: f"{e['key']['forward'][-1]['out'][0]:.4f}" for e in keys}
    zeros = [r["answer"] for r in rows if r["answer"].endswith("0")]
    assert zeros, "no answer ends in 0 at 4 decimals in this seed; choose another"
    moodle = (exam / "moodle.xml").read_text()
    keys_pdf = pdf_text(exam / "keys.pdf")
    for shown in zeros:
        assert f":={shown}:" in moodle                       # the cloze field {1:NUMERICAL:=answer:tolerance}
        assert shown in keys_pdf


def test_the_exam_keys_say_when_a_value_is_given_as_m_times_10_to_the_k(exam):
    """E_o2 = 2.057 × 10^-5 under "4 decimal places": the header says what the other form means."""
    keys_pdf = " ".join(pdf_text(exam / "keys.pdf").split())
    assert "too small for that (below 0.0001) or of a million or more is given as m × 10k with 4 " \
           "significant digits" in keys_pdf


def test_the_learning_rate_and_a_factor_1_print_as_given_in_the_steps(lecture_pages):
    """η = 0.5 in the problem and in the steps; ∂net/∂b = 1 is 1, not 1.000000000."""
    assert "learning rate η = 0.5 moves" in lecture_pages
    assert "0.500000000" not in lecture_pages and "1.000000000" not in lecture_pages
    assert "= 0.008771355 · 1 + 0.009954255 · 1\n" in lecture_pages


def _tex(tmp_path, example: str) -> str:
    out = tmp_path / example
    result = run_cli("worksheet", ROOT / "examples" / f"{example}.toml", "--out", out, "--no-pdf")
    assert result.returncode == 0, result.stderr
    return (out / "solutions.tex").read_text()


def test_exact_values_of_given_data_print_without_trailing_zeros(tmp_path):
    """The linear model: dout/dnet = 1, r² = 1, 1 − 2ηλ = 0.996, the other samples' inputs 2, 3, 4, 0.5."""
    tex = _tex(tmp_path, "linear_constrained")
    assert r"\frac{\partial \mathit{out}_{o1}}{\partial \mathit{net}_{o1}} &= 1" + "\n" in tex
    assert r"\cdot 1.000000000" not in tex
    assert r"so the bound on $R(\theta)$ is $r^{2} = 1$:" in tex
    assert r"\lambda^{*} r^{2} = 1.285906019 \cdot 1 = 1.285906019" in tex
    assert r"1 - 2 \eta \lambda = 0.996$" in tex
    assert r"$\frac{\partial \mathit{net}_{o1}}{\partial w_{1}}$ & $2$ & $3$ & $4$ & $0.5$" in tex


def test_relu_derivative_and_untrained_biases_print_as_whole_and_given(tmp_path):
    tex = _tex(tmp_path, "deep")
    assert r"\end{cases} = 1" + "\n" in tex and r"\end{cases} = 1.000000000" not in tex
    final = tex[tex.index("Final parameters"):]
    assert r"$b^{(1)}_{1}$ & $0.1$ \\" in final and "0.100000000" not in final
    # w^{(1)}_{11} above w^{(1)}_{12}: taller rows, so that the indices do not touch
    summary = tex[tex.index(r"\section*{Summary}"):]
    assert summary.index(r"\renewcommand{\arraystretch}{1.3}") < summary.index(r"\begin{longtable}")
    assert final.index(r"\renewcommand{\arraystretch}{1.3}") < final.index(r"\begin{longtable}")


def test_a_residual_below_the_last_place_is_said_in_words(tmp_path):
    """"within 2.08166817 × 10^-17" reads like noise: the KKT check holds up to rounding."""
    for example in ("regularization", "linear_constrained"):
        tex = _tex(tmp_path, example)
        kkt = tex[tex.index("For the curious"):]
        assert "each holds up to rounding (what is left lies below the last of the 9 decimal places shown)" in kkt
        assert r"\times 10^{-" not in tex, example


def test_adam_tables_keep_one_form_per_column_and_integer_iteration_ticks(tmp_path):
    tex = _tex(tmp_path, "adam")
    assert "xtick={0,1,2,3}" in tex
    tables = re.findall(r"\\midrule\n(.*?)\\bottomrule", tex[tex.index("every trained parameter"):], re.S)[:3]
    assert len(tables) == 3 and all("$w_{8}$" in t for t in tables)
    for number, table in enumerate(tables, 1):
        rows = [[c.strip().strip("$") for c in row.rstrip(" \\").split("&")] for row in table.strip().splitlines()]
        for column in list(zip(*rows))[1:]:
            forms = {r"\times" in c for c in column if c != "0"}
            assert len(forms) == 1, (number, column)
        if number == 1:   # before the first step the parameters are the given ones
            assert [r[1] for r in rows] == ["0.15", "0.2", "0.25", "0.3", "0.4", "0.45", "0.5", "0.55"]
    assert r"6.75142256 \times 10^{-6}" in tables[0]


def test_a_summary_too_long_for_a_page_still_gets_taller_rows(tmp_path):
    """Taller rows for w^{(l)}_{ij} however many parameters: the summary is a long table that breaks
    between rows (page-matrix spec 5 has 42 parameters (45 rows with its biases); at 1.3 its summary once ran 73 pt off a
    page: its solution compiles with no Overfull \\vbox in tests/test_pages.py's whole matrix)."""
    path = tmp_path / "matrix5.toml"
    path.write_text(toml_text(matrix_spec(5)), encoding="utf-8")
    solution = derive.derive(str(path))
    assert len(solution.derivation.model.parameters()) > 32
    assert solutions_context(solution)["tall_names"] is True
    assert solutions_context(derive.derive(str(ROOT / "examples" / "deep.toml")))["tall_names"] is True
    assert solutions_context(derive.derive(str(ROOT / "examples" / "lecture.toml")))["tall_names"] is False


def test_the_summary_writes_each_column_in_one_form(write_spec, lecture_dict):
    """At 3 decimals dE/dw1 = 0.000438568 needs m × 10^k: then the whole gradient column has it."""
    lecture_dict["output"] = {"decimals": 3}
    rows = summary_rows(derive.derive(str(write_spec(lecture_dict))))
    gradients = {r["name"]: r["gradient"] for r in rows}
    assert gradients["w_{1}"] == r"4.39 \times 10^{-4}"
    assert gradients["w_{5}"] == r"8.22 \times 10^{-2}"
    assert all(r"\times" in g for g in gradients.values())
    assert [r["updated"] for r in rows][:2] == ["0.150", "0.200"]      # the updated column needs no powers


def test_a_given_constant_written_1e_minus_8_prints_as_10_to_the_minus_8(tmp_path):
    """epsilon = 1e-8 (adam.toml) is 10^{-8} in the constants and in every update line, never
    0.00000001, whose zeros a student has to count; other given numbers stay as written."""
    tex = _tex(tmp_path, "adam")
    assert r"$\beta_{2} = 0.999$ and $\varepsilon = 10^{-8}$" in tex
    assert r"= 0.4 - \frac{0.1 \cdot 0.082167041}{\sqrt{0.006751423} + 10^{-8}} = 0.300000012" in tex
    assert "0.00000001" not in tex
    assert r"$\eta = 0.1$" in tex and r"w_{1} = 0.15" in tex


@pytest.mark.parametrize("value, shown", [(1e-8, "10^{-8}"), (-1e-8, "-10^{-8}"), (2.5e-6, r"2.5 \times 10^{-6}"),
                                          (0.0001, "0.0001"), (0.15, "0.15"), (0.999, "0.999"), (0, "0"),
                                          (-2, "-2")])
def test_given_latex_writes_tiny_given_numbers_as_powers_of_ten(value, shown):
    assert given_latex(value) == shown
