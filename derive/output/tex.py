"""Compile .tex to PDF with a real TeX: latexmk + pdflatex, never with shell escape.

A failure becomes one DeriveError whose details are the relevant lines of TeX's log.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
import os
from pathlib import Path
import re
import shutil
import subprocess

from ..errors import DeriveError

PACKAGES = ("latexmk texlive-latex-base texlive-latex-recommended texlive-pictures "
            "texlive-fonts-recommended poppler-utils")
TIMEOUT = 300


def require_tex() -> None:
    missing = [tool for tool in ("latexmk", "pdflatex") if shutil.which(tool) is None]
    if missing:
        raise DeriveError(f"{' and '.join(missing)} not found; install TeX with: "
                          f"sudo apt-get install {PACKAGES} (or use --no-pdf)")


def compile_pdf(tex_path: Path, build_dir: Path, single_run: bool = False) -> Path:
    """Run latexmk on `tex_path`; by-products stay in `build_dir`. Returns the PDF's path there.

    `single_run`: latexmk stops after one pdflatex pass (it would otherwise rerun because the .aux
    file is new), for documents without cross-references such as the exam's long combined ones.
    """
    require_tex()
    tex_path = tex_path.resolve()
    build_dir = build_dir.resolve()
    build_dir.mkdir(parents=True, exist_ok=True)
    # Relative paths: TeX runs in the .tex file's folder and may write only below it.
    outdir = build_dir.relative_to(tex_path.parent)
    command = ["latexmk", "-pdf", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error",
               "-file-line-error", f"-outdir={outdir}", tex_path.name]
    if single_run:
        command[1:1] = ["-e", "$max_repeat=1"]
    try:
        result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, timeout=TIMEOUT, cwd=tex_path.parent,
                                env=_env())
    except subprocess.TimeoutExpired:
        raise DeriveError(f"TeX took longer than {TIMEOUT} s", file=tex_path.name) from None
    pdf = build_dir / (tex_path.stem + ".pdf")
    log = build_dir / (tex_path.stem + ".log")
    ok = result.returncode == 0
    if single_run and result.returncode == 12 and pdf.exists() and log.exists():
        # One pass by request: latexmk reports that it wanted another; TeX itself must be clean.
        ok = not _ERROR_LINE.search(log.read_text(errors="replace"))
    if not ok or not pdf.exists():
        details = log_excerpt(log.read_text(errors="replace") if log.exists() else result.stdout.decode(errors="replace"))
        raise DeriveError("TeX failed (latexmk exit status "
                          f"{result.returncode}); the log says:", file=tex_path.name, details=details)
    return pdf


_ERROR_LINE = re.compile(r"^(!|\S+\.tex:\d+: )", re.MULTILINE)   # TeX errors (-file-line-error)


def _env() -> dict:
    env = dict(os.environ)
    env["openout_any"] = "p"     # TeX may write only below the current folder
    env["openin_any"] = "p"      # ... and read only below it (plus its own tree)
    env.setdefault("SOURCE_DATE_EPOCH", "0")
    env["FORCE_SOURCE_DATE"] = "1"
    return env


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


KEEP_LOGS = "DERIVE_KEEP_LOGS"   # set (to anything but "" or "0"): TeX's logs stay in .build/


def keep_logs() -> bool:
    """Whether TeX's logs stay beside the PDFs (in .build/NAME.log), for the page tests to read
    every Overfull box; by default only the PDFs are kept."""
    return os.environ.get(KEEP_LOGS, "") not in ("", "0")


def compile_all(folder: Path, names: list[str], single_run: bool = False) -> None:
    """Compile the named .tex files of `folder` (in parallel) and keep only the PDFs beside them
    (and, with DERIVE_KEEP_LOGS, TeX's logs in .build/)."""
    build = folder / ".build"
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            pdfs = list(pool.map(lambda n: compile_pdf(folder / n, build / Path(n).stem, single_run),
                                 names))
        for pdf in pdfs:
            shutil.move(str(pdf), folder / pdf.name)
        if keep_logs():
            for pdf in pdfs:
                shutil.move(str(pdf.with_suffix(".log")), build / (pdf.stem + ".log"))
    finally:
        if keep_logs():
            for sub in [p for p in build.iterdir() if p.is_dir()] if build.is_dir() else []:
                shutil.rmtree(sub, ignore_errors=True)
        else:
            shutil.rmtree(build, ignore_errors=True)
