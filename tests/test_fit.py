"""Fragments fit the document they land in: every part, and single steps, compiled inside an article,
a KOMA article, one column of a two-column article, a beamer deck and a German article with
hyperref — no TeX error, no overfull box over 1 pt (TeX's log is the judge)."""
from __future__ import annotations

import pytest

from derive.choices import PARTS

from helpers import pdf_text, run_cli
from texdocs import DOCUMENTS, compile_tex, overfull

EXAMPLES = {"lecture": "examples/lecture.toml", "softmax": "examples/softmax.toml",
            "regularization": "examples/regularization.toml", "tanh": "examples/tanh.toml"}
STEPS = ("dE_total/dw5", "dE_total/dw1", "out_h1", "w5+")


def fragments(folder, example: str, fit: str, parts=PARTS) -> list[str]:
    """Every part (and the lecture's steps) as fragments in `folder`; the names to \\input."""
    spec = EXAMPLES[example]
    names = []
    for part in parts:
        if part == "regularization" and example != "regularization":
            continue
        result = run_cli("snippet", spec, "--part", part, "--fit", fit, "-o", folder / f"{part}.tex")
        assert result.returncode == 0, result.stderr
        names.append(part)
    if example in ("lecture", "regularization"):
        for i, step in enumerate(STEPS):
            result = run_cli("snippet", spec, "--step", step, "--fit", fit, "-o", folder / f"step{i}.tex")
            assert result.returncode == 0, result.stderr
            names.append(f"step{i}")
    return names


def compiled(folder, document: str, example: str, parts=PARTS) -> str:
    """The document with every fragment \\input; TeX's log."""
    head, fit = DOCUMENTS[document]
    assert run_cli("style", "-o", folder / "derive.sty").returncode == 0
    names = fragments(folder, example, fit, parts)
    body = "\n".join(rf"\input{{{n}}}" for n in names)
    (folder / "doc.tex").write_text(f"{head}\n\\begin{{document}}\n{body}\n\\end{{document}}\n")
    return compile_tex(folder, "doc")


SAMPLE = [("lecture", "article"), ("lecture", "twocolumn"), ("lecture", "beamer"), ("regularization", "ngerman")]
# A 3x3 matrix of nine-decimal numbers (the softmax Jacobian) is wider than one column of a
# two-column article even set tighter: a known limit, not hidden.
TOO_WIDE = {("softmax", "twocolumn"): "the softmax Jacobian (3x3, nine decimals) is wider than a 229.5 pt column"}
MATRIX = [pytest.param(e, d, marks=pytest.mark.xfail(strict=False, reason=TOO_WIDE[(e, d)])) if (e, d) in TOO_WIDE
          else (e, d) for e in EXAMPLES for d in DOCUMENTS if (e, d) not in SAMPLE]


@pytest.mark.parametrize("example,document", SAMPLE)
def test_every_part_fits_without_overfull_boxes(tmp_path, example, document):
    log = compiled(tmp_path, document, example)
    assert overfull(log) == []
    assert "0.082167041" in pdf_text(tmp_path / "doc.pdf")


@pytest.mark.slow
@pytest.mark.parametrize("example,document", MATRIX)
def test_every_part_fits_in_every_document(tmp_path, example, document):
    log = compiled(tmp_path, document, example)
    assert overfull(log) == []


def test_fragments_use_no_sectioning_command(tmp_path):
    for fit in ("article", "beamer"):
        for part in ("forward", "vector", "backward"):
            text = run_cli("snippet", "examples/lecture.toml", "--part", part, "--fit", fit).stdout
            assert r"\paragraph" not in text and r"\section" not in text
    text = run_cli("snippet", "examples/regularization.toml", "--part", "regularization").stdout
    assert r"\paragraph" not in text and r"\deriveheading{Regularisation as a soft constraint}" in text


def test_beamer_fragments_are_frames_each_fitting_one(tmp_path):
    text = run_cli("snippet", "examples/lecture.toml", "--part", "backward", "--fit", "beamer").stdout
    assert text.count(r"\begin{frame}") >= 4
    assert text.count(r"\begin{frame}") == text.count(r"\end{frame}")


def test_frame_bodies_go_into_the_lecturers_own_frames(tmp_path):
    result = run_cli("snippet", "examples/lecture.toml", "--part", "forward", "--fit", "beamer", "--frame-bodies",
                     "-o", tmp_path / "forward.tex")
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "forward.tex").read_text()
    assert r"\begin{frame}" not in text and r"\derivedefineframe{forward-1}" in text
    assert run_cli("style", "-o", tmp_path / "derive.sty").returncode == 0
    (tmp_path / "talk.tex").write_text(
        "\\documentclass[aspectratio=169]{beamer}\n\\usepackage{derive}\n\\input{forward}\n\\begin{document}\n"
        "\\begin{frame}{My own title}\\deriveframe{forward-1}\\end{frame}\n"
        "\\begin{frame}{\\deriveframetitle{forward-2}}\\deriveframe{forward-2}\\end{frame}\n\\end{document}\n")
    assert overfull(compile_tex(tmp_path, "talk")) == []
    assert "0.593269992" in pdf_text(tmp_path / "talk.pdf")


@pytest.mark.parametrize("fit", ["article", "beamer", "twocolumn"])
def test_standalone_compiles_without_derive_sty(tmp_path, fit):
    result = run_cli("snippet", "examples/lecture.toml", "--part", "backward", "--fit", fit, "--standalone",
                     "-o", tmp_path / "alone.tex")
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "derive.sty").exists()
    assert overfull(compile_tex(tmp_path, "alone")) == []
    assert "0.082167041" in pdf_text(tmp_path / "alone.pdf")


def test_vector_part_has_one_heading_and_no_results_above():
    text = run_cli("snippet", "examples/lecture.toml", "--part", "vector").stdout
    assert text.count("Backpropagation in matrix form") == 1
    assert "above" not in text


def test_a_width_fit_breaks_displays_for_that_width(tmp_path):
    wide = run_cli("snippet", "examples/lecture.toml", "--part", "forward", "--fit", "16cm").stdout
    narrow = run_cli("snippet", "examples/lecture.toml", "--part", "forward", "--fit", "8cm").stdout
    assert narrow.count(r"\\") > wide.count(r"\\")


@pytest.mark.parametrize("fit", ["a4", "2cm", "twocolumns"])
def test_an_unknown_fit_is_one_line(fit):
    result = run_cli("snippet", "examples/lecture.toml", "--part", "forward", "--fit", fit)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "--fit" in result.stderr


def test_frame_bodies_need_beamer():
    result = run_cli("snippet", "examples/lecture.toml", "--part", "forward", "--frame-bodies")
    assert result.returncode == 2 and "--fit beamer" in result.stderr
