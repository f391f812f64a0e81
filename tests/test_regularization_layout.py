"""The regularisation part of the worked solution: real TeX, the numbers in the PDF."""
from __future__ import annotations

import subprocess

import pytest

import derive
from derive.printing.numbers import plain_number
from derive.regularization.layout import regularization_sections

from helpers import pdf_text, run_cli


@pytest.fixture(scope="module")
def lecture_l2(tmp_path_factory):
    out = tmp_path_factory.mktemp("reg") / "out"
    result = run_cli("worksheet", "examples/regularization.toml", "--out", out)
    assert result.returncode == 0, result.stderr
    return " ".join(pdf_text(out / "solutions.pdf").split()), derive.derive("examples/regularization.toml")


def test_soft_constraint_shows_the_2_lambda_w_step_and_the_regularised_gradient(lecture_l2):
    text, solution = lecture_l2
    assert "Regularisation as a soft constraint" in text
    # dE_R/dw5 = dE/dw5 + 2 lambda w5 = 0.082167041 + 0.000800000 = 0.082967041
    assert "0.082167041 + 0.000800000 = 0.082967041" in text
    assert "weight-decay form" in text


def test_hard_constraint_shows_lagrangian_kkt_and_lambda_star(lecture_l2):
    text, solution = lecture_l2
    assert "Regularisation as a hard constraint" in text
    for condition in ("stationarity", "primal feasibility", "dual feasibility", "complementary slackness"):
        assert condition in text
    lam = solution.regularization.hard.lambda_star
    assert abs(lam - 0.07043565726274482) < 1e-8
    assert plain_number(lam, 9) in text


def test_equivalence_table_and_path_figure(lecture_l2):
    text, solution = lecture_l2
    assert "The soft problem at λ" in text
    assert "regularisation path" in text
    theta = solution.regularization.hard.theta
    w5 = solution.derivation.model.weights[1][0][0]
    assert plain_number(theta[w5], 9) in text


def test_linear_model_shows_theta_of_lambda_and_its_exact_multiplier(tmp_path):
    out = tmp_path / "lin"
    assert run_cli("worksheet", "examples/linear_constrained.toml", "--out", out).returncode == 0
    text = " ".join(pdf_text(out / "solutions.pdf").split())
    assert "functions of λ" in text or "functions of" in text
    assert "norm equation" in text
    lam = derive.derive("examples/linear_constrained.toml").regularization.hard.lambda_star
    assert plain_number(lam, 9) in text


def test_the_regularization_snippet_compiles_in_a_plain_article(tmp_path):
    assert run_cli("style", "-o", tmp_path / "derive.sty").returncode == 0
    result = run_cli("snippet", "examples/regularization.toml", "--part", "regularization",
                     "-o", tmp_path / "reg.tex")
    assert result.returncode == 0, result.stderr
    (tmp_path / "notes.tex").write_text("\\documentclass{article}\n\\usepackage{derive}\n"
                                        "\\begin{document}\n\\input{reg}\n\\end{document}\n")
    subprocess.run(["latexmk", "-pdf", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error",
                    "notes.tex"], cwd=tmp_path, check=True, capture_output=True)
    assert "0.082967041" in pdf_text(tmp_path / "notes.pdf")


def test_sections_without_a_radius_are_only_the_soft_part():
    spec = derive.load("examples/regularization.toml")
    raw = spec.to_dict()
    del raw["regularization"]["radius"]
    solution = derive.derive(raw)
    titles = [s.title for s in regularization_sections(solution)]
    assert titles == ["Regularisation as a soft constraint"]
