"""`derive exam` on specs of [[module]] tables (a CNN, an RNN, a residual block): drawn parameters,
answers equal to the module engine's own solve of each variant and to numpy written here, cloze
fields read by a small parser of Moodle's syntax, pages that fit, the same files for the same seed.
"""
from __future__ import annotations

import csv
import io
import json
import math
import re
import subprocess
from dataclasses import replace
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from helpers import ROOT, run_cli
from test_cloze import embedded_picture
from test_keys_csv import significant_digits
from test_lms_packages import QTI12, QTI21, members, schema_errors, schemas, xml_members  # noqa: F401
from test_mathjax import CHECKER, formulas, require_mathjax
from test_modules import CONV1D, MULTI
from test_pages import lone_headings, nearly_empty, overflows

from derive import budget
from derive.apps.exam.module_files import alt_text
from derive.apps.exam.modules import Screen, draw_parameters, module_settings
from derive.apps.exam.settings import Range
from derive.modules.derivation import forward_values, leaf_values
from derive.modules.solution import solve_modules
from derive.output import tex
from derive.printing.numbers import given_number, plain_number
from derive.spec import load, parse

CNN = ROOT / "examples" / "cnn.toml"
FIELD = re.compile(r"\{(\d+):NUMERICAL:=([^:}#~]+):([^}#~]+)\}")
# What the CNN's picture shows (the input grid and the kernel), as its alt text says
CNN_ALT = "the 6×6 input grid and the 2×2 kernel of module 1, with their numbers"
TEXT = ("exam.tex", "solutions.tex", "keys.tex", "keys.json", "keys.csv", "keys-long.csv", "moodle.xml")


def _exam(out: Path, spec: Path = CNN, *extra, pdf: bool = True) -> Path:
    args = ("exam", spec, "--variants", 3, "--seed", 1, "--out", out) + (() if pdf else ("--no-pdf",)) + extra
    result = run_cli(*args, env={"DERIVE_KEEP_LOGS": "1"})
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def cnn(tmp_path_factory) -> Path:
    return _exam(tmp_path_factory.mktemp("modexam") / "cnn")


def _keys(folder: Path) -> list[dict]:
    return json.loads((folder / "keys.json").read_text(encoding="utf-8"))


def test_cnn_answers_are_the_module_engines_solve_of_each_variant(cnn):
    keys = _keys(cnn)
    assert [k["variant"] for k in keys] == [1, 2, 3]
    assert list(keys[0]["answers"]) == ["E", "dE/dw(4)_11", "dE/dK(1)_11", "K(1)_11+"]
    kernels = set()
    for k in keys:
        solution = solve_modules(parse(k["spec"], "variant.toml"))
        for name, value in k["answers"].items():
            assert abs(value - solution.value(name)) <= 1e-9, name
        assert k["key"]["loss"]["total"] == pytest.approx(k["answers"]["E"], abs=1e-12)
        kernels.add(json.dumps(k["spec"]["module"][0]["kernels"]))
    assert len(kernels) == 3                       # one network per student: drawn kernels differ


def test_cnn_loss_and_a_dense_gradient_by_numpy(cnn):
    """conv 2×2 (ReLU) on the 6×6 input, max-pool 2×2 stride 2 (5×5 → 2×2), flatten, softmax, cross-entropy."""
    for k in _keys(cnn):
        spec = k["spec"]
        x = np.array(spec["data"]["inputs"], dtype=float).reshape(6, 6)      # one channel
        K = np.array(spec["module"][0]["kernels"], dtype=float).reshape(2, 2)
        b = float(np.ravel(spec["module"][0]["biases"])[0])
        W = np.array(spec["module"][3]["weights"])
        c = np.array(spec["module"][3]["biases"])
        t = np.array(spec["data"]["targets"], dtype=float)
        z = np.array([[np.sum(x[i:i + 2, j:j + 2] * K) + b for j in range(5)] for i in range(5)])
        a = np.maximum(z, 0)
        p = np.array([[a[2 * i:2 * i + 2, 2 * j:2 * j + 2].max() for j in range(2)] for i in range(2)]).ravel()
        u = W @ p + c
        y = np.exp(u - u.max()) / np.exp(u - u.max()).sum()
        assert k["answers"]["E"] == pytest.approx(-np.sum(t * np.log(y)), abs=1e-9)
        assert k["answers"]["dE/dw(4)_11"] == pytest.approx((y[0] - t[0]) * p[0], abs=1e-9)
        assert k["answers"]["K(1)_11+"] == pytest.approx(
            K[0, 0] - spec["training"]["learning_rate"] * k["answers"]["dE/dK(1)_11"], abs=1e-12)


def test_cloze_answers_parse_and_equal_the_keys(cnn):
    keys = _keys(cnn)
    root = ET.parse(cnn / "moodle.xml").getroot()
    questions = root.findall("question[@type='cloze']")
    assert len(questions) == 3
    rows = list(csv.DictReader(io.StringIO((cnn / "keys.csv").read_text(encoding="utf-8"))))
    for q, k, row in zip(questions, keys, rows):
        fields = FIELD.findall(q.find("questiontext/text").text)
        assert len(fields) == len(k["answers"]) == 4
        for (points, shown, tolerance), (name, value) in zip(fields, k["answers"].items()):
            assert points == "1" and float(tolerance) == 0.0005
            assert abs(float(shown) - value) <= 0.5e-4 + 1e-12
            assert shown == row[name]
        assert q.find("idnumber").text == f"exam-1-v{k['variant']:03d}"


@pytest.mark.parametrize("document", ["exam", "solutions", "keys"])
def test_cnn_pdfs_fit(cnn, document):
    log = (cnn / tex.BUILD / f"{document}.log").read_text(errors="replace")
    assert "Output written" in log
    assert overflows(log) == []
    assert lone_headings(cnn / f"{document}.pdf") == []
    if document != "exam":           # the exam's pages hold answer space
        assert nearly_empty(cnn / f"{document}.pdf") == []


@pytest.mark.parametrize("name", ["rnn", "residual"])
def test_rnn_and_residual_exams(tmp_path, name):
    folder = _exam(tmp_path / name, ROOT / "examples" / f"{name}.toml")
    for k in _keys(folder):
        solution = solve_modules(parse(k["spec"], "variant.toml"))
        for q, value in k["answers"].items():
            assert abs(value - solution.value(q)) <= 1e-9
    for document in ("exam", "solutions", "keys"):
        assert overflows((folder / tex.BUILD / f"{document}.log").read_text(errors="replace")) == []
        assert lone_headings(folder / f"{document}.pdf") == []


def test_same_seed_same_files(tmp_path):
    one = _exam(tmp_path / "one", pdf=False)
    two = _exam(tmp_path / "two", pdf=False)
    for name in TEXT + tuple(f"variants/{k:03d}/{f}" for k in (1, 2, 3) for f in ("exam.tex", "solutions.tex",
                                                                                     "key.json")):
        assert (one / name).read_bytes() == (two / name).read_bytes(), name


def test_stress_draws_the_exams_variants_and_counts_the_rejections(cnn, tmp_path):
    """--stress 3 with the exam's seed draws the exam's three variants (none was a duplicate): each
    answer's min, median and max are those of keys.json; every draw is accepted or rejected by a rule."""
    result = run_cli("exam", CNN, "--stress", 3, "--seed", 1, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    accepted, draws = re.match(r"3 variants accepted from (\d+) draws \(seed 1\); nothing written", lines[0]).group(0, 1)
    answers = np.array([list(k["answers"].values()) for k in _keys(cnn)])
    rows = {line.split()[0]: [float(x) for x in line.split()[1:]] for line in lines[3:7]}
    assert list(rows) == ["E", "dE/dw(4)_11", "dE/dK(1)_11", "K(1)_11+"]
    # shown to the 4 places the answers are asked to, as an MLP exam's report shows them
    assert all(re.fullmatch(r"-?\d+\.\d{4}", x) for line in lines[3:7] for x in line.split()[1:])
    for column, name in enumerate(rows):
        assert rows[name] == pytest.approx([answers[:, column].min(), np.median(answers[:, column]),
                                            answers[:, column].max()], abs=0.5e-4 + 1e-12)
    rejected = [int(line.split()[1]) for line in lines if re.match(r"  [a-z_]+ +\d+ ", line)]
    assert sum(rejected) == int(draws) - 3 and any("max_tie" in line for line in lines)
    listed = [line.split()[0] for line in lines if re.match(r"  [a-z_]+ +\d+ ", line)]
    assert {"targets_out_of_reach", "saturated"} <= set(listed)            # every rule, as an MLP's report
    assert lines[-1].startswith("near-duplicates: 0 pairs") and list(tmp_path.iterdir()) == []


def test_stress_over_the_budget_or_with_an_output_folder_is_refused_in_one_line(tmp_path):
    result = run_cli("exam", CNN, "--stress", 5000, "--seed", 1, cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "--stress: too much work: 5000 draws" in result.stderr and "here at most" in result.stderr
    result = run_cli("exam", CNN, "--stress", 3, "--seed", 1, "--out", tmp_path / "x", cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "--out" in result.stderr
    assert not (tmp_path / "x").exists()


def test_an_unknown_question_is_named(tmp_path):
    spec = tmp_path / "cnn.toml"
    spec.write_text(CNN.read_text(encoding="utf-8") + '\n[exam]\nquestions = ["E", "dE/dQ"]\n', encoding="utf-8")
    result = run_cli("exam", spec, "--variants", 1, "--seed", 1, "--out", tmp_path / "x", "--no-pdf")
    assert result.returncode == 2 and "'dE/dQ'" in result.stderr and "[exam] questions" in result.stderr
    assert not (tmp_path / "x").exists()


def test_asked_questions_are_the_ones_in_the_keys(tmp_path):
    spec = tmp_path / "cnn.toml"
    spec.write_text(CNN.read_text(encoding="utf-8")
                    + '\n[exam]\nquestions = ["z(1)_11", "dE/db(1)", "b(4)_2+"]\ndecimals = 5\n', encoding="utf-8")
    folder = _exam(tmp_path / "x", spec, pdf=False)
    keys = _keys(folder)
    assert list(keys[0]["answers"]) == ["z(1)_11", "dE/db(1)", "b(4)_2+"]
    assert (folder / "keys.csv").read_text(encoding="utf-8").splitlines()[1].split(",")[1].split(".")[1].__len__() == 5


@pytest.mark.parametrize("form", ["cloze", "numerical"])
def test_every_formula_of_the_module_quiz_renders_in_mathjax(tmp_path, form):
    require_mathjax()
    spec = tmp_path / "cnn.toml"
    spec.write_text(CNN.read_text(encoding="utf-8") + f'\n[exam]\nmoodle = "{form}"\n', encoding="utf-8")
    folder = _exam(tmp_path / "x", spec, pdf=False)
    formulas_ = formulas(folder / "moodle.xml")
    assert len(formulas_) > 100 and any(r"\frac{\partial E}{\partial K^{(1)}_{11}}" in t for t in formulas_)
    done = subprocess.run(["node", str(CHECKER)], input=json.dumps(formulas_), capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["checked"] == len(formulas_) and report["errors"] == []


def test_a_roster_gives_each_student_a_variant(tmp_path):
    (tmp_path / "roster.csv").write_text("id,name\n101,Ada Lovelace\n102,Alan Turing\n", encoding="utf-8")
    result = run_cli("exam", CNN, "--seed", 1, "--students", tmp_path / "roster.csv", "--out", tmp_path / "x",
                     "--no-pdf", "--csv-dialect", "excel-de")
    assert result.returncode == 0, result.stderr
    keys = _keys(tmp_path / "x")
    assert [(k["variant"], k["student"]["name"]) for k in keys] == [(1, "Ada Lovelace"), (2, "Alan Turing")]
    rows = list(csv.reader(io.StringIO((tmp_path / "x" / "keys.csv").read_text(encoding="utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["variant", "student_id", "student_name"] and rows[2][:3] == ["2", "102", "Alan Turing"]
    assert float(rows[1][3].replace(",", ".")) == pytest.approx(keys[0]["answers"]["E"], abs=0.5e-4)
    exam = (tmp_path / "x" / "exam.tex").read_text(encoding="utf-8")
    assert exam.count(r"\textbf{Ada Lovelace}") == 1 and exam.count(r"\textbf{102}") == 1


def test_an_over_budget_module_exam_is_refused_in_one_line_before_anything_is_written(tmp_path):
    """500 CNN variants with PDFs would take minutes: refused before any draw, naming the variants
    and how many fit; without PDFs more fit, but not 500."""
    assert budget.module_terms(load(CNN)) == 25 * 4 + 4 * 4 + 2 * 4 + 2 * 2   # conv, max-pool, dense, softmax
    for extra in ((), ("--no-pdf",)):
        out = tmp_path / f"x{len(extra)}"
        result = run_cli("exam", CNN, "--variants", 500, "--seed", 1, "--out", out, *extra)
        assert result.returncode == 2 and result.stdout == ""
        assert result.stderr.count("\n") == 1 and "[exam] variants" in result.stderr
        assert "too much work: 500 variants" in result.stderr and "at most 40 s" in result.stderr
        assert ("with PDFs" in result.stderr) == (not extra)
        assert not out.exists()


def test_each_cloze_question_shows_its_variants_pictures(cnn, tmp_path):
    """The input grid and the kernel (the given values; no feature map, which is computed) as a PNG inside the question, the page of
    diagrams.tex (plain pdflatex) at 110 dpi, different kernels in each variant."""
    subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", cnn / "diagrams.tex"], cwd=tmp_path,
                   capture_output=True, check=True, timeout=600)
    log = (tmp_path / "diagrams.log").read_text(errors="replace")
    assert overflows(log) == [] and "Output written on diagrams.pdf (3 pages" in log
    pages = subprocess.run(["pdfinfo", "-f", "1", "-l", "3", str(tmp_path / "diagrams.pdf")],
                           capture_output=True, text=True, check=True).stdout
    sizes = [tuple(float(x) for x in m) for m in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", pages)]
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(tmp_path / "diagrams.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    spec = _keys(cnn)[0]["spec"]
    words = [w.replace("−", "-") for w in text.split()]
    assert words[0] == "x" and [float(w) for w in words[1:37]] == list(np.ravel(spec["data"]["inputs"]))
    assert words[37:39] == ["K", "(1)"] and "z" not in words[39:]               # the kernel, and no computed map
    assert sorted(float(w) for w in words[39:] if w not in ("z", "(1)")) == sorted(
        np.ravel(spec["module"][0]["kernels"]))                                  # variant 1's drawn kernel only
    questions = ET.parse(cnn / "moodle.xml").getroot().findall("question[@type='cloze']")
    seen = set()
    for k, (q, (w_pt, h_pt)) in enumerate(zip(questions, sizes), start=1):
        name, width, height, pixels = embedded_picture(q, k, cnn, (w_pt, h_pt))
        assert 200 < width < 800 and 200 < height < 700 and len(set(pixels)) > 10   # the grids, no computed map
        body = q.find("questiontext/text").text
        assert f'<img src="@@PLUGINFILE@@/{name}" alt="The network of variant {k}: {CNN_ALT}"' in body
        assert f'width="{width}" height="{height}"' in body
        seen.add((cnn / "images" / name).read_bytes())   # each variant its own picture
    assert len(seen) == 3


def test_the_quiz_says_what_this_networks_picture_shows_and_counts_each_parameter_list(cnn, numerical):
    """The alt text describes the picture drawn for this network, not every kind of network; one
    kernel or one bias is named in the singular; 'Module 1, a ...' as on exam.pdf (not two colons)."""
    assert alt_text(load(CNN)) == CNN_ALT
    assert alt_text(load(ROOT / "examples" / "residual.toml")) == ""          # nothing drawn (no picture)
    assert alt_text(load(ROOT / "examples" / "rnn.toml")) == (
        "the recurrent network unrolled over 4 time steps, and the input sequence with its numbers")
    assert alt_text(parse(MULTI, "multi.toml")) == (
        "the 2 input grids of 4×4 (one per channel) and the 4 kernels of 2×2 of module 1, with their numbers")
    assert alt_text(parse(CONV1D, "conv1d.toml")) == (
        "the input row of 8 values of each of the 2 samples and the kernel of 3 values of module 1, with their "
        "numbers")
    cloze = (cnn / "moodle.xml").read_text(encoding="utf-8")
    listed = (cnn / "exam.tex").read_text(encoding="utf-8")
    for text in (cloze, (numerical / "moodle.xml").read_text(encoding="utf-8")):
        assert text.count("<li>Module 1, a two-dimensional convolution: 1 filter of 2×2") == 3 * (
            1 if text is cloze else 4)
        assert "Module 1:" not in text and "Module 1, kernels:" not in text and "Module 1, biases:" not in text
        assert re.search(r"<li>Module 1, kernel: \\\(K\^\{\(1\)\}_\{11\} = ", text)
        assert re.search(r"<li>Module 1, bias: \\\(b\^\{\(1\)\} = ", text)
        assert re.search(r"<li>Module 4, biases: \\\(b\^\{\(4\)\}_\{1\} = ", text)
    assert "input grids and kernels, or the unrolled" not in cloze and "Module 1,{} a two-{}dimensional" in listed


def test_no_pdf_or_nothing_to_draw_keeps_the_words_only_quiz_and_says_so(tmp_path):
    result = run_cli("exam", CNN, "--variants", 1, "--seed", 1, "--out", tmp_path / "x", "--no-pdf")
    assert result.returncode == 0 and result.stderr == (
        "note: moodle.xml has no picture of the modules; its questions list every number\n")
    result = run_cli("exam", ROOT / "examples" / "residual.toml", "--variants", 1, "--seed", 1, "--out", tmp_path / "y")
    assert result.returncode == 0 and "has no picture of the modules (these modules have no grids" in result.stderr
    for folder in (tmp_path / "x", tmp_path / "y"):
        assert "@@PLUGINFILE@@" not in (folder / "moodle.xml").read_text(encoding="utf-8")
        assert not (folder / "images").exists()


@pytest.mark.parametrize("lms", ["canvas", "qti21"])
def test_module_exam_packages_are_valid_and_hold_the_keys_and_pictures(tmp_path, schemas, lms):
    """canvas.zip and qti21.zip of the CNN exam: every XML file valid against the IMS schemas, each
    variant's answers those of keys.csv, its picture inside the package where its question shows it."""
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\n1001,Jürgen Müller & Co\n1002,Ada Lovelace\n", encoding="utf-8")
    out = _exam(tmp_path / lms, CNN, "--lms", lms, "--students", roster)
    files = members(out / f"{lms}.zip")
    xml = xml_members(out / f"{lms}.zip")
    assert len(xml) == 3 + (2 if lms == "qti21" else 1)           # the manifest, qti21's test, a file per variant
    assert [p for name, data in xml.items() for p in schema_errors(schemas, lms, name, data)] == []
    rows = list(csv.reader(io.StringIO((out / "keys.csv").read_text(encoding="utf-8"))))
    assert rows[0][3:] == ["E", "dE/dw(4)_11", "dE/dK(1)_11", "K(1)_11+"]
    for k, row in enumerate(rows[1:], start=1):
        name = f"variant-{k:03d}"
        png = (out / "images" / f"diagram-{k:03d}.png").read_bytes()
        if lms == "qti21":
            item = ET.fromstring(xml[f"items/{name}.xml"])
            shown = [d.find(f"{QTI21}correctResponse/{QTI21}value").text
                     for d in item.findall(QTI21 + "responseDeclaration")]
            src = [i.get("src") for i in item.iter(QTI21 + "img")]
            assert src == [f"../images/diagram-{k:03d}.png"] and files[src[0][3:]] == png
        else:
            quiz = ET.fromstring(xml[f"{name}/{name}.xml"])
            items = list(quiz.iter(QTI12 + "item"))
            shown = [i.find(f".//{QTI12}varequal").text for i in items[1:]]
            problem = items[0].find(f".//{QTI12}mattext").text
            src = re.search(r'src="([^"]+)"', problem).group(1)
            assert src == f"$IMS-CC-FILEBASE$/images/diagram-{k:03d}.png"
            assert files[src.replace("$IMS-CC-FILEBASE$", "web_resources")] == png
            assert "convolution: 1 filter of 2×2" in problem and "Module 4, weights" in problem
        body = xml[f"items/{name}.xml" if lms == "qti21" else f"{name}/{name}.xml"].decode()
        assert f"alt=&quot;The network of variant {k}: {CNN_ALT}&quot;" in body or \
            f'alt="The network of variant {k}: {CNN_ALT}"' in body
        assert "Module 1, a two-dimensional convolution: 1 filter" in body and "Module 1:" not in body
        assert "Module 1, kernel: " in body and "Module 1, bias: " in body and "Module 4, biases: " in body
        assert shown == row[3:]
    if lms == "canvas":
        assert "Jürgen Müller &amp; Co" in xml["variant-001/variant-001.xml"].decode()


def test_significant_digits_for_module_answers(tmp_path, schemas):
    """answer_format = "significant" with [exam] decimals = 3: every shown answer has 3 significant
    digits (trailing zeros kept), the tolerance is 0.5 % of the answer in moodle.xml and the QTI
    package, the pages and keys say so, and keys.pdf fits its pages."""
    spec = tmp_path / "cnn.toml"
    spec.write_text(CNN.read_text(encoding="utf-8") + '\n[exam]\nanswer_format = "significant"\ndecimals = 3\n',
                    encoding="utf-8")
    out = _exam(tmp_path / "x", spec, "--lms", "qti21")
    keys = _keys(out)
    rows = list(csv.DictReader(io.StringIO((out / "keys.csv").read_text(encoding="utf-8"))))
    fields = [FIELD.findall(q.find("questiontext/text").text)
              for q in ET.parse(out / "moodle.xml").getroot().findall("question[@type='cloze']")]
    for k, row, parts in zip(keys, rows, fields):
        for (name, value), (points, shown, tolerance) in zip(k["answers"].items(), parts):
            assert significant_digits(row[name]) == 3 and shown == row[name]
            assert abs(float(shown) - value) <= 0.5 * 10.0 ** (math.floor(math.log10(abs(value))) - 2) + 1e-15
            assert float(tolerance) == pytest.approx(0.005 * abs(value), rel=1e-9)
    xml = xml_members(out / "qti21.zip")
    assert [p for name, data in xml.items() for p in schema_errors(schemas, "qti21", name, data)] == []
    assert "to 3 significant digits" in (out / "exam.tex").read_text(encoding="utf-8")
    assert "Give every answer to 3 significant digits" in (out / "moodle.xml").read_text(encoding="utf-8")
    keys_pdf = subprocess.run(["pdftotext", out / "keys.pdf", "-"], capture_output=True, text=True, check=True).stdout
    assert "rounded to 3 significant digits" in keys_pdf and "relative" in keys_pdf
    assert overflows((out / tex.BUILD / "keys.log").read_text(errors="replace")) == []


NUMERICAL = ('\n[exam]\nmoodle = "numerical"\ntolerance = {default = 0.001, E = 0.01}\n'
             'points = {default = 1, "dE/dK(1)_11" = 3}\npenalty = 0.1\ntags = ["cnn"]\n')


@pytest.fixture(scope="module")
def numerical(tmp_path_factory) -> Path:
    """The CNN exam with moodle = "numerical" and per-question tolerance and points tables."""
    here = tmp_path_factory.mktemp("numerical")
    spec = here / "cnn.toml"
    spec.write_text(CNN.read_text(encoding="utf-8") + NUMERICAL, encoding="utf-8")
    result = run_cli("exam", spec, "--variants", 3, "--seed", 1, "--out", here / "x", "--no-pdf", "--lms", "canvas")
    assert result.returncode == 0, result.stderr
    return here / "x"


QUESTIONS = ["E", "dE/dw(4)_11", "dE/dK(1)_11", "K(1)_11+"]
TOLERANCES = {"E": "0.01", "dE/dK(1)_11": "0.001", "dE/dw(4)_11": "0.001", "K(1)_11+": "0.001"}


def test_numerical_moodle_has_a_category_per_quantity_and_a_question_per_variant(numerical):
    """As the MLP's numerical quiz (tests/test_moodle.py): the declaration, <quiz>, per asked quantity a
    category under $course$ with one numerical question per variant, CDATA text and feedback, one
    answer at 100 % with its tolerance; answers and tolerances those of keys-long.csv."""
    raw = (numerical / "moodle.xml").read_text(encoding="utf-8")
    assert raw.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n')
    quiz = ET.fromstring(raw.encode("utf-8"))
    assert [q.get("type") for q in quiz] == (["category"] + ["numerical"] * 3) * 4
    categories = [q.find("category/text").text for q in quiz if q.get("type") == "category"]
    assert categories == [f"$course$/top/A small convolutional network/Question {i:02d}: {name.replace('/', '//')}"
                          for i, name in enumerate(QUESTIONS, start=1)]
    assert raw.count('<questiontext format="html"><text><![CDATA[') == 12
    assert raw.count('<generalfeedback format="html"><text><![CDATA[') == 12
    rows = list(csv.DictReader(io.StringIO((numerical / "keys-long.csv").read_text(encoding="utf-8"))))
    rows.sort(key=lambda r: (QUESTIONS.index(r["question"]), int(r["variant"])))
    keys = _keys(numerical)
    questions = [q for q in quiz if q.get("type") == "numerical"]
    for n, (q, row) in enumerate(zip(questions, rows)):
        name, variant = QUESTIONS[n // 3], n % 3 + 1
        assert q.find("name/text").text == f"A small convolutional network: Question {n // 3 + 1:02d}: {name} " \
                                           f"(variant {variant:03d})"
        assert (row["question"], int(row["variant"])) == (name, variant)
        answers = q.findall("answer")
        assert len(answers) == 1 and answers[0].get("fraction") == "100"
        assert answers[0].find("text").text == row["answer"]
        assert answers[0].find("tolerance").text == row["tolerance"] == TOLERANCES[name]
        assert abs(float(row["answer"]) - keys[variant - 1]["answers"][name]) <= 0.5e-4 + 1e-12
        assert q.find("defaultgrade").text == ("3" if name == "dE/dK(1)_11" else "1")
        assert q.find("penalty").text == "0.1000000" and [t.text for t in q.findall("tags/tag/text")] == ["cnn"]
        assert q.find("idnumber").text == f"exam-1-q{n // 3 + 1:02d}-v{variant:03d}"
        text = q.find("questiontext/text").text
        assert f"(variant {variant})" in text and "Give the answer to 4 decimal places." in text
        kernels = np.ravel(keys[variant - 1]["spec"]["module"][0]["kernels"])
        assert f"K^{{(1)}}_{{12}} = {given_number(kernels[1])}" in text    # the variant's own numbers
        assert "@@PLUGINFILE@@" not in text


def test_numerical_feedback_is_the_asked_quantitys_worked_line(numerical):
    quiz = ET.parse(numerical / "moodle.xml").getroot()
    questions = [q for q in quiz if q.get("type") == "numerical"]
    keys = _keys(numerical)
    gradient = questions[6].find("generalfeedback/text").text          # dE/dK(1)_11, variant 1
    assert r"\frac{\partial E}{\partial K^{(1)}_{11}} = " in gradient
    assert f"= {plain_number(keys[0]['answers']['dE/dK(1)_11'], 4)}\\)" in gradient
    assert "w^{(4)}_{11}} = " not in gradient                           # not another question's line
    update = questions[9].find("generalfeedback/text").text             # K(1)_11+, variant 1
    assert f"K^{{(1)+}}_{{11}} = {plain_number(keys[0]['answers']['K(1)_11+'], 4)}\\)" in update
    assert r"\eta" in update and "E}{\\partial K^{(1)}_{11}}" in update        # the rule K − η ∂E/∂K


def test_numerical_module_quiz_is_the_same_bytes_for_the_same_seed_and_canvas_takes_the_tables(numerical, tmp_path,
                                                                                               schemas):
    spec = tmp_path / "cnn.toml"
    spec.write_text(CNN.read_text(encoding="utf-8") + NUMERICAL, encoding="utf-8")
    again = _exam(tmp_path / "again", spec, "--lms", "canvas", pdf=False)
    for name in TEXT + ("canvas.zip",):
        assert (again / name).read_bytes() == (numerical / name).read_bytes(), name
    xml = xml_members(numerical / "canvas.zip")
    assert [p for name, data in xml.items() for p in schema_errors(schemas, "canvas", name, data)] == []
    keys = _keys(numerical)
    for k in keys:
        quiz = ET.fromstring(xml[f"variant-{k['variant']:03d}/variant-{k['variant']:03d}.xml"])
        items = list(quiz.iter(QTI12 + "item"))[1:]
        points = [f.find(QTI12 + "fieldentry").text for i in items for f in i.iter(QTI12 + "qtimetadatafield")
                  if f.find(QTI12 + "fieldlabel").text == "points_possible"]
        assert points == ["1.0", "1.0", "3.0", "1.0"]
        for item, name in zip(items, QUESTIONS):
            low = float(item.find(f".//{QTI12}vargte").text)
            high = float(item.find(f".//{QTI12}varlte").text)
            assert high - low == pytest.approx(2 * float(TOLERANCES[name]), abs=1e-12)


def test_tolerance_and_points_tables_reach_the_cloze_fields(tmp_path):
    spec = tmp_path / "cnn.toml"
    spec.write_text(CNN.read_text(encoding="utf-8") + '\n[exam]\ntolerance = {default = 0.001, "K(1)_11+" = 0.0002}'
                    '\npoints = {default = 2, E = 1}\n', encoding="utf-8")
    folder = _exam(tmp_path / "x", spec, pdf=False)
    for q in ET.parse(folder / "moodle.xml").getroot().findall("question[@type='cloze']"):
        fields = FIELD.findall(q.find("questiontext/text").text)
        assert [(p, t) for p, _, t in fields] == [("1", "0.001"), ("2", "0.001"), ("2", "0.001"), ("2", "0.0002")]
    keys_tex = (folder / "keys.tex").read_text(encoding="utf-8")
    assert "0.0002" in keys_tex


@pytest.mark.parametrize("field, value, expected", [
    ("tolerance", "{E = 0.01}", "[exam] tolerance: expected a number, or a table with a default: "
                                '{default = 0.0005, "dE/dK(1)_11" = 0.00005}'),
    ("tolerance", "{default = 0.001, \"z(1)_11\" = 0.01}", "[exam] tolerance z(1)_11: not one of the asked "
                                                          "questions: E, dE/dw(4)_11, dE/dK(1)_11, K(1)_11+"),
    ("tolerance", "{default = 0.001, E = -1}", "[exam] tolerance E: expected a number > 0, got -1"),
    ("tolerance", "{default = 0.001, nope = 1}", "[exam] questions: this network has no quantity 'nope'"),
    ("points", "{default = 1, E = 2.5}", "[exam] points: expected whole numbers from 1 to 100 (a cloze question "
                                         "weighs its parts in whole points), got 2.5 for E"),
    ("points", "{default = 0}", "[exam] points default: expected a number > 0, got 0"),
    ("moodle", '"essay"', "[exam] moodle: expected one of: cloze, numerical"),
])
def test_bad_tolerance_and_points_tables_are_one_line_naming_the_field(tmp_path, field, value, expected):
    """The MLP exam's messages (settings.tolerances_and_points reads both), the names a module's."""
    spec = tmp_path / "cnn.toml"
    spec.write_text(CNN.read_text(encoding="utf-8") + f"\n[exam]\n{field} = {value}\n", encoding="utf-8")
    result = run_cli("exam", spec, "--variants", 1, "--seed", 1, "--out", tmp_path / "x", "--no-pdf")
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert expected in result.stderr, result.stderr
    assert not (tmp_path / "x").exists()


def test_the_specs_own_parameters_on_a_kink_do_not_stop_the_exam_that_replaces_them(tmp_path):
    """Every kernel and bias of the conv module 0: each z(1) is 0, on ReLU's kink. `derive key`
    refuses the spec; the exam draws every parameter, so it checks the draws (none on a kink)."""
    text = CNN.read_text(encoding="utf-8").replace("kernels = [[0.5, -0.4],\n           [0.3, -0.2]]",
                                                   "kernels = [[0.0, 0.0],\n           [0.0, 0.0]]")
    spec = tmp_path / "kink.toml"
    spec.write_text(text.replace("biases = [0.04]", "biases = [0.0]"), encoding="utf-8")
    key = run_cli("key", spec)
    assert key.returncode == 2 and "sits on ReLU's kink" in key.stderr
    folder = _exam(tmp_path / "x", spec, pdf=False)
    for k in _keys(folder):
        solution = solve_modules(parse(k["spec"], "variant.toml"))       # verified again, no kink
        assert min(abs(z) for z in np.ravel(k["key"]["forward"][0]["z"])) >= 1e-5
        assert abs(k["answers"]["E"] - solution.value("E")) <= 1e-9
    stress = run_cli("exam", spec, "--stress", 20, "--seed", 1)
    assert stress.returncode == 0, stress.stderr
    overflow = tmp_path / "overflow.toml"          # own weights whose loss overflows: also never used
    overflow.write_text(CNN.read_text(encoding="utf-8").replace("[0.3, -0.2, 0.4, 0.1]", "[900, -900, 900, 900]")
                        .replace("[-0.1, 0.5, -0.3, 0.2]", "[-900, 900, -900, -900]"), encoding="utf-8")
    key = run_cli("key", overflow)
    assert key.returncode == 2 and "E is not a finite number" in key.stderr
    result = run_cli("exam", overflow, "--variants", 1, "--seed", 1, "--out", tmp_path / "y", "--no-pdf")
    assert result.returncode == 0 and "Warning" not in result.stderr, result.stderr


def test_a_tie_in_the_kept_data_is_still_refused_through_the_draws(tmp_path):
    """What the exam does use is checked: an input of one repeated value keeps every max-pool
    window tied whatever the kernel, so no draw is accepted and the rule is named."""
    text = CNN.read_text(encoding="utf-8")
    start, end = text.index("inputs = ["), text.index("targets")
    spec = tmp_path / "tie.toml"
    spec.write_text(text[:start] + "inputs = [" + ", ".join(["[0.5, 0.5, 0.5, 0.5, 0.5, 0.5]"] * 6) + "]\n"
                    + text[end:], encoding="utf-8")
    result = run_cli("exam", spec, "--variants", 1, "--seed", 1, "--out", tmp_path / "x", "--no-pdf")
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "mostly 'max_tie'" in result.stderr and not (tmp_path / "x").exists()


def test_worked_solutions_print_the_digits_the_answers_are_asked_to(cnn, tmp_path):
    """As the MLP exam's (whose [output] decimals is both): 4 places by default, every computed value
    in solutions.tex, the keys' answers among them; [exam] decimals = 6 prints 6."""
    solutions = (cnn / "solutions.tex").read_text(encoding="utf-8")
    assert re.findall(r"\d\.\d{5,}", solutions) == []
    for k in _keys(cnn):
        assert plain_number(k["answers"]["dE/dw(4)_11"], 4) in solutions
    spec = tmp_path / "cnn.toml"
    spec.write_text(CNN.read_text(encoding="utf-8") + "\n[exam]\ndecimals = 6\n", encoding="utf-8")
    folder = _exam(tmp_path / "x", spec, pdf=False)
    six = (folder / "solutions.tex").read_text(encoding="utf-8")
    assert re.findall(r"\d\.\d{7,}", six) == [] and len(re.findall(r"\d\.\d{6}\b", six)) > 50
    assert all(k["spec"]["output"]["decimals"] == 6 for k in _keys(folder))


def test_each_variant_has_its_own_folder_as_an_mlp_exams(cnn, tmp_path):
    """variants/NNN/: the variant's page (its own drawn numbers), its worked solution and its key, as
    an MLP exam writes them; both .tex files compile on their own and fit."""
    keys = _keys(cnn)
    manifest = json.loads((cnn / ".derive-manifest.json").read_text(encoding="utf-8"))["files"]
    for k in keys:
        folder = cnn / "variants" / f"{k['variant']:03d}"
        assert sorted(p.name for p in folder.iterdir()) == ["exam.tex", "key.json", "solutions.tex"]
        assert {f"variants/{k['variant']:03d}/{name}" for name in ("exam.tex", "key.json", "solutions.tex")} \
            <= set(manifest)
        assert json.loads((folder / "key.json").read_text(encoding="utf-8")) == k["key"]
        page = (folder / "exam.tex").read_text(encoding="utf-8")
        assert f"Variant {k['variant']}" in page and page.count(r"\begin{document}") == 1
        bias = np.ravel(k["spec"]["module"][0]["biases"])[0]
        assert f"b^{{(1)}} &= {given_number(bias)}" in page
        solution = (folder / "solutions.tex").read_text(encoding="utf-8")
        assert plain_number(k["answers"]["dE/dw(4)_11"], 4) in solution
    for name in ("exam", "solutions"):
        (tmp_path / f"{name}.tex").write_bytes((cnn / "variants" / "002" / f"{name}.tex").read_bytes())
        done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", f"{name}.tex"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout[-2000:]
        assert overflows((tmp_path / f"{name}.log").read_text(errors="replace")) == []


def test_saturated_sigmoid_and_tanh_draws_are_rejected_as_an_mlp_exams(tmp_path):
    """[exam] saturation (default 4, as for MLP exams): no accepted variant has a tanh state or a
    sigmoid pre-activation beyond it; --stress counts the rejections; a bad value is one line."""
    spec = tmp_path / "rnn.toml"
    spec.write_text((ROOT / "examples" / "rnn.toml").read_text(encoding="utf-8") + "\n[exam]\nsaturation = 1.0\n",
                    encoding="utf-8")
    folder = _exam(tmp_path / "x", spec, pdf=False)
    largest = 0.0
    for k in _keys(folder):
        rnn, dense = k["key"]["forward"]
        z = np.concatenate([np.ravel(rnn["z"]), np.ravel(dense["z"])])
        assert len(z) == 4 * 2 + 1 and np.all(np.abs(z) <= 1.0)
        largest = max(largest, float(np.max(np.abs(z))))
    assert largest > 0.5                                   # the rule bites near the limit, not everywhere
    stress = run_cli("exam", spec, "--stress", 10, "--seed", 1)
    assert stress.returncode == 0, stress.stderr
    counted = re.search(r"^  saturated +(\d+) ", stress.stdout, re.M)
    assert counted and int(counted.group(1)) > 0
    spec.write_text(spec.read_text(encoding="utf-8").replace("saturation = 1.0", "saturation = -1"), encoding="utf-8")
    result = run_cli("exam", spec, "--variants", 1, "--seed", 1, "--out", tmp_path / "y", "--no-pdf")
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "[exam] saturation: expected a number > 0, got -1" in result.stderr and not (tmp_path / "y").exists()


def test_inputs_and_targets_drawn_when_exam_random_gives_them(tmp_path):
    """[exam.random] inputs and targets = "one_hot" (as for MLP exams): each variant its own 6×6 image
    on the grid of 2 decimals in [0, 1] (no 0) and one class; answers by the engine's own solve."""
    spec = tmp_path / "cnn.toml"
    spec.write_text(CNN.read_text(encoding="utf-8") + '\n[exam.random]\ninputs = [0.0, 1.0]\ntargets = "one_hot"\n',
                    encoding="utf-8")
    folder = _exam(tmp_path / "x", spec, pdf=False)
    images = set()
    for k in _keys(folder):
        x = np.array(k["spec"]["data"]["inputs"], dtype=float)
        assert x.shape == (1, 6, 6) and np.all((0 < x) & (x <= 1)) and np.allclose(np.round(x, 2), x, atol=1e-12)
        assert sorted(k["spec"]["data"]["targets"]) == [0.0, 1.0]
        images.add(x.tobytes())
        solution = solve_modules(parse(k["spec"], "variant.toml"))
        for name, value in k["answers"].items():
            assert abs(value - solution.value(name)) <= 1e-9
        page = (folder / "variants" / f"{k['variant']:03d}" / "exam.tex").read_text(encoding="utf-8")
        assert all(given_number(v) in page for v in x.ravel())
    assert len(images) == 3


def test_drawn_targets_out_of_a_sigmoids_reach_are_rejected_and_named(tmp_path):
    spec = tmp_path / "rnn.toml"
    text = (ROOT / "examples" / "rnn.toml").read_text(encoding="utf-8")
    spec.write_text(text + "\n[exam.random]\ntargets = [0.1, 0.9]\n", encoding="utf-8")
    folder = _exam(tmp_path / "x", spec, pdf=False)
    targets = [k["spec"]["data"]["targets"][0] for k in _keys(folder)]
    assert all(0.1 <= t <= 0.9 for t in targets) and len(set(targets)) > 1
    spec.write_text(text + "\n[exam.random]\ntargets = [1.0, 2.0]\n", encoding="utf-8")
    result = run_cli("exam", spec, "--variants", 1, "--seed", 1, "--out", tmp_path / "y", "--no-pdf")
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "mostly 'targets_out_of_reach'" in result.stderr and not (tmp_path / "y").exists()


def test_output_decimals_without_exam_decimals_is_said_not_to_count(tmp_path):
    """An MLP exam's answers take [output] decimals, a module exam's [exam] decimals: a module spec
    with [output] decimals = 3 and no [exam] decimals gets 4 places and a note saying which counts;
    with [exam] decimals, or [output] decimals left at its default, no note."""
    spec = tmp_path / "cnn.toml"
    spec.write_text(CNN.read_text(encoding="utf-8") + "\n[output]\ndecimals = 3\n", encoding="utf-8")
    result = run_cli("exam", spec, "--variants", 1, "--seed", 1, "--out", tmp_path / "x", "--no-pdf")
    assert result.returncode == 0 and result.stderr.splitlines()[0] == (
        "note: the answers and worked solutions of this exam use [exam] decimals (not given: 4), not "
        "[output] decimals = 3; set [exam] decimals to change them")
    rows = list(csv.reader(io.StringIO((tmp_path / "x" / "keys.csv").read_text(encoding="utf-8"))))
    assert rows[0][1] == "E" and re.fullmatch(r"-?\d+\.\d{4}", rows[1][1]), rows[1]     # 4 places, not 3
    stress = run_cli("exam", spec, "--stress", 2, "--seed", 1)
    assert stress.returncode == 0 and "use [exam] decimals (not given: 4)" in stress.stderr
    spec.write_text(CNN.read_text(encoding="utf-8") + "\n[output]\ndecimals = 3\n\n[exam]\ndecimals = 3\n",
                    encoding="utf-8")
    result = run_cli("exam", spec, "--variants", 1, "--seed", 1, "--out", tmp_path / "y", "--no-pdf")
    assert result.returncode == 0 and "[exam] decimals" not in result.stderr, result.stderr
    result = run_cli("exam", CNN, "--stress", 2, "--seed", 1)
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_no_relu_pre_activation_or_max_pool_maxima_closer_than_the_mlp_exams_margin(cnn):
    """As an MLP exam's ReLU nets (draw.RELU_MARGIN = 0.01): every accepted variant's ReLU
    pre-activations lie at least 0.01 from 0 and the two largest entries of every max-pool window at
    least 0.01 apart, so a student's rounded values land on the same side as the key's."""
    for k in _keys(cnn):
        conv = k["key"]["forward"][0]
        z, a = np.array(conv["z"][0]), np.array(conv["out"][0])
        assert z.shape == (5, 5) and np.all(np.abs(z) >= 0.01)
        for i in range(2):
            for j in range(2):
                top = np.sort(a[2 * i:2 * i + 2, 2 * j:2 * j + 2].ravel())[::-1]
                assert top[0] - top[1] >= 0.01


def test_every_variant_switches_relu_on_and_off_as_the_worked_example_does(cnn):
    """A ReLU module of at least MIXED_RELU (4) pre-activations has both signs in every variant, so
    the worked solution shows ReLU on and off (the review's seed-1 variants had all 25 positive)."""
    for k in _keys(cnn):
        z = np.array(k["key"]["forward"][0]["z"][0])
        assert np.any(z < 0) and np.any(z > 0), z
    solutions = (cnn / "solutions.tex").read_text(encoding="utf-8")
    # the forward pass shows ReLU off (max(0, -0.6770) = 0) in each of the 3 variants; the backward
    # step says why its other entries are 0 (review4 item 7: no longer "ReLU is off, or ...")
    assert solutions.count(r"\max\left(0, -") >= 3
    assert solutions.count("entries are 0: ") >= 3 and "or no gradient reaches" not in solutions


def test_a_relu_module_that_cannot_switch_off_is_named_and_a_small_one_is_kept(tmp_path):
    """Positive inputs, kernels and biases keep every z(1) positive: no draw is accepted and the
    rule is named in one line with its hint. The residual block's dense ReLU (2 units, fewer than 4)
    is not held to it: its stress run lists the rule with no rejection."""
    spec = tmp_path / "on.toml"
    spec.write_text(CNN.read_text(encoding="utf-8") + "\n[exam.random]\nweights = [0.1, 1]\nbiases = [0.1, 1]\n",
                    encoding="utf-8")
    result = run_cli("exam", spec, "--variants", 1, "--seed", 1, "--out", tmp_path / "x", "--no-pdf")
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "mostly 'relu_one_sign'" in result.stderr and "both signs" in result.stderr
    assert not (tmp_path / "x").exists()
    stress = run_cli("exam", CNN, "--stress", 3, "--seed", 1)
    counted = [line.split() for line in stress.stdout.splitlines() if line.startswith("  relu_one_sign ")]
    assert len(counted) == 1 and int(counted[0][1]) > 0
    stress = run_cli("exam", ROOT / "examples" / "residual.toml", "--stress", 3, "--seed", 1)
    counted = [line.split() for line in stress.stdout.splitlines() if line.startswith("  relu_one_sign ")]
    assert len(counted) == 1 and counted[0][1] == "0"


@pytest.mark.parametrize("name", ["cnn", "rnn", "residual"])
def test_the_compiled_forward_pass_that_screens_draws_is_sympys(name):
    """Draws are refused on the forward pass compiled once (Screen); its values at a drawn spec are
    sympy's forward values (those the solution prints) to 1e-12, node by node."""
    spec = load(ROOT / "examples" / f"{name}.toml")
    screen = Screen.of(spec)
    ranges = {"weights": Range(-1.0, 1.0, 2), "biases": Range(-1.0, 1.0, 2)}
    rng = np.random.default_rng(5)
    for _ in range(3):
        g = replace(screen.template, spec=draw_parameters(spec, ranges, rng)[0])
        fast, exact = screen.values(g), forward_values(g, leaf_values(g))
        assert fast.keys() == exact.keys() and len(fast) > 20
        assert all(abs(fast[k] - exact[k]) <= 1e-12 * max(1.0, abs(exact[k])) for k in exact)


def test_working_space_follows_the_steps_a_question_adds_as_an_mlp_exams(cnn):
    """0.6 cm per step of the worked solution a question needs beyond the earlier questions, from
    1.5 cm (exam layout's rule) to half a page, 12 cm (a module's): E needs the whole forward pass
    (over 40 steps: 12 cm), dE/dw(4)_11 = δ(4)_1 a(3)_1 its two backward steps (1.5 cm), dE/dK(1)_11
    the 14 backward steps beyond them (8.4 cm), and K(1)_11+ one more (1.5 cm). Review4 item 10: 12 cm
    was tight for E and ~20 cm of the last page stayed blank; each room now stretches in proportion
    to its size, so that a page's blank end goes to its questions (measured on the PDF: E's room
    fills its page, the last question ends at most 5 cm above the page's foot)."""
    page = (cnn / "variants" / "001" / "exam.tex").read_text(encoding="utf-8")
    rooms = re.findall(r"\\vspace\{([\d.]+)cm plus ([\d.]+)fil\}", page)
    assert rooms == [("12.0", "12.0"), ("1.5", "1.5"), ("8.4", "8.4"), ("1.5", "1.5")]
    whole = (cnn / "exam.tex").read_text(encoding="utf-8")
    assert re.findall(r"\\vspace\{([\d.]+)cm plus ([\d.]+)fil\}", whole) == rooms * 3
    bbox = subprocess.run(["pdftotext", "-f", "2", "-l", "3", "-bbox", cnn / "exam.pdf", "-"], capture_output=True,
                          text=True, check=True).stdout
    top = {w: float(y) for y, w in re.findall(r'yMin="([\d.]+)"[^>]*>([1-4]\.)</word>', bbox)}
    cm = 72 / 2.54
    assert top["2."] - top["1."] > 17 * cm            # E's room: 12 cm and the rest of page 2
    assert top["4."] - top["3."] > 15 * cm            # dE/dK(1)_11's: 8.4 cm and much of page 3's rest


@pytest.mark.parametrize("name, expected", [
    ("cnn", ["E", "dE/dw(4)_11", "dE/dK(1)_11", "K(1)_11+"]),
    ("rnn", ["E", "dE/dw(2)_11", "dE/dU11", "U11+"]),
    ("residual", ["E", "dE/dw(5)_11", "dE/dw(4)_11", "dE/dw(3)_11", "dE/dw(1)_11", "w(1)_11+"])])
def test_default_questions_follow_the_worked_solutions_order(name, expected):
    """Review4 item 10: ∂E/∂K(1)_11 was asked before ∂E/∂w(4)_11, which backpropagation reaches first
    (and whose δ the earlier gradient needs): the gradients are asked from the output back."""
    assert [q.name for q in module_settings(load(ROOT / "examples" / f"{name}.toml"), 1, 1).questions] == expected


def test_the_update_question_names_the_step_as_an_optimisers_does(cnn):
    """Review4 item 10: "Gradient descent: compute the value after one step, K+" put the asked name
    after a comma; it is asked as an optimiser's first step is ("Adam, first step: compute K+")."""
    page = (cnn / "exam.tex").read_text(encoding="utf-8")
    assert page.count(r"Gradient descent,{} one step: compute $K^{(1)+}_{11}$.") == 3
    assert "the value after one step" not in page
    text = subprocess.run(["pdftotext", "-layout", cnn / "exam.pdf", "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "4. Gradient descent, one step: compute" in text


def test_the_keys_say_what_they_list_and_give_fraction_rows_room(cnn):
    """Review4 item 14: the keys said "the values that do not depend on an earlier answer are listed
    under each variant", but a module key lists every answer (and no carried values): the sentence
    says so. The rows of ∂E/∂K(1)_11 touched their neighbours at \\arraystretch 1.3."""
    keys = (cnn / "keys.tex").read_text(encoding="utf-8")
    assert "do not depend on an earlier answer" not in keys
    assert "each variant's answers, all computed from the key's own values, are listed below." in keys
    assert keys.count(r"\renewcommand{\arraystretch}{1.7}") == 3 and "{1.3}" not in keys
    text = subprocess.run(["pdftotext", cnn / "keys.pdf", "-"], capture_output=True, text=True, check=True).stdout
    assert "each variant’s answers, all computed from the key’s own values, are listed below." in " ".join(text.split())


def test_keys_of_one_variant_say_variant(tmp_path):
    """review5: keys.pdf was headed 'Answer keys of 1 variants'."""
    assert run_cli("exam", ROOT / "examples" / "rnn.toml", "--variants", 1, "--seed", 1, "--no-pdf",
                   "--out", tmp_path / "one").returncode == 0
    assert "Answer keys of 1 variant}" in (tmp_path / "one" / "keys.tex").read_text()
    assert run_cli("exam", ROOT / "examples" / "rnn.toml", "--variants", 2, "--seed", 1, "--no-pdf",
                   "--out", tmp_path / "two").returncode == 0
    assert "Answer keys of 2 variants}" in (tmp_path / "two" / "keys.tex").read_text()
