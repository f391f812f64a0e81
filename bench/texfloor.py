"""TeX's floor for the benches: plain pdflatex, one pass per document, measured in the same run.

The floor of a set of documents is the sum of their single-pass times divided by the cores: no
scheduling of whole pdflatex runs can beat it. derive's figures are given as ratios to it.
"""
from __future__ import annotations

import os
import resource
import subprocess
import tempfile
import time
from pathlib import Path

from derive.output import tex


def plain_pass(folder: Path, name: str) -> float:
    """Seconds of one plain pdflatex pass over folder/name (no format, the same safety flags)."""
    with tempfile.TemporaryDirectory(dir=folder, prefix="plain-") as out:
        start = time.perf_counter()
        subprocess.run(["pdflatex", *tex.SAFETY, f"-output-directory={Path(out).name}", name], cwd=folder,
                       env=tex.tex_environment(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=True)
        return time.perf_counter() - start


def latexmk(folder: Path, name: str) -> float:
    """Seconds of `latexmk -pdf` over folder/name, the way derive compiled before (for comparison)."""
    with tempfile.TemporaryDirectory(dir=folder, prefix="latexmk-") as out:
        start = time.perf_counter()
        subprocess.run(["latexmk", "-pdf", *tex.SAFETY, f"-outdir={Path(out).name}", name], cwd=folder,
                       env=tex.tex_environment(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=True)
        return time.perf_counter() - start


def floor(times: dict[str, float]) -> float:
    return sum(times.values()) / cores()


def cores() -> int:
    return os.cpu_count() or 1


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def children_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes so far: TeX's work, which the
    load of other processes on the machine does not inflate the way it inflates wall time."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
