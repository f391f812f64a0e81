"""Numbers as promised, on the real pages: computed values at exactly the spec's decimals (trailing
zeros kept), given data as written, no e-notation, the same rule in PDFs, CSV and Moodle."""
from __future__ import annotations

import csv
import io
import json
import re

import pytest

from conftest import ROOT
from helpers import pdf_text, run_cli

NUMBER = re.compile(r"(?<![\w.])-?\d+\.\d+(?![\w.])")
LECTURE_GIVEN = {"0.05", "0.1", "0.01", "0.99", "0.15", "0.2", "0.25", "0.3", "0.4", "0.45", "0.5", "0.55",
                 "0.35", "0.6"}


@pytest.fixture(scope="module")
def lecture_pages(tmp_path_factory):
    out = tmp_path_factory.mktemp("lecture") / "out"
    assert run_cli("worksheet", ROOT / "examples" / "lecture.toml", "--out", out).returncode == 0
    return pdf_text(out / "solutions.pdf")


def test_the_lecture_prints_w7_plus_as_0_511301270(lecture_pages):
    assert "0.511301270" in lecture_pages
    assert "0.377500000" in lecture_pages          # net_h1: 9 places, trailing zeros kept


def test_every_number_in_the_lecture_solution_is_given_or_has_9_decimals(lecture_pages):
    numbers = NUMBER.findall(lecture_pages)
    assert len(numbers) > 150
    wrong = [n for n in numbers if n.lstrip("-") not in LECTURE_GIVEN and len(n.split(".")[1]) != 9]
    assert wrong == []
    assert "0.150000000" not in lecture_pages       # given data as written: 0.15
    assert not re.search(r"\de-?\d", lecture_pages)  # no e-notation
    assert "eta" not in lecture_pages.replace("theta", "")


@pytest.fixture(scope="module")
def exam(tmp_path_factory):
    out = tmp_path_factory.mktemp("exam") / "out"
    result = run_cli("exam", ROOT / "examples" / "exam.toml", "--variants", "4", "--seed", "3", "--out", out)
    assert result.returncode == 0, result.stderr
    return out


def test_exam_keys_at_4_decimals_keep_trailing_zeros_everywhere(exam):
    keys = json.loads((exam / "keys.json").read_text())
    rows = list(csv.DictReader(io.StringIO((exam / "keys-long.csv").read_text())))
    for row in rows:
        assert re.fullmatch(r"-?\d+\.\d{4}|0|-?0\.0000\d+", row["answer"]), row
        float(row["answer"])                                 # machine-readable
        assert "e" not in row["tolerance"] and float(row["tolerance"]) > 0
    out_o1 = {int(r["variant"]): r["answer"] for r in rows if r["question"] == "out_o1"}
    assert out_o1 == {e["variant"]: f"{e['key']['forward'][-1]['out'][0]:.4f}" for e in keys}
    zeros = [r["answer"] for r in rows if r["answer"].endswith("0")]
    assert zeros, "no answer ends in 0 at 4 decimals in this seed; choose another"
    moodle = (exam / "moodle.xml").read_text()
    keys_pdf = pdf_text(exam / "keys.pdf")
    for shown in zeros:
        assert f":={shown}:" in moodle                       # the cloze field {1:NUMERICAL:=answer:tolerance}
        assert shown in keys_pdf
