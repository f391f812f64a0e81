"""`derive slides`: the lecture's worked example as a beamer deck — no overfull box, the lecture's
numbers in the lecture's order, handout mode, the regularisation frames, [slides] validated."""
from __future__ import annotations

import re
import shutil

import pytest

from derive.layout.blocks import Section
from derive.layout.frames import FITS, fit_regularization

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


def _frames(text: str) -> list[str]:
    return re.findall(r"\\begin\{frame\}(.*?)\\end\{frame\}", text, re.S)


def test_the_deck_derives_the_output_error_signals_before_the_hidden_weight_uses_them(lecture):
    out, _, _ = lecture
    frames = _frames((out / "slides.tex").read_text())
    signals = next(i for i, f in enumerate(frames) if f.startswith("{The error signals of the output layer}"))
    hidden = next(i for i, f in enumerate(frames) if f.startswith("{The hidden weight"))
    assert signals < hidden
    assert r"= 0.741365070 \cdot 0.186815602" in frames[signals] and "0.138498562" in frames[signals]


def test_the_network_frame_separates_the_data_from_the_learning_rate(lecture):
    out, _, _ = lecture
    text = " ".join(pdf_text(out / "slides.pdf").split())
    assert "target o2 = 0.99. Learning rate η = 0.5." in text


def test_a_diagram_without_weight_labels_lists_them_on_the_next_frame(tmp_path):
    out, _, _ = deck(tmp_path, "examples/deep.toml")
    frames = _frames((out / "slides.tex").read_text())
    assert frames[1].startswith("{The network}") and "listed on the next frame" in frames[1]
    assert frames[2].startswith("{The weights}")
    for entry in (r"w^{(1)}_{11} = 0.3", r"w^{(2)}_{23} = -0.4", r"w^{(3)}_{12} = -0.8"):
        assert entry in frames[2]


@pytest.mark.slow
def test_no_regularisation_frame_ends_announcing_the_next_or_starts_with_punctuation(tmp_path):
    """A colon ending a frame whose equation is on the next; a line starting with "; it shifts"."""
    out, _, _ = deck(tmp_path, "examples/regularization.toml")
    for frame in _frames((out / "slides.tex").read_text()):
        body = frame.strip()
        assert not body.endswith(":"), body[-200:]
        assert not re.search(r"\\\]\s*[;,.:]", body), body


def test_a_formula_set_on_its_own_line_keeps_the_punctuation_after_it():
    """λ* r² = 0.070435657 · 0.640000000 = 0.045078821 too wide for a line: the ';' goes with it."""
    def part(text, math=False):
        return {"math": math, "display": False, "term": False, "text": text}
    wide = r"\lambda^{*} r^{2} = 0.070435657 \cdot 0.640000000 \cdot 0.640000000 \cdot 0.640000000 = 0.045078821"
    para = {"kind": "para", "parts": [part("The constant is "), part(wide, True), part("; it shifts the value.")]}
    context = {"soft": [], "hard": [Section("Hard", [para])], "equivalence": None, "kkt": None}
    parts = fit_regularization(context, FITS["beamer"])["hard"][0].blocks[0]["parts"]
    assert parts[1]["display"] and parts[1]["text"] == wide + ";"
    assert parts[2]["text"] == "it shifts the value."


def test_the_deck_shows_the_slides_intermediate_lines_and_every_output_update_before_the_hidden_layer(lecture):
    """The lecture's slides write dE_total/dout_o1 = 2 * 1/2 (target_o1 - out_o1)^(2-1) * (-1) + 0 and
    dnet_o1/dw5 = 1 * out_h1 * w5^(1-1) + 0 + 0, then w5+ and w6+ ... w8+ before the hidden layer."""
    out, _, _ = lecture
    text = " ".join(pdf_text(out / "slides.pdf").split())
    hidden = text.index("The hidden weight w1")
    assert -1 < text.find(")2-1 · (-1) + 0") < hidden and -1 < text.find("w51-1 + 0 + 0 = out h1 = 0.593269992") < hidden
    for value in ("0.358916480", "0.408666186", "0.511301270", "0.561370121"):
        assert -1 < text.find(value) < hidden, value


@pytest.mark.parametrize("spec", ["examples/regularization.toml", "examples/linear_constrained.toml"])
def test_the_penalty_table_frame_names_its_first_column_and_fits(tmp_path, spec):
    """The frame "With and without the penalty" had an empty header over the parameters' column."""
    out, log, _ = deck(tmp_path, spec)
    assert overfull(log) == []
    assert "parameter & value & without $\\lambda$ & with $\\lambda$" in (out / "slides.tex").read_text()


def test_the_update_table_says_why_the_biases_keep_their_values(lecture):
    """review4 item 12: the table listed b1, b2 with gradients but unchanged values and no word why;
    the frame says what the snippet says."""
    out, _, _ = lecture
    text = (out / "slides.tex").read_text()
    table = text[text.index("\\begin{frame}{Every weight after one step}"):]
    table = table[:table.index("\\end{frame}")]
    assert "$b_{1}$ & $0.35$ & $0.018725609$ & $0.35$" in table
    assert "The biases stay fixed in the update,{} as in the lecture." in table
    assert "The biases stay fixed" in " ".join(pdf_text(out / "slides.pdf").split())
