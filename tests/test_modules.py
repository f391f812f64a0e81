"""Modules in the spec: each kind's key equals a small case worked by hand here, the shipped
examples verify, bad module tables are refused in one line, and the new documents fit their pages."""
from __future__ import annotations

import copy
import html
import json
import math
import re
import subprocess
import tomllib
from pathlib import Path

import pytest

from conftest import ROOT, toml_value
from helpers import pdf_text, run_cli
from test_markdown import formulas, katex_errors
from test_mathjax import require_mathjax
from test_pages import WORD, nearly_empty, overflows

import derive
from derive.errors import DeriveError, VerificationError
from derive.modules.solution import solve_modules
from derive.modules.verify import verify_key
from derive.output import tex
from derive.printing.latex import Printer
from derive.printing.width import latex_height, latex_width
from derive.spec import load, parse

EXAMPLES = ("cnn", "residual", "rnn")


def toml_text(spec: dict) -> str:
    """A spec with [[module]] tables as TOML."""
    lines = [f"title = {toml_value(spec['title'])}"] if "title" in spec else []
    for table in spec.get("module", []):
        lines += ["", "[[module]]"] + [f"{k} = {toml_value(v)}" for k, v in table.items()]
    for name, section in spec.items():
        if isinstance(section, dict):
            lines += ["", f"[{name}]"] + [f"{k} = {toml_value(v)}" for k, v in section.items()]
    return "\n".join(lines) + "\n"


def key_of(tmp_path, spec: dict) -> dict:
    path = tmp_path / "spec.toml"
    path.write_text(toml_text(spec), encoding="utf-8")
    result = run_cli("key", path, "-o", tmp_path / "key.json")
    assert result.returncode == 0, result.stderr
    return json.loads((tmp_path / "key.json").read_text())


def close(a, b) -> bool:
    if isinstance(a, list):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))
    return abs(a - b) <= 1e-9


# ------------------------------------------------------------------------------------ one case per kind

def test_conv2d_on_a_3x3_input_with_a_2x2_kernel_by_hand(tmp_path):
    x = [[1.0, 2.0, 0.0], [0.0, 1.0, 3.0], [2.0, 1.0, 1.0]]
    K = [[0.5, -1.0], [0.25, 0.1]]
    b, w, t, eta = 0.2, [0.1, 0.2, -0.3, 0.4], 1.0, 0.5
    spec = {"module": [
        {"kind": "conv2d", "kernels": K, "biases": [b], "activation": "linear"},
        {"kind": "flatten"},
        {"kind": "dense", "units": 1, "activation": "linear", "weights": [w], "biases": [0.0]}],
        "network": {"loss": "half_sse"}, "data": {"inputs": x, "targets": [t]},
        "training": {"learning_rate": eta}}
    key = key_of(tmp_path, spec)
    # z_ij = sum_uv K_uv x_(i+u)(j+v) + b, by hand: -1.2, 1.75, -0.2, -1.95
    z = [[-1.2, 1.75], [-0.2, -1.95]]
    assert close(key["forward"][0]["z"], [z])
    y = 0.1 * -1.2 + 0.2 * 1.75 - 0.3 * -0.2 + 0.4 * -1.95       # -0.49
    assert close(key["forward"][2]["out"], [y])
    assert close(key["loss"]["total"], 0.5 * (t - y) ** 2)         # 1.11005
    delta = [[(y - t) * w[0], (y - t) * w[1]], [(y - t) * w[2], (y - t) * w[3]]]
    # the kernel gradient: a correlation of the input with delta
    dK = [[sum(delta[i][j] * x[i + u][j + v] for i in range(2) for j in range(2)) for v in range(2)]
          for u in range(2)]
    assert abs(dK[0][0] - (-1.341)) < 1e-12
    assert close(key["gradients"][0]["kernels"], [[dK]])
    assert close(key["gradients"][0]["biases"], [sum(map(sum, delta))])
    # the input gradient: a full convolution of delta with the kernel (flipped)
    dx = [[sum(delta[p - u][q - v] * K[u][v] for u in range(2) for v in range(2)
               if 0 <= p - u < 2 and 0 <= q - v < 2) for q in range(3)] for p in range(3)]
    assert close(key["input_gradient"], [dx])
    assert close(key["updated"][0]["kernels"], [[[[K[u][v] - eta * dK[u][v] for v in range(2)] for u in range(2)]]])


def test_maxpool_routes_the_gradient_to_the_argmax_only(tmp_path):
    x = [[0.1, 0.9, 0.3], [0.4, 0.2, 0.8], [0.7, 0.5, 0.6]]
    spec = {"module": [
        {"kind": "conv2d", "kernels": [[1.0]], "biases": [0.0], "activation": "relu"},
        {"kind": "maxpool", "size": [2, 2], "stride": 1},
        {"kind": "flatten"},
        {"kind": "dense", "units": 1, "activation": "linear", "weights": [[1.0, -2.0, 0.5, 3.0]],
         "biases": [0.0]}],
        "network": {"loss": "half_sse"}, "data": {"inputs": x, "targets": [0.0]}}
    key = key_of(tmp_path, spec)
    # windows (stride 1): max 0.9 at (0,1), 0.9 at (0,1), 0.7 at (2,0), 0.8 at (1,2)
    p = [[0.9, 0.9], [0.7, 0.8]]
    assert close(key["forward"][1]["out"], [p])
    y = 0.9 - 1.8 + 0.35 + 2.4
    assert close(key["loss"]["total"], 0.5 * y * y)
    # dE/dK = sum over windows of dE/dp * x at the window's argmax (1x1 kernel, ReLU on)
    dK = y * (1.0 * 0.9 + -2.0 * 0.9 + 0.5 * 0.7 + 3.0 * 0.8)
    assert close(key["gradients"][0]["kernels"], [[[[dK]]]])
    # x_(0,1) is the maximum of two windows: it gets both gradients; x_(0,0) none
    grad = key["input_gradient"][0]
    assert close(grad[0][1], y * (1.0 - 2.0)) and grad[0][0] == 0.0 and grad[1][1] == 0.0


def test_residual_adds_the_plus_one_path(tmp_path):
    x, t, w1, w2, b2, v = 0.8, 0.3, 2.0, 0.5, 0.1, 1.5
    spec = {"module": [
        {"kind": "dense", "units": 1, "activation": "linear", "weights": [[w1]], "biases": [0.0]},
        {"kind": "residual", "wraps": 1},
        {"kind": "dense", "units": 1, "activation": "tanh", "weights": [[w2]], "biases": [b2]},
        {"kind": "dense", "units": 1, "activation": "linear", "weights": [[v]], "biases": [0.0]}],
        "network": {"loss": "half_sse"}, "data": {"inputs": [x], "targets": [t]}}
    key = key_of(tmp_path, spec)
    h = w1 * x
    f = math.tanh(w2 * h + b2)
    yres = h + f
    out = v * yres
    assert close(key["forward"][1]["out"], [yres])
    assert close(key["loss"]["total"], 0.5 * (t - out) ** 2)
    d_y = (out - t) * v
    d_h = d_y * 1 + d_y * (1 - f * f) * w2          # the +1 path and the path through f
    assert close(key["gradients"][0]["weights"], [[d_h * x]])
    assert close(key["gradients"][2]["weights"], [[d_y * (1 - f * f) * h]])


def test_rnn_backpropagates_through_time_with_the_sum_over_steps(tmp_path):
    xs, u, w, b, h0, v, c, t = [1.0, -0.5], 0.7, 0.4, 0.1, 0.2, 1.2, -0.1, 0.5
    spec = {"module": [
        {"kind": "rnn", "units": 1, "input_weights": [[u]], "recurrent_weights": [[w]], "biases": [b],
         "initial_state": [h0]},
        {"kind": "dense", "units": 1, "activation": "linear", "weights": [[v]], "biases": [c]}],
        "network": {"loss": "half_sse"}, "data": {"inputs": [[xs[0]], [xs[1]]], "targets": [t]}}
    key = key_of(tmp_path, spec)
    h1 = math.tanh(u * xs[0] + w * h0 + b)
    h2 = math.tanh(u * xs[1] + w * h1 + b)
    out = v * h2 + c
    assert close(key["forward"][0]["states"], [[h1], [h2]])
    assert close(key["loss"]["total"], 0.5 * (t - out) ** 2)
    d2 = (out - t) * v * (1 - h2 * h2)
    d1 = d2 * w * (1 - h1 * h1)
    g = key["gradients"][0]
    assert close(g["input_weights"], [[d1 * xs[0] + d2 * xs[1]]])      # dE/dU = sum_t delta_t x_t
    assert close(g["recurrent_weights"], [[d1 * h0 + d2 * h1]])        # dE/dW = sum_t delta_t h_(t-1)
    assert close(g["biases"], [d1 + d2])
    assert close(key["updated"][0]["recurrent_weights"], [[w - 0.5 * (d1 * h0 + d2 * h1)]])


def test_conv1d_and_average_pooling_by_hand(tmp_path):
    x, k, w, t = [1.0, 2.0, 3.0, 4.0, 5.0], [1.0, 0.5], 0.2, 1.0
    spec = {"module": [
        {"kind": "conv1d", "kernels": k, "biases": [0.0], "activation": "linear"},
        {"kind": "avgpool", "size": 2},
        {"kind": "flatten"},
        {"kind": "dense", "units": 1, "activation": "linear", "weights": [[w, -w]], "biases": [0.0]}],
        "network": {"loss": "half_sse"}, "data": {"inputs": [x], "targets": [t]}}
    key = key_of(tmp_path, spec)
    z = [x[i] + 0.5 * x[i + 1] for i in range(4)]                  # 2, 3.5, 5, 6.5
    p = [(z[0] + z[1]) / 2, (z[2] + z[3]) / 2]
    out = w * p[0] - w * p[1]
    assert close(key["forward"][0]["z"], [z]) and close(key["forward"][1]["out"], [p])
    dz = [(out - t) * w / 2] * 2 + [-(out - t) * w / 2] * 2        # average pooling divides the gradient
    dk = [sum(dz[i] * x[i + u] for i in range(4)) for u in range(2)]
    assert close(key["gradients"][0]["kernels"], [[dk]])


def test_two_samples_sum_their_losses_and_gradients(tmp_path):
    spec = {"module": [{"kind": "dense", "units": 1, "activation": "linear", "weights": [[2.0]],
                        "biases": [0.0]}],
            "network": {"loss": "half_sse"}, "data": {"inputs": [[1.0], [3.0]], "targets": [[0.0], [1.0]]}}
    key = key_of(tmp_path, spec)
    assert close(key["loss"]["per_sample"], [2.0, 12.5])
    assert close(key["gradients"][0]["weights"], [[2.0 * 1.0 + 5.0 * 3.0]])


# ------------------------------------------------------------------------------------ the examples

@pytest.mark.parametrize("name", EXAMPLES)
def test_each_example_verifies(name):
    solution = solve_modules(load(ROOT / "examples" / f"{name}.toml"))
    assert solution.report["after_step"] < solution.report["loss"]


def test_the_cnn_example_has_no_pre_activation_on_the_relu_kink():
    key = solve_modules(load(ROOT / "examples" / "cnn.toml")).key
    z = [v for row in key["forward"][0]["z"][0] for v in row]
    assert min(abs(v) for v in z) > 0.005 and any(v < 0 for v in z)
    assert close(key["loss"]["total"], 0.5659345184320222)


def test_the_python_interface_derives_and_shows_a_module_spec():
    solution = derive.derive(str(ROOT / "examples" / "rnn.toml"))
    key = solve_modules(load(ROOT / "examples" / "rnn.toml")).key
    assert close(solution.key["loss"]["total"], key["loss"]["total"])
    assert close(solution.value("E"), key["loss"]["total"])
    assert close(solution.value("dE/dW12"), key["gradients"][0]["recurrent_weights"][0][1])
    shown = derive.show(str(ROOT / "examples" / "cnn.toml"))
    assert "### Module 1 (convolution): the kernel gradient" in shown.markdown
    assert "-0.172868299" in shown.part("backward").markdown
    assert close(shown.value("dE/dK(1)_11"), -0.17286829926857838)
    with pytest.raises(DeriveError, match="no quantity named"):
        shown.value("w5")


def test_same_spec_same_bytes(tmp_path):
    for run in ("a", "b"):
        assert run_cli("worksheet", ROOT / "examples" / "cnn.toml", "--out", tmp_path / run, "--no-pdf").returncode == 0
    for name in ("worksheet.tex", "solutions.tex", "key.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_a_wrong_key_is_refused_by_the_independent_check():
    spec = load(ROOT / "examples" / "cnn.toml")
    key = copy.deepcopy(solve_modules(spec).key)
    key["gradients"][0]["kernels"][0][0][1][1] += 1e-6
    with pytest.raises(VerificationError):
        verify_key(spec, key)


def test_a_pre_activation_on_the_relu_kink_is_refused(tmp_path):
    spec = {"module": [{"kind": "dense", "units": 1, "activation": "relu", "weights": [[1.0]], "biases": [-1.0]}],
            "data": {"inputs": [1.0], "targets": [0.5]}}
    path = tmp_path / "spec.toml"
    path.write_text(toml_text(spec), encoding="utf-8")
    result = run_cli("key", path)
    assert result.returncode == 2 and "ReLU's kink" in result.stderr and len(result.stderr.splitlines()) == 1


# ------------------------------------------------------------------------------------ bad tables

BASE = {"module": [{"kind": "conv2d", "kernels": [[1.0, 0.0], [0.0, 1.0]], "biases": [0.0]},
                   {"kind": "flatten"},
                   {"kind": "dense", "units": 1, "weights": [[0.1, 0.2, 0.3, 0.4]], "biases": [0.0]}],
        "data": {"inputs": [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9]], "targets": [0.5]}}


def _bad(change):
    spec = copy.deepcopy(BASE)
    change(spec)
    return spec


BAD = [
    (lambda s: s["module"][0].update(kind="conv3d"), "module[0].kind", "unknown value"),
    (lambda s: s["module"][0].pop("kernels"), "module[0].kernels", "missing field"),
    (lambda s: s["module"][0].update(kernels=[[1.0, 0.0, 2.0], [0.0, 1.0]]), "module[0].kernels", "expected shape"),
    (lambda s: s["module"][0].update(colour="red"), "module[0].colour", "unknown field"),
    (lambda s: s["module"][2].update(weights=[[0.1, 0.2]]), "module[2].weights", "expected shape 1×4"),
    (lambda s: s["module"].insert(1, {"kind": "dense", "units": 2, "weights": [[0.1]], "biases": [0.0]}),
     "module[1]", "put a flatten module before it"),
    (lambda s: s["module"].insert(1, {"kind": "residual", "wraps": 1}) or s["module"].insert(
        2, {"kind": "conv2d", "kernels": [[1.0, 0.0], [0.0, 1.0]], "biases": [0.0]}),
     "module[1] (residual)", "residual shapes 1×2×2"),
    (lambda s: s.update(network={"layers": [2, 1]}), "[network] layers", "two ways"),
    (lambda s: s["data"].update(inputs=[[0.1] * 9] * 9), "[data] inputs", "at most 8×8"),
    (lambda s: s["module"][0].update(activation="softmax"), "module[0].activation", "only for the last"),
    (lambda s: s["module"].insert(0, {"kind": "maxpool", "size": 2}), "module[0].kind", "reads the data"),
    (lambda s: s.update(parameters={"weights": []}), "[parameters]", "own table"),
    (lambda s: s["module"].insert(1, {"kind": "maxpool", "size": [2, 3]}), "module[1].size", "at most 4 entries"),
    (lambda s: s["module"][2].update(units=5, activation="softmax", weights=[[0.1] * 4] * 5, biases=[0.0] * 5) or
     s["data"].update(targets=[0.2] * 5), "module[2].activation", "softmax over at most 4"),
    (lambda s: s["module"][0].update(kernels=[[[[0.1]]]] * 4, biases=[0.0] * 4, padding=2) or
     s["module"].insert(1, {"kind": "avgpool", "size": 2, "stride": 6}) or s["data"].update(
         inputs=[[0.1] * 8] * 8), "module", "at most 800"),
]


@pytest.mark.parametrize("change, where, what", BAD, ids=[b[1] + " " + b[2] for b in BAD])
def test_bad_module_tables_are_refused_in_one_line(tmp_path, change, where, what):
    path = tmp_path / "spec.toml"
    path.write_text(toml_text(_bad(change)), encoding="utf-8")
    result = run_cli("key", path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and where in lines[0] and what in lines[0], lines


def test_the_residual_shape_message_names_both_shapes():
    with pytest.raises(DeriveError) as info:
        parse(_bad(BAD[6][0]), "spec.toml")
    assert info.value.line() == ("spec.toml: module[1] (residual): residual shapes 1×2×2 and 1×1×1 disagree: x is "
                                 "1×2×2 but f(x), the output of module[2] (conv2d), is 1×1×1")


def test_an_rnn_over_more_than_six_steps_is_refused(tmp_path):
    spec = tomllib.loads((ROOT / "examples" / "rnn.toml").read_text())
    spec["data"]["inputs"] = [[0.1]] * 7
    path = tmp_path / "spec.toml"
    path.write_text(toml_text(spec), encoding="utf-8")
    result = run_cli("key", path)
    assert result.returncode == 2 and "at most 6 time steps" in result.stderr


@pytest.mark.parametrize("command", [("snippet", "--part", "vector"),
                                     ("snippet", "--part", "regularization", "--format", "markdown")])
def test_other_commands_refuse_a_module_spec_in_one_line(tmp_path, command):
    result = run_cli(command[0], ROOT / "examples" / "cnn.toml", *command[1:], cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "module" in result.stderr and "not yet supported" in result.stderr
    assert not (tmp_path / "deck").exists() and not (tmp_path / "exam").exists()


# ------------------------------------------------------------------------------------ the pages

_BUILT: dict = {}


@pytest.mark.parametrize("name", EXAMPLES)
def test_module_worksheets_and_solutions_fit_their_pages(tmp_path_factory, name):
    out = tmp_path_factory.mktemp(name) / "out"
    result = run_cli("worksheet", ROOT / "examples" / f"{name}.toml", "--out", out, env={"DERIVE_KEEP_LOGS": "1"})
    assert result.returncode == 0, result.stderr
    for document in ("worksheet", "solutions"):
        log = (out / tex.BUILD / f"{document}.log").read_text(errors="replace")
        assert overflows(log) == [], (document, overflows(log))
        assert (out / f"{document}.pdf").stat().st_size > 10_000
    key = json.loads((out / "key.json").read_text())
    assert key == solve_modules(load(ROOT / "examples" / f"{name}.toml")).key


FULL = pytest.mark.full
SNIPPETS = [pytest.param(name, part, "article", marks=[] if name == "cnn" else [FULL], id=f"{name}-{part}")
            for name in EXAMPLES for part in ("network", "forward", "loss", "backward", "update")] + [
    pytest.param(name, "backward", fit, marks=[] if name == "cnn" and fit == "beamer" else [FULL],
                 id=f"{name}-backward-{fit}") for name in EXAMPLES for fit in ("beamer", "twocolumn")]


@pytest.mark.parametrize("name, part, fit", SNIPPETS)
def test_module_snippets_fit_the_document_they_land_in(tmp_path, name, part, fit):
    result = run_cli("snippet", ROOT / "examples" / f"{name}.toml", "--part", part, "--fit", fit, "--standalone",
                     "-o", tmp_path / "part.tex")
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "part.tex").read_text()
    assert "\\begin{align*}" in text and ("\\scalebox" in text) == (part == "network" and name != "residual")
    subprocess.run(["pdflatex", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", "part.tex"],
                   cwd=tmp_path, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL, timeout=300)
    log = (tmp_path / "part.log").read_text(errors="replace")
    assert (tmp_path / "part.pdf").exists(), log[-2000:]
    assert overflows(log) == []


def test_the_kernel_gradient_snippet_shows_the_correlation_and_its_numbers():
    result = run_cli("snippet", ROOT / "examples" / "cnn.toml", "--part", "backward")
    assert result.returncode == 0
    assert "a correlation of the input with \\ensuremath{\\delta}" in result.stdout
    assert "\\frac{\\partial E}{\\partial K^{(1)}_{11}} &= \\delta^{(1)}_{12} x_{12}" in result.stdout
    assert "-0.172868299" in result.stdout


def test_snippet_headings_keep_their_mathematics():
    """A step title with a formula (t = 4, ∂E/∂U) is a heading with that formula as mathematics, in
    the LaTeX fragment, its beamer frames and the Markdown, as the worked solution shows it."""
    latex = run_cli("snippet", ROOT / "examples" / "rnn.toml", "--part", "backward").stdout
    assert "\\deriveheading{Module 1 (recurrent cell),{} $t = 3$: the gradient reaching $h_{3}$}" in latex
    assert "\\deriveheading{Module 1 (recurrent cell): $\\partial E/\\partial U$,{} summed over" in latex
    assert "t = 4}" not in latex and "\\ensuremath{\\partial}" not in latex
    frames = run_cli("snippet", ROOT / "examples" / "rnn.toml", "--part", "backward", "--fit", "beamer").stdout
    assert "\\begin{frame}{Module 1 (recurrent cell): $\\partial E/\\partial W$" in frames
    assert "\\ensuremath{\\partial}" not in frames and "[" not in frames.split("\\begin{frame}{", 1)[1][:5]
    markdown = run_cli("snippet", ROOT / "examples" / "rnn.toml", "--part", "backward", "--format", "markdown").stdout
    assert "### Module 1 (recurrent cell), $t = 3$: the gradient reaching $h_{3}$\n" in markdown
    assert "### Module 1 (recurrent cell): $\\partial E/\\partial U$, summed over the time steps\n" in markdown
    assert katex_errors(formulas(markdown)) == []


def test_function_names_are_operators_and_stacked_names_get_taller_rows(tmp_path):
    """flatten and ReLU' are operators (beamer sets them in its sans-serif operator font, as max and
    tanh, not in serif roman); the flattened column of p^{(2)}_{ij} and its values have taller rows
    with room at the brackets, in the solution, the deck and the exam's solutions, and render in
    KaTeX and MathJax."""
    documents = {}
    for command, args, name in (("worksheet", (), "solutions.tex"), ("slides", (), "slides.tex"),
                                ("exam", ("--variants", 1, "--seed", 1), "solutions.tex")):
        out = tmp_path / command
        result = run_cli(command, ROOT / "examples" / "cnn.toml", *args, "--out", out, "--no-pdf")
        assert result.returncode == 0, result.stderr
        documents[command] = (out / name).read_text()
    for command, source in documents.items():
        assert "\\mathrm{flatten}" not in source and "\\mathrm{ReLU}" not in source, command
        line = next(x for x in source.splitlines()
                    if x.startswith("a^{(3)} &= \\operatorname{flatten}\\left(p^{(2)}\\right) = "))
        assert line.count("{\\def\\arraystretch{1.5}\\begin{bmatrix} \\smash[b]{\\vphantom{\\bigg|}}") == 2, command
        assert "\\smash[t]{\\vphantom{\\Big|}}p^{(2)}_{22} \\end{bmatrix}}" in line, command
        places = 4 if command == "exam" else 9        # an exam's solutions print at its answers' places
        assert re.search(r"\\smash\[t\]\{\\vphantom\{\\Big\|\}\}-?\d\.\d{%d} \\end\{bmatrix\}\}$" % places, line), command
    assert "\\smash[t]{\\vphantom{\\Big|}}0.270000000 \\end{bmatrix}}" in documents["slides"]   # p^{(2)}_{22}
    assert "\\operatorname{ReLU}'(z^{(1)}_{ij})" in documents["slides"]
    formula = line.split(" = ", 1)[1]
    assert katex_errors([(formula, True)]) == []
    require_mathjax()
    done = subprocess.run(["node", str(ROOT / "tests" / "mathjax_check.mjs")], input=json.dumps([formula]),
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0 and json.loads(done.stdout)["errors"] == [], done.stdout + done.stderr


def test_a_tall_matrix_is_as_wide_and_taller_by_the_estimate():
    printer = Printer({})
    rows = [["p^{(2)}_{11}"], ["p^{(2)}_{12}"], ["p^{(2)}_{21}"], ["p^{(2)}_{22}"]]
    plain, tall = printer.matrix(rows), printer.matrix(rows, tall=True)
    assert plain == "\\begin{bmatrix} p^{(2)}_{11} \\\\ p^{(2)}_{12} \\\\ p^{(2)}_{21} \\\\ p^{(2)}_{22} \\end{bmatrix}"
    assert latex_width(tall) == latex_width(plain)
    assert abs(latex_height(tall) - 1.8 * 4) < 1e-9 and abs(latex_height(plain) - 1.25 * 4) < 1e-9


VALUE = re.compile(r"= -?\d+\.\d{9}\s*$")     # a display row's computed value, nine decimals


@pytest.mark.parametrize("name", ["cnn", "rnn"])
def test_snippet_pages_keep_a_heading_with_its_rule_and_display(tmp_path, name):
    """In the lecturer's document a heading never stands at a page's foot with (part of) its rule
    sentence while its display goes on the next page, no page starts in the middle of a sentence, and
    the last page holds more than a display's last row or two."""
    result = run_cli("snippet", ROOT / "examples" / f"{name}.toml", "--part", "backward", "--standalone",
                     "-o", tmp_path / "part.tex")
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "part.tex").read_text()
    headings = [t.replace("{}", "").split("$")[0].strip() for t in re.findall(r"\\deriveheading\{(.*)\}$", text, re.M)]
    subprocess.run(["pdflatex", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", "part.tex"],
                   cwd=tmp_path, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL, timeout=300)
    pages = [[x for x in page.splitlines() if x.strip() and not x.strip().isdigit()]
             for page in pdf_text(tmp_path / "part.pdf").split("\f")]
    pages = [page for page in pages if page]
    assert len(pages) >= 3 and len(headings) >= 9
    for number, page in enumerate(pages, 1):
        first = page[0].strip()
        assert any(first.startswith(h) for h in headings) or "∂" in first or "δ" in first, (number, first)
        for i, line in enumerate(page):
            if any(line.strip().startswith(h) for h in headings):
                assert any(VALUE.search(x) for x in page[i + 1:]), (number, line.strip())
    assert sum(1 for line in pages[-1] if VALUE.search(line)) >= 3, pages[-1]


@pytest.mark.parametrize("name, ratio", [pytest.param(n, r, marks=[] if (n, r) == ("cnn", "16:9") else [FULL],
                                                      id=f"{n}-{r}") for n in EXAMPLES for r in ("16:9", "4:3")])
def test_module_decks_fit_their_frames(tmp_path, name, ratio):
    spec = (ROOT / "examples" / f"{name}.toml").read_text() + f'\n[slides]\naspect_ratio = "{ratio}"\n'
    (tmp_path / "spec.toml").write_text(spec, encoding="utf-8")
    out = tmp_path / "deck"
    result = run_cli("slides", tmp_path / "spec.toml", "--out", out, env={"DERIVE_KEEP_LOGS": "1"})
    assert result.returncode == 0, result.stderr
    log = (out / tex.BUILD / "slides.log").read_text(errors="replace")
    assert overflows(log) == []
    text = (out / "slides.tex").read_text()
    assert text.count("\\begin{frame}") > 20 and "The loss after one step" in text


def test_module_decks_fill_their_frames(tmp_path):
    """No near-empty frame: the CNN's input and kernel side by side on one frame, no continuation
    frame with a single line (fewer lines shown of 25 alike, a last line or two joined back), no
    frame title wrapping to a second line, an 11-row summary on one frame."""
    decks = {}
    for name in ("cnn", "rnn"):
        result = run_cli("slides", ROOT / "examples" / f"{name}.toml", "--out", tmp_path / name, "--no-pdf")
        assert result.returncode == 0, result.stderr
        decks[name] = (tmp_path / name / "slides.tex").read_text()
    titles = {name: re.findall(r"^\\begin\{frame\}\{(.*)\}$", text, re.M) for name, text in decks.items()}
    cnn, rnn = titles["cnn"], titles["rnn"]
    data = decks["cnn"].split("\\begin{frame}{The network and its data}")
    assert cnn.count("The network and its data") == 1 and "K^{(1)}" in data[1].split("\\end{frame}")[0]
    for gone in ("Module 1 (convolution): through ReLU (continued)", "Module 1 (convolution): the update (continued)",
                 "Module 4 (dense layer): the update (continued)", "Module 1 (convolution): pre-{}activations (continued)"):
        assert gone not in cnn, gone
    assert "The other 22 entries are computed in the same way" in decks["cnn"]     # K^(1): 3 of 25 shown
    assert "The given values (continued)" not in rnn and "Module 1 (recurrent cell): time step 2 (continued)" not in rnn
    # review4 item 13: every continuation keeps the module's name (it was dropped from two of them);
    # "(cont.)" where "(continued)" would wrap the title
    assert "Module 1 (recurrent cell): $\\partial E/\\partial W$,{} summed over the time steps (cont.)" in rnn
    for name in ("cnn", "rnn"):
        for t in titles[name]:
            if t.endswith(("(continued)", "(cont.)")):
                assert t.rsplit(" (cont", 1)[0] in titles[name], t      # its frame's whole title
    assert "Every parameter after one step (continued)" not in rnn and rnn.count("Every parameter after one step") == 1
    assert len(cnn) <= 30 and len(rnn) <= 40, (len(cnn), len(rnn))


@pytest.mark.parametrize("table, expected", [
    ({"kind": "dense", "units": 1, "activation": "sigmoid", "weights": [[1e308]], "biases": [0.0]},
     "module[0] (dense): z(1)_1 is not a finite number"),
    ({"kind": "dense", "units": 2, "activation": "softmax", "weights": [[1000.0], [-1000.0]], "biases": [0.0, 0.0]},
     "[network] loss: E is not a finite number"),
])
def test_numbers_that_overflow_are_refused_in_one_line(tmp_path, table, expected):
    spec = {"module": [table], "network": {"loss": "cross_entropy" if table["units"] == 2 else "half_sse"},
            "data": {"inputs": [10.0], "targets": [0.0, 1.0] if table["units"] == 2 else [1.0]}}
    path = tmp_path / "spec.toml"
    path.write_text(toml_text(spec), encoding="utf-8")
    result = run_cli("worksheet", path, "--out", tmp_path / "out", "--no-pdf")
    assert result.returncode == 2 and expected in result.stderr and result.stderr.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_module_parts_as_markdown_render_in_katex():
    found = []
    for name in EXAMPLES:
        for part in ("network", "forward", "loss", "backward", "update"):
            result = run_cli("snippet", ROOT / "examples" / f"{name}.toml", "--part", part, "--format", "markdown")
            assert result.returncode == 0, (name, part, result.stderr)
            assert "\\deriveheading" not in result.stdout and "\\begin{align*}" not in result.stdout
            found += formulas(result.stdout)
    assert len(found) > 100
    assert katex_errors(found) == []


# Two specs that reach what the examples do not: channels, filters, padding, a stride, sigmoid,
# average pooling, softmax under squared error; conv1d over two samples with tanh, max-pooling, mse.
MULTI = {"title": "Two channels, two filters, padding and stride", "module": [
    {"kind": "conv2d", "kernels": [[[[0.2, -0.1], [0.3, 0.1]], [[-0.2, 0.4], [0.1, -0.3]]],
                                   [[[0.1, 0.2], [-0.3, 0.2]], [[0.3, -0.1], [0.2, 0.1]]]],
     "biases": [0.013, -0.021], "stride": 2, "padding": 1, "activation": "sigmoid"},
    {"kind": "avgpool", "size": [2, 2]}, {"kind": "flatten"},
    {"kind": "dense", "units": 2, "activation": "softmax", "weights": [[0.3, -0.2], [-0.1, 0.5]],
     "biases": [0.0, 0.1]}],
    "network": {"loss": "half_sse"},
    "data": {"inputs": [[[0.2, 0.8, 0.1, 0.5], [0.6, 0.1, 0.7, 0.2], [0.3, 0.9, 0.2, 0.6], [0.7, 0.4, 0.8, 0.3]],
                        [[0.5, 0.3, 0.9, 0.1], [0.2, 0.6, 0.4, 0.8], [0.9, 0.1, 0.5, 0.3], [0.4, 0.7, 0.2, 0.6]]],
             "targets": [0.9, 0.1]}}
CONV1D = {"title": "conv1d, two samples", "module": [
    {"kind": "conv1d", "kernels": [0.5, -0.3, 0.2], "biases": 0.05, "activation": "tanh"},
    {"kind": "maxpool", "size": 2}, {"kind": "flatten"},
    {"kind": "dense", "units": 1, "activation": "linear", "weights": [[0.7, -0.4, 0.3]], "biases": [0.1]}],
    "network": {"loss": "mse"},
    "data": {"inputs": [[0.1, 0.9, 0.3, 0.7, 0.2, 0.8, 0.4, 0.6], [0.5, 0.2, 0.8, 0.1, 0.9, 0.3, 0.6, 0.35]],
             "targets": [[0.5], [-0.2]]}}


# A residual block around a padded convolution (y on a map), and an rnn over two samples of two
# features with a residual block after it.
RESCONV = {"module": [
    {"kind": "conv2d", "kernels": [[0.5, -0.3], [0.2, 0.4]], "biases": [0.05], "activation": "tanh"},
    {"kind": "residual", "wraps": 1},
    {"kind": "conv2d", "kernels": [[0.1, 0.2, -0.1], [0.3, -0.2, 0.1], [0.2, 0.1, -0.3]], "biases": [0.02],
     "padding": 1, "activation": "tanh"},
    {"kind": "maxpool", "size": 2}, {"kind": "flatten"},
    {"kind": "dense", "units": 1, "activation": "sigmoid", "weights": [[0.4, -0.3, 0.2, 0.5]], "biases": [0.1]}],
    "data": {"inputs": [[0.1, 0.5, 0.9, 0.3, 0.2], [0.7, 0.2, 0.4, 0.8, 0.6], [0.3, 0.8, 0.1, 0.5, 0.9],
                        [0.6, 0.4, 0.7, 0.2, 0.3], [0.9, 0.1, 0.5, 0.6, 0.4]], "targets": [0.3]}}
RNN2 = {"module": [
    {"kind": "rnn", "units": 1, "input_weights": [[0.5, -0.4]], "recurrent_weights": [[0.3]], "biases": [0.1],
     "initial_state": [0.2]},
    {"kind": "residual"},
    {"kind": "dense", "units": 1, "activation": "tanh", "weights": [[0.7]], "biases": [0.0]},
    {"kind": "dense", "units": 1, "activation": "linear", "weights": [[1.2]], "biases": [-0.1]}],
    "network": {"loss": "mse"},
    "data": {"inputs": [[[1.0, 0.5], [0.2, -0.3], [0.4, 0.1]], [[-0.5, 0.3], [0.6, 0.2], [0.1, -0.7]]],
             "targets": [[0.4], [-0.2]]}}
SHOWS = {"channels-filters-padding-stride": "K^{(1)}_{f,c,uv}", "conv1d-two-samples": "sample 2",
         "residual-conv": "y^{(2)}_{11}", "rnn-two-samples-residual": "x_{1,2}"}


@pytest.mark.parametrize("spec, name", [pytest.param(MULTI, "channels-filters-padding-stride", id="multi"),
                                        pytest.param(CONV1D, "conv1d-two-samples", id="conv1d", marks=[FULL]),
                                        pytest.param(RESCONV, "residual-conv", id="resconv", marks=[FULL]),
                                        pytest.param(RNN2, "rnn-two-samples-residual", id="rnn2", marks=[FULL])])
def test_other_module_specs_verify_and_fit_their_pages(tmp_path, spec, name):
    path = tmp_path / "spec.toml"
    path.write_text(toml_text(spec), encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli("worksheet", path, "--out", out, env={"DERIVE_KEEP_LOGS": "1"})
    assert result.returncode == 0, result.stderr
    for document in ("worksheet", "solutions"):
        assert overflows((out / tex.BUILD / f"{document}.log").read_text(errors="replace")) == [], document
    assert SHOWS[name] in (out / "solutions.tex").read_text()
    deck = tmp_path / "deck"
    result = run_cli("slides", path, "--out", deck, env={"DERIVE_KEEP_LOGS": "1"})
    assert result.returncode == 0, result.stderr
    assert overflows((deck / tex.BUILD / "slides.log").read_text(errors="replace")) == []


def test_a_max_pooling_tie_is_refused_in_one_line(tmp_path):
    spec = {"module": [{"kind": "conv2d", "kernels": [[1.0]], "biases": [0.0], "activation": "linear"},
                       {"kind": "maxpool", "size": 2}, {"kind": "flatten"},
                       {"kind": "dense", "units": 1, "activation": "linear", "weights": [[1.0]], "biases": [0.0]}],
            "data": {"inputs": [[0.7, 0.700001], [0.5, 0.2]], "targets": [1.0]}}
    path = tmp_path / "spec.toml"
    path.write_text(toml_text(spec), encoding="utf-8")
    result = run_cli("key", path)
    assert result.returncode == 2 and "module[1] (maxpool)" in result.stderr and "two maxima" in result.stderr
    assert result.stderr.count("\n") == 1


def test_the_worksheet_asks_without_answering(tmp_path):
    out = tmp_path / "out"
    assert run_cli("worksheet", ROOT / "examples" / "cnn.toml", "--out", out, "--no-pdf").returncode == 0
    worksheet, solutions = (out / "worksheet.tex").read_text(), (out / "solutions.tex").read_text()
    for answer in ("0.565934518", "-0.020000000", "0.290000000", "-0.172868299", "0.586434150"):
        assert answer in solutions and answer not in worksheet
    assert "\\partial E / \\partial a^{(1)}\\ \\text{(every entry)}" in worksheet   # not which entries are 0


def test_one_step_by_its_name(tmp_path):
    result = run_cli("snippet", ROOT / "examples" / "cnn.toml", "--step", "dE/dK(1)_11")
    assert result.returncode == 0 and "\\deriveheading" not in result.stdout
    assert "\\frac{\\partial E}{\\partial K^{(1)}_{11}} &= \\delta^{(1)}_{12} x_{12}" in result.stdout
    assert "-0.172868299" in result.stdout
    wrong = run_cli("snippet", ROOT / "examples" / "rnn.toml", "--step", "dE/dV")
    assert wrong.returncode == 2 and "steps are named like: z_1,1" in wrong.stderr and wrong.stderr.count("\n") == 1


def test_the_loss_after_the_step_is_named_e_plus_in_the_solution_and_the_deck(tmp_path):
    """As the MLP pages do (E+_total): the new forward pass's loss is E+, beside the old E."""
    assert run_cli("worksheet", ROOT / "examples" / "cnn.toml", "--out", tmp_path / "w", "--no-pdf").returncode == 0
    assert run_cli("slides", ROOT / "examples" / "cnn.toml", "--out", tmp_path / "s", "--no-pdf").returncode == 0
    after = json.loads((tmp_path / "w" / "key.json").read_text())["loss"]["after_step"]
    solution = (tmp_path / "w" / "solutions.tex").read_text()
    assert f"E^{{+}} = {after:.9f}" in solution
    deck = next((tmp_path / "s").glob("*.tex")).read_text()
    assert f"E^{{+}} &= {after:.9f}" in deck


def test_a_module_deck_splits_its_table_evenly_and_names_its_frames(tmp_path):
    """The RNN deck's 11 parameters: one frame in a smaller font (not 6 + 5 rows, nor 10 + 1); the
    CNN's 15: 8 + 7 rows; the pictures are the network and its data, and t and η are given values,
    not parameters."""
    for name, expected in (("cnn", [8, 7]), ("rnn", [11])):
        assert run_cli("slides", ROOT / "examples" / f"{name}.toml", "--out", tmp_path / name, "--no-pdf").returncode == 0
        deck = (tmp_path / name / "slides.tex").read_text()
        frames = deck.split("\\begin{frame}")[1:]
        tables = [f for f in frames if f.startswith("{Every parameter after one step")]
        rows = [f[f.index("\\midrule"):f.index("\\bottomrule")].count("\\\\") for f in tables]
        assert rows == expected, (name, rows)
        assert ("\\small" in tables[0]) == (name == "rnn")
    assert "{The data}" not in deck and "{The parameters" not in deck
    assert "{The network and its data}" in deck and "{The given values}" in deck


def _given(tex: str) -> str:
    """The given data of a module document: from "The network" to the first step or task."""
    start = tex.index("\\section*{The network}")
    ends = [tex.find(mark, start) for mark in ("\\begin{derivestep}", "\\section*{Tasks}")]
    return tex[start:min(e for e in ends if e >= 0)]


def test_a_dense_first_module_lists_its_inputs_and_targets_in_the_given_data(tmp_path):
    """Step 1 computes from x1 = 0.5, x2 = 0.9: the problem must give them (as cnn and rnn draw theirs)."""
    out = tmp_path / "out"
    assert run_cli("worksheet", ROOT / "examples" / "residual.toml", "--out", out, "--no-pdf").returncode == 0
    for document in ("worksheet", "solutions"):
        given = _given((out / f"{document}.tex").read_text())
        assert "x &= \\begin{bmatrix} 0.5 \\\\ 0.9 \\end{bmatrix}" in given, document
        assert "t_{1} &= 0.8" in given, document     # one output: its target as the loss line names it
    spec = tomllib.loads((ROOT / "examples" / "residual.toml").read_text())
    spec["data"] = {"inputs": [[0.5, 0.9], [-0.25, 1.0]], "targets": [[0.8], [0.1]]}
    path = tmp_path / "two.toml"
    path.write_text(toml_text(spec), encoding="utf-8")
    assert run_cli("worksheet", path, "--out", tmp_path / "two", "--no-pdf").returncode == 0
    given = _given((tmp_path / "two" / "solutions.tex").read_text())
    assert "x^{[1]} &= \\begin{bmatrix} 0.5 \\\\ 0.9 \\end{bmatrix}" in given
    assert "x^{[2]} &= \\begin{bmatrix} -0.25 \\\\ 1 \\end{bmatrix}" in given
    assert "t^{[2]}_{1} &= 0.1" in given       # as the loss line E^{[2]} names it


def _grid_after(tex: str, step: int) -> tuple[str, str]:
    """Step `step`'s prose and the grid drawn right after it (its \\draw line and its cells)."""
    start = tex.index(f"\\begin{{derivestep}}{{{step}}}")
    grid_start = tex.index("\\begin{tikzpicture}", tex.index("\\end{derivestep}", start))
    return tex[start:grid_start], tex[grid_start:tex.index("\\end{tikzpicture}", grid_start)]


def test_the_gradient_grid_of_a_pooled_map_has_the_whole_map_s_shape(tmp_path):
    """cnn.toml: a^(1) is 5x5 and the 2x2 max-pool of stride 2 never reads its row and column 5; its
    gradient grid is still 5x5 (those entries 0), and the step counts 25 - 4 = 21 zero entries."""
    out = tmp_path / "out"
    assert run_cli("worksheet", ROOT / "examples" / "cnn.toml", "--out", out, "--no-pdf").returncode == 0
    solutions, worksheet = (out / "solutions.tex").read_text(), (out / "worksheet.tex").read_text()
    prose, cells = _grid_after(solutions, 12)
    assert "routing the gradient" in prose and "The other 21 entries are 0" in prose
    assert "\\partial E / \\partial a^{(1)}" in cells and "grid (5,-5)" in cells
    assert cells.count("{$0$}") == 21 and "(4.50,-4.50) {$0$}" in cells
    assert cells.count("{$-0.172868299$}") == 1 and "(3.50,-2.50) {$0.043217075$}" in cells
    task = worksheet[worksheet.index("routing the gradient"):]
    blank = task[task.index("\\begin{tikzpicture}"):task.index("\\end{tikzpicture}")]
    assert "\\partial E / \\partial a^{(1)}" in blank and "grid (5,-5)" in blank


def heading_gaps(pdf) -> list[tuple[int, str, float]]:
    """(page, step number, pt from the bottom of the words above to the top of its "Step n." heading)
    for every step heading but one at the top of its page, from pdftotext -bbox."""
    bbox = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    gaps = []
    for number, page in enumerate(re.findall(r"<page.*?</page>", bbox, re.S), 1):
        words = [(float(top), float(bottom), word) for _, top, bottom, word in WORD.findall(page)]
        for (top, _, word), (_, _, following) in zip(words, words[1:]):
            above = [bottom for _, bottom, _ in words if bottom <= top + 0.1]
            if word == "Step" and re.fullmatch(r"\d+\.", following) and above:
                gaps.append((number, following, round(top - max(above), 2)))
    return gaps


def test_a_gradient_grid_keeps_its_distance_from_the_next_step_heading(tmp_path):
    """cnn.toml p.8: the δ^(1) grid's bottom rule touched "Step 14." under it (no space after a grid
    that ends a step); every step heading stands as far below what comes before it as after a display."""
    out = tmp_path / "out"
    assert run_cli("worksheet", ROOT / "examples" / "cnn.toml", "--out", out).returncode == 0
    gaps = heading_gaps(out / "solutions.pdf")
    assert any(step == "14." for _, step, _ in gaps)
    assert [g for g in gaps if g[2] < 8.0] == []


def test_module_summary_rows_are_tall_and_grid_cells_have_room(tmp_path):
    """w^{(1)}_{11} under w^{(1)}_{21}: the summary's rows are stretched as the MLP's are, and a
    given kernel's cell holds -0.4 clear of its borders (0.85 cm made the minus touch the left one)."""
    out = tmp_path / "cnn"
    assert run_cli("worksheet", ROOT / "examples" / "cnn.toml", "--no-pdf", "--out", out).returncode == 0
    solution = (out / "solutions.tex").read_text()
    summary = solution[solution.index(r"\section*{Summary}"):]
    assert summary.index(r"\renewcommand{\arraystretch}{1.3}") < summary.index(r"\begin{tabular}{lrrr}")
    kernel = solution[solution.index("{$K^{(1)}$}") - 400:solution.index("{$K^{(1)}$}")]
    width = float(re.findall(r"x=([0-9.]+)cm", kernel)[-1])
    assert width >= 1.0


def test_the_rnn_picture_draws_the_output_module_between_h_t_and_the_loss(tmp_path):
    """rnn.toml's dense module 2 (w^(2), b^(2), sigmoid) is drawn between h_4 and E, and the RNN's
    bias b beside U; the picture had a dashed arrow from h_4 straight to E."""
    out = tmp_path / "rnn"
    assert run_cli("worksheet", ROOT / "examples" / "rnn.toml", "--no-pdf", "--out", out).returncode == 0
    for document in ("worksheet.tex", "solutions.tex"):
        tex = (out / document).read_text()
        picture = tex[tex.index(r"\node[cell] (h0)"):]
        picture = picture[:picture.index(r"\end{tikzpicture}")]
        assert r"\node[cell] (m0) at (8.80,1.60) {$a^{(2)}$};" in picture
        assert r"{$w^{(2)},\ b^{(2)}$} (m0);" in picture
        assert "{sigmoid};" in picture
        assert r"\draw[->, dashed] (m0) -- (out);" in picture
        assert picture.count(r"{$U,\ b$}") == 4


def test_symbols_in_module_step_titles_and_reasons_are_set_as_math(tmp_path):
    """∂E/∂U, t = 3 in the RNN's step titles (solution, worksheet task, deck frame) and z ≤ 0, a in
    the ReLU step's reason were upright text."""
    rnn = tmp_path / "rnn"
    assert run_cli("worksheet", ROOT / "examples" / "rnn.toml", "--no-pdf", "--out", rnn).returncode == 0
    assert run_cli("slides", ROOT / "examples" / "rnn.toml", "--no-pdf", "--out", tmp_path / "deck").returncode == 0
    solution = (rnn / "solutions.tex").read_text()
    assert r"{Module 1 (recurrent cell): $\partial E/\partial U$,{} summed over the time steps}" in solution
    assert r"{Module 1 (recurrent cell): $\partial E/\partial b$,{} summed over the time steps}" in solution
    assert r"{Module 1 (recurrent cell),{} $t = 3$: the gradient reaching $h_{3}$}" in solution
    assert r"\item Module 1 (recurrent cell): $\partial E/\partial W$,{} summed" in (rnn / "worksheet.tex").read_text()
    deck = (tmp_path / "deck" / "slides.tex").read_text()
    assert r"\begin{frame}{Module 1 (recurrent cell),{} $t = 3$: through tanh}" in deck
    assert "∂" not in solution and "∂" not in deck
    cnn = tmp_path / "cnn"
    assert run_cli("worksheet", ROOT / "examples" / "cnn.toml", "--no-pdf", "--out", cnn).returncode == 0
    # review4 item 7: the reason each entry is 0, not "ReLU is off, z ≤ 0, or no gradient reaches a"
    # (none of the 21 is off: they get no gradient from the pooling)
    assert (r"The other 21 entries are 0: no gradient reaches their $a^{(1)}$."
            in (cnn / "solutions.tex").read_text())


def test_the_rnn_s_shared_parameters_are_math_in_the_network_text(tmp_path):
    """'the same U, W and b' (the network's text, solution and deck) and 'the same U at every time
    step' (the gradient steps) set U, W, b as math."""
    out = tmp_path / "rnn"
    assert run_cli("worksheet", ROOT / "examples" / "rnn.toml", "--no-pdf", "--out", out).returncode == 0
    assert run_cli("slides", ROOT / "examples" / "rnn.toml", "--no-pdf", "--out", tmp_path / "deck").returncode == 0
    for text in ((out / "solutions.tex").read_text(), (out / "worksheet.tex").read_text(),
                 (tmp_path / "deck" / "slides.tex").read_text()):
        assert r"unrolled over 4 time steps with the same $U$,{} $W$ and $b$ at every step." in text
        assert "the same U" not in text
    assert r": the same $W$ at every time step,{} so its gradient sums" in (out / "solutions.tex").read_text()


def test_the_rnn_picture_draws_a_residual_after_the_cell_as_its_sum(tmp_path):
    """A residual block after the cell is no box of its own: the module that ends it is drawn with
    its sum's name (y^(2)) and 'plus the skip'."""
    (tmp_path / "spec.toml").write_text(toml_text(RNN2), encoding="utf-8")
    out = tmp_path / "out"
    assert run_cli("worksheet", tmp_path / "spec.toml", "--no-pdf", "--out", out).returncode == 0
    tex = (out / "solutions.tex").read_text()
    assert r"\node[cell] (m0) at (6.60,1.60) {$y^{(2)}$};" in tex
    assert "{tanh, plus the skip};" in tex
    assert r"\node[cell] (m1) at (6.60,3.20) {$a^{(4)}$};" in tex and "(m2)" not in tex


def test_the_residual_block_s_formula_is_math_in_the_network_text(tmp_path):
    """'y = x + f(x), f = the next 2 modules' was upright text in the network's list."""
    out = tmp_path / "res"
    assert run_cli("worksheet", ROOT / "examples" / "residual.toml", "--no-pdf", "--out", out).returncode == 0
    tex = (out / "solutions.tex").read_text()
    assert r"Module 2,{} a residual block: $y^{(2)} = a^{(1)} + f(a^{(1)})$,{} where $f$ is made of modules 3 and 4." in tex


def test_a_module_deck_s_summary_frames_have_tall_rows(tmp_path):
    """The deck's parameter table of cnn.toml (K^{(1)}_{11} under K^{(1)}_{12}) is stretched as the
    solution's is; the MLP deck's table (w_5: no superscript) stays as it was."""
    assert run_cli("slides", ROOT / "examples" / "cnn.toml", "--no-pdf", "--out", tmp_path / "deck").returncode == 0
    deck = (tmp_path / "deck" / "slides.tex").read_text()
    table = deck[deck.index("{Every parameter after one step}"):]
    assert table.index(r"\renewcommand{\arraystretch}{1.3}") < table.index(r"\begin{tabular}{lrrr}")


GRADIENT = re.compile(r"\\frac\{\\partial E\}\{\\partial (?:[^{}]|\{[^{}]*\})*\}|\\delta(?:\^\{[^{}]*\})?_\{[^{}]*\}")


def _used_before_derived(tex: str) -> list[tuple[str, str]]:
    """(step line, gradient) for every gradient a line of the forward pass or backpropagation uses
    before an earlier line derived it: each align line is 'lhs &= symbolic = substituted = value'.
    (The updates also read the entries a step only states are 0, so they are not checked here.)"""
    derived, early = set(), []
    tex = tex[:tex.index("{One step of gradient descent}")]
    for body in re.findall(r"\\begin\{align\*\}(.*?)\\end\{align\*\}", tex, re.S):
        for line in body.split("\\\\"):
            if "&=" not in line:
                continue
            lhs, rest = line.split("&=", 1)
            lhs = lhs.strip().lstrip("*").strip()
            early += [(lhs, g) for g in GRADIENT.findall(rest) if g not in derived]
            if lhs:
                derived.add(lhs)
    return early


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_step_uses_only_gradients_derived_before_it(tmp_path, name):
    """residual.toml's δ^(4) = ∂E/∂a^(4) · 1 stood before the step that derives ∂E/∂a^(4) (the gradient
    reaching f(x) through the sum y = x + f(x)): a step may use only what earlier steps derived."""
    assert run_cli("worksheet", ROOT / "examples" / f"{name}.toml", "--out", tmp_path, "--no-pdf").returncode == 0
    tex = (tmp_path / "solutions.tex").read_text()
    assert tex.count("\\partial E") > 20
    assert _used_before_derived(tex) == []
    if name == "residual":
        reach = tex.index("(residual block): the gradient reaching the output of module 4}")
        assert reach < tex.index("{Module 4 (dense layer): through the identity}") < tex.index("(residual block): the gradient of its input}")
        assert "\\frac{\\partial E}{\\partial a^{(4)}_{1}} &= \\frac{\\partial E}{\\partial y^{(2)}_{1}} \\cdot 1 " \
               "= \\left(-0.053162009\\right) \\cdot 1 = -0.053162009" in tex[reach:]


@pytest.mark.parametrize("spec", [RESCONV, RNN2], ids=["resconv", "rnn2"])
def test_a_residual_around_a_map_or_after_an_rnn_uses_only_gradients_derived_before(tmp_path, spec):
    path = tmp_path / "spec.toml"
    path.write_text(toml_text(spec), encoding="utf-8")
    assert run_cli("worksheet", path, "--out", tmp_path / "out", "--no-pdf").returncode == 0
    tex = (tmp_path / "out" / "solutions.tex").read_text()
    samples = len(spec["data"]["targets"]) if isinstance(spec["data"]["targets"][0], list) else 1
    assert tex.count("(residual block): the gradient reaching the output of module") == samples
    assert _used_before_derived(tex) == []


def test_feature_maps_are_not_drawn_among_the_given_values(tmp_path):
    """cnn.toml's worksheet drew a blank z^(1) grid between K^(1) and b^(1), and its solutions the same
    grid filled in, before the forward pass computed it: a computed map is no given value."""
    out = tmp_path / "out"
    assert run_cli("worksheet", ROOT / "examples" / "cnn.toml", "--out", out, "--no-pdf").returncode == 0
    assert run_cli("exam", ROOT / "examples" / "cnn.toml", "--variants", 1, "--seed", 1, "--out", tmp_path / "exam",
                   "--no-pdf").returncode == 0
    for document in (out / "worksheet.tex", out / "solutions.tex", tmp_path / "exam" / "exam.tex",
                     tmp_path / "exam" / "solutions.tex"):
        tex = document.read_text()
        assert "{$K^{(1)}$}" in tex, document.name       # the given kernel is still drawn
        assert "{$z^{(1)}$}" not in tex and "{$a^{(1)}$}" not in tex, document.name
    solutions = (out / "solutions.tex").read_text()
    assert "z^{(1)}_{11} &= " in solutions[solutions.index("{Forward pass}"):]


def test_a_task_asks_for_the_entries_that_are_zero_too(tmp_path):
    """residual.toml's tasks for module 3 asked only for unit 2's δ^(3)_2, ∂E/∂w^(3)_21, ... with no word
    why (ReLU is off for unit 1): like every other task they ask for all entries, and finding the 0s is
    part of the work; the solution still writes out only the non-zero ones and says why the rest are 0."""
    assert run_cli("worksheet", ROOT / "examples" / "residual.toml", "--out", tmp_path, "--no-pdf").returncode == 0
    sheet = (tmp_path / "worksheet.tex").read_text()
    def asked(title):
        start = sheet.index("\\item " + title)
        return sheet[sheet.index("\\begin{gather*}", start) + 15:sheet.index("\\end{gather*}", start)].strip()
    assert asked("Module 3 (dense layer): through ReLU") == "\\delta^{(3)}_{1}, \\delta^{(3)}_{2}"
    assert asked("Module 3 (dense layer): the weight gradients") == ", ".join(
        f"\\frac{{\\partial E}}{{\\partial w^{{(3)}}_{{{k}{j}}}}}" for k in (1, 2) for j in (1, 2))
    assert asked("Module 3 (dense layer): the bias gradients") == \
        "\\frac{\\partial E}{\\partial b^{(3)}_{1}}, \\frac{\\partial E}{\\partial b^{(3)}_{2}}"
    solutions = (tmp_path / "solutions.tex").read_text()
    relu = solutions[solutions.index("{Module 3 (dense layer): through ReLU}"):]
    relu = relu[:relu.index("\\end{derivestep}")]
    assert r"The other entry is 0: ReLU is off,{} $z^{(3)}_{1} = -0.016978768 \le 0$." in relu   # review4 item 7
    assert "\\delta^{(3)}_{1}" not in relu
    assert "\\delta^{(3)}_{2} &= \\frac{\\partial E}{\\partial a^{(3)}_{2}} \\cdot 1 = 0.004556744 \\cdot 1 = 0.004556744" \
        in relu


def test_a_residual_block_is_written_in_the_network_s_own_names(tmp_path):
    """y = x + f(x) used x for the block's input while x_1, x_2 were the network's input on the same
    pages: the rule, its gradient steps and the quiz now name the block's input a^{(1)} and f's
    output a^{(4)}, so x means the data only."""
    out = tmp_path / "res"
    assert run_cli("worksheet", ROOT / "examples" / "residual.toml", "--no-pdf", "--out", out).returncode == 0
    tex = (out / "solutions.tex").read_text()
    assert r"By $y^{(2)} = a^{(1)} + f(a^{(1)}) = a^{(1)} + a^{(4)}$:" in tex
    assert (r"$\frac{\partial E}{\partial a^{(4)}} = \frac{\partial E}{\partial y^{(2)}} \cdot 1$: $a^{(4)} = f(a^{(1)})$ "
            r"enters the sum $y^{(2)} = a^{(1)} + a^{(4)}$ with the factor 1,{} so it receives the gradient of $y^{(2)}$ "
            "unchanged.") in tex
    assert (r"$\frac{\partial E}{\partial a^{(1)}} = \frac{\partial E}{\partial a^{(4)}}\,\frac{\partial a^{(4)}}"
            r"{\partial a^{(1)}} + \frac{\partial E}{\partial y^{(2)}} \cdot 1$: $a^{(1)}$ reaches the loss along two paths,{} "
            r"through $f$ (modules 3 and 4) and through the skip connection,{} which passes the gradient of $y^{(2)}$ on "
            "unchanged.") in tex
    # x is only ever the data: the vector x, its entries x_{j}, x_{1}, x_{2}
    assert set(re.findall(r"(?<![\\a-zA-Z])x(?![a-zA-Z])(?:_\{[^}]*\})?", tex)) == {"x", "x_{j}", "x_{1}", "x_{2}"}
    assert "f(x)" not in tex and r"\partial x}" not in tex
    folder = tmp_path / "exam"
    assert run_cli("exam", ROOT / "examples" / "residual.toml", "--variants", 1, "--seed", 1, "--out", folder,
                   "--no-pdf").returncode == 0
    quiz = (folder / "moodle.xml").read_text(encoding="utf-8")
    assert "x + f(x)" not in quiz and r"y^{(2)} = a^{(1)} + f(a^{(1)})" in quiz


CNN2 = {"module": [
    {"kind": "conv2d", "filters": 2, "kernels": [[[[0.5, -0.4], [0.3, -0.2]]], [[[0.2, 0.1], [-0.3, 0.4]]]],
     "biases": [0.04, -0.02], "activation": "relu"},
    {"kind": "maxpool", "size": [2, 2]},
    {"kind": "flatten"},
    {"kind": "dense", "units": 2, "activation": "softmax",
     "weights": [[0.3, -0.2, 0.4, 0.1, 0.2, -0.1, 0.3, 0.1], [-0.1, 0.5, -0.3, 0.2, 0.1, 0.2, -0.2, 0.3]],
     "biases": [0.05, -0.05]}],
    "network": {"loss": "cross_entropy"},
    "data": {"inputs": [[0.2, 0.8, 0.1, 0.5, 0.9], [0.6, 0.1, 0.7, 0.2, 0.4], [0.3, 0.9, 0.2, 0.6, 0.1],
                        [0.7, 0.4, 0.8, 0.3, 0.6], [0.1, 0.5, 0.3, 0.9, 0.2]], "targets": [1, 0]}}


def test_flatten_says_how_it_reads_the_map_in_words_the_pages_introduced(tmp_path):
    """'the 1×2×2 map read row by row' named a channel count the pages never introduce: one map is
    its 2×2 grid, several maps (one per filter) are read one after another."""
    out = tmp_path / "cnn"
    assert run_cli("worksheet", ROOT / "examples" / "cnn.toml", "--no-pdf", "--out", out).returncode == 0
    for document in ("worksheet.tex", "solutions.tex"):
        tex = (out / document).read_text()
        assert "1\\ensuremath{\\times}2" not in tex
        assert r"Module 3,{} flatten: the 2\ensuremath{\times}2 map,{} read row by row,{} as one vector." in tex
    assert (r"The 2\ensuremath{\times}2 map,{} read row by row,{} is the vector $a^{(3)}$ of 4 inputs of module 4."
            in (out / "solutions.tex").read_text())
    path = tmp_path / "cnn2.toml"
    path.write_text(toml_text(CNN2), encoding="utf-8")
    assert run_cli("worksheet", path, "--no-pdf", "--out", tmp_path / "two").returncode == 0
    tex = (tmp_path / "two" / "solutions.tex").read_text()
    assert r"2\ensuremath{\times}2\ensuremath{\times}2" not in tex
    assert (r"The 2 maps of 2\ensuremath{\times}2,{} one after another and each read row by row,{} are the vector "
            "$a^{(3)}$ of 8 inputs of module 4.") in tex
    # the gradient maps by the rule's own index, z^{(1)}_{f,ij}: one per filter (no channel c the pages never named)
    assert r"{$\delta^{(1)}\ (f = 2)$}" in tex and "(c = " not in tex
    assert run_cli("exam", path, "--variants", 1, "--seed", 1, "--out", tmp_path / "exam", "--no-pdf").returncode == 0
    quiz = (tmp_path / "exam" / "moodle.xml").read_text(encoding="utf-8")
    assert "flatten: the 2 maps of 2×2, one after another and each read row by row, as one vector." in quiz


def test_an_rnn_s_rules_use_the_names_of_its_worked_lines(tmp_path):
    """The rule said x_{t,k}, h_t and δ_t while the lines under it printed U_{11} x_{1}, h_{1,1} and
    δ_{4,1}: each rule now has the letters and indices of its lines (one feature: x_t and U_{j1};
    two units: h_{t,j}; the dense layer after it reads h_{4,j}), in solutions, snippets and decks."""
    out = tmp_path / "rnn"
    assert run_cli("worksheet", ROOT / "examples" / "rnn.toml", "--no-pdf", "--out", out).returncode == 0
    tex = (out / "solutions.tex").read_text()
    rules = [r"z_{t,j} = U_{j1}\, x_{t} + \sum_{k} W_{jk}\, h_{t-1,k} + b_{j},\quad h_{t,j} = \tanh\left(z_{t,j}\right)",
             r"\delta_{t,j} = \frac{\partial E}{\partial h_{t,j}} \cdot \left(1 - h_{t,j}^{2}\right)",
             r"\frac{\partial E}{\partial h_{t,k}} = \sum_{j} \delta_{t+1,j}\, W_{jk}",
             r"\frac{\partial E}{\partial U_{j1}} = \sum_{t=1}^{4} \delta_{t,j}\, x_{t}",
             r"\frac{\partial E}{\partial W_{jk}} = \sum_{t=1}^{4} \delta_{t,j}\, h_{t-1,k}",
             r"\frac{\partial E}{\partial b_{j}} = \sum_{t=1}^{4} \delta_{t,j}",
             r"\frac{\partial E}{\partial x_{t}} = \sum_{j} \delta_{t,j}\, U_{j1}",
             r"z^{(2)}_{k} = \sum_{j} w^{(2)}_{kj}\, h_{4,j} + b^{(2)}_{k}",
             r"\frac{\partial E}{\partial w^{(2)}_{kj}} = \delta^{(2)}_{k}\, h_{4,j}",
             r"\frac{\partial E}{\partial h_{4,j}} = \sum_{k} \delta^{(2)}_{k}\, w^{(2)}_{kj}"]
    for rule in rules:
        assert f"${rule}$" in tex, rule
    # ... and the lines under them
    assert r"z_{1,1} &= U_{11} x_{1} + W_{11} h_{0,1} + W_{12} h_{0,2} + b_{1}" in tex
    assert r"\delta_{4,1} &= \frac{\partial E}{\partial h_{4,1}} \cdot \left(1 - h_{4,1}^{2}\right)" in tex
    for old in ("x_{t,k}", "h_{t}", "h_{j}", r"\delta_{t} ", "U_{jk}"):
        assert old not in tex, old
    snippet = run_cli("snippet", ROOT / "examples" / "rnn.toml", "--part", "backward")
    assert snippet.returncode == 0 and all(rule in snippet.stdout for rule in rules[1:7])
    assert run_cli("slides", ROOT / "examples" / "rnn.toml", "--no-pdf", "--out", tmp_path / "deck").returncode == 0
    deck = (tmp_path / "deck" / "slides.tex").read_text()
    assert all(rule in deck for rule in rules) and "x_{t,k}" not in deck


def test_an_rnn_of_one_unit_and_two_features_names_its_rules_alike(tmp_path):
    """One unit: h_t, δ_t, W_{11} and b (no unit index); two features: x_{t,k} and U_{1k}."""
    path = tmp_path / "spec.toml"
    spec = {"module": [
        {"kind": "rnn", "units": 1, "input_weights": [[0.5, -0.4]], "recurrent_weights": [[0.3]], "biases": [0.1],
         "initial_state": [0.2]},
        {"kind": "dense", "units": 1, "activation": "linear", "weights": [[1.2]], "biases": [-0.1]}],
        "network": {"loss": "half_sse"}, "data": {"inputs": [[1.0, 0.5], [-0.5, 0.3]], "targets": [0.5]}}
    path.write_text(toml_text(spec), encoding="utf-8")
    assert run_cli("worksheet", path, "--no-pdf", "--out", tmp_path / "out").returncode == 0
    tex = (tmp_path / "out" / "solutions.tex").read_text()
    assert r"By $z_{t} = \sum_{k} U_{1k}\, x_{t,k} + W_{11}\, h_{t-1} + b,\quad h_{t} = \tanh\left(z_{t}\right)$:" in tex
    assert r"z_{1} &= U_{11} x_{1,1} + U_{12} x_{1,2} + W_{11} h_{0} + b" in tex
    assert r"$\frac{\partial E}{\partial W_{11}} = \sum_{t=1}^{2} \delta_{t}\, h_{t-1}$" in tex
    assert r"$z^{(2)}_{k} = w^{(2)}_{k1}\, h_{2} + b^{(2)}_{k}$" in tex


def test_a_parameter_the_step_leaves_unchanged_prints_as_given(tmp_path):
    """residual.toml's ReLU unit 1 of module 3 is off: ∂E/∂w^{(3)}_{11} = 0 and w^{(3)}_{11} stays 0.6,
    which the summary printed 0.600000000 beside the given 0.6."""
    out = tmp_path / "res"
    assert run_cli("worksheet", ROOT / "examples" / "residual.toml", "--no-pdf", "--out", out).returncode == 0
    tex = (out / "solutions.tex").read_text()
    summary = tex[tex.index(r"\section*{Summary}"):]
    assert r"$w^{(3)}_{11}$ & $0.6$ & $0$ & $0.6$ \\" in summary
    assert r"$b^{(3)}_{1}$ & $0.05$ & $0$ & $0.05$ \\" in summary
    assert r"$w^{(3)}_{21}$ & $-0.4$ & $0.000544200$ & $-0.400272100$ \\" in summary
    assert "0.600000000" not in summary and "0.050000000" not in summary
    assert r"b^{(3)+}_{1} &= b^{(3)}_{1} - \eta \cdot \frac{\partial E}{\partial b^{(3)}_{1}} = 0.05 - 0.5 \cdot 0 = 0.05 \\" in tex
    assert r"w^{(3)+}_{11} &= w^{(3)}_{11} - \eta \cdot \frac{\partial E}{\partial w^{(3)}_{11}} = 0.6 - 0.5 \cdot 0 = 0.6 \\" in tex
    assert tex.count("Where the gradient is 0,{} the parameter is unchanged.") == 2      # modules 3 and 4


def test_an_mlp_s_parameter_behind_a_dead_relu_prints_as_given(tmp_path):
    """The MLP's summary alike: hidden unit 1 is off (net = -0.5), so w^{(1)}_{11}, w^{(1)}_{12} and
    w^{(2)}_{11} keep their given values, printed as given."""
    path = tmp_path / "mlp.toml"
    path.write_text('title = "Dead unit"\n[network]\nlayers = [2, 2, 1]\nactivation = ["relu", "sigmoid"]\n'
                    'loss = "half_sse"\nnaming = "indexed"\n[data]\ninputs = [1.0, 0.5]\ntargets = [1]\n'
                    '[parameters]\nweights = [[[-0.4, -0.2], [0.3, 0.6]], [[0.7, 0.5]]]\nbiases = [[0.0, 0.1], 0.2]\n'
                    '[training]\nlearning_rate = 0.5\n', encoding="utf-8")
    assert run_cli("worksheet", path, "--no-pdf", "--out", tmp_path / "out").returncode == 0
    tex = (tmp_path / "out" / "solutions.tex").read_text()
    summary = tex[tex.index(r"\section*{Summary}"):]
    assert r"$w^{(1)}_{11}$ & $-0.4$ & $0$ & $-0.4$ \\" in summary
    assert r"$w^{(2)}_{11}$ & $0.7$ & $0$ & $0.7$ \\" in summary
    assert "0.700000000" not in summary and "0.400000000" not in summary


KEEP = {"module": [
    {"kind": "conv2d", "kernel": [2, 2], "activation": "relu", "kernels": [[0.5, -0.4], [0.3, -0.2]], "biases": [0.04]},
    {"kind": "maxpool", "size": [2, 2]},
    {"kind": "flatten"},
    {"kind": "dense", "units": 2, "activation": "softmax", "weights": [[-0.3, -0.2, -0.1, 0.1], [-0.2, -0.1, 0.1, 0.1]],
     "biases": [0.05, -0.05]}],
    "network": {"loss": "cross_entropy"},
    "data": {"inputs": [[[0.6, 0.37, 0.85, 0.05, 0.15], [0.56, 0.6, 0.18, 0.62, 0.85], [0.39, 0.44, 0.25, 0.31, 0.93],
                         [0.39, 0.92, 0.87, 0.59, 0.28], [0.93, 0.5, 0.42, 0.34, 0.94]],
                        [[0.49, 0.31, 0.48, 0.16, 0.61], [0.45, 0.31, 0.75, 0.79, 0.06], [0.53, 0.3, 0.89, 0.75, 0.27],
                         [0.29, 0.19, 0.94, 0.31, 0.6], [0.48, 0.63, 0.59, 0.72, 0.16]]],
             "targets": [[1, 0], [0, 1]]}}


def _pages_with(pdf: Path, word: str) -> list[int]:
    bbox = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return [number for number, page in enumerate(re.findall(r"<page.*?</page>", bbox, re.S), 1)
            if any(html.unescape(w) == word for w in re.findall(r">([^<>]*)</word>", page))]


def test_the_given_values_stay_together_on_one_page(tmp_path):
    """Two samples of a 5×5 input: the given values broke after b^{(1)} = 0.04 (solutions) or
    before t^{[2]} (worksheet), leaving η alone at the top of page 2; a list that short is kept whole."""
    path = tmp_path / "keep.toml"
    path.write_text(toml_text(KEEP), encoding="utf-8")
    result = run_cli("worksheet", path, "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    for document in ("worksheet", "solutions"):
        pdf = tmp_path / "out" / f"{document}.pdf"
        first, eta = _pages_with(pdf, "0.04")[0], _pages_with(pdf, "η")[0]      # b^{(1)} = 0.04 opens the list
        assert first == eta, (document, first, eta)
    assert nearly_empty(tmp_path / "out" / "solutions.pdf") == []


def test_a_residual_block_after_an_rnn_names_its_last_state(tmp_path):
    """The block reads the RNN's last state h_3 (one unit): its rule said y = h + f(h) and the module
    after it read h_1, while the lines add h_3."""
    path = tmp_path / "spec.toml"
    path.write_text(toml_text(RNN2), encoding="utf-8")
    assert run_cli("worksheet", path, "--no-pdf", "--out", tmp_path / "out").returncode == 0
    tex = (tmp_path / "out" / "solutions.tex").read_text()
    assert r"Module 2,{} a residual block: $y^{(2)} = h_{3} + f(h_{3})$,{} where $f$ is module 3." in tex
    assert r"By $y^{(2)} = h_{3} + f(h_{3}) = h_{3} + a^{(3)}$:" in tex
    assert r"By $z^{(3)}_{k} = w^{(3)}_{k1}\, h_{3} + b^{(3)}_{k}$:" in tex
    assert r"y^{(2)[1]}_{1} &= h^{[1]}_{3} + a^{(3)[1]}_{1}" in tex      # sample 1 of 2


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_parameter_has_its_update_line(tmp_path, name):
    """An update step's lines were lost once (its steps read twice from one iterator): each row of the
    summary has its line θ^+ = θ − η ∂E/∂θ in the update steps."""
    assert run_cli("worksheet", ROOT / "examples" / f"{name}.toml", "--no-pdf", "--out", tmp_path).returncode == 0
    tex = (tmp_path / "solutions.tex").read_text()
    summary = tex[tex.index(r"\section*{Summary}"):]
    rows = re.findall(r"^\$(.+?)\$ & ", summary, re.M)
    updates = tex[tex.index("{One step of gradient descent}"):tex.index(r"\section*{Summary}")]
    for name_ in rows:
        plus = re.sub(r"^([A-Za-z]+)(\^\{\([0-9]+\)\})?", lambda m: m.group(1) + (m.group(2) or "")[:-1]
                      + ("+}" if m.group(2) else "^{+}"), name_, count=1)
        assert f"\n{plus} &= {name_} - \\eta" in updates, (plus, name_)
    assert len(rows) > 4


FIVE_RELU = """title = "Five ReLU units"

[[module]]
kind = "dense"
units = 5
activation = "relu"
weights = [[0.6, 0.3], [ROW2], [-0.5, -0.2], [-0.3, -0.6], [-0.2, -0.4]]
biases = [0.1, -0.1, -0.2, -0.1, -0.3]

[[module]]
kind = "dense"
units = 1
activation = "sigmoid"
weights = [[0.7, -0.5, 0.4, 0.3, -0.2]]
biases = [0.2]

[network]
loss = "half_sse"

[data]
inputs = [0.5, 0.9]
targets = [0.8]

[training]
learning_rate = 0.5
"""


@pytest.mark.parametrize("row2, expected", [
    ("-0.4, -0.7", r"The other 4 entries are 0: ReLU is off for each,{} $z^{(1)} \le 0$."),
    ("0.4, 0.7", None)])
def test_relu_off_entries_are_named_with_their_values_up_to_three(tmp_path, row2, expected):
    """Review4 item 7: the reason a ReLU step's other entries are 0, per case. A gradient reaches every
    unit here (a dense layer follows), so each 0 is ReLU off: up to three named with their z, more
    counted."""
    spec = tmp_path / "five.toml"
    spec.write_text(FIVE_RELU.replace("ROW2", row2), encoding="utf-8")
    assert run_cli("worksheet", spec, "--no-pdf", "--out", tmp_path / "o").returncode == 0
    solutions = (tmp_path / "o" / "solutions.tex").read_text()
    if expected is None:     # units 3 to 5 off: z3 = -0.63, z4 = -0.79, z5 = -0.76
        expected = (r"The other 3 entries are 0: ReLU is off,{} $z^{(1)}_{3} = -0.630000000 \le 0$,{} "
                    r"$z^{(1)}_{4} = -0.790000000 \le 0$ and $z^{(1)}_{5} = -0.760000000 \le 0$.")
    assert expected in solutions and "no gradient reaches" not in solutions


def test_a_deck_sets_the_rows_of_one_frame_as_one_display(tmp_path):
    """review4 item 2: a short last piece joined back onto the frame before it (cnn 'routing the
    gradient', rnn 'time step 2', residual 'the gradient of its input') was a second align* in the
    same frame: a gap, and its '=' out of line with the rows above."""
    for name in EXAMPLES:
        assert run_cli("slides", ROOT / "examples" / f"{name}.toml", "--no-pdf", "--out", tmp_path / name).returncode == 0
        deck = (tmp_path / name / "slides.tex").read_text()
        assert not re.search(r"\\end\{align\*\}\s*\\begin\{align\*\}", deck), name
        routing = deck[deck.index("routing the gradient}"):] if name == "cnn" else ""
        if routing:
            display = routing[routing.index("\\begin{align*}"):routing.index("\\end{align*}")]
            assert display.count("\\frac{\\partial E}{\\partial a^{(1)}_{") == 4 and "a^{(1)}_{34}" in display


def test_one_bias_s_heading_is_singular(tmp_path):
    """review4 item 15: 'the bias gradients' over the rnn's one output bias."""
    assert run_cli("worksheet", ROOT / "examples" / "rnn.toml", "--no-pdf", "--out", tmp_path / "rnn").returncode == 0
    solution = (tmp_path / "rnn" / "solutions.tex").read_text()
    assert "{Module 2 (dense layer): the bias gradient}" in solution and "bias gradients" not in solution
    assert run_cli("worksheet", ROOT / "examples" / "cnn.toml", "--no-pdf", "--out", tmp_path / "cnn").returncode == 0
    assert "the bias gradients}" in (tmp_path / "cnn" / "solutions.tex").read_text()      # two units: plural


def test_a_deck_s_shortened_update_shows_real_changes_first(tmp_path):
    """review4 item 8: the residual deck's update frames showed w^(3)+_11 = 0.6 − 0.5 · 0 = 0.6 (the
    zero-gradient rows) and left the real updates out; the sentence says the zero ones."""
    assert run_cli("slides", ROOT / "examples" / "residual.toml", "--no-pdf", "--out", tmp_path).returncode == 0
    deck = (tmp_path / "slides.tex").read_text()
    for module in (3, 4):
        frame = deck[deck.index(f"{{Module {module} (dense layer): the update}}"):]
        frame = frame[:frame.index("\\end{frame}")]
        assert "\\cdot 0 =" not in frame and "Where the gradient is 0,{} the parameter is unchanged." in frame
    assert "w^{(3)+}_{21} &= w^{(3)}_{21} - \\eta \\cdot \\frac{\\partial E}{\\partial w^{(3)}_{21}} = \\left(-0.4\\right) " \
           "- 0.5 \\cdot 0.000544200 \\\\*\n &= -0.400272100" in deck
    assert run_cli("worksheet", ROOT / "examples" / "residual.toml", "--no-pdf", "--out", tmp_path / "ws").returncode == 0
    solution = (tmp_path / "ws" / "solutions.tex").read_text()      # the worked solution keeps the order
    assert solution.index("w^{(3)+}_{11} &=") < solution.index("w^{(3)+}_{21} &=")


def test_module_decks_use_their_frames_room(tmp_path):
    """review4 item 5: rnn time steps 3 and 4 took two half-empty frames each, ∂E/∂W three
    continuation frames of one entry, the cnn input gradient two rows and half a frame free. The
    estimate now counts ∂E/∂w^{(1)}_{11} and max(0, z^{(1)}_{12}) as tall as they print (measured
    with pdftotext -bbox), so the frames may fill (test_module_decks_fit_their_frames: no overflow)."""
    decks = {}
    for name in ("cnn", "rnn"):
        assert run_cli("slides", ROOT / "examples" / f"{name}.toml", "--out", tmp_path / name, "--no-pdf").returncode == 0
        decks[name] = (tmp_path / name / "slides.tex").read_text()
    rnn = re.findall(r"^\\begin\{frame\}\{(.*)\}$", decks["rnn"], re.M)
    assert not any("time step" in t and "(continued)" in t for t in rnn)
    assert sum(1 for t in rnn if "\\partial W$,{} summed over the time steps (cont" in t) == 2
    frame = decks["rnn"].split("\\partial W$,{} summed over the time steps (cont.)}")[1].split("\\end{frame}")[0]
    assert "\\partial W_{12}}" in frame and "\\partial W_{21}}" in frame          # two entries on a continuation
    cnn = decks["cnn"].split("{Module 1 (convolution): the input gradient}")[1].split("\\end{frame}")[0]
    assert cnn.count("\\frac{\\partial E}{\\partial x_{") >= 3


def test_the_height_estimate_counts_superscripts_in_a_denominator_and_in_grown_parentheses():
    """Measured in a beamer frame at 11 pt: ∂E/∂w^{(1)}_{11} rows 32.3 pt (2.49 font sizes and the row
    space), max(0, z^{(1)}_{12}) rows 22.3 pt (1.57), a plain row 16.5 pt (1)."""
    assert latex_height(r"\frac{\partial E}{\partial w^{(1)}_{11}} = \delta^{(1)}_{1} x_{1}") == 2.5
    assert latex_height(r"\frac{\partial E}{\partial x_{2}} = 1") == 2.0
    assert latex_height(r"a^{(1)}_{12} = \max\left(0, z^{(1)}_{12}\right)") == 1.6
    assert latex_height(r" = \left(-0.05\right) \cdot \left(1 - 0.119427299^{2}\right)") == 1.1
    assert latex_height(r"z_{3,1} = U_{11} x_{3} + b_{1}") == 1.0


def test_beamer_snippets_of_module_specs_fill_their_frames():
    """review4 item 5: with a quarter of each frame kept free, the cnn snippet's 'routing the gradient'
    and 'through ReLU' put their fourth row alone on a continuation frame, the rnn's ∂E/∂b its last."""
    cnn = run_cli("snippet", ROOT / "examples" / "cnn.toml", "--part", "backward", "--fit", "beamer").stdout
    rnn = run_cli("snippet", ROOT / "examples" / "rnn.toml", "--part", "backward", "--fit", "beamer").stdout
    assert "routing the gradient (continued)" not in cnn and "through ReLU (continued)" not in cnn
    assert "\\partial b$,{} summed over the time steps (cont" not in rnn
    assert cnn.count("\\begin{frame}") <= 15 and rnn.count("\\begin{frame}") <= 19
