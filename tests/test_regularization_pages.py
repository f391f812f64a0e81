"""The regularisation pages as a student meets them: a worksheet with regularisation tasks and a
worked solution that argues like the lecture's slides, in student language, fitting the page.

Real files, real TeX: every document is compiled and its log read.
"""
from __future__ import annotations

import re
import subprocess

import pytest

import derive
from derive.printing.numbers import compact_number, given_number, plain_number
from derive.regularization.layout import regularization_worksheet

from helpers import run_cli

SPECS = ("examples/regularization.toml", "examples/linear_constrained.toml")
DEVELOPER_TEXT = re.compile(r"sympy|numpy|scipy|include_biases|Barzilai|e[+-]\d\d")


def _latex(folder, name: str) -> str:
    """Compile `name` in `folder` as derive does and return its TeX log."""
    subprocess.run(["latexmk", "-pdf", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", name],
                   cwd=folder, check=True, capture_output=True)
    return (folder / name.replace(".tex", ".log")).read_text(encoding="latin-1")


def _text(path) -> str:
    """The PDF's text in reading order (no layout), whitespace collapsed."""
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(out.split())


def _overfull(log: str, from_line: int = 1) -> list[str]:
    """Overfull \\hbox over 1 pt, and any overfull \\vbox, at .tex lines from `from_line` on."""
    bad = re.findall(r"Overfull \\vbox[^\n]*", log)
    for match in re.finditer(r"Overfull \\(hbox|vbox) \(([\d.]+)pt too (wide|high)\)[^\n]*?(\d+)(?:--\d+)?\n", log):
        if int(match.group(4)) >= from_line and match.group(1) == "hbox" and float(match.group(2)) > 1.0:
            bad.append(match.group(0).strip())
    return bad


def _regularisation_starts(tex: str) -> int:
    """The .tex line where the regularisation part begins (the rest is the core network's)."""
    for number, line in enumerate(tex.splitlines(), 1):
        if line.startswith(("\\section*{Regularisation", "\\section*{Regularisation as")):
            return number
    raise AssertionError("no regularisation part")


FOLDERS: dict = {}     # spec -> the folder its documents were compiled in (by `pages`)


@pytest.fixture(scope="module", params=SPECS, ids=["network", "linear"])
def pages(request, tmp_path_factory):
    """The worksheet and the solution of a regularisation example: text, TeX logs, the solution."""
    out = tmp_path_factory.mktemp("pages") / "out"
    result = run_cli("worksheet", request.param, "--out", out, "--no-pdf")
    assert result.returncode == 0, result.stderr
    logs = {name: _latex(out, name) for name in ("worksheet.tex", "solutions.tex")}
    text = {name: _text(out / name.replace(".tex", ".pdf")) for name in logs}
    starts = {name: _regularisation_starts((out / name).read_text(encoding="utf-8")) for name in logs}
    FOLDERS[request.param] = out
    return text, (logs, starts), derive.derive(request.param)


def test_the_worksheet_asks_about_r_lambda_the_radius_and_the_lagrangian(pages):
    text, _, solution = pages
    sheet = text["worksheet.tex"]
    r = solution.regularization
    assert "Regularisation" in sheet
    assert "R(θ)" in sheet
    assert f"λ = {given_number(r.config.lam)}" in sheet
    assert f"r = {given_number(r.config.radius)}" in sheet
    assert "Write the Lagrangian" in sheet
    assert "weight-decay form" in sheet


def test_the_worksheet_gives_no_answers(pages):
    text, _, solution = pages
    sheet = text["worksheet.tex"]
    r = solution.regularization
    answers = [r.soft.penalty, r.soft.objective, r.hard.lambda_star, r.hard.loss]
    answers += [r.soft.gradient[p] for p in r.symbolic.theta] + list(r.hard.theta.values())
    for value in answers:
        shown = plain_number(value, 9)
        if len(shown.strip("-0.")) > 2:     # numbers the data could also contain (0.1, 0.2) say nothing
            assert shown not in sheet, shown


def test_the_linear_worksheet_asks_for_theta_of_lambda(pages):
    text, _, solution = pages
    asked = "solve for θ(λ)" in text["worksheet.tex"]
    assert asked == (solution.regularization.hard.linear is not None)


def test_the_solution_argues_like_the_slides_before_any_kkt(pages):
    text, _, solution = pages
    page = text["solutions.tex"]
    kkt = page.index("KKT")
    hard = page.index("min L̂(θ) θ subject to R(θ) ≤ r")
    soft = page.index("min L̂(θ) + λ∗ R(θ)")
    lagrangian = page.index("L(θ, λ) := L̂(θ) + λ [R(θ) − r]")
    minmax = page.index("argmin max L(θ, λ)")
    constant = page.index("L(θ, λ∗ ) = L̂(θ) + λ∗ ∥θ∥22 − λ∗ r2")   # the bound on R = ||θ||² is r²
    assert hard < soft < lagrangian < minmax < constant < kkt
    assert "a constant does not move the argmin" in page[:kkt]
    h = solution.regularization.hard
    # The constant's value: λ* r² with the spec's radius r (r² computed exactly from it: 0.64, 1).
    value = f"λ∗ r2 = {plain_number(h.lambda_star, 9)} · {compact_number(h.radius ** 2, 9)} = " \
            f"{plain_number(h.lambda_star * h.radius ** 2, 9)}"
    assert "".join(value.split()) in "".join(page.split())


def test_the_objective_shown_is_the_one_solved(pages):
    text, _, solution = pages
    page = text["solutions.tex"]
    if solution.spec.reduction == "sum" and len(solution.spec.inputs) > 1:
        assert "sums the losses of the 5 samples" in page
        assert "only rescales λ∗" in page
    else:
        assert "one sample, n = 1" in page


def test_the_convexity_caveat_only_for_the_network(pages):
    text, _, solution = pages
    caveat = "not convex" in text["solutions.tex"]
    assert caveat == (solution.regularization.hard.linear is None)


def test_no_developer_text_in_the_solution(pages):
    text, _, _ = pages
    for name in ("solutions.tex", "worksheet.tex"):
        assert not DEVELOPER_TEXT.search(text[name]), DEVELOPER_TEXT.search(text[name])


def test_the_difference_column_shows_no_noise_below_the_displayed_place(pages):
    text, _, solution = pages
    e = solution.regularization.hard.equivalence
    assert e.max_difference < 5e-10
    assert "agree in all 9 decimal places" in text["solutions.tex"]
    assert "×" not in text["solutions.tex"].split("beside θ∗")[-1].split("For the curious")[0]


def test_the_weight_decay_identity_is_derived_once(pages):
    text, _, solution = pages
    page = text["solutions.tex"]
    # one derivation in symbols, one with numbers: the updated-weight name appears in two displays only
    plus = [s for s in solution.regularization.symbolic.soft_steps if s.kind == "weight_decay"]
    assert len(plus) > 1
    assert page.count("(1 − 2ηλ)") <= 3


def test_every_regularisation_page_fits(pages):
    """The regularisation part of both documents (the core network's pages are the core layout's)."""
    _, (logs, starts), _ = pages
    for name, log in logs.items():
        assert _overfull(log, starts[name]) == [], name


def test_the_snippet_fits_a_plain_article(tmp_path):
    assert run_cli("style", "-o", tmp_path / "derive.sty").returncode == 0
    result = run_cli("snippet", "examples/regularization.toml", "--part", "regularization",
                     "-o", tmp_path / "reg.tex")
    assert result.returncode == 0, result.stderr
    (tmp_path / "notes.tex").write_text("\\documentclass{article}\n\\usepackage{derive}\n"
                                        "\\begin{document}\n\\input{reg}\n\\end{document}\n")
    log = _latex(tmp_path, "notes.tex")
    assert _overfull(log) == []
    text = _text(tmp_path / "notes.pdf")
    assert "L(θ, λ) := L̂(θ) + λ [R(θ) − r]" in text
    assert not DEVELOPER_TEXT.search(text)


def test_theta_star_is_exact_to_the_printed_places():
    """w5* and w6* are equal by symmetry (the hidden neurons' outputs agree at θ*): Newton on the
    KKT equations finishes the gradient steps, so no solver noise reaches the 9th decimal."""
    solution = derive.derive("examples/regularization.toml")
    h = solution.regularization.hard
    by = solution.derivation.model.names.by_plain
    w5, w6 = h.theta[by["w5"]], h.theta[by["w6"]]
    assert abs(w5 - w6) < 1e-13
    assert h.kkt_residual < 1e-12
    assert plain_number(w5, 9) == plain_number(w6, 9) == "-0.510602732"
    soft = h.equivalence.soft
    assert abs(soft[by["w5"]] - soft[by["w6"]]) < 1e-13


def test_the_path_plot_holds_the_soft_parts_lambda(pages):
    text, _, solution = pages
    r = solution.regularization
    lams = [lam for lam, _ in r.hard.path.points]
    assert min(lams) < r.config.lam < max(lams)
    assert min(lams) <= r.hard.lambda_star / 10 and max(lams) >= 10 * r.hard.lambda_star
    assert r.config.lam in lams and r.hard.lambda_star in lams
    page = text["solutions.tex"]
    assert f"The dotted line marks the soft part's λ = {given_number(r.config.lam)}." in page
    assert "outside the plotted range" not in page


def test_every_page_of_both_documents_fits(pages):
    """The whole documents, the core network's pages with the regularisation part (TeX's log)."""
    _, (logs, _), _ = pages
    for name, log in logs.items():
        assert _overfull(log) == [], name


def _regularisation_displays(pages) -> list[str]:
    """The aligned displays of the regularisation part of the solution's .tex, each with what precedes it."""
    _, _, solution = pages
    tex = (FOLDERS[solution.spec.source] / "solutions.tex").read_text(encoding="utf-8")
    part = "\n".join(tex.splitlines()[_regularisation_starts(tex) - 1:])
    return re.findall(r"(?<=\n)(\n?)\\begin\{align\*\}\n(.*?)\\end\{align\*\}", part, re.S)


def test_no_empty_line_before_a_display(pages):
    """A blank line before \\begin{align*} is an empty paragraph: a line's worth of space above the
    display that the core network's displays do not have."""
    displays = _regularisation_displays(pages)
    assert displays and [body[:60] for blank, body in displays if blank] == []


def test_a_short_display_stays_on_one_page(pages):
    """The two Lagrangians, the KKT values, R and E_R: a display of a few rows is read as one, so
    its rows are joined with \\\\* (no page break between them)."""
    for _, body in _regularisation_displays(pages):
        rows = body.count("\\\\") + 1
        if rows <= 4:
            assert body.count("\\\\*") == rows - 1, body[:200]


def test_the_equivalence_table_starts_on_the_page_of_its_heading(pages):
    """"The soft problem at λ* beside θ*", its sentence and its table on one page."""
    _, _, solution = pages
    out = subprocess.run(["pdftotext", str(FOLDERS[solution.spec.source] / "solutions.pdf"), "-"],
                         capture_output=True, text=True, check=True).stdout
    page = next(p for p in out.split("\f") if "The soft problem, solved" in p)
    assert "hard," in page and "beside" in page         # the table header, the heading


def _task_positions(pdf) -> list[tuple[int, int, float]]:
    """(page, task number, top of its label in pt) of every numbered task, from pdftotext -bbox."""
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    found, page = [], 0
    for line in out.splitlines():
        if "<page " in line:
            page += 1
        match = re.search(r'xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>(\d+)\.</word>', line)
        if match and float(match.group(1)) < 90:        # a label in the list's margin
            found.append((page, int(match.group(3)), float(match.group(2))))
    return found


def test_each_regularisation_task_keeps_its_answer_space_on_its_page(pages):
    """Every task's label and the space below it end on one page (A4, 2.2 cm margins)."""
    _, _, solution = pages
    sheet = regularization_worksheet(solution)
    bottom = 841.89 - 2.2 * 28.4528
    positions = [p for p in _task_positions(FOLDERS[solution.spec.source] / "worksheet.pdf")
                 if p[1] >= sheet["first"]]
    assert [n for _, n, _ in positions] == list(range(sheet["first"], sheet["first"] + len(sheet["tasks"])))
    for (page, number, top), task, after in zip(positions, sheet["tasks"], positions[1:] + [None]):
        end = after[2] if after is not None and after[0] == page else bottom
        space = float(task["space"].removesuffix("cm")) * 28.4528
        assert end - top >= space + 9.7, (number, page, end - top, space)   # 9.7 pt: the label's line


def test_the_table_shows_given_values_as_written():
    """The value column holds the spec's data as written (0.15), computed columns at nine places."""
    text = run_cli("snippet", "examples/regularization.toml", "--part", "regularization").stdout
    assert "$w_{1}$ & $0.15$ & $0.000438568$" in text and "0.150000000" not in text


def test_a_fixed_bias_keeps_its_value_after_the_step_in_the_table_as_in_the_summary():
    """The summary says b1 is 0.35 after the step; the regularisation table left the cells empty."""
    text = run_cli("snippet", "examples/regularization.toml", "--part", "regularization").stdout
    assert "$b_{1}$ & $0.35$ & $0.018725609$ & $0.018725609$ & $0.35$ & $0.35$" in text
