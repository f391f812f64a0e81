"""`derive exam`: seeded variants, fair numbers, verified keys, the documents, and bad input.

The PDF tests use 3 variants (real TeX); the others run without TeX.
"""
from __future__ import annotations

import csv
import io
import json
import math
import re
import shutil
import tomllib
from pathlib import Path

import numpy as np
import pytest

import derive
from derive.apps.exam import draw as exam_draw
from derive.apps.exam import questions as exam_questions
from derive.apps.exam import settings as exam_settings
from derive.apps.exam import stress as exam_stress
from derive import solution
from derive.derivation import derive as derive_shape
from derive.apps.exam.folder import Progress
from derive.model.network import Shape
from derive.printing.numbers import given_number, plain_number

from helpers import ROOT, pdf_text, run_cli

EXAM = ROOT / "examples" / "exam.toml"
QUESTIONS = ["out_o1", "E_total", "dE_total/dw5", "dE_total/dw1", "w5+", "w1+"]


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def five(tmp_path_factory) -> Path:
    """examples/exam.toml, 5 variants, seed 11, without TeX."""
    out = tmp_path_factory.mktemp("exam") / "five"
    result = run_cli("exam", EXAM, "--variants", 5, "--seed", 11, "--out", out, "--no-pdf")
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def keys(five) -> list[dict]:
    return json.loads((five / "keys.json").read_text())


@pytest.fixture(scope="module")
def with_pdf(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("exam") / "pdf"
    result = run_cli("exam", EXAM, "--variants", 3, "--seed", 5, "--out", out)
    assert result.returncode == 0, result.stderr
    return out


# -- the folder --------------------------------------------------------------------------------
def test_the_folder_holds_tex_keys_moodle_and_one_folder_per_variant(five):
    names = set(files_of(five))
    assert {"exam.tex", "solutions.tex", "keys.tex", "keys.json", "keys.csv", "moodle.xml"} <= names
    for k in range(1, 6):
        assert {f"variants/{k:03d}/exam.tex", f"variants/{k:03d}/solutions.tex",
                f"variants/{k:03d}/key.json"} <= names
    assert not any(n.endswith(".pdf") for n in names)   # --no-pdf
    assert len(names) == 7 + 3 * 5 + 1                   # keys-long.csv beside keys.csv, and derive's manifest
    assert ".derive-manifest.json" in names


def test_the_pdfs_are_written_with_tex(with_pdf):
    for name in ("exam.pdf", "solutions.pdf", "keys.pdf"):
        assert (with_pdf / name).stat().st_size > 5_000
    assert not (with_pdf / ".build").exists()
    assert not (with_pdf / "derive-build").exists()


def test_exam_pdf_shows_each_variant_on_its_own_page_with_its_own_weights(with_pdf):
    keys = json.loads((with_pdf / "keys.json").read_text())
    pages = pdf_text(with_pdf / "exam.pdf").split("\f")
    starts = [i for i, page in enumerate(pages) if "Student number" in page]
    assert len(starts) == 3
    for k, (entry, start) in enumerate(zip(keys, starts), start=1):
        page = pages[start]
        assert f"Variant {k}" in page
        weights = [w for matrix in entry["spec"]["parameters"]["weights"] for row in matrix for w in row]
        for n, w in enumerate(weights, start=1):
            assert f"w{n} = {given_number(w)}" in page, (k, n, w)
        x = entry["spec"]["data"]["inputs"]
        assert f"i1 = {given_number(x[0])}, i2 = {given_number(x[1])}" in page


def test_solutions_pdf_and_keys_pdf_show_every_variants_answers(with_pdf):
    keys = json.loads((with_pdf / "keys.json").read_text())
    solutions = pdf_text(with_pdf / "solutions.pdf")
    key_text = pdf_text(with_pdf / "keys.pdf")
    assert "seed 5" in key_text
    for entry in keys:
        k = entry["variant"]
        assert f"Worked solution of variant {k}" in solutions
        assert f"Variant {k}" in key_text
        total = plain_number(entry["key"]["loss"]["total"], 4)
        gradient = plain_number(entry["key"]["gradients"]["weights"][1][0][0], 4)
        for text in (solutions, key_text):
            assert total in text and gradient in text


def test_each_error_carried_forward_formula_keeps_from_answer_on_one_line(with_pdf):
    """The wide formula of dE_total/dw1 fills its line: "from answer 1" moves to the next line
    whole (a closing note), never "from" at the right margin and "answer 1" below it."""
    text = pdf_text(with_pdf / "keys.pdf")
    assert text.count("from answer") == len(QUESTIONS) - 1
    assert not re.search(r"from\s*\n\s*answer", text)


def test_an_error_carried_forward_update_is_written_as_the_lecture_writes_it(five):
    """w5+ = w5 - eta * dE/dw5, the lecture's order, not sympy's (w5 - dE/dw5 * eta)."""
    text = (five / "keys.tex").read_text()
    assert r"$w^{+}_{5} = w_{5} - \eta \cdot \frac{\partial E_{\mathit{total}}}{\partial w_{5}}$" in text
    assert r"\cdot \eta$" not in text


# -- same seed, same bytes; another seed, other numbers ------------------------------------------
def test_two_runs_with_one_seed_are_byte_identical(five, tmp_path):
    again = tmp_path / "again"
    assert run_cli("exam", EXAM, "--variants", 5, "--seed", 11, "--out", again, "--no-pdf").returncode == 0
    assert files_of(again) == files_of(five)


def test_the_seed_in_the_spec_is_the_seed_on_the_command_line(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert run_cli("exam", EXAM, "--variants", 2, "--out", a, "--no-pdf").returncode == 0   # [exam] seed 2024
    assert run_cli("exam", EXAM, "--variants", 2, "--seed", 2024, "--out", b, "--no-pdf").returncode == 0
    assert files_of(a) == files_of(b)


def test_another_seed_gives_other_numbers(keys, tmp_path):
    other = tmp_path / "other"
    assert run_cli("exam", EXAM, "--variants", 5, "--seed", 12, "--out", other, "--no-pdf").returncode == 0
    theirs = json.loads((other / "keys.json").read_text())
    for mine, their in zip(keys, theirs):
        assert mine["spec"]["parameters"] != their["spec"]["parameters"]
        assert mine["key"]["loss"]["total"] != their["key"]["loss"]["total"]


def test_variant_k_does_not_depend_on_how_many_are_drawn(keys):
    spec = derive.load(EXAM)
    three = exam_draw.variants(spec, exam_settings.settings(spec, seed=11), 3)
    assert [v.spec_dict() for v in three] == [k["spec"] for k in keys[:3]]


def test_without_a_seed_one_is_drawn_and_printed(tmp_path):
    spec = tmp_path / "noseed.toml"
    spec.write_text(EXAM.read_text().replace("seed = 2024\n", ""))
    result = run_cli("exam", spec, "--variants", 1, "--out", tmp_path / "x", "--no-pdf")
    assert result.returncode == 0, result.stderr
    assert "give --seed" in result.stdout
    seed = int(result.stdout.split("give --seed ")[1].split()[0])
    assert f"seed {seed}" in (tmp_path / "x" / "keys.tex").read_text()


# -- the numbers: drawn as asked, fair, verified --------------------------------------------------
def test_drawn_numbers_lie_in_their_ranges_on_their_grid(keys):
    for entry in keys:
        s = entry["spec"]
        weights = [w for m in s["parameters"]["weights"] for row in m for w in row]
        checks = [(weights, -1, 1), (s["parameters"]["biases"], -0.5, 0.5), (s["data"]["inputs"], 0.1, 1.0),
                  (s["data"]["targets"], 0.05, 0.95)]
        for values, low, high in checks:
            for v in values:
                assert low <= v <= high and v == round(v, 2)


def test_the_spec_of_each_variant_is_complete_and_gives_its_key(keys):
    for entry in keys:
        assert set(entry["spec"]) == {"title", "network", "data", "parameters", "training", "output"}
        again = derive.derive(derive.parse(entry["spec"]))
        assert json.loads(json.dumps(again.key)) == entry["key"]


def test_every_key_passes_the_independent_check_of_derive_key(keys):
    for entry in keys:
        report = solution.verify_key(derive.parse(entry["spec"]), entry["key"])
        assert report["finite_differences"]


def test_each_variant_folder_holds_its_own_key(five, keys):
    for entry in keys:
        k = entry["variant"]
        assert json.loads((five / f"variants/{k:03d}/key.json").read_text()) == entry["key"]
        weight = given_number(entry["spec"]["parameters"]["weights"][1][0][0])
        assert f"w_{{5}} = {weight}" in (five / f"variants/{k:03d}/exam.tex").read_text()


def _numpy_answers(spec: dict) -> dict[str, float]:
    """The 2-2-2 sigmoid network with half squared error, by hand, and the w1 gradient by central
    finite differences (independent of derive)."""
    x = np.array(spec["data"]["inputs"])
    t = np.array(spec["data"]["targets"])
    W1, W2 = (np.array(m) for m in spec["parameters"]["weights"])
    b1, b2 = spec["parameters"]["biases"]
    eta = spec["training"]["learning_rate"]
    sig = lambda z: 1 / (1 + np.exp(-z))   # noqa: E731

    def loss(W1, W2):
        out = sig(W2 @ sig(W1 @ x + b1) + b2)
        return float(0.5 * np.sum((t - out) ** 2)), out

    E, out = loss(W1, W2)
    h = sig(W1 @ x + b1)
    delta_o = (out - t) * out * (1 - out)
    g5 = delta_o[0] * h[0]

    def fd(i, j):
        step = np.zeros_like(W1)
        step[i, j] = 1e-6
        return (loss(W1 + step, W2)[0] - loss(W1 - step, W2)[0]) / 2e-6

    g1 = fd(0, 0)
    return {"out_o1": out[0], "E_total": E, "dE_total/dw5": g5, "dE_total/dw1": g1,
            "w5+": W2[0, 0] - eta * g5, "w1+": W1[0, 0] - eta * g1}


def test_a_sample_of_variants_agrees_with_numpy_and_finite_differences(five, keys):
    rows = list(csv.DictReader(io.StringIO((five / "keys-long.csv").read_text())))
    for entry in keys[::2]:
        ours = _numpy_answers(entry["spec"])
        key = entry["key"]
        assert math.isclose(key["forward"][1]["out"][0], ours["out_o1"], rel_tol=1e-12)
        assert math.isclose(key["loss"]["total"], ours["E_total"], rel_tol=1e-12)
        assert math.isclose(key["gradients"]["weights"][1][0][0], ours["dE_total/dw5"], rel_tol=1e-12)
        assert abs(key["gradients"]["weights"][0][0][0] - ours["dE_total/dw1"]) < 1e-9
        assert abs(key["updated"]["weights"][0][0][0] - ours["w1+"]) < 1e-9
        mine = {r["question"]: float(r["answer"]) for r in rows if int(r["variant"]) == entry["variant"]}
        assert list(mine) == QUESTIONS
        for name, value in ours.items():
            assert abs(mine[name] - value) <= 0.5e-4 + 1e-9, name


def test_the_acceptance_rules_hold_on_every_variant(five, keys):
    rows = list(csv.DictReader(io.StringIO((five / "keys-long.csv").read_text())))
    for entry in keys:
        s, key = entry["spec"], entry["key"]
        assert all(0 < t < 1 for t in s["data"]["targets"])                       # sigmoid reaches them
        assert all(abs(z) <= 4 for layer in key["forward"] for z in layer["net"])  # nothing saturates
        weights = [w for m in s["parameters"]["weights"] for row in m for w in row]
        assert all(v != 0 for v in weights + s["parameters"]["biases"] + s["data"]["inputs"])
        answers = [r for r in rows if int(r["variant"]) == entry["variant"]]
        for r in answers:
            assert abs(float(r["answer"])) > float(r["tolerance"])                # not guessable as 0
        for a in answers:
            for b in answers:
                if a is not b:
                    assert a["answer"] != b["answer"]
                    assert abs(float(a["answer"]) - float(b["answer"])) > float(a["tolerance"])
        g1 = key["gradients"]["weights"][0][0][0]
        assert round(g1, 4) != 0
        assert plain_number(key["updated"]["weights"][0][0][0], 4) != plain_number(weights[0], 4)


def test_no_two_variants_share_every_answer_within_the_tolerance(five):
    rows = list(csv.DictReader(io.StringIO((five / "keys-long.csv").read_text())))
    table: dict[int, list[float]] = {}
    for r in rows:
        table.setdefault(int(r["variant"]), []).append(float(r["answer"]))
    tolerance = [float(r["tolerance"]) for r in rows[:len(QUESTIONS)]]
    values = list(table.values())
    for i, a in enumerate(values):
        for b in values[i + 1:]:
            assert any(abs(x - y) > tol for x, y, tol in zip(a, b, tolerance))


def test_keys_csv_has_one_row_per_question_per_variant_with_its_tolerance(five):
    rows = list(csv.reader(io.StringIO((five / "keys-long.csv").read_text())))
    assert rows[0] == ["variant", "question", "answer", "tolerance"]
    assert len(rows) == 1 + 5 * len(QUESTIONS)
    assert {r[3] for r in rows[1:] if r[1] == "dE_total/dw1"} == {"0.0002"}
    assert {r[3] for r in rows[1:] if r[1] != "dE_total/dw1"} == {"0.0005"}


def test_the_keys_show_the_seed_and_the_tolerance(five):
    text = (five / "keys.tex").read_text()
    assert "seed 11" in text and "0.0005" in text and "0.0002" in text


# -- the [exam] section -------------------------------------------------------------------------
def test_question_names_accept_the_loss_under_either_name():
    d = derive_shape(Shape.of(derive.load(EXAM)))
    assert exam_questions.resolve(d, "dE/dw5").name == "dE_total/dw5"
    assert exam_questions.resolve(d, "dE_total/dw5").name == "dE_total/dw5"
    assert exam_questions.resolve(d, "E").name == "E_total"
    assert exam_questions.resolve(d, " w1+ ").name == "w1+"
    assert exam_questions.resolve(d, "dE_o1/dnet_o1").kind == "delta"


def test_with_several_samples_a_per_sample_quantity_names_its_sample():
    spec = derive.load(ROOT / "examples" / "softmax.toml")
    d = derive_shape(Shape.of(spec))
    q = exam_questions.resolve(d, "out_o1[2]")
    assert (q.name, q.sample) == ("out_o1[2]", 1)
    assert exam_questions.resolve(d, "dE/dw5").name == "dE/dw5"
    assert exam_questions.resolve(d, "E_total").name == "E"
    with pytest.raises(derive.DeriveError, match=r"name the sample, e.g. out_o1\[1\]"):
        exam_questions.resolve(d, "out_o1")


def test_an_unknown_question_lists_the_valid_names():
    d = derive_shape(Shape.of(derive.load(EXAM)))
    with pytest.raises(derive.DeriveError) as err:
        exam_questions.resolve(d, "dE/dw9")
    assert "dE_total/dw8" in str(err.value) and "out_o2" in str(err.value) and "w8+" in str(err.value)
    with pytest.raises(derive.DeriveError, match="given in the problem"):
        exam_questions.resolve(d, "w5")


def test_without_an_exam_section_the_questions_are_the_worksheets_tasks():
    spec = derive.load(ROOT / "examples" / "lecture.toml")
    s = exam_settings.settings(spec, variants=2, seed=1)
    assert [q.name for q in s.questions] == [
        "net_h1", "out_h1", "net_h2", "out_h2", "net_o1", "out_o1", "net_o2", "out_o2",
        "E_o1", "E_o2", "E_total", "dE_total/dw5", "dE_total/dw1", "w5+", "w1+"]
    assert s.questions[0].tolerance == 5e-9
    assert s.ranges["weights"] == exam_settings.Range(-1.0, 1.0, 2) == s.ranges["biases"]
    assert "inputs" not in s.ranges and "targets" not in s.ranges


@pytest.mark.parametrize("example", ["lecture", "tanh", "softmax", "deep"])
def test_every_shipped_example_makes_an_exam_without_an_exam_section(example, tmp_path):
    result = run_cli("exam", ROOT / "examples" / f"{example}.toml", "--variants", 2, "--seed", 3,
                     "--out", tmp_path / "x", "--no-pdf")
    assert result.returncode == 0, result.stderr
    keys = json.loads((tmp_path / "x" / "keys.json").read_text())
    original = derive.load(ROOT / "examples" / f"{example}.toml")
    for entry in keys:
        assert entry["spec"]["data"]["inputs"] == original.to_dict()["data"]["inputs"]   # data kept
        solution.verify_key(derive.parse(entry["spec"]), entry["key"])



def test_the_combined_solutions_hold_each_variants_whole_worked_solution(tmp_path):
    """solutions.tex (all variants) shows each variant's solution as its own variants/NNN/solutions.tex
    does, with several samples too: the other samples' tables were once left out of the combined one."""
    result = run_cli("exam", ROOT / "examples" / "softmax.toml", "--variants", 2, "--seed", 3,
                     "--out", tmp_path / "x", "--no-pdf")
    assert result.returncode == 0, result.stderr
    combined = (tmp_path / "x" / "solutions.tex").read_text()
    for k in (1, 2):
        alone = (tmp_path / "x" / "variants" / f"{k:03d}" / "solutions.tex").read_text()
        body = alone.split("\\vspace{-3em}\n\n", 1)[1].rsplit("\\end{document}", 1)[0]
        assert "\\section*{Sample 2}" in body and body in combined
    assert combined.count("\\section*{Sample 2}") == 2

def test_one_hot_targets_for_a_softmax_classifier():
    text = (ROOT / "examples" / "softmax.toml").read_text() + (
        '\n[exam]\nquestions = ["E", "dE/dw5"]\ntolerance = 0.0005\n'
        '[exam.random]\ninputs = [-1, 1]\ntargets = "one_hot"\n')
    spec = derive.parse(tomllib.loads(text))
    for v in exam_draw.variants(spec, exam_settings.settings(spec, seed=4), 4):
        assert all(sorted(sample) == [0.0, 0.0, 1.0] for sample in v.spec.targets)


# -- stress -------------------------------------------------------------------------------------
def test_stress_reports_spread_rejections_and_near_duplicates_and_writes_nothing(tmp_path):
    result = run_cli("exam", EXAM, "--stress", 300, "--seed", 1, cwd=tmp_path, env={"PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "300 variants accepted" in out and "nothing written" in out
    for q in QUESTIONS:
        assert q in out
    for rule in exam_draw.RULES:
        if rule != "duplicate":
            assert rule in out
    assert "near-duplicates:" in out
    assert list(tmp_path.iterdir()) == []


def test_stress_spread_is_min_median_max_of_the_drawn_answers():
    spec = derive.load(EXAM)
    s = exam_settings.settings(spec, seed=9)
    report = exam_stress.stress(spec, s, 50)
    answers = np.array(exam_draw.draw_variants(spec, s, 50, keep=False, reject_duplicates=False).answers)
    for (low, mid, high), column in zip(report.spread, answers.T):
        assert (low, mid, high) == (column.min(), np.median(column), column.max())
    assert report.draws == 50 + sum(report.rejected.values())


def test_near_duplicates_are_pairs_within_the_tolerance_in_every_answer():
    table = np.array([[0.1, 1.0], [0.1004, 1.0003], [0.1004, 2.0], [0.5, 1.0]])
    assert exam_stress.near_duplicates(table, np.array([0.0005, 0.0005])) == 1
    assert exam_stress.near_duplicates(table, np.array([0.0001, 0.0005])) == 0


def test_the_progress_bar_shows_on_a_terminal_only():
    class Terminal(io.StringIO):
        def isatty(self):
            return True
    screen, pipe = Terminal(), io.StringIO()
    for stream in (screen, pipe):
        bar = Progress(200, "drawing", stream)
        for k in range(1, 201):
            bar(k)
    assert "200/200" in screen.getvalue() and pipe.getvalue() == ""


def test_the_cli_is_quiet_on_stderr_when_not_a_terminal(tmp_path):
    """No progress bar; only the one note that --no-pdf leaves the LMS files without a picture."""
    result = run_cli("exam", EXAM, "--variants", 25, "--seed", 1, "--out", tmp_path / "x", "--no-pdf")
    assert result.returncode == 0 and result.stderr == (
        "note: moodle.xml has no picture of the network (--no-pdf skips TeX, which draws it); "
        "its questions state the wiring in words\n")


# -- bad input: one line, exit 2, nothing written ------------------------------------------------
BAD = [
    (["--variants", "0"], {}, "--variants: expected a whole number from 1 to 500, got 0"),
    (["--variants", "501"], {}, "--variants: expected a whole number from 1 to 500, got 501"),
    (["--seed", "-3"], {}, "--seed: expected a whole number from 0"),
    ([], {"variants = 30": "variants = 0"}, "[exam] variants: expected a whole number from 1 to 500"),
    ([], {"weights = [-1.0, 1.0]": "weights = [1.0, -1.0]"}, "[exam.random] weights: min 1 is greater than max -1"),
    ([], {"decimals = 2": "decimals = -1"}, "[exam.random] decimals: expected a whole number from 0 to 6, got -1"),
    ([], {"inputs = [0.1, 1.0]": "inputs = {min = 0.1, max = 1.0, decimals = -2}"},
     "[exam.random] inputs decimals: expected a whole number from 0 to 6, got -2"),
    ([], {'"dE/dw1", "w5+"': '"dE/dw9", "w5+"'}, "no quantity 'dE/dw9'; valid names: net_h1, out_h1"),
    ([], {'"dE/dw1" = 0.0002': '"dE/dw2" = 0.0002'}, "[exam] tolerance dE/dw2: not one of the asked questions"),
    ([], {"tolerance = {": "tolerance = -1 #"}, "[exam] tolerance: expected a number > 0, got -1"),
    ([], {"weights = [-1.0, 1.0]": "weights = [4.0, 5.0]"}, "the acceptance rules cannot be met"),
    ([], {"targets = [0.05, 0.95]": "targets = [1.0, 2.0]"}, "mostly 'targets_out_of_reach'"),
    ([], {"biases = [-0.5, 0.5]": "biases = [0.001, 0.009]"}, "no number with 2 decimals lies in [0.001, 0.009]"),
    ([], {"saturation = 4.0": "saturation = 4.0\ncolour = 1"}, "[exam] colour: unknown field"),
    # a module exam's field: refused (not ignored), pointing to where an MLP exam takes its places from
    ([], {"saturation = 4.0": "saturation = 4.0\ndecimals = 3"},
     "[exam] decimals: not an exam field for a network of [network] layers: its answers are given, and its "
     "worked solutions printed, with [output] decimals (here 4); set them there"),
    ([], {"weights = [-1.0, 1.0]": "weights = [-5000, 1]"}, "[exam.random] weights: expected numbers from -1000"),
]


@pytest.mark.parametrize("args, changes, message", BAD, ids=[b[2][:40] for b in BAD])
def test_bad_input_is_one_line_exit_2_and_the_folder_untouched(args, changes, message, tmp_path):
    text = EXAM.read_text()
    for old, new in changes.items():
        assert old in text
        text = text.replace(old, new, 1)
    spec = tmp_path / "spec.toml"
    spec.write_text(text)
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("previous")
    result = run_cli("exam", spec, "--out", out, "--no-pdf", *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_without_a_number_of_variants_or_a_folder_the_cli_says_what_is_missing(tmp_path):
    lecture = ROOT / "examples" / "lecture.toml"
    result = run_cli("exam", lecture, "--out", tmp_path / "x", "--no-pdf")
    assert result.returncode == 2 and "give --variants N or set [exam] variants" in result.stderr
    result = run_cli("exam", EXAM)
    assert result.returncode == 2 and "--out DIR" in result.stderr
    assert not (tmp_path / "x").exists()


def test_a_tex_failure_leaves_the_folder_untouched(tmp_path):
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    page = templates / "exam_page.tex"
    page.write_text(page.read_text().replace(r"\section*{Questions}", r"\undefinedcommand"))
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("previous")
    result = run_cli("exam", EXAM, "--variants", 1, "--seed", 1, "--out", out, "--force",
                     env={"DERIVE_TEMPLATES": str(templates)})
    assert result.returncode == 2 and "TeX failed" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
