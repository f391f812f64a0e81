"""The page gate: nothing derive writes runs off the page.

Every document is compiled by the real TeX and its log read: no `Overfull \\hbox` wider than 1 pt,
no `Overfull \\vbox`. `make test` checks a small fixed sample (the lecture and three random specs);
the whole matrix (every example, a 5-variant exam, every snippet inside a plain article, 24 random
specs) is marked `full` and runs in `make test-all`.
"""
from __future__ import annotations

import html
import re
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, matrix_spec, random_spec, toml_text
from helpers import run_cli

from derive.layout.blocks import PAGE_WIDTH, Line, pieces, wrap
from derive.output import tex
from derive.printing.width import latex_width

FULL = pytest.mark.full
OVERFULL = re.compile(r"^Overfull \\hbox \((\d+(?:\.\d+)?)pt too wide\)(.*)$|^Overfull \\vbox(.*)$", re.MULTILINE)

def overflows(log: str) -> list[str]:
    """Every Overfull \\hbox wider than 1 pt and every Overfull \\vbox, with the log line after it."""
    lines = log.splitlines()
    found = []
    for i, line in enumerate(lines):
        match = OVERFULL.match(line)
        if match and (match.group(3) is not None or float(match.group(1)) > 1.0):
            found.append(" ".join(lines[i:i + 2])[:200])
    return found


# A4 with 2.2 cm margins: the text area's top and bottom in PDF points (the page number sits below).
TEXT_TOP, TEXT_BOTTOM = 62.4, 842 - 62.4
WORD = re.compile(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">(.*?)</word>')
SHORT = 0.5      # a page before a step that ends above half its text area is left nearly empty


def page_fill(pdf: Path) -> list[tuple[float, str]]:
    """Each page: how far down its text area the words reach (0 to 1), and the first word of its
    first line (the leftmost word within 8 pt of the topmost)."""
    bbox = subprocess.run(["pdftotext", "-bbox", pdf, "-"], capture_output=True, text=True, check=True).stdout
    pages = []
    for page in re.findall(r"<page.*?</page>", bbox, re.S):
        words = [(float(left), float(top), float(bottom), html.unescape(w))
                 for left, top, bottom, w in WORD.findall(page) if float(bottom) <= TEXT_BOTTOM + 5]
        reach = max((bottom for _, _, bottom, _ in words), default=TEXT_TOP)
        top = min((t for _, t, _, _ in words), default=0)
        first = min(((left, w) for left, t, _, w in words if t < top + 8), default=(0, ""))[1]
        pages.append(((reach - TEXT_TOP) / (TEXT_BOTTOM - TEXT_TOP), first))
    return pages


def nearly_empty(pdf: Path) -> list[str]:
    """Pages that end above half their height although the document goes on: what the rule for
    keeping a step, a heading or a table together must not leave (a short step moves whole to the
    next page only when little room is left; a long one and a long table break). A page before
    one that starts with the document's title again (the next exam variant) may end anywhere."""
    pages = page_fill(pdf)
    title = pages[0][1]
    return [f"page {i} ends at {fill:.2f} of its height, page {i + 1} starts with {following!r}"
            for i, ((fill, _), (_, following)) in enumerate(zip(pages, pages[1:]), 1)
            if fill < SHORT and following != title]


def lone_headings(pdf: Path) -> list[str]:
    """Pages (but the last) whose only text is a heading of a word or two and the page number: a
    heading whose content went on to the next page."""
    text = subprocess.run(["pdftotext", pdf, "-"], capture_output=True, text=True, check=True).stdout
    pages = [[w for w in page.split() if not w.isdigit()] for page in text.split("\f")]
    pages = [page for page in pages if page] or [[]]
    return [f"page {i}: {' '.join(page)!r} alone" for i, page in enumerate(pages[:-1], 1) if len(page) <= 2]


def continued_tables(pdf: Path) -> list[str]:
    """Pages that begin with a table's repeated header ("parameter ..."): a table split across pages."""
    text = subprocess.run(["pdftotext", "-layout", pdf, "-"], capture_output=True, text=True, check=True).stdout
    firsts = [next((line.strip() for line in page.splitlines() if line.strip()), "") for page in text.split("\f")]
    return [f"page {i}: {first!r}" for i, first in enumerate(firsts, 1) if first.startswith("parameter")]


@pytest.mark.parametrize("args, document", [
    (("worksheet", ROOT / "examples" / "adam.toml"), "solutions.pdf"),
    (("exam", ROOT / "examples" / "exam.toml", "--variants", "3", "--seed", "7"), "solutions.pdf")],
    ids=["adam-final-parameters", "exam-summaries"])
def test_a_table_that_fits_a_page_is_not_split(tmp_path, args, document):
    """The summary of ten parameters went 4 + 6 over two pages in every exam variant, and Adam's
    final parameters 6 + 4 onto a last page of their own: a table that fits a page moves whole."""
    assert run_cli(*args, "--out", tmp_path / "out").returncode == 0
    assert continued_tables(tmp_path / "out" / document) == []


def test_the_gate_reads_real_overfull_lines():
    log = ("Overfull \\hbox (0.5pt too wide) in paragraph at lines 1--2\n[]a\n"
           "Overfull \\hbox (12.25pt too wide) detected at line 170\n[]\n"
           "Overfull \\vbox (3.0pt too high) has occurred while \\output is active\n")
    assert len(overflows(log)) == 2
    assert overflows("Underfull \\hbox (badness 10000) in paragraph\n") == []


def _folder(tmp_path_factory, name: str, *args) -> Path:
    out = tmp_path_factory.mktemp(name.replace("/", "-")) / "out"
    result = run_cli(*args, "--out", out, env={"DERIVE_KEEP_LOGS": "1"})
    assert result.returncode == 0, result.stderr
    return out


_BUILT: dict[str, Path] = {}


def _built(tmp_path_factory, key: str, *args) -> Path:
    """Each folder once per test process (its documents are separate test cases)."""
    if key not in _BUILT:
        _BUILT[key] = _folder(tmp_path_factory, key, *args)
    return _BUILT[key]


def _matrix_path(tmp_path_factory, i: int) -> Path:
    path = tmp_path_factory.mktemp(f"spec{i}") / f"matrix{i}.toml"
    path.write_text(toml_text(matrix_spec(i)), encoding="utf-8")
    return path


def _case(name: str, document: str, full: bool = True):
    return pytest.param(name, document, id=f"{name}/{document}", marks=[FULL] if full else [])


EXAMPLES = sorted(p.stem for p in (ROOT / "examples").glob("*.toml") if p.stem != "exam")
QUICK = [3, 9, 15]         # small random specs in the default run
MATRIX = range(24)


def _matrix_case(i: int, document: str):
    return pytest.param(f"matrix{i}", document, id=f"matrix{i}/{document}", marks=[] if i in QUICK else [FULL])


WORKSHEET_CASES = ([_case(n, d, full=n != "lecture") for n in EXAMPLES for d in ("worksheet", "solutions")]
                   + [_matrix_case(i, d) for i in MATRIX for d in ("worksheet", "solutions")])


@pytest.mark.parametrize("name, document", WORKSHEET_CASES)
def test_worksheet_and_solution_pages_fit(tmp_path_factory, name, document):
    if name.startswith("matrix"):
        i = int(name[len("matrix"):])
        spec = _matrix_path(tmp_path_factory, i) if name not in _BUILT else None
        folder = _built(tmp_path_factory, name, "worksheet", spec)
    else:
        folder = _built(tmp_path_factory, name, "worksheet", ROOT / "examples" / f"{name}.toml")
    log = (folder / tex.BUILD / f"{document}.log").read_text(errors="replace")
    assert overflows(log) == []
    assert lone_headings(folder / f"{document}.pdf") == []
    if document == "solutions":
        assert nearly_empty(folder / "solutions.pdf") == []


@pytest.mark.parametrize("name, document", [_case("exam", d) for d in ("exam", "solutions", "keys")])
def test_exam_pages_fit(tmp_path_factory, name, document):
    folder = _built(tmp_path_factory, "exam", "exam", ROOT / "examples" / "exam.toml",
                    "--variants", "5", "--seed", "7")
    log = (folder / tex.BUILD / f"{document}.log").read_text(errors="replace")
    assert overflows(log) == []
    if document != "exam":           # the exam's pages hold answer space
        assert nearly_empty(folder / f"{document}.pdf") == []


SNIPPETS = [("lecture", part) for part in ("network", "forward", "loss", "backward", "update", "vector")] + [
    ("regularization", "regularization")]


@FULL
@pytest.mark.parametrize("spec, part", [pytest.param(s, p, id=f"snippet-{p}") for s, p in SNIPPETS])
def test_every_snippet_fits_a_plain_article(tmp_path, spec, part):
    """A fragment lands in a lecturer's notes: the plain article's 345 pt line."""
    assert run_cli("style", "-o", tmp_path / "derive.sty").returncode == 0
    result = run_cli("snippet", ROOT / "examples" / f"{spec}.toml", "--part", part, "-o", tmp_path / "part.tex")
    assert result.returncode == 0, result.stderr
    (tmp_path / "main.tex").write_text("\\documentclass{article}\n\\usepackage{derive}\n\\begin{document}\n"
                                       "\\input{part}\n\\end{document}\n", encoding="utf-8")
    subprocess.run(["pdflatex", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", "main.tex"],
                   cwd=tmp_path, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL, timeout=300)
    log = (tmp_path / "main.log").read_text(errors="replace")
    assert (tmp_path / "main.pdf").exists(), log[-2000:]
    assert overflows(log) == []


def test_a_mean_over_twelve_samples_breaks_inside_its_parentheses():
    """1/12 (a + b + ...) cannot stay one row; a \\left( ... \\right) pair cannot span two, so the
    parentheses become \\Bigl( ... \\Bigr) and the sum goes on after one of its + signs."""
    terms = [rf"\frac{{\partial E^{{[{k}]}}_{{\mathit{{total}}}}}}{{\partial w_{{1}}}}" for k in range(1, 13)]
    lhs = r"\frac{\partial E}{\partial w_{1}}"
    rows = wrap(Line(lhs, [r"\frac{1}{12} \left(" + " + ".join(terms) + r"\right)", "-0.0016"]))
    assert len(rows) >= 3 and rows[0].lhs == lhs and all(not row.lhs for row in rows[1:])
    assert all(latex_width(lhs + " = " + " = ".join(row.rhs)) <= PAGE_WIDTH for row in rows)
    text = " ".join(" ".join(row.rhs) for row in rows)
    assert text.startswith(r"\frac{1}{12} \Bigl(" + terms[0]) and text.count(r"\Bigr)") == 1
    assert r"\left(" not in text and all(term in text for term in terms)
    assert rows[-1].rhs == ["-0.0016"]


def test_a_long_table_goes_on_in_even_pieces():
    rows = list(range(96))
    assert [len(p) for p in pieces(rows)] == [20, 19, 19, 19, 19]
    assert sum(pieces(rows), []) == rows
    assert pieces(list(range(20))) == [list(range(20))] and pieces([]) == [[]]


@FULL
def test_twelve_samples_averaged_fit_the_pages(tmp_path):
    """Twelve samples, mean reduction: the totals break inside 1/12 (...), the other samples' table
    breaks between its rows, and no page is left nearly empty."""
    spec = random_spec(3012, [2, 3, 2], samples=12, reduction="mean")
    (tmp_path / "many.toml").write_text(toml_text(spec), encoding="utf-8")
    folder = tmp_path / "out"
    result = run_cli("worksheet", tmp_path / "many.toml", "--out", folder, env={"DERIVE_KEEP_LOGS": "1"})
    assert result.returncode == 0, result.stderr
    log = (folder / tex.BUILD / "solutions.log").read_text(errors="replace")
    assert overflows(log) == []
    assert nearly_empty(folder / "solutions.pdf") == []
