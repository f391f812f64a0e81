"""moodle.xml with `[exam] moodle = "numerical"`: a Moodle XML quiz import of numerical questions,
checked for structure with xml.etree (the default cloze form is tests/test_cloze.py)."""
from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import derive
from derive.apps.exam import draw as exam_draw
from derive.apps.exam import settings as exam_settings
from derive.apps.exam import moodle
from derive.printing.numbers import given_number, plain_number

from helpers import ROOT, run_cli

EXAM = ROOT / "examples" / "exam.toml"
N = 4


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    here = tmp_path_factory.mktemp("moodle")
    out = here / "exam"
    spec = here / "exam.toml"
    spec.write_text(EXAM.read_text().replace("[exam]\n", '[exam]\nmoodle = "numerical"\n'))
    result = run_cli("exam", spec, "--variants", N, "--seed", 3, "--out", out, "--no-pdf")
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def raw(folder) -> str:
    return (folder / "moodle.xml").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def quiz(raw) -> ET.Element:
    return ET.fromstring(raw.encode("utf-8"))


@pytest.fixture(scope="module")
def keys(folder) -> list[dict]:
    return json.loads((folder / "keys.json").read_text())


QUESTIONS = ["out_o1", "E_total", "dE_total/dw5", "dE_total/dw1", "w5+", "w1+"]


def test_the_file_starts_with_the_utf8_declaration_and_its_root_is_quiz(raw, quiz):
    assert raw.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    assert quiz.tag == "quiz"


def test_a_category_per_question_then_its_variants_as_numerical_questions(quiz):
    types = [q.get("type") for q in quiz]
    assert types == (["category"] + ["numerical"] * N) * len(QUESTIONS)
    categories = [q.find("category/text").text for q in quiz if q.get("type") == "category"]
    title = derive.load(EXAM).title
    for i, (category, name) in enumerate(zip(categories, QUESTIONS), start=1):
        assert category.startswith("$course$/top/")
        # "/" inside a category's name is written "//", so only the levels split the path
        levels = category.replace("//", "\0").split("/")
        assert levels[2] == title
        assert levels[3].replace("\0", "/") == f"Question {i:02d}: {name}"


def test_every_numerical_question_has_name_text_feedback_and_a_toleranced_answer(quiz, keys):
    numerical = [q for q in quiz if q.get("type") == "numerical"]
    assert len(numerical) == N * len(QUESTIONS)
    names = [q.find("name/text").text for q in numerical]
    assert len(set(names)) == len(names)
    for q in numerical:
        text = q.find("questiontext")
        assert text.get("format") == "html" and text.find("text").text.strip()
        feedback = q.find("generalfeedback")
        assert feedback.get("format") == "html" and feedback.find("text").text.strip()
        answers = q.findall("answer")
        assert len(answers) == 1 and answers[0].get("fraction") == "100"
        float(answers[0].find("text").text)
        assert float(answers[0].find("tolerance").text) > 0


def test_question_text_and_feedback_are_cdata(raw):
    assert raw.count("<questiontext format=\"html\"><text><![CDATA[") == N * len(QUESTIONS)
    assert raw.count("<generalfeedback format=\"html\"><text><![CDATA[") == N * len(QUESTIONS)


def test_answers_and_tolerances_are_the_keys(quiz, keys, folder):
    rows = list(csv.DictReader(io.StringIO((folder / "keys-long.csv").read_text())))
    numerical = [q for q in quiz if q.get("type") == "numerical"]
    for q, row in zip(numerical, sorted(rows, key=lambda r: (QUESTIONS.index(r["question"]), int(r["variant"])))):
        assert q.find("name/text").text.endswith(f"(variant {int(row['variant']):03d})")
        assert row["question"] in q.find("name/text").text
        assert q.find("answer/text").text == row["answer"]
        assert q.find("answer/tolerance").text == row["tolerance"]
    first = numerical[0]   # out_o1 of variant 1
    assert float(first.find("answer/text").text) == pytest.approx(keys[0]["key"]["forward"][1]["out"][0], abs=5e-5)


def test_question_text_shows_the_variants_own_numbers(quiz, keys):
    numerical = [q for q in quiz if q.get("type") == "numerical"]
    for k, entry in enumerate(keys):
        text = numerical[k].find("questiontext/text").text   # question 1, variant k + 1
        assert f"(variant {k + 1})" in text
        weights = [w for m in entry["spec"]["parameters"]["weights"] for row in m for w in row]
        for n, w in enumerate(weights, start=1):
            assert f"w_{{{n}}} = {given_number(w)}" in text
        x = entry["spec"]["data"]["inputs"]
        assert f"i_{{1}} = {given_number(x[0])}" in text
        assert r"\(\mathit{out}_{o1}\)" in text and "4 decimal places" in text


def test_the_feedback_is_the_worked_solution_of_the_asked_quantity(quiz, keys):
    numerical = [q for q in quiz if q.get("type") == "numerical"]
    gradient = numerical[2 * N].find("generalfeedback/text").text   # dE_total/dw5, variant 1
    key = keys[0]["key"]
    assert plain_number(key["gradients"]["weights"][1][0][0], 4) in gradient
    assert plain_number(key["forward"][1]["out"][0], 4) in gradient       # out_o1 on the way
    assert r"\frac{\partial E_{\mathit{total}}}{\partial w_{5}}" in gradient
    assert r"\mathit{net}_{h1}" in gradient     # the forward pass it needs ...
    assert "w_{8}" not in gradient              # ... and not what it does not (net_o2)
    update = numerical[5 * N].find("generalfeedback/text").text        # w1+, variant 1
    assert plain_number(key["updated"]["weights"][0][0][0], 4) in update
    assert "w^{+}_{1}" in update


def test_same_seed_same_bytes_and_cdata_cannot_be_closed_early():
    spec = derive.load(EXAM)
    s = exam_settings.settings(spec, seed=3)
    variants = exam_draw.variants(spec, s, 2)
    assert moodle.quiz(spec, s, variants) == moodle.quiz(spec, s, exam_draw.variants(spec, s, 2))
    assert moodle.cdata("a]]>b") == "<![CDATA[a]]]]><![CDATA[>b]]>"


def test_a_hostile_title_stays_text(tmp_path):
    spec = tmp_path / "hostile.toml"
    spec.write_text(EXAM.read_text().replace(
        'title = "Exam: one round of forward and backward computation"',
        "title = '''A/B <b>&amp; ]]> Week 3'''").replace("[exam]\n", '[exam]\nmoodle = "numerical"\n'))
    result = run_cli("exam", spec, "--variants", 1, "--seed", 1, "--out", tmp_path / "x", "--no-pdf")
    assert result.returncode == 0, result.stderr
    quiz = ET.parse(tmp_path / "x" / "moodle.xml").getroot()
    assert quiz[0].find("category/text").text.startswith("$course$/top/A//B <b>&amp; ]]> Week 3/")
    assert "A/B &lt;b&gt;&amp;amp; ]]&gt; Week 3" in quiz[1].find("questiontext/text").text
