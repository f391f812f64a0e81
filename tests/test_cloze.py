"""moodle.xml in its default form: one cloze question per variant, the diagram as an embedded PNG.

The cloze fields are read by a small parser of Moodle's multianswer syntax written here
(`{points:NUMERICAL:=answer:tolerance}`), independent of derive's writer, and compared with keys.json.
"""
from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path
import struct

import pytest

from helpers import ROOT, run_cli

EXAM = ROOT / "examples" / "exam.toml"
N = 4
QUESTIONS = ["out_o1", "E_total", "dE_total/dw5", "dE_total/dw1", "w5+", "w1+"]
FIELD = re.compile(r"\{(\d+):(?:NUMERICAL|NM):=([^:}#~]+):([^}#~]+)\}")


def key_value(key: dict, name: str) -> float:
    """A question's number in keys.json's key (2-2-2 network: w1..w4 hidden, w5..w8 output)."""
    flat = lambda t: [x for layer in t for row in layer for x in row]   # noqa: E731
    return {"out_o1": key["forward"][1]["out"][0], "E_total": key["loss"]["total"],
            "dE_total/dw5": flat(key["gradients"]["weights"])[4],
            "dE_total/dw1": flat(key["gradients"]["weights"])[0],
            "w5+": flat(key["updated"]["weights"])[4], "w1+": flat(key["updated"]["weights"])[0]}[name]


def parse_png(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and the decompressed scanlines of a PNG (chunks read by hand, CRCs checked)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    at, idat, size = 8, b"", None
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        crc = struct.unpack(">I", data[at + 8 + length:at + 12 + length])[0]
        assert zlib.crc32(kind + body) == crc, kind
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    return size[0], size[1], zlib.decompress(idat)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cloze") / "exam"
    result = run_cli("exam", EXAM, "--variants", N, "--seed", 3, "--out", out)
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def quiz(folder) -> ET.Element:
    return ET.parse(folder / "moodle.xml").getroot()


def test_one_category_then_one_cloze_question_per_variant(quiz):
    assert [q.get("type") for q in quiz] == ["category"] + ["cloze"] * N
    assert quiz[0].find("category/text").text == "$course$/top/Exam: one round of forward and backward computation"
    for k, q in enumerate(quiz[1:], start=1):
        assert q.find("name/text").text == f"Exam: one round of forward and backward computation (variant {k:03d})"
        assert q.find("penalty").text == "0.0000000"          # the documented default
        assert q.find("idnumber").text == f"exam-3-v{k:03d}"  # exam-SEED-vNNN
        assert q.find("tags") is None                         # no tags by default


def test_every_field_is_the_key_of_its_variant(quiz, folder):
    keys = json.loads((folder / "keys.json").read_text())
    for q, entry in zip(quiz[1:], keys):
        fields = FIELD.findall(q.find("questiontext/text").text)
        assert len(fields) == len(QUESTIONS)
        for (points, answer, tolerance), name in zip(fields, QUESTIONS):
            assert points == "1"
            assert float(tolerance) == pytest.approx(0.0002 if name == "dE_total/dw1" else 0.0005, abs=1e-15)
            assert float(answer) == pytest.approx(key_value(entry["key"], name), abs=0.5e-4 + 1e-12)
            assert len(answer.split(".")[1]) <= 4


def test_one_network_per_question_with_its_wiring_in_words(quiz):
    text = quiz[1].find("questiontext/text").text
    assert text.count("<strong>") == 1                       # one problem, all parts on it
    assert r"\(w_{5}\) connects \(h_{1}\) to \(o_{1}\)" in text
    assert r"\(w_{1}\) connects \(i_{1}\) to \(h_{1}\)" in text
    feedback = quiz[1].find("generalfeedback/text").text
    assert r"\mathit{net}_{h1}" in feedback and "w^{+}_{1}" in feedback   # the worked solution


@pytest.fixture(scope="module")
def diagrams_pdf(folder, tmp_path_factory) -> Path:
    """The folder's diagrams.tex compiled by plain pdflatex (derive keeps its PNGs, not its PDF)."""
    work = tmp_path_factory.mktemp("diagrams")
    shutil.copy(folder / "diagrams.tex", work)
    subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "diagrams.tex"], cwd=work,
                   capture_output=True, check=True, timeout=600)
    return work / "diagrams.pdf"


def embedded_picture(q, k: int, folder: Path, page: tuple[float, float]) -> tuple[str, int, int, list]:
    """Variant k's question carries its PNG once, base64, as images/diagram-k.png holds it, at 110 dpi
    of its diagram page's size (pt); its name, width, height and pixels."""
    name = f"diagram-{k:03d}.png"
    files = q.findall("questiontext/file")
    assert [(f.get("name"), f.get("path"), f.get("encoding")) for f in files] == [(name, "/", "base64")]
    data = base64.b64decode(files[0].text)
    assert data == (folder / "images" / name).read_bytes()
    width, height, pixels = parse_png(data)
    assert abs(width - page[0] * 110 / 72) <= 1 and abs(height - page[1] * 110 / 72) <= 1
    return name, width, height, pixels


def test_the_diagram_is_embedded_and_has_the_pictures_size(quiz, folder, diagrams_pdf):
    pages = subprocess.run(["pdfinfo", "-f", "1", "-l", str(N), str(diagrams_pdf)],
                           capture_output=True, text=True, check=True).stdout
    sizes = [tuple(float(x) for x in m) for m in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", pages)]
    assert len(sizes) == N
    for k, (q, (w_pt, h_pt)) in enumerate(zip(quiz[1:], sizes), start=1):
        name, width, height, pixels = embedded_picture(q, k, folder, (w_pt, h_pt))
        assert 300 < width < 800 and 150 < height < 500          # a 2-2-2 network at 110 dpi
        assert len(set(pixels)) > 10                               # not a blank picture
        assert f'src="@@PLUGINFILE@@/{name}"' in q.find("questiontext/text").text
        assert f'width="{width}" height="{height}"' in q.find("questiontext/text").text


def test_no_pdf_means_no_picture_and_says_so(tmp_path):
    result = run_cli("exam", EXAM, "--variants", 2, "--seed", 3, "--out", tmp_path / "x", "--no-pdf")
    assert result.returncode == 0
    assert "moodle.xml has no picture" in result.stderr
    quiz = ET.parse(tmp_path / "x" / "moodle.xml").getroot()
    assert quiz[1].find("questiontext/file") is None
    assert "@@PLUGINFILE@@" not in quiz[1].find("questiontext/text").text
    assert not (tmp_path / "x" / "images").exists()


def test_points_penalty_names_and_tags_from_the_exam_section(tmp_path):
    spec = tmp_path / "exam.toml"
    spec.write_text(EXAM.read_text().replace("[exam]\n", '[exam]\npenalty = 0.1\npoints = {default = 1, '
                                             '"dE/dw1" = 3}\nname = "Midterm"\ncategory = "Course/Midterm"\n'
                                             'idnumber = "mid"\ntags = ["backprop", "midterm"]\n'))
    result = run_cli("exam", spec, "--variants", 2, "--seed", 3, "--out", tmp_path / "x", "--no-pdf")
    assert result.returncode == 0, result.stderr
    quiz = ET.parse(tmp_path / "x" / "moodle.xml").getroot()
    assert quiz[0].find("category/text").text == "$course$/top/Course//Midterm"
    q = quiz[2]
    assert q.find("name/text").text == "Midterm (variant 002)"
    assert q.find("penalty").text == "0.1000000" and q.find("idnumber").text == "mid-v002"
    assert [t.text for t in q.findall("tags/tag/text")] == ["backprop", "midterm"]
    assert [p for p, _, _ in FIELD.findall(q.find("questiontext/text").text)] == ["1", "1", "1", "3", "1", "1"]


@pytest.mark.parametrize("field, value, expected", [
    ("penalty", "1.5", "expected a fraction from 0 to 1"),
    ("points", "0.5", "expected whole numbers from 1 to 100"),
    ("moodle", '"essay"', "expected one of: cloze, numerical"),
    ("tags", '"x"', "expected a list of texts"),
    ("answer_format", '"sig"', "expected one of: decimals, significant"),
])
def test_bad_lms_fields_are_one_line_and_exit_2(tmp_path, field, value, expected):
    spec = tmp_path / "exam.toml"
    spec.write_text(EXAM.read_text().replace("[exam]\n", f"[exam]\n{field} = {value}\n"))
    result = run_cli("exam", spec, "--variants", 2, "--out", tmp_path / "x", "--no-pdf")
    assert result.returncode == 2 and expected in result.stderr and f"[exam] {field}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "x").exists()


def test_same_spec_and_seed_same_moodle_bytes(folder, tmp_path):
    result = run_cli("exam", EXAM, "--variants", N, "--seed", 3, "--out", tmp_path / "again")
    assert result.returncode == 0
    for name in ("moodle.xml", "keys.csv", "keys-long.csv", "images/diagram-001.png"):
        assert (tmp_path / "again" / name).read_bytes() == (folder / name).read_bytes(), name
