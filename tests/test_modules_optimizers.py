"""Optimisers for module specs: a conv1d case with Adam and mini-batches of 1 worked by hand here
for 3 steps, the independent check catching a planted wrong step, the [training] fields refused as
for MLP specs, and the shipped example verified and through the page gate."""
from __future__ import annotations

import json
import math
import re
import subprocess

import pytest

from conftest import ROOT
from helpers import run_cli
from test_markdown import formulas, katex_errors
from test_modules import close, toml_text
from test_pages import lone_headings, nearly_empty, overflows

from derive import budget
from derive.errors import VerificationError
from derive.modules.solution import solve_modules
from derive.modules.verify import verify_key
from derive.numeric import optimizers
from derive.output import tex
from derive.spec import load, parse

# x (3 long) -> conv1d kernel [k1, k2], bias c, tanh -> 2 values -> dense 1 unit, linear: y = w a + b
CONV1D = {
    "title": "conv1d with Adam",
    "module": [{"kind": "conv1d", "kernels": [0.5, -0.2], "biases": [0.1], "activation": "tanh"},
               {"kind": "flatten"},
               {"kind": "dense", "units": 1, "activation": "linear", "weights": [[0.2, -0.4]], "biases": [0.05]}],
    "data": {"inputs": [[1.0, 2.0, -1.0], [0.5, -1.0, 2.0]], "targets": [[0.3], [-0.2]]},
    "training": {"learning_rate": 0.1, "optimizer": "adam", "iterations": 3, "batch_size": 1},
}


def hand_adam() -> tuple[list[float], list[dict], list[dict]]:
    """The case above by hand: a_i = tanh(k1 x_i + k2 x_i+1 + c), y = w1 a1 + w2 a2 + b,
    E = 1/2 (t - y)^2 per sample; Adam as torch.optim documents it on the sample of each step."""
    X, T = CONV1D["data"]["inputs"], [0.3, -0.2]
    p = {"k1": 0.5, "k2": -0.2, "c": 0.1, "w1": 0.2, "w2": -0.4, "b": 0.05}

    def forward(p, x):
        a = [math.tanh(p["k1"] * x[i] + p["k2"] * x[i + 1] + p["c"]) for i in range(2)]
        return a, p["w1"] * a[0] + p["w2"] * a[1] + p["b"]

    def loss(p):
        return sum(0.5 * (t - forward(p, x)[1]) ** 2 for x, t in zip(X, T))

    def gradient(p, s):
        x = X[s]
        a, y = forward(p, x)
        dy = y - T[s]
        dz = [dy * p[f"w{i + 1}"] * (1 - a[i] ** 2) for i in range(2)]
        return {"k1": dz[0] * x[0] + dz[1] * x[1], "k2": dz[0] * x[1] + dz[1] * x[2], "c": dz[0] + dz[1],
                "w1": dy * a[0], "w2": dy * a[1], "b": dy}
    m = dict.fromkeys(p, 0.0)
    v = dict.fromkeys(p, 0.0)
    losses, params, moments = [], [], []
    for t in (1, 2, 3):
        losses.append(loss(p))
        g = gradient(p, (t - 1) % 2)
        for k in p:
            m[k] = 0.9 * m[k] + 0.1 * g[k]
            v[k] = 0.999 * v[k] + 0.001 * g[k] ** 2
            p[k] -= 0.1 * (m[k] / (1 - 0.9 ** t)) / (math.sqrt(v[k] / (1 - 0.999 ** t)) + 1e-8)
        params.append(dict(p))
        moments.append({"m": dict(m), "v": dict(v)})
    losses.append(loss(p))
    return losses, params, moments


def test_hand_computation_matches_the_written_values():
    """The helper above against numbers written out (so the helper cannot drift unseen)."""
    losses, params, moments = hand_adam()
    assert close(losses, [0.3436861935266604, 0.2197089220889633, 0.1193136660597497, 0.08655276340109985])
    assert close([params[0][k] for k in ("k1", "k2", "c", "w1", "w2", "b")],
                 [0.40000013110419674, -0.10000000369540792, 0.1999999798162168, 0.2999999908747127,
                  -0.3000000020901221, 0.14999999819889337])
    assert close([params[2][k] for k in ("k1", "k2", "c", "w1", "w2", "b")],
                 [0.2635487091284327, 0.08292477536206246, 0.36263290590883723, 0.24133969089279436,
                  -0.12296806146179465, 0.14681488701123896])
    assert close(moments[2]["m"]["k1"], 0.021144223978255272)


def test_conv1d_with_adam_and_batches_of_one_for_three_steps_by_hand(tmp_path):
    path = tmp_path / "spec.toml"
    path.write_text(toml_text(CONV1D), encoding="utf-8")
    result = run_cli("key", path, "-o", tmp_path / "key.json")
    assert result.returncode == 0, result.stderr
    key = json.loads((tmp_path / "key.json").read_text())
    losses, params, moments = hand_adam()
    opt = key["optimizer"]
    assert {k: v for k, v in opt.items() if k != "steps"} == {
        "optimizer": "adam", "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "batch_size": 1}
    assert [s["batch"] for s in opt["steps"]] == [[1], [2], [1]]
    assert close([s["loss"] for s in opt["steps"]], losses[:3])
    assert close(key["history"]["loss"], losses)
    for step, p, mv in zip(opt["steps"], params, moments):
        conv, dense = step["updated"][0], step["updated"][2]
        assert close(conv["kernels"], [[[p["k1"], p["k2"]]]]) and close(conv["biases"], [p["c"]])
        assert close(dense["weights"], [[p["w1"], p["w2"]]]) and close(dense["biases"], [p["b"]])
        assert close(step["m"][0]["kernels"], [[[mv["m"]["k1"], mv["m"]["k2"]]]])
        assert close(step["v"][2]["biases"], [mv["v"]["b"]])
    assert close(key["updated"][0]["kernels"], [[[params[0]["k1"], params[0]["k2"]]]])
    assert close(key["loss"]["after_step"], losses[1])
    final = key["final"]
    assert close(final[2]["weights"], [[params[2]["w1"], params[2]["w2"]]])


def test_a_planted_wrong_step_is_caught_before_anything_is_written(tmp_path, monkeypatch):
    solution = solve_modules(parse(CONV1D))
    key = json.loads(json.dumps(solution.key))
    key["optimizer"]["steps"][1]["v"][0]["kernels"][0][0][1] += 1e-7
    with pytest.raises(VerificationError, match="v of step 2"):
        verify_key(solution.spec, key)
    # the engine itself wrong at t = 2: exit 3, no folder
    step = optimizers.Stepper.step

    def wrong(self, trained, gradient, rate, t):
        leaves, out, moved = step(self, trained, gradient, rate, t)
        return leaves, out, [v + (1e-6 if t == 2 else 0.0) for v in moved]
    monkeypatch.setattr(optimizers.Stepper, "step", wrong)
    path = tmp_path / "spec.toml"
    path.write_text(toml_text(CONV1D), encoding="utf-8")
    result = run_cli("worksheet", path, "--out", tmp_path / "out", "--no-pdf")
    assert result.returncode == 3 and result.stderr.count("\n") == 1, result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name, constants", [
    ("sgd", {}), ("momentum", {"momentum": 0.8}), ("nesterov", {"momentum": 0.5}),
    ("rmsprop", {"alpha": 0.9, "epsilon": 1e-6})])
def test_every_rule_on_an_rnn_agrees_with_the_published_rules(name, constants):
    spec = load(ROOT / "examples" / "rnn.toml")
    raw = spec.to_dict()
    raw["training"] |= {"learning_rate": 0.05, "optimizer": name, "iterations": 4, **constants}
    solution = solve_modules(parse(raw))      # verified against numpy's published rules
    assert len(solution.key["optimizer"]["steps"]) == 3 and len(solution.key["history"]["loss"]) == 5
    assert solution.key["history"]["loss"][-1] < solution.key["history"]["loss"][0]


def test_iterations_without_an_optimizer_train_by_plain_gradient_descent():
    raw = load(ROOT / "examples" / "rnn.toml").to_dict()
    raw["training"]["iterations"] = 5
    solution = solve_modules(parse(raw))
    assert "optimizer" not in solution.key and len(solution.key["history"]["loss"]) == 6
    one = solve_modules(load(ROOT / "examples" / "rnn.toml")).key
    for ours, theirs in zip(solution.key["updated"], one["updated"]):
        assert ours.keys() == theirs.keys() and all(close(ours[k], theirs[k]) for k in ours)
    assert close(solution.key["history"]["loss"][1], one["loss"]["after_step"])


@pytest.mark.parametrize("training, field, what", [
    ({"optimizer": "adam", "momentum": 0.9}, "[training] momentum", "unknown field for optimizer = \"adam\""),
    ({"optimizer": "adagrad"}, "[training] optimizer", "adam"),
    ({"optimizer": "rmsprop", "alpha": 1.5}, "[training] alpha", "0 <= x < 1"),
    ({"batch_size": 3}, "[training] batch_size", "2"),
    ({"iterations": 1001}, "[training] iterations", "1000"),
    ({"decay": 0.1}, "[training] decay", "unknown field")])
def test_bad_training_fields_are_refused_in_one_line(tmp_path, training, field, what):
    raw = json.loads(json.dumps(CONV1D))
    raw["training"] = {"learning_rate": 0.1, **training}
    path = tmp_path / "spec.toml"
    path.write_text(toml_text(raw), encoding="utf-8")
    result = run_cli("key", path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert field in result.stderr and what in result.stderr


def test_the_spec_reads_back_with_its_optimizer():
    spec = parse(CONV1D)
    assert parse(spec.to_dict()) == spec and spec.to_dict()["training"]["optimizer"] == "adam"


# ------------------------------------------------------------------------------------ the shipped example

def test_the_cnn_adam_example_verifies_and_passes_the_page_gate(tmp_path):
    out = tmp_path / "out"
    result = run_cli("worksheet", ROOT / "examples" / "cnn_adam.toml", "--out", out, env={"DERIVE_KEEP_LOGS": "1"})
    assert result.returncode == 0, result.stderr
    for document in ("worksheet", "solutions"):
        log = (out / tex.BUILD / f"{document}.log").read_text(errors="replace")
        assert overflows(log) == [], (document, overflows(log))
        assert lone_headings(out / f"{document}.pdf") == []
    assert nearly_empty(out / "solutions.pdf") == []
    key = json.loads((out / "key.json").read_text())
    assert key["optimizer"]["optimizer"] == "adam" and len(key["history"]["loss"]) == 21
    text = subprocess.run(["pdftotext", out / "solutions.pdf", "-"], capture_output=True, text=True).stdout
    assert "The step at t = 3" in text and "Training for 20 steps" in text
    solutions = (out / "solutions.tex").read_text()
    for name in (r"K^{(1)}_{11}", r"b^{(1)}", r"w^{(4)}_{11}", r"b^{(4)}_{1}"):
        assert f"For \\ensuremath{{{name}}}" in solutions or f"For ${name}$" in solutions, name
    worksheet = (out / "worksheet.tex").read_text()
    assert "The first step of Adam" in worksheet and "The step at" not in worksheet


def test_the_deck_shows_the_optimiser_s_steps_whole_and_fits(tmp_path):
    out = tmp_path / "deck"
    result = run_cli("slides", ROOT / "examples" / "cnn_adam.toml", "--out", out, env={"DERIVE_KEEP_LOGS": "1"})
    assert result.returncode == 0, result.stderr
    assert overflows((out / tex.BUILD / "slides.log").read_text(errors="replace")) == []
    text = (out / "slides.tex").read_text()
    assert "\\begin{frame}{The update rule}" in text and "The step at $t = 3$" in text
    adam = text[text.index("\\begin{frame}{The update rule}"):]
    assert "computed in the same way" not in adam      # a parameter's g, m, v, ... are not entries alike


@pytest.mark.parametrize("step, shown", [("K(1)_11+", "0.549999997"), ("mhat_K(1)_11", "-0.172868299"),
                                         ("v_w(4)_11+", r"1.57074878 \times 10^{-5}")])
def test_one_step_of_the_optimiser_by_its_name(step, shown):
    result = run_cli("snippet", ROOT / "examples" / "cnn_adam.toml", "--step", step)
    assert result.returncode == 0, result.stderr
    assert shown in result.stdout


def test_the_update_fragment_is_the_optimiser_s_rule_and_steps():
    result = run_cli("snippet", ROOT / "examples" / "cnn_adam.toml", "--part", "update")
    assert result.returncode == 0, result.stderr
    assert "The update rule" in result.stdout and "\\hat{m}_{K^{(1)}_{11}}" in result.stdout


def test_a_module_exam_with_iterations_is_refused_in_one_line(tmp_path):
    result = run_cli("exam", ROOT / "examples" / "cnn_adam.toml", "--variants", 1, "--seed", 1,
                     "--out", tmp_path / "x", "--no-pdf")
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "[training] iterations" in result.stderr and "not yet supported" in result.stderr
    assert not (tmp_path / "x").exists()


def test_a_module_exam_with_adam_asks_for_its_first_step_and_fits_its_pages(tmp_path):
    spec = tmp_path / "cnn_adam.toml"
    spec.write_text((ROOT / "examples" / "cnn_adam.toml").read_text().replace("iterations = 20\n", ""),
                    encoding="utf-8")
    out = tmp_path / "exam"
    result = run_cli("exam", spec, "--variants", 2, "--seed", 1, "--out", out, env={"DERIVE_KEEP_LOGS": "1"})
    assert result.returncode == 0, result.stderr
    for variant in json.loads((out / "keys.json").read_text()):
        first = variant["key"]["optimizer"]["steps"][0]
        assert variant["answers"]["K(1)_11+"] == first["updated"][0]["kernels"][0][0][0][0]
        assert variant["key"]["updated"] == first["updated"]
        # Adam's first step moves every parameter by about eta (m-hat / sqrt(v-hat) is the gradient's sign)
        given = variant["spec"]["module"][0]["kernels"][0][0][0][0]
        assert abs(abs(variant["answers"]["K(1)_11+"] - given) - 0.05) < 1e-6
    for document in ("exam", "solutions", "keys"):
        assert overflows((out / tex.BUILD / f"{document}.log").read_text(errors="replace")) == [], document
    moodle = (out / "moodle.xml").read_text()
    assert "The first step of Adam updates every parameter" in moodle and "\\hat{m}_{K^{(1)}_{11}}" in moodle
    assert "Adam,{} first step: compute" in (out / "exam.tex").read_text()


def test_a_diverging_optimiser_is_refused_in_one_line(tmp_path):
    raw = json.loads(json.dumps(CONV1D))
    raw["training"] |= {"optimizer": "sgd", "learning_rate": 1e6, "iterations": 50}
    raw["training"].pop("batch_size")
    path = tmp_path / "spec.toml"
    path.write_text(toml_text(raw), encoding="utf-8")
    result = run_cli("key", path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "[training] learning_rate" in result.stderr


def test_the_optimiser_s_markdown_renders_in_katex():
    result = run_cli("snippet", ROOT / "examples" / "cnn_adam.toml", "--part", "update", "--format", "markdown")
    assert result.returncode == 0, result.stderr
    found = formulas(result.stdout)
    assert len(found) > 10 and any("\\hat{v}" in f for f, _ in found)
    assert katex_errors(found) == []


def test_an_exam_with_an_optimiser_is_budgeted_for_its_training(tmp_path):
    """Each draw of an optimiser's exam also compiles and runs its training: about twice the work of
    plain descent's, so fewer variants fit the budget (refused in one line before anything is drawn)."""
    plain = load(ROOT / "examples" / "cnn.toml")
    adam = parse(plain.to_dict() | {"training": {"learning_rate": 0.05, "optimizer": "adam"}})
    assert budget.check_module_exam(adam, 50, pdf=False) > 1.8 * budget.check_module_exam(plain, 50, pdf=False)
    spec = tmp_path / "adam.toml"
    spec.write_text(toml_text(adam.to_dict()), encoding="utf-8")
    result = run_cli("exam", spec, "--variants", 120, "--seed", 1, "--out", tmp_path / "x", "--no-pdf")
    assert result.returncode == 2 and "[exam] variants" in result.stderr and not (tmp_path / "x").exists()


def test_a_loss_that_does_not_fall_is_not_said_to(tmp_path):
    raw = load(ROOT / "examples" / "rnn.toml").to_dict()
    raw["training"] |= {"optimizer": "rmsprop", "iterations": 4}     # η = 0.5: RMSprop overshoots
    spec = tmp_path / "rise.toml"
    spec.write_text(toml_text(raw), encoding="utf-8")
    result = run_cli("worksheet", spec, "--out", tmp_path / "out", "--no-pdf")
    assert result.returncode == 0, result.stderr
    history = json.loads((tmp_path / "out" / "key.json").read_text())["history"]["loss"]
    assert history[-1] > history[0]
    text = (tmp_path / "out" / "solutions.tex").read_text()
    assert "the loss goes from" in text and "does not fall" in text and "the loss falls" not in text
    after = text[text.index("A new forward pass"):].split("\n")[0]    # after the 3 shown steps
    rises = history[3] > history[0]
    assert ("up from" in after and "too long" in after) if rises else ("down from" in after), after


def after_sentence(text: str) -> tuple[float, float, str]:
    """The loss after the shown steps and the loss it is compared with, read off the sentence."""
    found = re.search(r"A new forward pass with the parameters after these three steps gives the loss "
                      r"\$E = (-?[0-9.]+)\$,\{\} (down|up) from \$(-?[0-9.]+)\$ before the first step", text)
    assert found, "no sentence on the loss after the shown steps"
    return float(found.group(1)), float(found.group(3)), found.group(2)


def test_the_loss_after_the_shown_steps_is_the_third_step_s_by_hand(tmp_path):
    """The sentence under the step-3 table gives the loss after step 3 (not after step 1) and
    compares it with the loss before step 1 (review 3, item 1)."""
    path = tmp_path / "spec.toml"
    path.write_text(toml_text(CONV1D), encoding="utf-8")
    result = run_cli("worksheet", path, "--out", tmp_path / "out", "--no-pdf")
    assert result.returncode == 0, result.stderr
    losses = hand_adam()[0]
    after, before, word = after_sentence((tmp_path / "out" / "solutions.tex").read_text())
    assert abs(after - losses[3]) < 1e-9 and abs(before - losses[0]) < 1e-9 and word == "down"


TEX_NUMBER = r"(?:\\left\()?(-?[0-9.]+(?: \\times 10\^\{-?\d+\})?)(?:\\right\))?"


def tex_value(text: str) -> float:
    """0.5352 or 5.352 \\times 10^{-4} as a float."""
    found = re.fullmatch(r"(-?[0-9.]+)(?: \\times 10\^\{(-?\d+)\})?", text)
    return float(found.group(1)) * 10.0 ** int(found.group(2) or 0)


def test_adam_s_second_moment_at_4_places_can_be_redone_and_matches_its_table(tmp_path):
    """At 4 places v+ = 0.0002 made the next line v-hat = 0.0002 / (1 - 0.999) = 0.1834 (review 3,
    item 2): the moments print with 4 significant digits (m × 10^k) where fixed places show fewer,
    each line's v+ divided by 1 - 0.999^t gives its printed v-hat, and the table's v+ column is the
    same text as the lines."""
    spec = json.loads(json.dumps(CONV1D)) | {"output": {"decimals": 4}}
    path = tmp_path / "spec.toml"
    path.write_text(toml_text(spec), encoding="utf-8")
    result = run_cli("worksheet", path, "--out", tmp_path / "out", "--no-pdf")
    assert result.returncode == 0, result.stderr
    tex = (tmp_path / "out" / "solutions.tex").read_text()
    corrections = re.findall(r"\n\\hat\{v\}_\{(.+?)\} &= \\frac\{v\^\{\+\}_\{.+?\}\}\{1 - \\beta_\{2\}\^\{t\}\} = "
                             r"\\frac\{" + TEX_NUMBER + r"\}\{1 - 0\.999\^\{(\d)\}\} = " + TEX_NUMBER + r" \\\\", tex)
    assert len(corrections) == 12, corrections     # four parameters (all shown), three steps
    for name, moment, t, corrected in corrections:
        redone = tex_value(moment) / (1 - 0.999 ** int(t))
        assert abs(redone - tex_value(corrected)) <= 1e-3 * abs(tex_value(corrected)), (name, moment, corrected)
    # v+ of the first shown parameter at t = 1: 5.818 × 10^-8 in its line and in the table's row
    line = re.search(r"\nv\^\{\+\}_\{K\^\{\(1\)\}_\{1\}\} &= .* = " + TEX_NUMBER + r" \\\\", tex).group(1)
    assert line == r"5.818 \times 10^{-8}"
    table = tex[tex.index("The step at $t = 1$, every trained parameter"):]
    assert "$K^{(1)}_{1}$ & $0.5$ & $0.0076$ & $7.628 \\times 10^{-4}$ & $5.818 \\times 10^{-8}$ & $0.4000$" in table


@pytest.fixture(scope="module")
def cnn_adam_tex(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("cnn_adam") / "out"
    result = run_cli("worksheet", ROOT / "examples" / "cnn_adam.toml", "--out", out, "--no-pdf")
    assert result.returncode == 0, result.stderr
    return {d: (out / f"{d}.tex").read_text() for d in ("worksheet", "solutions")}


def test_t_counts_the_optimiser_s_steps_and_the_targets_are_target_k(cnn_adam_tex):
    """t was both the target (E = -Σ t_k ln a_k) and Adam's step (1 - β1^t): one meaning per letter
    (review 3, item 3); the targets take the lecture's word, as in the RNN."""
    for document, tex in cnn_adam_tex.items():
        assert not re.search(r"(?<![a-z{\\])t_\{", tex), document
    solutions = cnn_adam_tex["solutions"]
    assert r"E = -\sum_{k} \mathit{target}_{k} \ln a^{(4)}_{k}" in solutions
    assert r"= a^{(4)}_{k} - \mathit{target}_{k}" in solutions
    assert r"1 - \beta_{1}^{t}" in solutions and "The step at $t = 1$" in solutions
    assert r"and $t$ the number of the step ($t = 1$ for the first):" in cnn_adam_tex["worksheet"]


def test_the_adam_paragraph_reads_and_the_answer_list_keeps_a_parameter_to_a_row(cnn_adam_tex):
    """'on all samples' with one sample and 'updated as K_11 is' (review 3, item 9); a row of the
    task's answer list ended in the middle of a parameter's six quantities."""
    worksheet = cnn_adam_tex["worksheet"]
    assert ("The parameters are trained with Adam for 20 steps. Every parameter $\\theta$ is updated by the rule "
            "below,{} shown for $K^{(1)}_{11}$,{} with $g_{K^{(1)}_{11}}$ the gradient of $E$ at the current "
            "parameters,{} $m_{K^{(1)}_{11}}$ and $v_{K^{(1)}_{11}}$ starting at 0,{}") in worksheet
    assert "all samples" not in worksheet and "updated as" not in worksheet
    task = worksheet[worksheet.index("The first step of Adam"):]
    rows = task[task.index(r"\begin{gather*}") + 15:task.index(r"\end{gather*}")].strip().split(r" \\")
    assert [row.strip().split(", ")[0] for row in rows] == [r"g_{K^{(1)}_{11}}", r"g_{b^{(1)}}", r"g_{w^{(4)}_{11}}",
                                                            r"g_{b^{(4)}_{1}}"]
    assert all(len(row.split(", ")) == 6 for row in rows)


def test_no_summary_repeats_the_step_1_table_and_the_curve_counts_steps(cnn_adam_tex):
    """The Summary (value, gradient, after one step) was the t = 1 table again, and the curve spoke
    of iterations where the text says steps (review 3, item 10)."""
    solutions = cnn_adam_tex["solutions"]
    assert r"\section*{Summary}" not in solutions and "after one step" not in solutions
    assert r"\section*{Training for 20 steps}" in solutions and "xlabel={step}" in solutions
    assert "iteration" not in solutions


def test_the_update_fragment_ends_with_the_loss_after_its_last_step():
    """The fragment shows three steps; its last heading said 'The loss after the step' over the loss
    after step 1 (review 3, item 1): now the loss after step 3, E = 0.179831358 (numpy, review 3)."""
    result = run_cli("snippet", ROOT / "examples" / "cnn_adam.toml", "--part", "update")
    assert result.returncode == 0, result.stderr
    tail = result.stdout[result.stdout.index(r"\deriveheading{The loss after three steps}"):]
    assert "gives the loss $E = 0.179831358$,{} down from $0.565934518$ before the first step." in tail
