"""Several samples: sample 1's chain rule in full, the others' values in a table of the same
quantities (one row per quantity, one column per sample), fitting the page.

Real TeX: the documents are compiled, their logs read and their pages counted.
"""
from __future__ import annotations

import re
import subprocess
import tomllib

import pytest

from helpers import ROOT, pdf_text, run_cli


def _pages(pdf) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", info).group(1))


def _log(folder, name: str) -> str:
    """Compile `name` in `folder` and return pdflatex's log."""
    subprocess.run(["pdflatex", "-no-shell-escape", "-interaction=nonstopmode", name], cwd=folder,
                   capture_output=True, timeout=300)
    return (folder / name.replace(".tex", ".log")).read_text(encoding="latin-1")


def _wide(log: str, lines: range | None = None) -> list[float]:
    """Overfull \\hbox over 1 pt (at .tex lines in `lines`, when given)."""
    found = re.finditer(r"Overfull \\hbox \((\d+(?:\.\d+)?)pt too wide\)[^\n]*?(\d+)(?:--\d+)?\n", log)
    return [float(m.group(1)) for m in found
            if float(m.group(1)) > 1.0 and (lines is None or int(m.group(2)) in lines)]


def _table_lines(tex: str) -> range:
    """The .tex lines of the other samples' tables."""
    lines = tex.splitlines()
    start = next(i for i, line in enumerate(lines, 1) if line.startswith(r"\section*{Sample"))
    end = next(i for i, line in enumerate(lines, 1) if "All samples together" in line)
    return range(start, end)


@pytest.fixture(scope="module")
def linear(tmp_path_factory):
    out = tmp_path_factory.mktemp("linear") / "o"
    result = run_cli("worksheet", "examples/linear_constrained.toml", "--out", out)
    assert result.returncode == 0, result.stderr
    return out


def test_only_sample_1_is_worked_in_full(linear):
    tex = (linear / "solutions.tex").read_text()
    text = " ".join(pdf_text(linear / "solutions.pdf").split())
    assert "Sample 1" in text and "Samples 2 to 5" in text
    assert r"\section*{Sample 3}" not in tex and "Sample 3:" in text     # given, not worked
    # sample 1's forward line with its numbers, no other sample's
    assert "0.1 · 1 + 0.2 · 2 + 0 · 1 = 0.5" in text
    assert "0.1 · 3 + 0.2 · 4" not in text
    assert tex.count(r"\begin{derivestep}") == 8      # 5 steps of sample 1, totals, update, loss after
    assert "computed the same way as for sample 1" in text


def test_the_table_holds_every_other_samples_values(linear):
    """Values computed here, by hand: out = w1 x1 + w2 x2 + b1, E = ½(t − out)², ∂E/∂w1 = −(t − out) x1."""
    spec = tomllib.loads((ROOT / "examples/linear_constrained.toml").read_text())
    (w1, w2), = spec["parameters"]["weights"][0]
    tex = (linear / "solutions.tex").read_text()
    table = tex[tex.index(r"\section*{Samples 2 to 5}"):tex.index("All samples together")]
    assert r"\toprule" in table and r"\bottomrule" in table
    assert "& sample 2 & sample 3 & sample 4 & sample 5" in table
    rows = {line.split("&")[0].strip(): [c.strip().strip("$").removesuffix(r"\\[3pt]").strip().strip("$")
                                         for c in line.split("&")[1:]]
            for line in table.splitlines() if line.startswith("$")}
    x, t = spec["data"]["inputs"][1:], [y[0] for y in spec["data"]["targets"][1:]]
    out = [w1 * a + w2 * b for a, b in x]
    assert [float(v) for v in rows[r"$\mathit{out}_{o1}$"]] == pytest.approx(out, abs=1e-9)
    assert [float(v) for v in rows[r"$E_{\mathit{total}}$"]] == pytest.approx(
        [0.5 * (ti - o) ** 2 for ti, o in zip(t, out)], abs=1e-9)
    dw1 = r"$\frac{\partial E_{\mathit{total}}}{\partial w_{1}}$"
    assert [float(v) for v in rows[dw1]] == pytest.approx([-(ti - o) * a for ti, o, (a, _) in zip(t, out, x)],
                                                          abs=1e-9)


def test_the_linear_solution_is_short_and_fits(linear, tmp_path):
    # 14 pages when every sample's chain was written out; the regularisation part takes about four
    assert _pages(linear / "solutions.pdf") <= 8
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "solutions.tex").write_text((linear / "solutions.tex").read_text())
    assert _wide(_log(folder, "solutions.tex")) == []


def test_many_samples_split_the_table_by_columns_and_fit_the_page(tmp_path, write_spec):
    """Twelve samples: the table goes on in a second table of columns; nothing runs off the page."""
    spec = tomllib.loads((ROOT / "examples/linear_constrained.toml").read_text())
    del spec["regularization"]
    spec["data"]["inputs"] = [[0.5 + 0.25 * k, 1.0 - 0.125 * k] for k in range(12)]
    spec["data"]["targets"] = [[1.5 + 0.375 * k] for k in range(12)]
    path = write_spec(spec)
    out = tmp_path / "o"
    assert run_cli("worksheet", path, "--out", out, "--no-pdf").returncode == 0
    tex = (out / "solutions.tex").read_text()
    headers = [line for line in tex.splitlines() if line.startswith(" & sample")]
    assert len(headers) >= 2
    columns = [int(n) for line in headers for n in re.findall(r"sample (\d+)", line)]
    assert sorted(set(columns)) == list(range(2, 13))
    # (the totals' sums of twelve terms are the core layout's: only the tables are checked here)
    assert _wide(_log(out, "solutions.tex"), _table_lines(tex)) == []


def test_two_samples_fold_the_narrow_table(tmp_path):
    """softmax.toml (2 samples): one column of values is folded into blocks side by side, headed once
    by its sample across the table (each block headed "sample 2" read as two samples)."""
    out = tmp_path / "o"
    assert run_cli("worksheet", "examples/softmax.toml", "--out", out, "--no-pdf").returncode == 0
    tex = (out / "solutions.tex").read_text()
    assert r"\section*{Sample 2}" in tex
    table = tex[tex.index(r"\section*{Sample 2}"):tex.index("All samples together")]
    assert r"\begin{longtable}{lr@{\hspace{2.5em}}lr}" in table
    assert table.count("sample 2") == 1 and "\\multicolumn{4}{c}{sample 2} \\\\\n\\midrule\n\\endhead" in table
    # (two of sample 1's bias lines are 3 and 5 pt too wide, in the core layout as before: not here)
    assert _wide(_log(out, "solutions.tex"), _table_lines(tex)) == []
