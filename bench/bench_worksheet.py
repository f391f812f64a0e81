"""Lecture worksheet end to end (spec -> two PDFs + key): our time against TeX's, and TeX's floor.

Run: .venv/bin/python bench/bench_worksheet.py   (prints figures and ratios; not a test)

Uses a cache folder of its own (a temporary XDG_CACHE_HOME), so the first run is the one with an
empty cache and the user's cache is left alone. The floor is plain pdflatex, one pass per document,
measured in the same run, divided by the cores (bench/texfloor.py).
"""
from __future__ import annotations

import atexit
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="derive-bench-cache-")
atexit.register(shutil.rmtree, os.environ["XDG_CACHE_HOME"], True)   # its formats: 20 MB each

t0 = time.perf_counter()
import sympy  # noqa: E402,F401

t_import = time.perf_counter() - t0

import texfloor  # noqa: E402
from derive import spec as spec_mod  # noqa: E402
from derive.apps import worksheet  # noqa: E402
from derive.solution import solve  # noqa: E402
from derive.output import tex  # noqa: E402

RUNS = 5
NAMES = ["worksheet.tex", "solutions.tex"]
LECTURE = ROOT / "examples/lecture.toml"


def once(folder: Path) -> tuple[float, float, list[tex.Compiled]]:
    start = time.perf_counter()
    solution = solve(spec_mod.load(LECTURE))
    files = worksheet.documents(solution)
    for name, text in files.items():
        (folder / name).write_text(text)
    ours = time.perf_counter() - start
    start = time.perf_counter()
    compiled = tex.compile_all(folder, NAMES)
    return ours, time.perf_counter() - start, compiled


# Fresh processes run as an installed package runs: with Python's bytecode cache (.pyc). (This
# machine's sessions set PYTHONDONTWRITEBYTECODE=1, under which a fresh checkout compiles derive's
# 60 modules from source in every process: about 0.1 s more.)
BYTECODE = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def process(*args: str) -> float:
    """Seconds of one fresh `python ARGS` in the repository."""
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], cwd=ROOT, check=True, capture_output=True, env=BYTECODE)
    return time.perf_counter() - start


def fresh_process(out: Path, *extra: str) -> float:
    """Seconds of `python -m derive worksheet examples/lecture.toml --out DIR`, as a user runs it."""
    shutil.rmtree(out, ignore_errors=True)
    return process("-m", "derive", "worksheet", str(LECTURE), "--out", str(out), *extra)


def main() -> None:
    cold_dir = Path(tempfile.mkdtemp())
    cold_ours, cold_tex, cold = once(cold_dir)
    ours, tex_times, warm = [], [], None
    cpu = texfloor.children_cpu()
    for _ in range(RUNS):
        folder = Path(tempfile.mkdtemp())
        o, t, warm = once(folder)
        ours.append(o)
        tex_times.append(t)
        shutil.rmtree(folder)
    cpu_warm = (texfloor.children_cpu() - cpu) / RUNS
    cpu = texfloor.children_cpu()
    plain = {name: min(texfloor.plain_pass(cold_dir, name) for _ in range(3)) for name in NAMES}
    cpu_plain = (texfloor.children_cpu() - cpu) / 3
    floor = texfloor.floor(plain)
    old = {name: min(texfloor.latexmk(cold_dir, name) for _ in range(3)) for name in NAMES}
    processes, no_pdf, python, with_sympy = [], [], [], []
    with tempfile.TemporaryDirectory() as outs:
        fresh_process(Path(outs) / "pyc", "--no-pdf")          # derive's .pyc written once
        for i in range(RUNS):
            processes.append(fresh_process(Path(outs) / str(i)))
            no_pdf.append(fresh_process(Path(outs) / f"n{i}", "--no-pdf"))
            python.append(process("-c", "pass"))
            with_sympy.append(process("-c", "import sympy"))
    shutil.rmtree(cold_dir)
    o, t, p = statistics.median(ours), statistics.median(tex_times), statistics.median(processes)
    n, py, sy = (statistics.median(x) for x in (no_pdf, python, with_sympy))
    share = n - sy
    print(f"{texfloor.cores()} cores, {texfloor.load()}")
    print(f"import sympy: {t_import:.3f} s (once per process)")
    print(f"plain pdflatex, one pass: " + ", ".join(f"{n} {s:.3f} s" for n, s in plain.items())
          + f"; floor (sum / {texfloor.cores()} cores) {floor:.3f} s")
    print(f"latexmk -pdf (as derive did before): " + ", ".join(f"{n} {s:.3f} s" for n, s in old.items()))
    print(f"first run, empty cache: TeX {cold_tex:.3f} s (formats used: "
          f"{sum(c.format is not None for c in cold)}/2, the format dumped alongside)")
    print(f"later runs: TeX {t:.3f} s (formats used: {sum(c.format is not None for c in warm)}/2, "
          f"passes {[c.passes for c in warm]})")
    print(f"CPU time of the TeX processes for the two documents: plain pdflatex {cpu_plain:.3f} s, "
          f"derive's {cpu_warm:.3f} s")
    print()
    print("| lecture worksheet end to end | ours | TeX | total | TeX / floor |")
    print("| --- | --- | --- | --- | --- |")
    print(f"| first run, empty cache (after import sympy {t_import:.2f} s) | {cold_ours:.2f} s | "
          f"{cold_tex:.2f} s | {cold_ours + cold_tex:.2f} s | {cold_tex / floor:.2f} |")
    print(f"| repeated, in one process (median of {RUNS}) | {o * 1000:.0f} ms | {t:.2f} s | {o + t:.2f} s | "
          f"{t / floor:.2f} |")
    print(f"| `derive worksheet` in a fresh process (median of {RUNS}; goal <= 1.0 s) | | | {p:.2f} s | |")
    print(f"| `derive worksheet --no-pdf` in a fresh process: python {py:.2f} s + `import sympy` {sy - py:.2f} s "
          f"+ derive's own {share:.2f} s | {share:.2f} s | | {n:.2f} s | |")
    print(f"| plain pdflatex of the two .tex, one pass each (floor: sum / {texfloor.cores()} cores) | | "
          f"{floor:.2f} s | | 1.00 |")
    print(f"| latexmk -pdf of the two .tex (before; they ran two at a time: the longer) | | {max(old.values()):.2f} s | | "
          f"{max(old.values()) / floor:.2f} |")
    print()
    print(f"derive's own share beyond Python's and sympy's start-up: {share:.3f} s = {share / t:.2f} x derive's TeX "
          f"({t:.3f} s), {share / floor:.2f} x the floor ({floor:.3f} s); goal <= 0.5")
    print(f"after: {texfloor.load()}")


if __name__ == "__main__":
    main()
