"""Lecture worksheet end to end (spec -> two PDFs + key): our time against TeX's.

Run: .venv/bin/python bench/bench_worksheet.py   (prints figures and ratios; not a test)
"""
from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

t0 = time.perf_counter()
import sympy  # noqa: E402,F401

t_import = time.perf_counter() - t0

from derive import spec as spec_mod  # noqa: E402
from derive import tex, worksheet  # noqa: E402
from derive.solve import solve  # noqa: E402

RUNS = 5


def once(folder: Path) -> tuple[float, float]:
    start = time.perf_counter()
    solution = solve(spec_mod.load(ROOT / "examples/lecture.toml"))
    files = worksheet.documents(solution)
    for name, text in files.items():
        (folder / name).write_text(text)
    ours = time.perf_counter() - start
    start = time.perf_counter()
    tex.compile_all(folder, ["worksheet.tex", "solutions.tex"])
    return ours, time.perf_counter() - start


def main() -> None:
    cold_dir = Path(tempfile.mkdtemp())
    cold_ours, cold_tex = once(cold_dir)
    ours, tex = [], []
    for _ in range(RUNS):
        folder = Path(tempfile.mkdtemp())
        o, t = once(folder)
        ours.append(o)
        tex.append(t)
        shutil.rmtree(folder)
    shutil.rmtree(cold_dir)
    o, t = statistics.median(ours), statistics.median(tex)
    print(f"import sympy: {t_import:.3f} s (once per process)")
    print(f"first run in this process: ours {cold_ours:.3f} s (derivation + compile + verify + render), "
          f"TeX {cold_tex:.3f} s, total {cold_ours + cold_tex:.3f} s")
    print(f"later runs (median of {RUNS}): ours {o * 1000:.1f} ms, TeX {t:.3f} s (two PDFs in parallel), "
          f"total {o + t:.3f} s")
    print(f"ratio ours/TeX: first run {cold_ours / cold_tex:.2f}, later runs {o / t:.3f}")
    print()
    print("| lecture worksheet end to end | ours | TeX | total |")
    print("| --- | --- | --- | --- |")
    print(f"| first run (after import sympy {t_import:.2f} s) | {cold_ours:.2f} s | {cold_tex:.2f} s | "
          f"{cold_ours + cold_tex:.2f} s |")
    print(f"| repeated (median of {RUNS}) | {o * 1000:.0f} ms | {t:.2f} s | {o + t:.2f} s |")


if __name__ == "__main__":
    main()
