"""The module exam of a CNN trained with Adam (examples/cnn_adam.toml without `iterations`), as
review 3 read it: the Moodle feedback names what the solutions name and heads an update by its
rule, the working space follows the work, the keys say the seed once per variant."""
from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from helpers import ROOT, run_cli

ADAM = ROOT / "examples" / "cnn_adam.toml"
CNN = ROOT / "examples" / "cnn.toml"


def _spec(folder: Path, source: Path, extra: str = "") -> Path:
    """`source` without `iterations` (an exam asks for the first step), plus `extra`."""
    text = "".join(line for line in source.read_text(encoding="utf-8").splitlines(keepends=True)
                   if not line.startswith("iterations"))
    spec = folder / source.name
    spec.write_text(text + extra, encoding="utf-8")
    return spec


def _run(spec: Path, out: Path, *extra) -> Path:
    result = run_cli("exam", spec, "--variants", 2, "--seed", 1, "--out", out, *extra)
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def numerical(tmp_path_factory) -> Path:
    here = tmp_path_factory.mktemp("adam_numerical")
    return _run(_spec(here, ADAM, '\n[exam]\nmoodle = "numerical"\n'), here / "x", "--no-pdf")


@pytest.fixture(scope="module")
def adam(tmp_path_factory) -> Path:
    here = tmp_path_factory.mktemp("adam_exam")
    return _run(_spec(here, ADAM), here / "x")


def _numerical_questions(folder: Path) -> list:
    quiz = ET.parse(folder / "moodle.xml").getroot()
    return [q for q in quiz if q.get("type") == "numerical"]


def test_feedback_names_the_flattened_vector_as_the_solutions_do(numerical):
    """∂E/∂w^(4)_11 = δ^(4)_1 a^(3)_1: the dense module reads the flattened vector by its own name in
    solutions.tex, and the feedback prints the same line (review 3 item 6)."""
    questions = _numerical_questions(numerical)
    feedback = questions[2].find("generalfeedback/text").text           # dE/dw(4)_11, variant 1
    assert r"\frac{\partial E}{\partial w^{(4)}_{11}} = " in feedback
    assert "a^{(3)}_{1}" in feedback and "p^{(2)}" not in feedback
    solutions = (numerical / "variants" / "001" / "solutions.tex").read_text(encoding="utf-8")
    line = re.search(r"\\frac\{\\partial E\}\{\\partial w\^\{\(4\)\}_\{11\}\} &= ([^\n]*)", solutions)
    assert line is not None and "a^{(3)}_{1}" in line.group(1)


def test_an_adam_update_is_asked_by_its_rule_in_the_quiz(numerical, tmp_path):
    """Question 4 is the first step of Adam, as exam.pdf says, not 'Gradient descent' (item 6)."""
    for q in _numerical_questions(numerical)[6:]:
        text = q.find("questiontext/text").text
        assert "Adam, first step: compute" in text and "Gradient descent" not in text
    cloze = _run(_spec(tmp_path, ADAM), tmp_path / "cloze", "--no-pdf")
    text = (cloze / "moodle.xml").read_text(encoding="utf-8")
    assert text.count("Adam, first step: compute") == 2 and "Gradient descent" not in text


def test_working_space_follows_the_work_each_question_needs(adam):
    """Review 3 item 7: the backward pass (question 2, 15 steps: 9 cm) had a third of a page like the
    forward pass, and Adam's step 1.5 cm. Now each question gets 0.6 cm per line it adds, up to half
    a page: E the forward pass (12 cm), ∂E/∂K(1)_11 9 cm, ∂E/∂w(4)_11 one line (1.5 cm), and K(1)_11+
    Adam's six lines g, m+, v+, m̂, v̂, K+ (3.6 cm), the same on both variants' pages. Review4 item 10:
    ∂E/∂w(4)_11 is asked before ∂E/∂K(1)_11 (whose 14 further steps take 8.4 cm), and each room
    stretches in proportion to its size to fill its page."""
    page = (adam / "exam.tex").read_text(encoding="utf-8")
    assert re.findall(r"\\vspace\{([\d.]+)cm plus ([\d.]+)fil\}", page) == \
        [("12.0", "12.0"), ("1.5", "1.5"), ("8.4", "8.4"), ("3.6", "3.6")] * 2
    text = subprocess.run(["pdftotext", "-layout", adam / "exam.pdf", "-"], capture_output=True, text=True,
                          check=True).stdout
    pages = text.split("\f")
    # each variant: the problem (page 1), question 1 with its room (page 2), questions 2 to 4 (page 3)
    assert len([p for p in pages if p.strip()]) == 6
    for first in (1, 4):
        assert "1. Loss: compute E" in pages[first] and "2. Backpropagation" not in pages[first]
        assert "2. Backpropagation" in pages[first + 1] and "4. Adam, first step: compute" in pages[first + 1]


LABEL = re.compile(r"\\node\[above\] at \([\d.,]+\) \{\$([^$]*)\$\}")


def test_the_readme_says_what_the_exam_pictures_hold(adam):
    """Review 3 item 8: exam.pdf and the quiz's images draw the input grid and the kernel, no feature
    map (computed, not given), blank or filled; the README said 'blank feature maps'."""
    assert LABEL.findall((adam / "exam.tex").read_text(encoding="utf-8")) == ["x", "K^{(1)}"] * 2
    assert LABEL.findall((adam / "diagrams.tex").read_text(encoding="utf-8")) == ["x", "K^{(1)}"] * 2
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "feature map" not in readme.replace("the feature maps are computed", "")
    assert "pictures as on exam.pdf (the input grids and every convolution's kernels, or the unrolled RNN)" in readme


def test_the_keys_say_the_seed_once(adam):
    """Review 3 item 14: keys.pdf said 'seed 1' in its header and again beside each variant; the seed is
    the exam's and the variants share the page (two a row), so the header says it once."""
    text = subprocess.run(["pdftotext", "-layout", adam / "keys.pdf", "-"], capture_output=True, text=True,
                          check=True).stdout
    assert text.count("seed 1") == 1 and "Answer keys of 2 variants" in text
    assert "Variant 1" in text and "Variant 2" in text and "0.8400" in text     # K(1)_11+ of variant 1
