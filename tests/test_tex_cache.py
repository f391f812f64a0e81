"""TeX on a cached format: dumped once, used next time, rebuilt when stale or corrupt, never an error;
the PDFs are those of plain pdflatex; one pass unless the document needs more. Real TeX, no mocks.

Every test has a cache folder of its own (XDG_CACHE_HOME), never the user's.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from derive import cli
from derive.output import tex
from derive.errors import DeriveError

from helpers import ROOT, pdf_text

LECTURE = ROOT / "examples" / "lecture.toml"
EXAM = ROOT / "examples" / "exam.toml"
NAMES = ["worksheet.tex", "solutions.tex"]


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """The derive cache folder inside a fresh XDG_CACHE_HOME."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "derive"


@pytest.fixture
def lecture_tex(tmp_path) -> Path:
    """The lecture's worksheet.tex and solutions.tex, without PDFs."""
    out = tmp_path / "tex"
    assert cli.main(["worksheet", str(LECTURE), "--out", str(out), "--no-pdf"]) == 0
    return out


def copy_tex(source: Path, target: Path, names=NAMES) -> Path:
    target.mkdir(parents=True)
    for name in names:
        shutil.copy(source / name, target / name)
    return target


def pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return next(int(line.split()[-1]) for line in info.splitlines() if line.startswith("Pages:"))


def formats(cache: Path) -> list[Path]:
    return sorted(cache.glob("*.fmt"))


def test_the_first_run_dumps_a_format_and_the_second_uses_it_for_the_same_pdfs(cache, lecture_tex, tmp_path):
    first = tmp_path / "first"
    assert cli.main(["worksheet", str(LECTURE), "--out", str(first)]) == 0
    [fmt] = formats(cache)                  # one head for both documents, so one format
    dumped = fmt.stat()
    for name in NAMES:                      # derive's .tex files stay plain: no %& line, same bytes
        assert (first / name).read_bytes() == (lecture_tex / name).read_bytes()
        assert not (first / name).read_bytes().startswith(b"%&")

    second = copy_tex(lecture_tex, tmp_path / "second")
    results = tex.compile_all(second, NAMES)
    assert [r.format for r in results] == [fmt, fmt]
    assert [r.passes for r in results] == [1, 1]
    assert (fmt.stat().st_ino, fmt.stat().st_mtime_ns) == (dumped.st_ino, dumped.st_mtime_ns)   # not rebuilt
    for name in ("worksheet.pdf", "solutions.pdf"):
        cached, uncached = second / name, first / name
        assert pdf_text(cached) == pdf_text(uncached)
        assert pages(cached) == pages(uncached)
        assert cached.read_bytes() == uncached.read_bytes()
    assert sorted(p.name for p in second.iterdir()) == ["solutions.pdf", "solutions.tex",
                                                         "worksheet.pdf", "worksheet.tex"]


def test_exam_pdfs_on_the_format_are_those_without_it(cache, tmp_path):
    runs = [tmp_path / "cold", tmp_path / "warm"]
    for out in runs:
        assert cli.main(["exam", str(EXAM), "--variants", "2", "--seed", "3", "--out", str(out)]) == 0
    assert len(formats(cache)) == 1
    for name in ("exam.pdf", "solutions.pdf", "keys.pdf"):
        assert (runs[0] / name).read_bytes() == (runs[1] / name).read_bytes(), name


def test_a_changed_preamble_gets_a_format_of_its_own(cache, lecture_tex, tmp_path):
    tex.compile_all(copy_tex(lecture_tex, tmp_path / "a"), NAMES)
    [old] = formats(cache)
    changed = copy_tex(lecture_tex, tmp_path / "b")
    for name in NAMES:
        text = (changed / name).read_text()
        (changed / name).write_text(text.replace("\\usepackage{booktabs}\n", "\\usepackage{booktabs}\n\\usepackage{array}\n"))
    assert [r.format for r in tex.compile_all(changed, NAMES)] == [None, None]   # dumped alongside
    new = [f for f in formats(cache) if f != old]
    assert len(new) == 1
    again = copy_tex(changed, tmp_path / "c")
    assert [r.format for r in tex.compile_all(again, NAMES)] == new * 2
    assert pdf_text(again / "solutions.pdf") == pdf_text(tmp_path / "a" / "solutions.pdf")


def test_a_format_whose_tex_files_changed_since_the_dump_is_rebuilt(cache, lecture_tex, tmp_path):
    """As after an update of LaTeX or a package: a file the dump read is not what it was."""
    tex.compile_all(copy_tex(lecture_tex, tmp_path / "a"), NAMES)
    [fmt] = formats(cache)
    manifest = fmt.with_suffix(".json")
    entry = json.loads(manifest.read_text())
    tikz = next(i for i in entry["inputs"] if i[0].endswith("/tikz.sty"))
    tikz[2] -= 1                            # the recorded time of tikz.sty is no longer the file's
    manifest.write_text(json.dumps(entry))
    assert [r.format for r in tex.compile_all(copy_tex(lecture_tex, tmp_path / "b"), NAMES)] == [None, None]
    assert [r.format for r in tex.compile_all(copy_tex(lecture_tex, tmp_path / "c"), NAMES)] == [fmt, fmt]
    assert json.loads(manifest.read_text())["inputs"] != entry["inputs"]


@pytest.mark.parametrize("damage", ["garbage", "truncated", "no format", "bad manifest", "no manifest"])
def test_a_corrupt_or_missing_cache_is_rebuilt_silently(cache, lecture_tex, tmp_path, damage):
    reference = copy_tex(lecture_tex, tmp_path / "reference")
    tex.compile_all(reference, NAMES)
    [fmt] = formats(cache)
    manifest = fmt.with_suffix(".json")
    if damage == "garbage":
        fmt.write_bytes(b"\x1f\x8b not a format at all" * 1000)
    elif damage == "truncated":
        fmt.write_bytes(fmt.read_bytes()[:100_000])
    elif damage == "no format":
        fmt.unlink()
    elif damage == "bad manifest":
        manifest.write_text("{not json")
    else:
        manifest.unlink()
    damaged = copy_tex(lecture_tex, tmp_path / "damaged")
    assert [r.format for r in tex.compile_all(damaged, NAMES)] == [None, None]
    repaired = copy_tex(lecture_tex, tmp_path / "repaired")
    assert [r.format for r in tex.compile_all(repaired, NAMES)] == [fmt, fmt]
    for name in ("worksheet.pdf", "solutions.pdf"):
        assert (damaged / name).read_bytes() == (reference / name).read_bytes()
        assert (repaired / name).read_bytes() == (reference / name).read_bytes()


def test_two_dumps_of_one_head_at_once_leave_one_sound_format(cache, lecture_tex):
    head = tex.head_of((lecture_tex / "solutions.tex").read_bytes())
    results = []
    threads = [threading.Thread(target=lambda: results.append(tex.build_format(head))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    [fmt] = formats(cache)
    assert results == [fmt] * 3
    assert tex.cached_format(head) == fmt
    assert sorted(p.name for p in cache.iterdir()) == [fmt.name, fmt.with_suffix(".json").name]


def test_the_head_is_the_class_and_the_package_lines_after_it():
    text = (b"% a comment\n\\documentclass[11pt]{article}\n\\usepackage[margin=2cm]{geometry}\n\n"
            b"\\usetikzlibrary{positioning} % why\n\\pgfplotsset{compat=1.16}\n\\allowdisplaybreaks\n"
            b"\\usepackage{parskip}\n\\begin{document}\nx\n\\end{document}\n")
    head = tex.head_of(text)
    assert head == b"".join(text.splitlines(keepends=True)[:6])
    body = tex.body_of(text)
    assert body.count(b"\n") == text.count(b"\n")          # every line keeps its number
    assert body.splitlines()[6:] == text.splitlines()[6:]
    for no_head in (b"%&myformat\n\\documentclass{article}\n", b"\\input{x}\n\\documentclass{article}\n",
                    b"\\documentclass{article}\\begin{document}\n", b"\\usepackage{x}\n"):
        assert tex.head_of(no_head) == b""
    # A command across lines ends the head before it: a head never stops inside a command.
    split = b"\\documentclass{article}\n\\usepackage[a,\n  b]{x}\n\\begin{document}\n"
    assert tex.head_of(split) == b"\\documentclass{article}\n"


def test_a_head_that_cannot_be_dumped_is_compiled_without_a_format(cache, tmp_path):
    """Its own package in the document's folder: the dump (in a folder of its own) cannot find it."""
    folder = tmp_path / "doc"
    folder.mkdir()
    (folder / "mine.sty").write_text("\\newcommand{\\mine}{from my package}\n")
    (folder / "doc.tex").write_text("\\documentclass{article}\n\\usepackage{mine}\n\\pdftrailerid{}\n"
                                    "\\begin{document}\n\\mine\n\\end{document}\n")
    for _ in range(2):
        [result] = tex.compile_all(folder, ["doc.tex"])
        assert result.format is None
        assert "from my package" in pdf_text(folder / "doc.pdf")
    assert formats(cache) == []
    [note] = cache.glob("*.failed")
    assert "mine.sty" in note.read_text()


@pytest.mark.parametrize("line", [r"\pdfmapline{+cmr10 CMR10 <cmr10.pfb}",
                                  r"\chardef\mystack=\pdfcolorstackinit page direct{0 g 0 G}"])
def test_a_head_using_pdftex_state_that_a_format_loses_is_not_dumped(cache, line):
    """Font map lines and colour stacks live outside what \\dump saves: on a format they would be gone."""
    assert tex.build_format(b"\\documentclass{article}\n\\usepackage{xcolor}\n" + line.encode() + b"\n") is None
    assert formats(cache) == []
    [note] = cache.glob("*.failed")
    assert "is lost in a format" in note.read_text()


def test_one_pass_unless_the_document_asks_for_more(cache, tmp_path):
    folder = tmp_path / "doc"
    folder.mkdir()
    (folder / "refs.tex").write_text("\\documentclass{article}\n\\begin{document}\n\\section{First}\\label{s}\n"
                                     "See section~\\ref{s} on page~\\pageref{s}.\n\\end{document}\n")
    (folder / "plain.tex").write_text("\\documentclass{article}\n\\begin{document}\nNo references.\n"
                                      "\\end{document}\n")
    refs, plain = tex.compile_all(folder, ["refs.tex", "plain.tex"])
    assert refs.passes >= 2 and plain.passes == 1
    assert "See section 1 on page 1." in pdf_text(folder / "refs.pdf")
    [single] = tex.compile_all(folder, ["refs.tex"], single_run=True)
    assert single.passes == 1 and "See section ?? on page ??." in pdf_text(folder / "refs.pdf")


def test_an_error_on_a_format_names_the_users_file_and_line(cache, lecture_tex, tmp_path):
    tex.compile_all(copy_tex(lecture_tex, tmp_path / "warm"), NAMES)
    broken = copy_tex(lecture_tex, tmp_path / "broken")
    lines = (broken / "worksheet.tex").read_text().splitlines()
    at = lines.index("\\begin{document}") + 2
    lines.insert(at, "\\nosuchmacro")
    (broken / "worksheet.tex").write_text("\n".join(lines) + "\n")
    with pytest.raises(DeriveError) as error:
        tex.compile_all(broken, NAMES)
    assert f"worksheet.tex:{at + 1}: Undefined control sequence" in error.value.details
    assert "derive-build" not in error.value.details
    assert not (broken / "derive-build").exists()
    assert len(formats(cache)) == 1 and not list(cache.glob("*.failed"))   # the format is not blamed


def test_tex_on_a_format_still_cannot_run_programs(cache, lecture_tex, tmp_path):
    tex.compile_all(copy_tex(lecture_tex, tmp_path / "warm"), NAMES)
    folder = copy_tex(lecture_tex, tmp_path / "shell")
    text = (folder / "worksheet.tex").read_text()
    (folder / "worksheet.tex").write_text(text.replace("\\begin{document}\n",
                                                       "\\begin{document}\n\\immediate\\write18{touch pwned}\n"))
    [result, _] = tex.compile_all(folder, NAMES)
    assert result.format is not None
    assert not (folder / "pwned").exists()
    # Nor does the dump (its input here is not a head derive would cut, but the run is the same).
    target = tmp_path / "pwned-by-the-dump"
    tex.build_format(b"\\documentclass{article}\n\\immediate\\write18{touch " + str(target).encode() + b"}\n")
    assert not target.exists()


def test_a_document_that_fails_on_its_format_is_compiled_without_it(cache, tmp_path):
    """A format is a shortcut, never the reason a document fails: here one dumped from another head
    (without amsmath) and one removed just before use (no mktexfmt, no blame)."""
    folder = tmp_path / "doc"
    folder.mkdir()
    (folder / "doc.tex").write_text("\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n"
                                    "\\begin{align*} a &= b \\end{align*}\n\\end{document}\n")
    text = (folder / "doc.tex").read_bytes()
    wrong = tex.build_format(b"\\documentclass{article}\n\\usepackage{amssymb}\n")
    result = tex.compile_pdf(folder / "doc.tex", folder / "derive-build" / "doc", fmt=wrong)
    assert result.format is None and "a=b" in pdf_text(result.pdf).replace(" ", "")
    assert [p.name for p in cache.glob("*.failed")] == [tex.format_key(tex.head_of(text)) + ".failed"]

    shutil.rmtree(cache)
    gone = tmp_path / "gone.fmt"
    result = tex.compile_pdf(folder / "doc.tex", folder / "derive-build" / "again", fmt=gone)
    assert result.format is None and "a=b" in pdf_text(result.pdf).replace(" ", "")
    assert not cache.exists()
