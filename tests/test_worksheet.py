"""`derive worksheet`: real .tex, real TeX, real PDFs; the lecture's numbers in the solution."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import derive
import derive.printing.numbers
from derive.errors import DeriveError
from derive.apps.worksheet import write_worksheet

from helpers import ROOT, pdf_text, run_cli

EXAMPLES = sorted((ROOT / "examples").glob("*.toml"))


@pytest.fixture(scope="module")
def lecture_out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("lecture") / "lecture"
    result = run_cli("worksheet", "examples/lecture.toml", "--out", out)
    assert result.returncode == 0, result.stderr
    return out


def test_the_folder_holds_the_two_pdfs_their_tex_and_the_key_and_nothing_else(lecture_out):
    assert sorted(p.name for p in lecture_out.iterdir()) == [
        ".derive-manifest.json", "key.json", "solutions.pdf", "solutions.tex", "worksheet.pdf", "worksheet.tex"]


LECTURE_NUMBERS = ["0.3775", "0.593269992", "0.596884378", "1.105905967", "0.75136507", "0.772928465",
                   "0.274811083", "0.023560026", "0.298371109", "0.74136507", "0.186815602",
                   "0.082167041", "0.35891648", "0.408666186", "0.51130127", "0.561370121",
                   # the lecture stops at w1's chain; we finish it
                   "0.036350306", "0.055399425", "-0.019049118", "0.241300709", "0.000438568",
                   "0.149780716"]


@pytest.mark.parametrize("number", LECTURE_NUMBERS)
def test_solutions_pdf_shows_the_lecture_number(lecture_out, number):
    assert number in pdf_text(lecture_out / "solutions.pdf")


def test_solutions_pdf_does_not_copy_the_slides_typo(lecture_out):
    assert "0.751366507" not in pdf_text(lecture_out / "solutions.pdf")


def test_solutions_say_once_that_later_lines_use_full_precision(lecture_out):
    text = " ".join(pdf_text(lecture_out / "solutions.pdf").split())
    assert text.count("full-precision") == 1


def test_worksheet_gives_the_weights_but_not_the_answers(lecture_out):
    text = pdf_text(lecture_out / "worksheet.pdf")
    for given in ("0.15", "0.45", "0.55", "0.35", "0.05", "0.99"):
        assert given in text
    for answer in ("0.3775", "0.593269992", "0.75136507", "0.298371109", "0.082167041", "0.35891648",
                   "0.000438568"):
        assert answer not in text


def test_key_in_the_folder_is_the_verified_key(lecture_out):
    key = json.loads((lecture_out / "key.json").read_text())
    assert key == json.loads(json.dumps(derive.derive("examples/lecture.toml").key))
    assert abs(key["gradients"]["weights"][1][0][0] - 0.08216704056423078) < 1e-12


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.stem for e in EXAMPLES])
def test_every_shipped_example_compiles(example, tmp_path):
    out = tmp_path / example.stem
    result = run_cli("worksheet", example, "--out", out)
    assert result.returncode == 0, result.stderr
    assert (out / "solutions.pdf").stat().st_size > 10_000
    key = json.loads((out / "key.json").read_text())
    total = key["loss"]["total"]
    shown = derive.printing.numbers.plain_number(total, derive.load(example).decimals)
    assert shown in pdf_text(out / "solutions.pdf")


def test_two_runs_give_byte_identical_tex_and_key(tmp_path):
    for run in ("a", "b"):
        assert run_cli("worksheet", "examples/softmax.toml", "--out", tmp_path / run, "--no-pdf").returncode == 0
    for name in ("worksheet.tex", "solutions.tex", "key.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_no_pdf_writes_tex_and_key_only(tmp_path):
    result = run_cli("worksheet", "examples/lecture.toml", "--out", tmp_path / "x", "--no-pdf")
    assert result.returncode == 0
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == [
        ".derive-manifest.json", "key.json", "solutions.tex", "worksheet.tex"]


HOSTILE = r"Week 3: \input{/etc/passwd} costs $5 & 100% of_the #1 ^ ~ {x}"


def test_a_hostile_title_prints_literally(tmp_path):
    spec = (ROOT / "examples/lecture.toml").read_text().replace(
        'title = "Lecture 18: one round of forward and backward computation"',
        "title = '''" + HOSTILE + "'''")
    path = tmp_path / "hostile.toml"
    path.write_text(spec)
    result = run_cli("worksheet", path, "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    text = " ".join(pdf_text(tmp_path / "out" / "solutions.pdf").split())
    assert r"\input{/etc/passwd}" in text
    assert "$5 & 100% of_the #1" in text
    assert "root:" not in text


def _broken_templates(tmp_path: Path, old: str, new: str) -> Path:
    folder = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", folder)
    path = folder / "solutions.tex"
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))
    return folder


def _untouched(out: Path) -> None:
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    assert (out / "keep.txt").read_text() == "previous run"
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]


def _run_with_broken_templates(tmp_path: Path, new: str):
    """Run the lecture worksheet into a folder holding another file (--force: write beside it), with
    solutions.tex broken."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("previous run")
    templates = _broken_templates(tmp_path, r"\begin{document}", new)
    result = run_cli("worksheet", "examples/lecture.toml", "--out", out, "--force",
                     env={"DERIVE_TEMPLATES": str(templates)})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    _untouched(out)
    return result.stderr.strip().splitlines()


def test_a_template_error_is_one_clear_line_and_leaves_the_folder_untouched(tmp_path):
    lines = _run_with_broken_templates(tmp_path, r"\begin{document}\BLOCK{ endfo }")
    assert len(lines) == 1 and lines[0].startswith("derive: ") and "template error" in lines[0]


def test_a_tex_error_shows_the_log_lines_and_leaves_the_folder_untouched(tmp_path):
    first, *log = _run_with_broken_templates(tmp_path, r"\begin{document}\undefinedmacro")
    assert first.startswith("derive: ") and "TeX failed" in first
    assert any("Undefined control sequence" in line for line in log)


def test_a_spec_error_writes_nothing(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text((ROOT / "examples/lecture.toml").read_text().replace("learning_rate = 0.5", "learning_rate = -1"))
    result = run_cli("worksheet", bad, "--out", tmp_path / "out")
    assert result.returncode == 2
    assert "[training] learning_rate" in result.stderr
    assert not (tmp_path / "out").exists()


def test_write_worksheet_raises_derive_error_for_missing_templates(tmp_path, monkeypatch):
    monkeypatch.setenv("DERIVE_TEMPLATES", str(tmp_path / "nowhere"))
    with pytest.raises(DeriveError):
        write_worksheet(derive.load(ROOT / "examples/lecture.toml"), tmp_path / "out", pdf=False)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("example, asked", [("lecture", "the weights whose gradients you computed"),
                                            ("linear_constrained", "the weight whose gradient you computed")])
def test_the_update_task_asks_for_the_weights_it_names(tmp_path, example, asked):
    """"each weight after one step: w5+, w1+" said each weight and asked for two."""
    assert run_cli("worksheet", f"examples/{example}.toml", "--out", tmp_path / "o", "--no-pdf").returncode == 0
    sheet = " ".join((tmp_path / "o" / "worksheet.tex").read_text().split())
    assert f"The update: {asked},{{}} after one step of gradient descent:" in sheet    # ,{}: TeX-escaped
    assert "each weight after" not in sheet
