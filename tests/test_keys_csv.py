"""keys.csv (one row per variant), keys-long.csv, the excel-de dialect, the roster, significant digits."""
from __future__ import annotations

import csv
import io
import json
import math

import pytest

from helpers import ROOT, run_cli

EXAM = ROOT / "examples" / "exam.toml"
QUESTIONS = ["out_o1", "E_total", "dE_total/dw5", "dE_total/dw1", "w5+", "w1+"]


def flat(t):
    return [x for layer in t for row in layer for x in row]


def exact(entry: dict) -> list[float]:
    k = entry["key"]
    return [k["forward"][1]["out"][0], k["loss"]["total"], flat(k["gradients"]["weights"])[4],
            flat(k["gradients"]["weights"])[0], flat(k["updated"]["weights"])[4], flat(k["updated"]["weights"])[0]]


@pytest.fixture(scope="module")
def roster(tmp_path_factory):
    here = tmp_path_factory.mktemp("roster")
    path = here / "roster.csv"
    path.write_text("id,name,email\n1001,Ada Lovelace,a@x\n1002,Jürgen Müller & Co,j@x\n1003,Grace Hopper,g@x\n")
    return path


@pytest.fixture(scope="module")
def plain(tmp_path_factory, roster):
    out = tmp_path_factory.mktemp("keys") / "exam"
    result = run_cli("exam", EXAM, "--seed", 7, "--out", out, "--no-pdf", "--students", roster,
                     "--variants", 4)
    assert result.returncode == 0, result.stderr
    return out


def test_keys_csv_is_one_row_per_variant_with_the_students(plain):
    rows = list(csv.reader(io.StringIO((plain / "keys.csv").read_text(encoding="utf-8"))))
    assert rows[0] == ["variant", "student_id", "student_name"] + QUESTIONS
    keys = json.loads((plain / "keys.json").read_text())
    assert len(rows) == 1 + 4
    assert [r[1:3] for r in rows[1:]] == [["1001", "Ada Lovelace"], ["1002", "Jürgen Müller & Co"],
                                          ["1003", "Grace Hopper"], ["", ""]]
    for row, entry in zip(rows[1:], keys):
        assert int(row[0]) == entry["variant"]
        for shown, value in zip(row[3:], exact(entry)):
            assert float(shown) == pytest.approx(value, abs=0.5e-4 + 1e-12)   # rounded to 4 places
            assert float(shown) == round(value, 4)
    assert keys[0]["student"] == {"id": "1001", "name": "Ada Lovelace"} and "student" not in keys[3]


def test_keys_long_csv_keeps_the_long_form(plain):
    rows = list(csv.DictReader(io.StringIO((plain / "keys-long.csv").read_text())))
    assert len(rows) == 4 * 6 and list(rows[0]) == ["variant", "question", "answer", "tolerance"]
    wide = list(csv.reader(io.StringIO((plain / "keys.csv").read_text())))[1:]
    for r in rows:
        assert r["answer"] == wide[int(r["variant"]) - 1][3 + QUESTIONS.index(r["question"])]


def test_the_students_names_are_on_their_pages_and_in_the_keys(plain):
    exam = (plain / "exam.tex").read_text()
    assert r"Name: \textbf{Jürgen Müller \& Co}\hfill Student number: \textbf{1002}" in exam
    assert exam.count("Ada Lovelace") == 2                       # the page and its footer
    keys = (plain / "keys.tex").read_text()
    assert r"\textbf{Variant 3} \quad Grace Hopper (1003)" in keys


def test_excel_de_dialect(tmp_path, plain, roster):
    result = run_cli("exam", EXAM, "--seed", 7, "--out", tmp_path / "de", "--no-pdf", "--students", roster,
                     "--variants", 4, "--csv-dialect", "excel-de")
    assert result.returncode == 0, result.stderr
    raw = (tmp_path / "de" / "keys.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")                      # UTF-8 byte-order mark for Excel
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    english = list(csv.reader(io.StringIO((plain / "keys.csv").read_text())))
    assert rows[0] == english[0] and len(rows) == len(english)
    for de, en in zip(rows[1:], english[1:]):
        assert de[:3] == en[:3]
        assert [x.replace(",", ".") for x in de[3:]] == en[3:] and all("." not in x for x in de[3:])
    long_rows = list(csv.reader(io.StringIO((tmp_path / "de" / "keys-long.csv").read_text("utf-8-sig")),
                                delimiter=";"))
    assert long_rows[1][3] == "0,0005"


def test_more_students_than_variants_draws_one_variant_per_student(tmp_path, roster):
    spec = tmp_path / "exam.toml"
    spec.write_text(EXAM.read_text().replace("variants = 30", "variants = 2"))
    result = run_cli("exam", spec, "--seed", 7, "--out", tmp_path / "x", "--no-pdf", "--students", roster)
    assert result.returncode == 0, result.stderr
    assert "(3 variants" in result.stdout
    refused = run_cli("exam", spec, "--seed", 7, "--out", tmp_path / "y", "--no-pdf", "--students", roster,
                      "--variants", 2)
    assert refused.returncode == 2 and "fewer than the 3 students" in refused.stderr
    assert not (tmp_path / "y").exists()


@pytest.mark.parametrize("text, expected", [
    ("name\nAda\n", "expected a header with the columns id and name"),
    ("id,name\n1,Ada\n1,Bob\n", "line 3: the id '1' is also on line 2"),
    ("id,name\n1,\n", "line 2: every student needs an id and a name"),
    ("id,name\n", "the roster has no student"),
])
def test_a_bad_roster_is_one_line_and_exit_2(tmp_path, text, expected):
    path = tmp_path / "roster.csv"
    path.write_text(text)
    result = run_cli("exam", EXAM, "--out", tmp_path / "x", "--no-pdf", "--students", path)
    assert result.returncode == 2 and expected in result.stderr and "roster.csv" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "x").exists()


def significant_digits(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").lstrip("0")
    return len(digits)


def test_significant_digits_for_small_gradients(tmp_path):
    spec = tmp_path / "exam.toml"
    spec.write_text(EXAM.read_text().replace("[exam]\n", '[exam]\nanswer_format = "significant"\n')
                    .replace("decimals = 4                # answers to 4 decimal places", "decimals = 3")
                    .replace('tolerance = { default = 0.0005, "dE/dw1" = 0.0002 }   # absolute', ""))
    result = run_cli("exam", spec, "--variants", 6, "--seed", 7, "--out", tmp_path / "x", "--no-pdf")
    assert result.returncode == 0, result.stderr
    keys = json.loads((tmp_path / "x" / "keys.json").read_text())
    rows = list(csv.reader(io.StringIO((tmp_path / "x" / "keys.csv").read_text())))[1:]
    longs = list(csv.DictReader(io.StringIO((tmp_path / "x" / "keys-long.csv").read_text())))
    for row, entry in zip(rows, keys):
        for shown, value in zip(row[1:], exact(entry)):
            assert significant_digits(shown) == 3              # trailing zeros kept (the number rule)
            exponent = math.floor(math.log10(abs(value)))
            assert float(shown) == pytest.approx(value, abs=0.5 * 10.0 ** (exponent - 2) * 1.0001)
    for r in longs:                                             # relative tolerance 5e-3 of the answer
        value = exact(keys[int(r["variant"]) - 1])[QUESTIONS.index(r["question"])]
        assert float(r["tolerance"]) == pytest.approx(0.005 * abs(value), rel=1e-9, abs=1e-15)
    xml = (tmp_path / "x" / "moodle.xml").read_text()
    assert "Give every answer to 3 significant digits" in xml
    assert "to 3 significant digits" in (tmp_path / "x" / "exam.tex").read_text()


@pytest.mark.parametrize("spec_name", ["exam", "cnn"])
def test_a_relative_tolerance_of_one_or_more_is_refused(tmp_path, spec_name):
    """With significant digits the tolerance is a fraction of the answer: 1 would accept anything
    from 0 to twice the answer. Refused in one line for MLP and module exams alike."""
    text = (ROOT / "examples" / f"{spec_name}.toml").read_text()
    text = text.replace('tolerance = { default = 0.0005, "dE/dw1" = 0.0002 }   # absolute', "")
    if "[exam]\n" not in text:
        text += "\n[exam]\n"
    spec = tmp_path / "exam.toml"
    spec.write_text(text.replace("[exam]\n", '[exam]\nanswer_format = "significant"\ntolerance = 1.5\n'))
    if spec_name == "exam":
        spec.write_text(spec.read_text().replace("decimals = 4                # answers to 4 decimal places",
                                                 "decimals = 3"))
    result = run_cli("exam", spec, "--variants", 2, "--seed", 1, "--out", tmp_path / "x", "--no-pdf")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "[exam] tolerance" in result.stderr and "less than 1" in result.stderr
    assert not (tmp_path / "x").exists()
