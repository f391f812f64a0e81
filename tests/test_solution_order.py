"""The worked solution follows the lecture's order and notation, and the pages hold what they print.

Forward pass, loss, w5 with the slides' intermediate lines and w5+ right after it, then w1's chain
complete to w1+ before the next neuron; numbered steps; the loss of a new forward pass beside the
old one (verified before it is printed); TeX's own log says nothing runs off the page.
"""
from __future__ import annotations

import copy
import re
import subprocess
from pathlib import Path

import pytest
import sympy as sp

import derive
from derive.derivation import written_derivative
from derive.errors import VerificationError
from derive.numeric.verify import verify_key
from derive.layout.problem import worksheet_tasks

from helpers import ROOT, pdf_text, run_cli

EXAMPLES = sorted((ROOT / "examples").glob("*.toml"))
OVERFULL = re.compile(r"Overfull \\([hv])box \((\d+(?:\.\d+)?)pt too (?:wide|high)")


@pytest.fixture(scope="module")
def lecture(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("lecture") / "lecture"
    result = run_cli("worksheet", "examples/lecture.toml", "--out", out)
    assert result.returncode == 0, result.stderr
    return out


def _flat(pdf: Path) -> str:
    """The PDF's text in reading order without any white space (fractions come out flat)."""
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return re.sub(r"\s+", "", text).replace("\u2212", "-")


def _compile_log(tex: Path, tmp_path: Path) -> str:
    """pdflatex's log of one .tex file, compiled in a folder of its own."""
    folder = tmp_path / tex.stem
    folder.mkdir()
    (folder / tex.name).write_text(tex.read_text())
    subprocess.run(["pdflatex", "-no-shell-escape", "-interaction=nonstopmode", tex.name], cwd=folder,
                   capture_output=True, timeout=300)
    return (folder / tex.with_suffix(".log").name).read_text(errors="replace")


def _overfull(log: str, kind: str = "hv", over: float = 1.0) -> list[str]:
    return [m.group(0) for m in OVERFULL.finditer(log) if m.group(1) in kind and float(m.group(2)) > over]


# -- the lecture's order and notation ------------------------------------------------------------------

def test_the_slides_intermediate_lines_come_in_the_lectures_order(lecture):
    text = _flat(lecture / "solutions.pdf")
    order = [
        "2·(targeto1-outo1)2-1·(-1)+0",                    # dE_total/dout_o1 = 2 1/2 (t - o)^(2-1) (-1) + 0
        "=-(targeto1-outo1)=-(0.01-0.751365070)=0.741365070",
        "=1·outh1·w51-1+0+0=outh1=0.593269992",            # dnet_o1/dw5 = 1 out_h1 w5^(1-1) + 0 + 0
        "=0.741365070·0.186815602·0.593269992",             # (= 0.082167041 on the next row)
        "=0.4-0.5·0.082167041=0.358916480",                # w5+ right after its gradient
        "=0.45-0.5·0.082667628=0.408666186",              # w6+ ... w8+ before the hidden layer
        "=0.55-0.5·(-0.022740242)=0.561370121",
        "reachesthelossthrougheveryneuron",                # dE_total/dout_h1 = dE_o1/dout_h1 + dE_o2/dout_h1
        "=1·w5·out1-1h1+0+0=w5=0.4",                     # (pdftotext reads out_h1^(1-1) as out1-1h1)
        "=1·i1·w11-1+0+0=i1=0.05",
        "=0.036350306·0.241300709·0.05=0.000438568",
        "=0.15-0.5·0.000438568=0.149780716",               # w1+ before the next neuron
        "Step12.Hiddenneuronh2",
        "0.291027774",
    ]
    places = [text.find(piece) for piece in order]
    assert -1 not in places, [p for p, at in zip(order, places) if at < 0]
    assert places == sorted(places)


def test_the_backward_pass_says_it_uses_the_old_weights(lecture):
    text = " ".join(pdf_text(lecture / "solutions.pdf").split())
    assert "uses the weights of the forward pass" in text


def test_one_notation_for_the_output_error_signal(lecture):
    tex = (lecture / "solutions.tex").read_text()
    o1 = r"\frac{\partial E_{o1}}{\partial \mathit{net}_{o1}} &= \frac{\partial E_{o1}}{\partial \mathit{out}_{o1}} \cdot"
    assert o1 in tex
    assert "because no other loss term depends on" in tex and tex.count("because no other loss term") == 1


def test_the_loss_after_the_step_stands_beside_the_old_one(lecture):
    text = " ".join(pdf_text(lecture / "solutions.pdf").split())
    after = text[text.index("After the update"):]
    assert "0.291027774" in after and "0.298371109" in after and "smaller" in after
    assert after.index("0.298371109") < after.index("0.291027774")       # before the step, then after it


def test_the_slides_name_the_loss_after_the_step_as_the_solution_does(tmp_path):
    """"after one step: E_total = 0.291027774" wrote the new loss with the old one's name."""
    assert run_cli("slides", ROOT / "examples" / "lecture.toml", "--out", tmp_path / "d", "--no-pdf").returncode == 0
    tex = (tmp_path / "d" / "slides.tex").read_text()
    assert r"\text{after one step:}\quad E^{+}_{\mathit{total}} &= 0.291027774" in tex


def test_the_loss_after_one_step_is_verified_before_it_is_printed():
    solution = derive.derive("examples/lecture.toml")
    assert solution.key["loss"]["after_step"] == pytest.approx(0.291027774, abs=5e-10)
    tampered = copy.deepcopy(solution.key)
    tampered["loss"]["after_step"] += 1e-7
    with pytest.raises(VerificationError, match="after_step"):
        verify_key(solution.spec, tampered)


def test_steps_are_numbered_one_after_another(lecture):
    numbers = [int(n) for n in re.findall(r"\\begin\{derivestep\}\{(\d+)\}", (lecture / "solutions.tex").read_text())]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 12


def test_no_note_is_a_third_column_of_a_display(lecture):
    assert "&& \\text" not in (lecture / "solutions.tex").read_text()


def test_the_written_derivatives_equal_the_simplified_ones():
    t, o, w, x, y, b = sp.symbols("t o w x y b")
    half = sp.Mul(sp.Rational(1, 2), sp.Pow(sp.Add(t, sp.Mul(-1, o, evaluate=False), evaluate=False), 2,
                                             evaluate=False), evaluate=False)
    written = written_derivative(half, o)
    assert sp.simplify(written.doit() - (o - t)) == 0
    net = sp.Add(sp.Mul(w, x, evaluate=False), sp.Mul(y, b, evaluate=False), evaluate=False)
    assert written_derivative(net, w).doit() == x
    assert written_derivative(net, t) == 0


# -- notes where they belong -----------------------------------------------------------------------------

@pytest.mark.parametrize("example, shared", [("lecture", True), ("tanh", False), ("deep", False),
                                             ("linear_constrained", False), ("softmax", True)])
def test_a_bias_note_only_where_a_bias_is_shared(example, shared, tmp_path):
    assert run_cli("worksheet", f"examples/{example}.toml", "--out", tmp_path / "o", "--no-pdf").returncode == 0
    tex = (tmp_path / "o" / "solutions.tex").read_text()
    assert ("shared by every neuron" in tex) == shared
    spec = derive.load(ROOT / "examples" / f"{example}.toml")
    notes = [s for s in derive.derive(spec).derivation.steps if s.note and "shared" in s.note]
    assert all(spec.layers[s.layer] > 1 for s in notes)


# -- pages -------------------------------------------------------------------------------------------------

def test_the_lectures_solution_has_no_overfull_line(lecture, tmp_path):
    log = _compile_log(lecture / "solutions.tex", tmp_path)
    assert "Output written" in log
    assert _overfull(log, "h") == []


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.stem for e in EXAMPLES])
def test_worksheets_have_no_overfull_box(example, tmp_path):
    assert run_cli("worksheet", example, "--out", tmp_path / "o", "--no-pdf").returncode == 0
    log = _compile_log(tmp_path / "o" / "worksheet.tex", tmp_path)
    assert "Output written" in log
    assert _overfull(log, "hv", over=0.0) == []


@pytest.mark.parametrize("example", ["lecture", "softmax"])
def test_no_page_ends_with_a_heading(example, lecture, tmp_path):
    """A step is kept on its page, a heading with its step, "Final parameters:" with its table."""
    if example == "lecture":
        pdf = lecture / "solutions.pdf"
    else:
        assert run_cli("worksheet", f"examples/{example}.toml", "--out", tmp_path / "o").returncode == 0
        pdf = tmp_path / "o" / "solutions.pdf"
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", pdf], capture_output=True,
                                                           text=True).stdout).group(1))
    for page in range(1, pages + 1):
        text = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), pdf, "-"],
                              capture_output=True, text=True).stdout
        lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().isdigit()]
        assert not re.match(r"(Step \d+\.|Backward pass|Forward pass|Loss$|Biases|After the update|Summary|"
                            r"Final parameters|Training for|Sample \d|All samples)", lines[-1]), (page, lines[-1])


def test_the_style_file_defines_the_steps_as_the_documents_do(tmp_path):
    """derive.sty takes the step macros from the one file the documents' preamble includes."""
    assert run_cli("style", "-o", tmp_path / "derive.sty").returncode == 0
    written = (tmp_path / "derive.sty").read_text()
    assert (ROOT / "templates/stepmacros.tex").read_text() in written
    assert "\\BLOCK" not in written and written.rstrip().endswith("\\endinput")
    assert "newenvironment{derivestep}" not in (ROOT / "templates/derive.sty").read_text()


# -- worksheets ------------------------------------------------------------------------------------------

def test_every_name_field_asks_for_the_student_number_in_the_same_words():
    """Worksheets and exams, MLP and module specs alike: one wording for the number a student writes."""
    fields = {path.name: path.read_text() for path in sorted((ROOT / "templates").glob("*.tex"))
              if "Name:" in path.read_text()}
    assert sorted(fields) == ["exam_page.tex", "module_exam.tex", "module_worksheet.tex", "worksheet.tex"]
    for name, text in fields.items():
        assert "Student number:" in text and "Student ID" not in text, name


def test_the_worksheet_has_a_name_field_the_formula_and_one_label_per_weight_list(lecture):
    text = " ".join(pdf_text(lecture / "worksheet.pdf").split())
    assert "Name:" in text and "Student number:" in text
    assert "Weights into the hidden layer" in text and "Weights into the output layer" in text
    tex = (lecture / "worksheet.tex").read_text()
    assert r"\mathit{out}_{h1} = \frac{1}{1 + e^{-\mathit{net}_{h1}}}" in tex


def test_answer_space_grows_with_the_lines_a_task_takes(lecture):
    tex = (lecture / "worksheet.tex").read_text()
    spaces = [float(x) for x in re.findall(r"\\vspace\{([\d.]+)cm plus", tex)]
    lines = [t.lines for t in worksheet_tasks(derive.derive("examples/lecture.toml").derivation)]
    assert len(spaces) == len(lines) == 5
    assert all(s == pytest.approx(0.8 * n) for s, n in zip(spaces, lines))
    assert lines[0] == 8 and lines[1] == 3      # eight net/out, three loss values


def test_worksheet_tasks_use_the_solutions_wording(lecture):
    text = " ".join(pdf_text(lecture / "worksheet.pdf").split())
    assert "the gradient of w5" in text and "the gradient of w1" in text
    solution = " ".join(pdf_text(lecture / "solutions.pdf").split())
    assert "The gradient of w5" in solution and "The gradient of w1" in solution


# -- examples off the ReLU kink -------------------------------------------------------------------------

def test_no_shipped_example_sits_on_a_relu_kink():
    for example in EXAMPLES:
        spec = derive.load(example)
        if not hasattr(spec, "activations"):
            continue        # a module spec: its kink is refused when derived (tests/test_modules.py)
        key = derive.derive(spec).key
        forwards = [key["forward"]] if spec.single_sample else key["forward"]
        for forward in forwards:
            for act, layer in zip(spec.activations, forward):
                if act == "relu":
                    assert min(abs(z) for z in layer["net"]) > 1e-3, example.stem


def test_a_neuron_on_the_kink_is_named_dead_with_the_convention(tmp_path):
    spec = (ROOT / "examples/deep.toml").read_text().replace("[0.1, 0.0, 0.25]", "[0.1, 0.0, 0.2]")
    assert "[0.1, 0.0, 0.2]" in spec
    (tmp_path / "kink.toml").write_text(spec)
    assert run_cli("worksheet", tmp_path / "kink.toml", "--out", tmp_path / "o", "--no-pdf").returncode == 0
    tex = " ".join((tmp_path / "o" / "solutions.tex").read_text().split())
    tex = tex.replace(r"\textquotesingle{}", "'").replace(",{}", ",")   # prose is escaped against ligatures
    assert "z^{(1)}_{3}$ = 0: the neuron sits on ReLU's kink" in tex
    assert "We take ReLU'(0) = 0" in tex and "dead for this input" in tex
    deep = " ".join(pdf_text_of(tmp_path, "examples/deep.toml").split())
    assert "kink" not in deep.replace("ReLU has no derivative", "")


def pdf_text_of(tmp_path: Path, example: str) -> str:
    assert run_cli("worksheet", example, "--out", tmp_path / "deep", "--no-pdf").returncode == 0
    return (tmp_path / "deep" / "solutions.tex").read_text()


@pytest.mark.parametrize("example, net, out", [("lecture", r"$\mathit{net}$", r"$\mathit{out}$"),
                                               ("deep", "$z$", "$a$")])
def test_prose_names_net_and_out_with_the_letters_of_the_displays(tmp_path, example, net, out):
    """The indexed notation writes z and a: its prose said "net is the weighted sum ..., out the
    activation of net" and "from net" above displays of z^(l)_j and a^(l)_j."""
    assert run_cli("worksheet", ROOT / "examples" / f"{example}.toml", "--out", tmp_path / "o",
                   "--no-pdf").returncode == 0
    tex = " ".join((tmp_path / "o" / "solutions.tex").read_text().split())
    assert f"{net} is the weighted sum of the inputs plus the bias,{{}} {out} the activation of {net}:" in tex
    assert re.findall(r"(?:from|enters|on|where|every) (?:net|out)\b", tex) == []
    sheet = (tmp_path / "o" / "worksheet.tex").read_text()
    assert ("compute net and out of every neuron" in sheet) == (example == "lecture")


def test_a_numbered_layer_is_named_without_an_article(tmp_path):
    """"the error signals of hidden layer 2", not "of the hidden layer 2"; the lecture's network
    keeps "of the output layer"."""
    deep = " ".join(pdf_text_of(tmp_path, "examples/deep.toml").split())
    assert "The error signals of hidden layer 2" in deep and "each neuron of hidden layer 1:" in deep
    assert "the hidden layer 1" not in deep and "the hidden layer 2" not in deep
    lecture = " ".join(pdf_text_of(tmp_path / "l", "examples/lecture.toml").split())
    assert "The error signals of the output layer" in lecture


def test_a_linear_layer_is_named_without_nested_parentheses(tmp_path):
    """"Output layer (linear (identity))" read as a typo; the given list says out_o1 = net_o1."""
    tex = pdf_text_of(tmp_path, "examples/tanh.toml")
    assert "Output layer (linear)" in tex and "(identity)" not in tex
    assert r"output layer linear, $\mathit{out}_{o1} = \mathit{net}_{o1}$" in " ".join(tex.split())


def test_an_optimizers_steps_are_counted_by_t_not_by_a_second_step_number(tmp_path):
    """"Step 13. Step 1, the loss before it" gave one step two numbers."""
    tex = pdf_text_of(tmp_path, "examples/adam.toml")
    assert not re.search(r"\\begin\{derivestep\}\{\d+\}\{Step ", tex)
    assert re.search(r"\\begin\{derivestep\}\{\d+\}\{The step at \$t = 1\$,\{\} the loss before it", tex)
    assert "The step at $t = 3$, every trained parameter:" in tex


def test_a_network_with_one_output_is_spoken_of_in_the_singular(tmp_path):
    """deep.toml has one output neuron: no "for each output" nor "one term per output neuron" about it;
    the lecture's two outputs keep the plural."""
    for example, one in (("deep", True), ("lecture", False)):
        out = tmp_path / example
        assert run_cli("worksheet", f"examples/{example}.toml", "--out", out, "--no-pdf").returncode == 0
        text = " ".join((out / "worksheet.tex").read_text().split() + (out / "solutions.tex").read_text().split())
        singular = ["for the output,", "the loss term of the output neuron", "of the output neuron:"]
        plural = ["for each output,", "the loss term of each output neuron", "one term per output neuron"]
        assert all((s in text) == one for s in singular), example
        assert all((s in text) != one for s in plural), example
        if one:      # the output's error signal: E_1 is the whole loss, there is no "other loss term"
            assert r"The output\textquotesingle{}s error signal" in text and "is the whole loss:" in text
            assert "Each output" not in text and "no other loss term" not in text
