"""Optimisers (SGD, momentum, Nesterov, RMSprop, Adam) and mini-batches, against numbers worked by hand.

The small case: one linear neuron, E = ½(t − w·x)², x = 2, t = 1, w = 0.25 (the bias fixed at 0),
η = 0.1, so the gradient is g = (w·x − t)·x: −1 at the start. The expected numbers were worked by
hand for SGD, momentum and Nesterov (0.25 → 0.35 → 0.41 → 0.446 for SGD) and with a separate
five-line scalar script for RMSprop and Adam, following the torch.optim documentation; none of them
comes from derive's code.
"""
from __future__ import annotations

import copy
import csv
import hashlib
import io
import json
import re
import subprocess

import pytest
import sympy as sp

import derive
from derive.errors import VerificationError
from derive.printing.latex import Printer
from derive.printing.numbers import plain_number
from derive.solution import verify_key as verify_everything
from derive.spec import parse

from helpers import ROOT, pdf_text, run_cli

LINEAR = {
    "title": "one linear neuron",
    "network": {"layers": [1, 1], "activation": "linear", "loss": "half_sse"},
    "data": {"inputs": [2.0], "targets": [1.0]},
    "parameters": {"weights": [[[0.25]]], "biases": [0.0]},
    "training": {"learning_rate": 0.1, "iterations": 3},
}

# Per rule: w after steps 1, 2, 3; the state after each step; the loss before each step and after the last.
EXPECTED = {
    "sgd": {"w": [0.35, 0.41, 0.446], "states": {},
            "loss": [0.125, 0.045, 0.0162, 0.005832]},
    "momentum": {"w": [0.35, 0.5, 0.635], "states": {"v": [-1.0, -1.5, -1.35]},
                 "loss": [0.125, 0.045, 0.0, 0.03645]},
    "nesterov": {"w": [0.44, 0.5666, 0.608324], "states": {"v": [-1.0, -1.14, -0.7596]},
                 "loss": [0.125, 0.0072, 0.00887112, 0.023468177952]},
    "rmsprop": {"w": [1.24999990000001, 0.30084194681897114, 0.5463990856471476],
                "states": {"s": [0.01, 0.09989997600000398, 0.10524720506350116]},
                "loss": [0.125, 1.1249997000000498, 0.07932786029371504, 0.004305750297782671]},
    "adam": {"w": [0.3499999990000001, 0.4457490155386256, 0.5302083280255316],
             "states": {"m": [-0.1, -0.15000000039999997, -0.15670039414454973],
                        "v": [0.001, 0.0013590000047999996, 0.001404731713835652],
                        "m_hat": [-1.0, -0.7894736863157895, -0.5782302366957557],
                        "v_hat": [1.0, 0.6798399223611895, 0.46871246083523244]},
             "loss": [0.125, 0.04500000059999993, 0.00588633863005657, 0.0018250861641962404]},
}

# sha256 of `derive key examples/NAME.toml` before optimisers existed: plain gradient descent's
# keys must not change by a byte (and gain no field). The two regularisation keys were taken again
# after the hard-constraint solver's tolerances became relative to the gradient (hostile input)
# and θ* was polished to 1e-14 (regularisation pages).
KEYS_BEFORE = {
    "deep": "88a7586e3ecc9dc59cc3388d812cead6f587782fe93e56c642f7a9b8e68a7af4",
    "exam": "7f31c795e3ee28d63bd3dfaf549f2360d573308d643e27405f09f8e9f3250f2a",
    "lecture": "7f31c795e3ee28d63bd3dfaf549f2360d573308d643e27405f09f8e9f3250f2a",
    "linear_constrained": "7331633f51074db7c3ed0cf3315acf6775422858811c98e0e035f6da31a4f35e",
    "regularization": "0f34aea5e4791969832761fb22d83bcbba238add7a1880436837364c32da8106",
    "softmax": "b161b18c822ae6eee6aaeceadf461305f70476c2c01a596e8425c33e153f63d5",
    "tanh": "2dc15aeebf39e3896adc65ada9be3efd76ac84657b31f7537af70668876bf7ca",
}


def _spec(optimizer: str | None = None, **training) -> dict:
    spec = copy.deepcopy(LINEAR)
    if optimizer is not None:
        spec["training"]["optimizer"] = optimizer
    spec["training"].update(training)
    return spec


@pytest.mark.parametrize("rule", sorted(EXPECTED))
def test_three_steps_equal_the_published_rule(rule):
    key = derive.derive(_spec(rule)).key
    expected = EXPECTED[rule]
    steps = key["optimizer"]["steps"]
    assert [s["step"] for s in steps] == [1, 2, 3]
    for i, s in enumerate(steps):
        assert s["updated"]["weights"][0][0][0] == pytest.approx(expected["w"][i], abs=1e-9)
        assert s["loss"] == pytest.approx(expected["loss"][i], abs=1e-9)
        assert s["updated"]["biases"] == [0.0]          # the bias stays fixed
        for name, values in expected["states"].items():
            assert s[name]["weights"][0][0][0] == pytest.approx(values[i], abs=1e-9), name
            assert s[name]["biases"] == [0.0]           # a fixed parameter's state stays at its start
    assert key["gradients"]["weights"][0][0][0] == pytest.approx(-1.0, abs=1e-12)
    assert steps[0]["gradients"]["weights"][0][0][0] == pytest.approx(-1.0, abs=1e-12)
    # updated = after the first step; history = the loss before each step and after the last.
    assert key["updated"]["weights"][0][0][0] == pytest.approx(expected["w"][0], abs=1e-9)
    assert key["loss"]["after_step"] == pytest.approx(expected["loss"][1], abs=1e-9)
    assert key["history"]["loss"] == pytest.approx(expected["loss"], abs=1e-9)
    assert key["final"]["weights"][0][0][0] == pytest.approx(expected["w"][-1], abs=1e-9)


def test_biases_move_with_their_own_state_when_updated():
    # With update_biases the bias is a parameter like w: g_b = (w·x + b − t)·1 = −0.5 at the start.
    key = derive.derive(_spec("momentum", update_biases=True, iterations=2)).key
    first, second = key["optimizer"]["steps"]
    assert first["gradients"]["biases"] == [pytest.approx(-0.5, abs=1e-12)]
    assert first["v"]["biases"] == [pytest.approx(-0.5, abs=1e-12)]
    assert first["updated"]["biases"] == [pytest.approx(0.05, abs=1e-12)]
    # w = 0.35, b = 0.05: out = 0.75, g_w = −0.5, g_b = −0.25; v_b = 0.9(−0.5) − 0.25 = −0.7.
    assert second["v"]["biases"] == [pytest.approx(-0.7, abs=1e-12)]
    assert second["updated"]["biases"] == [pytest.approx(0.12, abs=1e-12)]


# -- mini-batches ------------------------------------------------------------------------------------

THREE = {
    "network": {"layers": [1, 1], "activation": "linear", "loss": "half_sse"},
    "data": {"inputs": [[1.0], [2.0], [3.0]], "targets": [[1.0], [0.0], [2.0]]},
    "parameters": {"weights": [[[0.5]]], "biases": [0.0]},
    "training": {"learning_rate": 0.1, "iterations": 3, "batch_size": 2},
}


def test_mini_batches_take_the_samples_in_order():
    # Batches {1, 2}, {3} (the pass ends), {1, 2} again. Gradients by hand, g = sum (w x − t) x:
    # step 1: (0.5 − 1)·1 + (1 − 0)·2 = 1.5, w = 0.35; step 2: (1.05 − 2)·3 = −2.85, w = 0.635;
    # step 3: (0.635 − 1)·1 + 1.27·2 = 2.175, w = 0.4175.
    key = derive.derive(copy.deepcopy(THREE)).key
    steps = key["optimizer"]["steps"]
    assert [s["batch"] for s in steps] == [[1, 2], [3], [1, 2]]
    assert [s["gradients"]["weights"][0][0][0] for s in steps] == pytest.approx([1.5, -2.85, 2.175], abs=1e-12)
    assert [s["updated"]["weights"][0][0][0] for s in steps] == pytest.approx([0.35, 0.635, 0.4175], abs=1e-12)
    assert key["optimizer"]["optimizer"] == "sgd" and key["optimizer"]["batch_size"] == 2
    # The history is the loss over all samples: ½(0.5² + 1² + 0.5²) = 0.75 at the start.
    assert key["history"]["loss"][0] == pytest.approx(0.75, abs=1e-12)
    # The key's gradients keep their meaning: all samples at the spec's parameters (−0.5 + 2 − 1.5).
    assert key["gradients"]["weights"][0][0][0] == pytest.approx(0.0, abs=1e-12)


def test_a_batch_mean_divides_by_the_batch_size():
    spec = copy.deepcopy(THREE)
    spec["data"]["reduction"] = "mean"
    steps = derive.derive(spec).key["optimizer"]["steps"]
    assert steps[0]["gradients"]["weights"][0][0][0] == pytest.approx(0.75, abs=1e-12)
    assert steps[1]["gradients"]["weights"][0][0][0] == pytest.approx((0.425 * 3 - 2) * 3, abs=1e-12)


# -- the key -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("rule, recorded", [
    ("sgd", {"optimizer": "sgd", "batch_size": 1}),
    ("momentum", {"optimizer": "momentum", "momentum": 0.9, "batch_size": 1}),
    ("nesterov", {"optimizer": "nesterov", "momentum": 0.9, "batch_size": 1}),
    ("rmsprop", {"optimizer": "rmsprop", "alpha": 0.99, "epsilon": 1e-8, "batch_size": 1}),
    ("adam", {"optimizer": "adam", "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "batch_size": 1}),
])
def test_defaults_are_recorded_in_the_key(rule, recorded, write_spec, tmp_path):
    out = tmp_path / "key.json"
    result = run_cli("key", write_spec(_spec(rule)), "-o", out)
    assert result.returncode == 0, result.stderr
    entry = json.loads(out.read_text())["optimizer"]
    assert {k: v for k, v in entry.items() if k != "steps"} == recorded


def test_the_spec_reads_back_with_its_optimizer():
    spec = parse(_spec("adam", beta1=0.8, batch_size=1))
    again = parse(spec.to_dict())
    assert again.optimizer == spec.optimizer
    assert spec.to_dict()["training"]["beta1"] == 0.8


@pytest.mark.parametrize("name", sorted(KEYS_BEFORE))
def test_plain_descent_keys_are_byte_identical(name):
    result = run_cli("key", f"examples/{name}.toml")
    assert result.returncode == 0, result.stderr
    assert hashlib.sha256(result.stdout.encode()).hexdigest() == KEYS_BEFORE[name]
    assert '"optimizer"' not in result.stdout


def test_a_wrong_optimizer_number_fails_the_independent_check():
    spec = parse(_spec("adam"))
    key = derive.derive(spec).key
    key["optimizer"]["steps"][1]["v"]["weights"][0][0][0] *= 1 + 1e-6
    with pytest.raises(VerificationError, match=r"optimizer.steps\[1\].v"):
        verify_everything(spec, key)
    report = verify_everything(spec, derive.derive(spec).key)   # the untouched key passes
    assert report["values_checked"] > 0


# -- bad fields ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("training, field, words", [
    ({"optimizer": "adagrad"}, "[training] optimizer", "unknown value 'adagrad'; expected one of: sgd, momentum"),
    ({"optimizer": "adam", "beta1": 1.0}, "[training] beta1", "0 <= x < 1, got 1"),
    ({"optimizer": "adam", "beta2": -0.1}, "[training] beta2", "0 <= x < 1"),
    ({"optimizer": "adam", "epsilon": 0}, "[training] epsilon", "expected a number > 0, got 0"),
    ({"optimizer": "rmsprop", "alpha": "high"}, "[training] alpha", "expected a number, got 'high'"),
    ({"optimizer": "adam", "momentum": 0.5}, "[training] momentum",
     'unknown field for optimizer = "adam"; momentum is a constant of optimizer = "momentum" and "nesterov"'),
    ({"momentum": 0.5}, "[training] momentum", 'unknown field for optimizer = "sgd" (plain gradient descent)'),
    ({"optimizer": "rmsprop", "beta1": 0.5}, "[training] beta1", "expected one of: alpha, batch_size, epsilon, "
     "iterations, learning_rate, optimizer, update_biases"),
    ({"optimizer": "nesterov", "momentum": 0}, "[training] momentum", "Nesterov's step needs a momentum"),
    ({"optimizer": "sgd", "batch_size": 2}, "[training] batch_size", "from 1 to 1, got 2"),
    ({"optimizer": "sgd", "batch_size": 0}, "[training] batch_size", "from 1 to 1, got 0"),
    ({"optimizer": "sgd", "batch_size": 1.5}, "[training] batch_size", "whole number"),
    ({"optimiser": "adam"}, "[training] optimiser", "unknown field"),
])
def test_bad_fields_are_refused_in_one_line(training, field, words, write_spec, tmp_path):
    spec = _spec()
    spec["training"].update(training)
    out = tmp_path / "key.json"
    result = run_cli("key", write_spec(spec), "-o", out)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert field in result.stderr and words in result.stderr, result.stderr
    assert not out.exists()


def test_an_optimizer_beside_regularization_is_refused(write_spec):
    spec = _spec("adam")
    spec["regularization"] = {"penalty": "l2", "lambda": 0.01}
    result = run_cli("key", write_spec(spec))
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "[training] optimizer" in result.stderr and "[regularization]" in result.stderr


def test_divergence_is_one_line(write_spec):
    result = run_cli("key", write_spec(_spec("momentum", learning_rate=3.0, iterations=200)))
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "diverged" in result.stderr and "[training] learning_rate" in result.stderr


# -- the worked solution -------------------------------------------------------------------------------

OVERFULL = re.compile(r"Overfull \\hbox \((\d+(?:\.\d+)?)pt too wide")


def test_the_adam_solution_shows_the_moments_and_fits_the_page(tmp_path):
    out = tmp_path / "adam"
    result = run_cli("worksheet", "examples/adam.toml", "--out", out)
    assert result.returncode == 0, result.stderr
    text = re.sub(r"\s+", "", pdf_text(out / "solutions.pdf")).replace("\u2212", "-")
    key = derive.derive(str(ROOT / "examples/adam.toml")).key
    first = key["optimizer"]["steps"][0]
    # Step 1 for w5: m+ = 0.1 · 0.082167041, m-hat = m+ / (1 − 0.9) is the gradient again.
    assert "Adam" in text and "Thestepatt=1,thelossbeforeit" in text
    assert f"{first['m']['weights'][1][0][0]:.9f}" in text
    assert "0.9·0+(1-0.9)·0.082167041=0.008216704" in text
    assert f"{first['updated']['weights'][1][0][0]:.9f}" in text
    assert "Thestepatt=3,everytrainedparameter" in text
    # TeX's own log: nothing runs off the page by more than 1 pt.
    folder = tmp_path / "tex"
    folder.mkdir()
    (folder / "solutions.tex").write_text((out / "solutions.tex").read_text())
    subprocess.run(["pdflatex", "-no-shell-escape", "-interaction=nonstopmode", "solutions.tex"], cwd=folder,
                   capture_output=True, timeout=300)
    log = (folder / "solutions.log").read_text(errors="replace")
    assert "Output written" in log
    assert [m.group(0) for m in OVERFULL.finditer(log) if float(m.group(1)) > 1.0] == []


def test_snippets_and_the_worksheet_show_the_optimisers_update(tmp_path):
    result = run_cli("snippet", "examples/adam.toml", "--step", "w5+")
    assert result.returncode == 0, result.stderr
    # Adam's first step, not plain descent's 0.4 − 0.1 · 0.082167041 = 0.391783296.
    assert r"\hat{m}_{w_{5}}" in result.stdout and "= 0.300000012" in result.stdout
    assert "0.391783296" not in result.stdout
    result = run_cli("snippet", "examples/adam.toml", "--part", "update")
    assert result.returncode == 0, result.stderr
    # (a fragment shows a worked solution's numbered steps as titled blocks: no step numbers in notes)
    assert "The update rule" in result.stdout
    assert "Gradient descent with learning rate" not in result.stdout
    out = tmp_path / "w"
    assert run_cli("worksheet", "examples/adam.toml", "--out", out, "--no-pdf").returncode == 0
    sheet = (out / "worksheet.tex").read_text()
    assert "one step of gradient descent" not in sheet and "the first step of the optimiser" in sheet


def test_an_exam_with_an_optimizer_asks_its_first_step(tmp_path):
    """Exams take optimisers (issue 16; this test once asserted the refusal): each variant's
    updates are key.json's `updated`, the parameters after the optimiser's first step."""
    result = run_cli("exam", "examples/adam.toml", "--variants", "2", "--seed", "1", "--out", tmp_path / "e",
                     "--no-pdf")
    assert result.returncode == 0, result.stderr
    keys = json.loads((tmp_path / "e" / "keys.json").read_text())
    rows = list(csv.DictReader(io.StringIO((tmp_path / "e" / "keys.csv").read_text())))
    for entry, row in zip(keys, rows):
        step = entry["key"]["optimizer"]["steps"][0]
        assert entry["key"]["updated"] == step["updated"]
        assert row["w5+"] == plain_number(step["updated"]["weights"][1][0][0], 9)


def test_a_tiny_number_squared_keeps_its_parentheses():
    # RMSprop's and Adam's g² with a gradient such as 3.4 × 10⁻²⁵: (3.4 × 10^{-25})^{2}, never a
    # double superscript (TeX stops) nor 3.4 × (10^{-25})² (wrong); a negative one as (−0.5)².
    g = sp.Symbol("g")
    p = Printer({}, 9)
    square = sp.Pow(g, 2, evaluate=False)
    # (computed values: exactly 9 decimals, or 9 significant digits below the last place)
    assert p.substituted(square, {g: 3.429e-25}) == r"\left(3.42900000 \times 10^{-25}\right)^{2}"
    assert p.substituted(square, {g: -0.5}) == r"\left(-0.500000000\right)^{2}"
    assert p.substituted(square, {g: 0.25}) == "0.250000000^{2}"


def test_the_mlp_loss_after_the_shown_steps_is_the_last_step_s(tmp_path):
    """After the step-3 table the solution gives the loss after step 3 (the key's history, 0.236683390)
    beside the loss before step 1; it used to give the loss after step 1 (review 3, item 1)."""
    result = run_cli("worksheet", "examples/adam.toml", "--out", tmp_path / "out", "--no-pdf")
    assert result.returncode == 0, result.stderr
    history = json.loads((tmp_path / "out" / "key.json").read_text())["history"]["loss"]
    text = (tmp_path / "out" / "solutions.tex").read_text()
    found = re.search(r"The loss after three steps\}\nA new forward pass with the parameters after these three "
                      r"steps gives the loss \$E_\{\\mathit\{total\}\} = ([0-9.]+)\$,\{\} down from \$([0-9.]+)\$ "
                      r"before the first step\.", text)
    assert found, text[text.index("After the"):][:400]
    assert abs(float(found.group(1)) - history[3]) < 1e-9 and abs(float(found.group(2)) - history[0]) < 1e-9
    assert abs(history[3] - 0.236683390) < 1e-9
