"""`derive exam` on a spec with `[training] optimizer`: the updates asked are the optimiser's first step.

The Adam exam (3 variants, real TeX) is checked against Adam's first step written out here, on a
gradient computed here by hand with numpy (m = (1 - beta1) g, v = (1 - beta2) g^2, m-hat = g,
v-hat = g^2, w+ = w - eta m-hat / (sqrt(v-hat) + epsilon)); its documents pass the page gate. Every
rule's error-carried-forward formula is evaluated and must give the answer.
"""
from __future__ import annotations

import csv
import io
import json
import math
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from lxml import etree

import derive
from derive import solution
from derive.apps.exam import draw as exam_draw
from derive.apps.exam import layout as exam_layout
from derive.apps.exam import settings as exam_settings
from derive.errors import VerificationError
from derive.output import tex

from helpers import ROOT, pdf_text, run_cli
from test_lms_packages import SCHEMAS, XSD, schema_errors, xml_members
from test_mathjax import CHECKER, formulas, require_mathjax
from test_pages import overflows

EXAM = ROOT / "examples" / "exam.toml"


def optimizer_spec(folder: Path, name: str, extra: str = "", learning_rate: float = 0.1) -> Path:
    """examples/exam.toml trained by `name` (the exam asks w5+ and w1+)."""
    text = EXAM.read_text()
    assert "learning_rate = 0.5\n" in text
    text = text.replace("learning_rate = 0.5\n", f'learning_rate = {learning_rate}\noptimizer = "{name}"\n{extra}')
    path = folder / f"{name}.toml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def adam(tmp_path_factory) -> Path:
    here = tmp_path_factory.mktemp("adam-exam")
    out = here / "out"
    result = run_cli("exam", optimizer_spec(here, "adam"), "--variants", 3, "--seed", 7, "--out", out,
                     env={"DERIVE_KEEP_LOGS": "1"})
    assert result.returncode == 0, result.stderr
    return out


def by_hand(spec: dict) -> dict[str, float]:
    """The 2-2-2 sigmoid network with half squared error and shared biases: the gradients of w5
    and w1 by backpropagation in numpy, then Adam's first step from zero moments."""
    x = np.array(spec["data"]["inputs"])
    t = np.array(spec["data"]["targets"])
    W1, W2 = (np.array(m) for m in spec["parameters"]["weights"])
    b1, b2 = spec["parameters"]["biases"]
    train = spec["training"]
    eta, beta1, beta2, epsilon = train["learning_rate"], train["beta1"], train["beta2"], train["epsilon"]
    sig = lambda z: 1 / (1 + np.exp(-z))   # noqa: E731
    h = sig(W1 @ x + b1)
    out = sig(W2 @ h + b2)
    delta_o = (out - t) * out * (1 - out)
    delta_h = (W2.T @ delta_o) * h * (1 - h)
    answers = {}
    for name, w, g in (("w5+", W2[0, 0], delta_o[0] * h[0]), ("w1+", W1[0, 0], delta_h[0] * x[0])):
        m = (1 - beta1) * g
        v = (1 - beta2) * g ** 2
        m_hat = m / (1 - beta1)
        v_hat = v / (1 - beta2)
        answers[name] = w - eta * m_hat / (math.sqrt(v_hat) + epsilon)
    return answers


def test_the_adam_exams_updates_are_adams_first_step(adam):
    keys = json.loads((adam / "keys.json").read_text())
    rows = list(csv.DictReader(io.StringIO((adam / "keys.csv").read_text())))
    assert len(keys) == len(rows) == 3
    moodle = (adam / "moodle.xml").read_text()
    cloze = re.findall(r"\{1:NUMERICAL:=([-0-9.]+):[0-9.]+\}", moodle)
    assert len(cloze) == 3 * 6
    for n, (entry, row) in enumerate(zip(keys, rows)):
        assert entry["spec"]["training"]["optimizer"] == "adam"
        ours = by_hand(entry["spec"])
        key = entry["key"]
        assert abs(key["updated"]["weights"][1][0][0] - ours["w5+"]) < 1e-9
        assert abs(key["updated"]["weights"][0][0][0] - ours["w1+"]) < 1e-9
        assert key["optimizer"]["steps"][0]["updated"] == key["updated"]
        for name in ("w5+", "w1+"):
            assert row[name] == f"{ours[name]:.4f}"                   # keys.csv: as asked, 4 places
        assert cloze[6 * n + 4: 6 * n + 6] == [row["w5+"], row["w1+"]]   # moodle.xml: the same
        # Adam's first step moves each weight by about eta against its gradient's sign
        w5 = entry["spec"]["parameters"]["weights"][1][0][0]
        g5 = key["gradients"]["weights"][1][0][0]
        assert abs(ours["w5+"] - (w5 - 0.1 * math.copysign(1, g5))) < 1e-6


def test_every_variant_key_passes_the_independent_optimizer_check(adam):
    """numeric.verify_optimizers reruns Adam in numpy; it raises on any number that disagrees."""
    for entry in json.loads((adam / "keys.json").read_text()):
        spec = derive.parse(entry["spec"])
        assert spec.optimizer is not None and "optimizer" in entry["key"]
        solution.verify_key(spec, entry["key"])
        broken = json.loads(json.dumps(entry["key"]))
        broken["updated"]["weights"][1][0][0] += 1e-6
        with pytest.raises(VerificationError):
            solution.verify_key(spec, broken)


def test_the_adam_exams_pages_fit_and_say_what_they_ask(adam):
    for document in ("exam", "solutions", "keys"):
        log = (adam / tex.BUILD / f"{document}.log").read_text(errors="replace")
        assert overflows(log) == [], document
    page = pdf_text(adam / "exam.pdf")
    assert page.count("Adam, first step: compute") == 3 * 2
    assert "with both moments starting at 0 and t = 1" in " ".join(page.split())
    assert "Gradient descent" not in page
    solutions = " ".join(pdf_text(adam / "solutions.pdf").split())
    assert solutions.count("The update rule") == 3 and solutions.count("The step at t = 1, the loss before it") == 3


def test_moodle_feedback_works_the_optimizers_step_not_gradient_descents(adam):
    moodle = (adam / "moodle.xml").read_text()
    feedback = re.findall(r"<generalfeedback format=\"html\"><text><!\[CDATA\[(.*?)\]\]>", moodle, re.S)
    assert len(feedback) == 3
    for text in feedback:
        assert r"\hat{m}_{w_{5}} = \frac{m^{+}_{w_{5}}}{1 - \beta_{1}^{t}}" in text
        assert r"w^{+}_{5} = w_{5} - \frac{\eta \hat{m}_{w_{5}}}{\sqrt{\hat{v}_{w_{5}}} + \varepsilon}" in text
        assert r"w^{+}_{5} = w_{5} - \eta \cdot" not in text               # gradient descent's line


def _formula_values(variant) -> dict:
    """Every number an error-carried-forward formula names: the given data, the constants and
    the variant's computed values (the earlier answers among them)."""
    first = variant.solution.optimizer.iterations[0].values
    return {**first, **variant.solution.values.totals, **variant.solution.values.samples[0]}


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "rmsprop", "adam"])
def test_error_carried_forward_formulas_give_the_optimizers_answers(name, tmp_path):
    spec = derive.load(optimizer_spec(tmp_path, name))
    settings = exam_settings.settings(spec, variants=2, seed=3)
    variants = exam_draw.variants(spec, settings, 2)
    d = variants[0].solution.derivation
    forward = exam_layout.carried_forward(d, settings.questions, exam_layout.first_step_rules(variants[0].solution))
    names = [q.name for q in settings.questions]
    for question in ("w5+", "w1+"):
        f = forward[names.index(question)]
        assert f is not None and f.uses == [names.index(question.replace("+", "").replace("w", "dE_total/dw")) + 1]
        for v in variants:
            values = _formula_values(v)
            got = float(f.expr.xreplace({s: sp.Float(values[s], 30) for s in f.expr.free_symbols}))
            assert abs(got - v.answers[names.index(question)]) < 1e-9, (name, question)


def test_on_a_batch_of_one_of_two_samples_the_first_step_is_that_samples(tmp_path):
    """With batch_size = 1 the first step's gradient is sample 1's, not dE/dw: the updates then have
    no formula in earlier answers, and the page says which batch."""
    text = EXAM.read_text().replace(
        "inputs = [0.05, 0.10]\ntargets = [0.01, 0.99]",
        "inputs = [[0.05, 0.10], [0.20, 0.30]]\ntargets = [[0.01, 0.99], [0.60, 0.40]]").replace(
        '"out_o1", "E_total", "dE/dw5", "dE/dw1", "w5+", "w1+"', '"out_o1[1]", "E", "dE/dw5", "w5+", "w1+"').replace(
        '"dE/dw1" = 0.0002', '"dE/dw5" = 0.0005')
    spec_path = tmp_path / "spec.toml"
    spec_path.write_text(text.replace("learning_rate = 0.5\n",
                                      'learning_rate = 0.1\noptimizer = "adam"\nbatch_size = 1\n'))
    out = tmp_path / "out"
    result = run_cli("exam", spec_path, "--variants", 2, "--seed", 3, "--out", out, "--no-pdf")
    assert result.returncode == 0, result.stderr
    keys = json.loads((out / "keys.json").read_text())
    for entry in keys:
        step = entry["key"]["optimizer"]["steps"][0]
        assert step["batch"] == [1]
        assert entry["key"]["updated"] == step["updated"]
    tex_page = (out / "exam.tex").read_text()
    assert "on the first batch: sample 1" in tex_page
    keys_tex = (out / "keys.tex").read_text()
    assert r"w^{+}_{5} =" not in keys_tex                    # no formula in earlier answers for it


def test_stress_draws_optimizer_exams_too(tmp_path):
    result = run_cli("exam", optimizer_spec(tmp_path, "rmsprop"), "--stress", 40, "--seed", 2)
    assert result.returncode == 0, result.stderr
    assert "40 variants accepted" in result.stdout and "w5+" in result.stdout


def test_an_optimizer_exams_moodle_formulas_render_in_mathjax(tmp_path):
    """The optimiser's rule is several formulas (TeX breaks between them with \\allowbreak, which
    MathJax does not know): moodle.xml gives each its own \\( \\)."""
    require_mathjax()
    out = tmp_path / "x"
    result = run_cli("exam", optimizer_spec(tmp_path, "adam"), "--variants", 2, "--seed", 3, "--out", out, "--no-pdf")
    assert result.returncode == 0, result.stderr
    formulas_tex = formulas(out / "moodle.xml")
    assert not any("allowbreak" in t for t in formulas_tex) and any(r"\hat{m}" in t for t in formulas_tex)
    done = subprocess.run(["node", str(CHECKER)], input=json.dumps(formulas_tex), capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["errors"] == []


@pytest.mark.parametrize("lms", ["canvas", "qti21"])
def test_an_optimizer_exams_packages_are_valid_against_the_ims_schemas(lms, tmp_path):
    parser = etree.XMLParser(no_network=True)
    schemas = {name: etree.XMLSchema(etree.parse(str(XSD / path), parser)) for name, path in SCHEMAS.items()}
    out = tmp_path / "x"
    result = run_cli("exam", optimizer_spec(tmp_path, "nesterov"), "--variants", 2, "--seed", 3, "--out", out,
                     "--no-pdf", "--lms", lms)
    assert result.returncode == 0, result.stderr
    files = xml_members(out / f"{lms}.zip")
    assert [p for name, xml in files.items() for p in schema_errors(schemas, lms, name, xml)] == []
    assert any(b"Nesterov momentum, first step: compute" in xml for xml in files.values())
