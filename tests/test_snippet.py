"""`derive snippet`: fragments for lecture notes compile inside a plain article."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from derive.choices import PARTS

from helpers import ROOT, pdf_text, run_cli

COMPILED_PARTS = [p for p in PARTS if p != "regularization"]


@pytest.fixture(scope="module")
def notes(tmp_path_factory):
    """Every part of the lecture (and the softmax example's vector form) inside one plain article."""
    folder = tmp_path_factory.mktemp("notes")
    assert run_cli("style", "-o", folder / "derive.sty").returncode == 0
    inputs = []
    for part in COMPILED_PARTS:
        result = run_cli("snippet", "examples/lecture.toml", "--part", part, "-o", folder / f"{part}.tex")
        assert result.returncode == 0, result.stderr
        inputs.append(part)
    result = run_cli("snippet", "examples/softmax.toml", "--part", "vector", "-o", folder / "softmax-vector.tex")
    assert result.returncode == 0, result.stderr
    inputs.append("softmax-vector")
    result = run_cli("snippet", "examples/lecture.toml", "--step", "dE_total/dw1", "-o", folder / "step.tex")
    assert result.returncode == 0, result.stderr
    inputs.append("step")
    body = "\n".join(rf"\input{{{name}}}" for name in inputs)
    (folder / "notes.tex").write_text("\\documentclass{article}\n\\usepackage{derive}\n\\begin{document}\n"
                                      f"{body}\n\\end{{document}}\n")
    subprocess.run(["latexmk", "-pdf", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error",
                    "notes.tex"], cwd=folder, check=True, capture_output=True)
    return folder


def test_fragments_have_no_preamble(notes):
    for part in COMPILED_PARTS:
        text = (notes / f"{part}.tex").read_text()
        assert r"\documentclass" not in text and r"\begin{document}" not in text


def test_every_part_compiles_inside_a_plain_article(notes):
    text = pdf_text(notes / "notes.pdf")
    for number in ("0.3775", "0.298371109", "0.082167041", "0.35891648", "0.000438568"):
        assert number in text


def test_one_step_by_name_is_its_definition_and_its_line(notes):
    text = (notes / "step.tex").read_text()
    assert r"\frac{\partial E_{\mathit{total}}}{\partial w_{1}}" in text
    assert "0.000438568" in text


def test_standalone_compiles_on_its_own(tmp_path):
    shutil.copy(ROOT / "templates/derive.sty", tmp_path)
    assert run_cli("snippet", "examples/lecture.toml", "--part", "forward", "--standalone",
                   "-o", tmp_path / "f.tex").returncode == 0
    subprocess.run(["latexmk", "-pdf", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error",
                    "f.tex"], cwd=tmp_path, check=True, capture_output=True)
    assert "0.593269992" in pdf_text(tmp_path / "f.pdf")


def test_an_unknown_step_is_one_clear_line(tmp_path):
    result = run_cli("snippet", "examples/lecture.toml", "--step", "dE_total/dw99", "-o", tmp_path / "x.tex")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "no step named 'dE_total/dw99'" in result.stderr
    assert not (tmp_path / "x.tex").exists()


def test_regularization_part_needs_a_regularization_section(tmp_path):
    result = run_cli("snippet", "examples/lecture.toml", "--part", "regularization")
    assert result.returncode == 2
    assert "[regularization]" in result.stderr


@pytest.mark.parametrize("example, part", [("lecture", "vector"), ("cnn", "backward")])
def test_a_tall_frame_body_is_body_text_not_the_frames_subtitle(tmp_path, example, part):
    """A tall section's body in a frame is set in the body's 10 pt: a brace group right after
    \\begin{frame}{title} would be taken by beamer as the frame's subtitle (9 pt, in the title's colour)."""
    result = run_cli("snippet", f"examples/{example}.toml", "--part", part, "--fit", "beamer", "--standalone",
                     "-o", tmp_path / "frames.tex")
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "frames.tex").read_text()
    assert "\\interdisplaylinepenalty" in text          # the case in question: a tall section in a frame
    subprocess.run(["pdflatex", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", "frames.tex"],
                   cwd=tmp_path, capture_output=True, timeout=300)
    fonts = subprocess.run(["pdffonts", "frames.pdf"], cwd=tmp_path, capture_output=True, text=True).stdout
    assert "LMSans10-Regular" in fonts
    assert "LMSans9" not in fonts and "LMMathItalic9" not in fonts, fonts


@pytest.mark.parametrize("fit", ["article", "twocolumn"])
def test_relus_derivative_is_never_broken_over_two_lines(tmp_path, fit):
    """'ReLU'(z) = 1 if z > 0, 0 otherwise' is one piece on one line (review 4, item 6: a line ended
    at 'z >'), and the paragraph around it fits its line."""
    result = run_cli("snippet", "examples/cnn.toml", "--part", "backward", "--fit", fit, "--standalone",
                     "-o", tmp_path / "cnn.tex")
    assert result.returncode == 0, result.stderr
    subprocess.run(["pdflatex", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", "cnn.tex"],
                   cwd=tmp_path, capture_output=True, timeout=300)
    log = (tmp_path / "cnn.log").read_text(errors="replace")
    assert "Overfull \\hbox" not in log
    lines = pdf_text(tmp_path / "cnn.pdf").splitlines()
    assert any("if z > 0, 0 otherwise" in line for line in lines)
    assert not any(line.rstrip().endswith(("if z >", "if z", "(z) =", "(z) = 1")) for line in lines)


def test_a_section_that_fits_once_the_pages_spaces_close_up_goes_there(tmp_path):
    """cnn's kernel gradient (361 pt) goes on page 3 below the ReLU section, where 360.9 pt were left
    with 11 pt of the page's glue to shrink (review 4, item 3: page 3 was two-thirds blank); and the
    long input gradient that then breaks over pages 4-5 takes at least six rows over, not three."""
    result = run_cli("snippet", "examples/cnn.toml", "--part", "backward", "--standalone", "-o", tmp_path / "cnn.tex")
    assert result.returncode == 0, result.stderr
    subprocess.run(["pdflatex", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", "cnn.tex"],
                   cwd=tmp_path, capture_output=True, timeout=300)
    log = (tmp_path / "cnn.log").read_text(errors="replace")
    assert "Overfull" not in log and "Underfull \\vbox" not in log
    page = {n: subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), "cnn.pdf", "-"], cwd=tmp_path,
                              capture_output=True, text=True).stdout for n in (3, 5)}
    assert "through ReLU" in page[3] and "the kernel gradient" in page[3]
    assert "the input gradient" not in page[5] and page[5].count("∂x") >= 6


@pytest.mark.parametrize("example, value", [("lecture", "0.082167041"), ("rnn", "-0.049024813")])
def test_twocolumn_snippets_end_a_column_short_rather_than_stretch_it(tmp_path, example, value):
    """A long section in one column of a two-column (flush-bottom) article breaks between its display
    rows, and a column that ends there ends with \\vfil: no column stretched to badness 10000 with
    1 cm gaps between its paragraphs (review 4, item 4: the lecture had four, the rnn one)."""
    result = run_cli("snippet", f"examples/{example}.toml", "--part", "backward", "--fit", "twocolumn",
                     "--standalone", "-o", tmp_path / "part.tex")
    assert result.returncode == 0, result.stderr
    subprocess.run(["pdflatex", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", "part.tex"],
                   cwd=tmp_path, capture_output=True, timeout=300)
    log = (tmp_path / "part.log").read_text(errors="replace")
    assert (tmp_path / "part.pdf").exists(), log[-2000:]
    assert "Underfull \\vbox (badness 10000)" not in log and "Overfull" not in log
    assert value in pdf_text(tmp_path / "part.pdf")


def test_no_beamer_frame_holds_only_a_lead_in():
    """review5: the lecture's backward part in beamer had a frame 'Backward pass: hidden layer' holding
    only 'The error signals of the output layer:' (its display did not fit beside it, so the frame
    closed); the display's first rows now join the lead-in and the rest continue."""
    tex = run_cli("snippet", ROOT / "examples" / "lecture.toml", "--part", "backward", "--fit", "beamer").stdout
    for frame in re.findall(r"\\begin\{frame\}\{[^\n]*\}\n(.*?)\\end\{frame\}", tex, re.S):
        body = frame.strip()
        assert body and not (body.endswith(":") and "\\begin{align" not in body), body[:200]
    lead = tex.index("The error signals of the output layer:")
    assert tex.index("\\begin{align*}", lead) < tex.index("\\end{frame}", lead)
