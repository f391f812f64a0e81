"""The page gate: nothing derive writes runs off the page.

Every document is compiled by the real TeX and its log read: no `Overfull \\hbox` wider than 1 pt,
no `Overfull \\vbox`. `make test` checks a small fixed sample (the lecture and three random specs);
the whole matrix (every example, a 5-variant exam, every snippet inside a plain article, 24 random
specs) is marked `full` and runs in `make test-all`.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, matrix_spec, toml_text
from helpers import run_cli

FULL = pytest.mark.full
OVERFULL = re.compile(r"^Overfull \\hbox \((\d+(?:\.\d+)?)pt too wide\)(.*)$|^Overfull \\vbox(.*)$", re.MULTILINE)

# Documents that still overflow because of the lecture-order branch's part (the note of a step set
# in a third alignment column, e.g. the shared-bias note, runs up to 390 pt off the page; the
# worksheet's task list prints every asked name in one line; a display taller than a page). `check`
# fails them on any other overflow and marks them xfail only for these; once that branch lands they pass.
NOTE_COLUMN = "a step's note in a third alignment column (shared bias, ReLU at 0): lecture-order branch"
TASK_LINE = "the worksheet's task line lists every asked name in one unbreakable formula: lecture-order branch"
XFAIL: dict[str, str] = {
    "lecture/solutions": NOTE_COLUMN, "regularization/solutions": NOTE_COLUMN, "tanh/solutions": NOTE_COLUMN,
    "softmax/solutions": NOTE_COLUMN, "deep/solutions": NOTE_COLUMN, "linear_constrained/solutions": NOTE_COLUMN,
    "exam/solutions": NOTE_COLUMN, "snippet-backward": NOTE_COLUMN,
    "snippet-regularization": "the regularised updates, one display taller than a page: lecture-order branch",
    "lecture/worksheet": TASK_LINE, "regularization/worksheet": TASK_LINE, "tanh/worksheet": TASK_LINE,
    "softmax/worksheet": TASK_LINE, "deep/worksheet": TASK_LINE,
}


def overflows(log: str) -> list[str]:
    """Every Overfull \\hbox wider than 1 pt and every Overfull \\vbox, with the log line after it."""
    lines = log.splitlines()
    found = []
    for i, line in enumerate(lines):
        match = OVERFULL.match(line)
        if match and (match.group(3) is not None or float(match.group(1)) > 1.0):
            found.append(" ".join(lines[i:i + 2])[:200])
    return found


LINE = re.compile(r"detected at line (\d+)|in paragraph at lines (\d+)--(\d+)")


def not_theirs(log: str, tex: str) -> list[str]:
    """The overflows that the lecture-order branch's parts do not explain: a display whose block
    has a note in a third column, the worksheet's task line, a display taller than a page. What is
    left is this branch's to fix, and fails the test even where the document is marked xfail."""
    source = tex.splitlines()
    left = []
    for found in overflows(log):
        if found.startswith("Overfull \\vbox"):
            continue                                          # no page break inside a long display
        where = LINE.search(found)
        if where and where.group(1):
            end = int(where.group(1))
            start = max(i for i in range(end) if "\\begin{align" in source[i])
            if any("&& \\text{(" in row for row in source[start:end]):
                continue                                      # a note in a third alignment column
        elif where and any("\\item Forward pass" in row
                           for row in source[int(where.group(2)) - 1:int(where.group(3))]):
            continue                                          # the task line of the worksheet
        left.append(found)
    return left


def check(log: str, tex: str, reason: str | None) -> None:
    """No overflow; where the other branch's part is known to overflow, none of this branch's."""
    if reason is not None:
        assert not_theirs(log, tex) == []
        if overflows(log):
            pytest.xfail(reason)
    assert overflows(log) == []


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
QUICK = [3, 9, 15]         # small random specs in the default run (their solutions have no bias note)
MATRIX = range(24)
PAGE_BREAK = "a step's display taller than a page (no break inside a long step): lecture-order branch"
# Matrix documents that overflow only through the lecture-order branch's parts (measured: with every
# note removed, the solutions still overflow only by the display taller than a page).
MATRIX_XFAIL: dict[str, str] = {f"matrix{i}/worksheet": TASK_LINE for i in MATRIX}
MATRIX_XFAIL |= {f"matrix{i}/solutions": NOTE_COLUMN for i in MATRIX if i not in (3, 9, 15)}
MATRIX_XFAIL |= {f"matrix{i}/solutions": NOTE_COLUMN + "; " + PAGE_BREAK for i in (1, 2, 14, 17, 20, 23)}


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
    log = (folder / ".build" / f"{document}.log").read_text(errors="replace")
    key = f"{name}/{document}"
    check(log, (folder / f"{document}.tex").read_text(), (XFAIL | MATRIX_XFAIL).get(key))


@pytest.mark.parametrize("name, document", [_case("exam", d) for d in ("exam", "solutions", "keys")])
def test_exam_pages_fit(tmp_path_factory, name, document):
    folder = _built(tmp_path_factory, "exam", "exam", ROOT / "examples" / "exam.toml",
                    "--variants", "5", "--seed", "7")
    log = (folder / ".build" / f"{document}.log").read_text(errors="replace")
    check(log, (folder / f"{document}.tex").read_text(), XFAIL.get(f"exam/{document}"))


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
    # TeX numbers the lines of the file it is in: the fragment's, for every display.
    check(log, (tmp_path / "part.tex").read_text(), XFAIL.get(f"snippet-{part}"))
