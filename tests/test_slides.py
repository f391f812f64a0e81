"""`derive slides`: the lecture's worked example as a beamer deck — no overfull box, the lecture's
numbers in the lecture's order, handout mode, the regularisation frames, [slides] validated."""
from __future__ import annotations

import re
import shutil

import pytest

from helpers import ROOT, pdf_text, run_cli
from texdocs import compile_tex, overfull

# The lecture's numbers in the order the lecture reaches them: net_h1, out_h1, out_o1, E_total,
# the three factors of dE/dw5 and their product, w5+, dE/dw1, w1+, the loss after the step.
LECTURE_ORDER = ["0.3775", "0.593269992", "0.75136507", "0.298371109", "0.74136507", "0.186815602",
                 "0.082167041", "0.35891648", "0.000438568", "0.149780716", "0.291027774"]


def deck(tmp_path, spec: str, *options: str):
    """slides.tex (no PDF from derive), compiled here so that TeX's log can be read."""
    out = tmp_path / "deck"
    result = run_cli("slides", spec, "--out", out, "--no-pdf", *options)
    assert result.returncode == 0, result.stderr
    log = compile_tex(out, "slides")
    return out, log, result.stdout


@pytest.fixture(scope="module")
def lecture(tmp_path_factory):
    return deck(tmp_path_factory.mktemp("lecture"), "examples/lecture.toml")


def test_lecture_deck_has_no_overfull_box(lecture):
    _, log, _ = lecture
    assert overfull(log) == []


def test_lecture_numbers_appear_in_the_lectures_order(lecture):
    out, _, _ = lecture
    text = pdf_text(out / "slides.pdf")
    positions = [text.find(n) for n in LECTURE_ORDER]
    assert all(p >= 0 for p in positions), dict(zip(LECTURE_ORDER, positions))
    assert positions == sorted(positions)


def test_the_chain_rule_is_revealed_factor_by_factor(lecture):
    out, _, stdout = lecture
    text = (out / "slides.tex").read_text()
    assert r"\uncover<2->" in text and r"\uncover<4->" in text     # three factors, one by one
    frames = text.count(r"\begin{frame}")
    assert f"({frames} frames)" in stdout
    # The README states the lecture deck's frame count.
    assert f"{frames} frames" in (ROOT / "README.md").read_text()


def test_no_script_size_mathematics(lecture):
    out, _, _ = lecture
    text = (out / "slides.tex").read_text()
    assert r"\tiny" not in text
    assert re.search(r"\\let\\scriptsize\\footnotesize", text)


def test_handout_compiles_with_overlays_collapsed(tmp_path, lecture):
    out, log, _ = deck(tmp_path, "examples/lecture.toml", "--handout")
    assert overfull(log) == []
    assert "handout" in (out / "slides.tex").read_text().splitlines()[0]
    full = int(re.search(r"Pages:\s+(\d+)", _info(lecture[0] / "slides.pdf")).group(1))
    handout = int(re.search(r"Pages:\s+(\d+)", _info(out / "slides.pdf")).group(1))
    assert handout < full


def _info(pdf) -> str:
    import subprocess
    return subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout


@pytest.mark.slow
def test_regularization_deck_has_its_frames_and_no_overfull_box(tmp_path):
    out, log, _ = deck(tmp_path, "examples/regularization.toml")
    assert overfull(log) == []
    text = pdf_text(out / "slides.pdf")
    for words in ("Regularisation as a soft constraint", "Regularisation as a hard constraint",
                  "The regularisation path", "0.070435657"):
        assert words in text


def test_slides_with_pdf_and_its_folder(tmp_path):
    result = run_cli("slides", "examples/lecture.toml", "--out", tmp_path / "s", "--handout")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "s").iterdir() if not p.name.startswith(".")) == \
        ["slides.pdf", "slides.tex"]
    assert "0.082167041" in pdf_text(tmp_path / "s" / "slides.pdf")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    refused = run_cli("slides", "examples/lecture.toml", "--out", tmp_path / "mine", "--no-pdf")
    assert refused.returncode == 2 and (tmp_path / "mine" / "notes.txt").read_text() == "mine"
    assert not (tmp_path / "mine" / "slides.tex").exists()


def test_same_spec_same_tex(tmp_path):
    run_cli("slides", "examples/lecture.toml", "--out", tmp_path / "a", "--no-pdf")
    run_cli("slides", "examples/lecture.toml", "--out", tmp_path / "b", "--no-pdf")
    assert (tmp_path / "a/slides.tex").read_bytes() == (tmp_path / "b/slides.tex").read_bytes()


def test_slides_section_chooses_theme_and_aspect_ratio(tmp_path, write_spec, lecture_dict):
    spec = write_spec(lecture_dict | {"slides": {"theme": "Madrid", "aspect_ratio": "4:3"}})
    out, log, _ = deck(tmp_path, str(spec))
    head = (out / "slides.tex").read_text()
    assert "aspectratio=43" in head and r"\usetheme{Madrid}" in head
    assert overfull(log) == []


@pytest.mark.parametrize("section,words", [
    ({"theme": "Nonesuch"}, "[slides] theme: unknown value 'Nonesuch'"),
    ({"aspect_ratio": "21:9"}, "[slides] aspect_ratio: unknown value '21:9'"),
    ({"colour": "red"}, "[slides] colour: unknown field"),
])
def test_a_bad_slides_section_is_one_line(tmp_path, write_spec, lecture_dict, section, words):
    spec = write_spec(lecture_dict | {"slides": section})
    result = run_cli("slides", spec, "--out", tmp_path / "x", "--no-pdf")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and words in result.stderr, result.stderr
    assert not (tmp_path / "x").exists()


def test_beamer_is_installed():
    assert shutil.which("kpsewhich")
    import subprocess
    assert subprocess.run(["kpsewhich", "beamer.cls"], capture_output=True, text=True).stdout.strip()
