"""Documents that fragments land in, compiled by a real TeX; their logs read for overfull boxes.

Shared by the tests of snippets and slides: `compile_tex` runs latexmk and returns the log,
`overfull` lists every box over the tolerance (TeX's own words: `Overfull \\hbox (12.3pt too wide)`).
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

OVERFULL = re.compile(r"^Overfull \\[hv]box \((\d+(?:\.\d+)?)pt too (?:wide|high)\)(.*)$", re.MULTILINE)

# The documents: a class line and its packages; `fit` is the snippet's --fit for it.
DOCUMENTS = {
    "article": ("\\documentclass{article}\n\\usepackage{derive}", "article"),
    "scrartcl": ("\\documentclass{scrartcl}\n\\usepackage{derive}", "article"),
    "twocolumn": ("\\documentclass[twocolumn]{article}\n\\usepackage{derive}", "twocolumn"),
    "beamer": ("\\documentclass[aspectratio=169]{beamer}\n\\usepackage{derive}", "beamer"),
    "ngerman": ("\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage[ngerman]{babel}\n"
                "\\usepackage{hyperref}\n\\usepackage{derive}", "article"),
}


def compile_tex(folder: Path, name: str) -> str:
    """latexmk on folder/name.tex (no shell escape); the log's text. A TeX error fails with its lines."""
    result = subprocess.run(["latexmk", "-pdf", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error",
                             "-file-line-error", f"{name}.tex"], cwd=folder, capture_output=True, timeout=600)
    log = (folder / f"{name}.log").read_text(errors="replace")
    if result.returncode != 0:
        errors = [line for line in log.splitlines() if line.startswith("!") or ".tex:" in line]
        raise AssertionError(f"TeX failed on {folder / name}.tex: " + " | ".join(errors[:6]))
    return log


def overfull(log: str, tolerance: float = 1.0) -> list[str]:
    """Every overfull box over `tolerance` points, as TeX reported it."""
    return [m.group(0) for m in OVERFULL.finditer(log) if float(m.group(1)) > tolerance]
