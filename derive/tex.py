"""Compile .tex to PDF with a real TeX (pdflatex, never with shell escape), close to TeX's own speed.

- Passes. One pdflatex pass, called directly; latexmk only when the log asks for more (references,
  a table of contents), which derive's own documents never do.
- Side by side. The documents of one command compile in parallel, as many as there are cores.

A failure becomes one DeriveError whose details are the relevant lines of TeX's log.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .errors import DeriveError

PACKAGES = ("latexmk texlive-latex-base texlive-latex-recommended texlive-pictures "
            "texlive-fonts-recommended poppler-utils")
TIMEOUT = 300
# TeX may neither run programs nor stop to ask; -file-line-error gives "file:line: message" lines.
SAFETY = ["-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error"]
# The build folder beside the .tex files.
BUILD = ".build"


def require_tex() -> None:
    missing = [tool for tool in ("latexmk", "pdflatex") if shutil.which(tool) is None]
    if missing:
        raise DeriveError(f"{' and '.join(missing)} not found; install TeX with: "
                          f"sudo apt-get install {PACKAGES} (or use --no-pdf)")


@dataclass(frozen=True)
class Compiled:
    """One compiled document: where its PDF is, how many pdflatex passes it took."""
    pdf: Path
    passes: int


def compile_all(folder: Path, names: list[str], single_run: bool = False) -> list[Compiled]:
    """Compile the named .tex files of `folder` side by side and keep only the PDFs beside them.

    As many TeX runs at a time as there are cores, the largest documents first (so that a long one
    does not start last). `single_run`: one pdflatex pass even if the log asks for more (documents
    known to need one). The results are in the order of `names`; the first failure is raised after
    all have finished.
    """
    require_tex()
    folder = Path(folder).resolve()
    build = folder / BUILD
    order = sorted(names, key=lambda n: (folder / n).stat().st_size, reverse=True)
    try:
        with ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1)) as pool:
            futures = {name: pool.submit(compile_pdf, folder / name, build / Path(name).stem, single_run)
                       for name in order}
            results = [futures[name].result() for name in names]
        moved = []
        for result in results:
            target = folder / result.pdf.name
            shutil.move(str(result.pdf), target)
            moved.append(Compiled(target, result.passes))
        return moved
    finally:
        shutil.rmtree(build, ignore_errors=True)


def compile_pdf(tex_path: Path, build_dir: Path, single_run: bool = False) -> Compiled:
    """Compile one document; by-products stay in `build_dir` (below the .tex file's folder).

    One pdflatex pass; if its log asks for another (references, a table of contents) and not
    `single_run`, latexmk takes over and runs as many as needed.
    """
    require_tex()
    tex_path = tex_path.resolve()
    build_dir = build_dir.resolve()
    build_dir.mkdir(parents=True, exist_ok=True)
    # Relative paths: TeX runs in the .tex file's folder and may write only below it.
    outdir = build_dir.relative_to(tex_path.parent)
    stem = tex_path.stem
    result = _run(["pdflatex", *SAFETY, f"-output-directory={outdir}", tex_path.name], tex_path)
    pdf = build_dir / (stem + ".pdf")
    log_path = build_dir / (stem + ".log")
    log = log_path.read_text(errors="replace") if log_path.exists() else ""
    if result.returncode != 0 or not pdf.exists():
        details = log_excerpt(log or result.stdout.decode(errors="replace"))
        raise DeriveError(f"TeX failed (pdflatex exit status {result.returncode}); the log says:",
                          file=tex_path.name, details=details)
    if single_run or not needs_another_pass(log):
        return Compiled(pdf, 1)
    return Compiled(pdf, 1 + _latexmk(tex_path, outdir))


def _latexmk(tex_path: Path, outdir: Path) -> int:
    """latexmk after a first pass that asked for more; returns how many pdflatex passes it ran."""
    command = ["latexmk", "-pdf", *SAFETY, f"-outdir={outdir}", tex_path.name]
    result = _run(command, tex_path)
    if result.returncode != 0:
        log = tex_path.parent / outdir / (tex_path.stem + ".log")
        details = log_excerpt(log.read_text(errors="replace") if log.exists() else result.stdout.decode(errors="replace"))
        raise DeriveError(f"TeX failed (latexmk exit status {result.returncode}); the log says:",
                          file=tex_path.name, details=details)
    return len(re.findall(r"Run number \d+ of rule '(?:pdf)?latex", result.stdout.decode(errors="replace")))


def _run(command: list[str], tex_path: Path) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, timeout=TIMEOUT, cwd=tex_path.parent,
                              env=_env())
    except subprocess.TimeoutExpired:
        raise DeriveError(f"TeX took longer than {TIMEOUT} s", file=tex_path.name) from None


def _env() -> dict:
    env = dict(os.environ)
    env["openout_any"] = "p"     # TeX may write only below the current folder
    env["openin_any"] = "p"      # ... and read only below it (plus its own tree)
    env.setdefault("SOURCE_DATE_EPOCH", "0")
    env["FORCE_SOURCE_DATE"] = "1"
    return env


# -- passes ------------------------------------------------------------------------------------
# What LaTeX and its packages print when the next pass would differ: labels, references and
# citations, rerun requests, and auxiliary files read before this pass wrote them (not the .aux:
# every first pass misses it, and without labels the next pass reads nothing from it).
_ANOTHER_PASS = re.compile(r"\bRerun\b|\brerun LaTeX|Label\(s\) may have changed|There were undefined|"
                           r"\(re\)run|^No file \S+\.(?:toc|lof|lot|out|bbl|ind|gls|nav|snm)\.$",
                           re.MULTILINE | re.IGNORECASE)


def needs_another_pass(log: str) -> bool:
    """Whether a first pass's log asks for another (cross-references, contents, bibliography)."""
    return bool(_ANOTHER_PASS.search(log))


# -- errors ------------------------------------------------------------------------------------
_ERROR_LINE = re.compile(r"^(!|\S+\.tex:\d+: )", re.MULTILINE)   # TeX errors (-file-line-error)


def log_excerpt(log: str, context: int = 3, limit: int = 20) -> str:
    """The lines of a TeX log around its errors (lines starting with '!' or 'file:line: ')."""
    lines = log.splitlines()
    picked: list[int] = []
    for i, line in enumerate(lines):
        if _ERROR_LINE.match(line):
            picked.extend(range(max(0, i - 1), min(len(lines), i + context + 1)))
    if not picked:
        picked = list(range(max(0, len(lines) - limit), len(lines)))
    seen: list[int] = []
    for i in picked:
        if i not in seen:
            seen.append(i)
    return "\n".join("  " + lines[i] for i in seen[:limit])
