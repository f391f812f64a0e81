"""Exam variants: derive once, substitute many. Figures and ratios for the README (a script, not a test).

    python3 bench/bench_exam.py [--variants 200] [--no-tex]

(a) start-up: import + the symbolic derivation of examples/exam.toml's shape, once per process;
(b) N variants' .tex + keys after start-up, split into drawing and acceptance, the verified solve
    (of which the independent numpy + finite-difference check), rendering and Moodle XML;
(c) the same per variant with the derivation redone for every variant (the caches cleared): the
    naive baseline that "derive once" avoids;
(d) the independent check's share on a larger network (3-4-4-2), where finite differences cost most;
(e) TeX: exam.pdf, solutions.pdf, keys.pdf and the diagram PNGs of N variants as derive makes them
    (one pdflatex pass each on the cached format, the diagrams in parts, side by side), against TeX's
    floor: plain pdflatex, one pass per document (diagrams.tex whole), measured in the same run,
    summed and divided by the cores (bench/texfloor.py);
(f) `derive exam --no-pdf` end to end in a fresh process, as a user runs it;
(g) `derive exam` with the PDFs end to end in a fresh process, against the same floor.

The TeX parts use a cache folder of their own (a temporary XDG_CACHE_HOME), warmed once first.

Prints markdown ready to paste.
"""
from __future__ import annotations

import argparse
import atexit
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="derive-bench-cache-")
atexit.register(shutil.rmtree, os.environ["XDG_CACHE_HOME"], True)   # its formats: 20 MB each

T0 = time.perf_counter()
import texfloor  # noqa: E402
import derive  # noqa: E402
from derive.apps.exam import draw as exam_draw
from derive.apps.exam import settings as exam_settings
from derive.apps.exam import folder as exam_cli
from derive.apps.exam import layout as exam_layout
from derive.apps.exam import cloze, diagrams
from derive.numeric import compiled as numeric
from derive import solution  # noqa: E402
from derive.derivation import derive as derive_shape  # noqa: E402
from derive.model.network import Shape  # noqa: E402
from derive.output.render import render  # noqa: E402
from derive.solution import solve  # noqa: E402
from derive.output import tex  # noqa: E402

T_IMPORT = time.perf_counter() - T0
EXAM = ROOT / "examples" / "exam.toml"


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def startup() -> tuple[derive.Spec, exam_settings.Settings, float]:
    start = time.perf_counter()
    spec = derive.load(EXAM)
    derive_shape(Shape.of(spec))                  # the symbolic work, once per shape
    settings = exam_settings.settings(spec)
    return spec, settings, time.perf_counter() - start


def batch(spec, settings, n: int) -> dict[str, float]:
    """The parts of N variants' .tex + keys, in seconds."""
    draws, t_draw = timed(exam_draw.draw_variants, spec, settings, n, keep=False, reject_duplicates=True)
    specs = [v for v in exam_draw.variants(spec, settings, n)]          # warm-up of the printing caches
    _, t_variants = timed(exam_draw.variants, spec, settings, n)
    t_verify = 0.0
    for v in specs:
        _, t = timed(solution.verify_key, v.spec, v.solution.key)
        t_verify += t
    _, t_solve = timed(lambda: [solve(v.spec, check=False) for v in specs])
    files, t_docs = timed(exam_cli.documents, spec, settings, specs)
    quiz, t_moodle = timed(cloze.quiz, spec, settings, specs)
    files["moodle.xml"] = quiz
    return {"draw": t_draw, "variants": t_variants, "solve": t_solve, "verify": t_verify,
            "documents": t_docs + t_moodle, "moodle": t_moodle, "total": t_variants + t_docs + t_moodle,
            "draws": draws.draws, "files": len(files), "bytes": sum(len(t) for t in files.values())}


def naive(spec, settings, k: int) -> float:
    """Seconds per variant when every variant derives its shape again (derive's and sympy's caches
    cleared)."""
    from sympy.core.cache import clear_cache
    specs = exam_draw.variants(spec, settings, k)
    start = time.perf_counter()
    for v in specs:
        derive_shape.cache_clear()
        numeric._EVALUATORS.clear()
        clear_cache()
        solution = solve(v.spec)
        variant = dataclasses.replace(v, solution=solution)
        render("solutions.tex", exam_layout.solution_context(variant))
    return (time.perf_counter() - start) / k


def larger_network(n: int) -> tuple[float, float]:
    """A 3-4-4-2 sigmoid network: seconds per variant for the verified solve and for the check."""
    import numpy as np
    rng = np.random.default_rng(0)
    layers = [3, 4, 4, 2]
    spec = derive.parse({
        "network": {"layers": layers, "activation": "sigmoid"},
        "data": {"inputs": [0.2, 0.5, 0.9], "targets": [0.1, 0.8]},
        "parameters": {"weights": [rng.uniform(-1, 1, (layers[l + 1], layers[l])).round(2).tolist()
                                   for l in range(3)], "biases": [0.1, 0.2, 0.3]},
        # 6 places: the first layer's gradient of a 3-4-4-2 net is often below 0.01, which 4 places
        # could not ask (an answer at least 20 × its tolerance, the small_answer rule)
        "output": {"decimals": 6},
        "exam": {"questions": ["E_total", "dE/dw(1)_11"], "tolerance": 0.000005, "seed": 1},
    })
    settings = exam_settings.settings(spec)
    specs = exam_draw.variants(spec, settings, n)
    _, t_all = timed(lambda: [solve(v.spec) for v in specs])
    _, t_check = timed(lambda: [solution.verify_key(v.spec, v.solution.key) for v in specs])
    return t_all / n, t_check / n


def tex_time(spec, settings, n: int) -> dict:
    """derive's TeX for N variants (cache warmed first): solutions.pdf, exam.pdf, keys.pdf and the
    diagrams' PNGs as `derive exam` makes them (the diagrams in parts, all side by side, each started
    at once, without the Python that writes them), and plain pdflatex's floor of the same four .tex."""
    specs = exam_draw.variants(spec, settings, n)
    files = exam_cli.documents(spec, settings, specs)
    files[diagrams.SOURCE] = diagrams.document(specs)
    sources = exam_cli.PDFS + [diagrams.SOURCE]
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        for name in sources:
            (folder / name).write_text(files[name])
        head = tex.head_of((folder / "keys.tex").read_bytes())
        if tex.cached_format(head) is None:
            tex.build_format(head)
        cpu = texfloor.children_cpu()
        start = time.perf_counter()
        with tex.Batch(folder, single_run=True) as batch:
            drawn = diagrams.start(batch, folder, specs)
            compiled = [batch.submit(name) for name in exam_cli.PDFS]
            diagrams.collect(drawn, folder)
        t = time.perf_counter() - start
        cpu_derive = texfloor.children_cpu() - cpu
        pages = {}
        for name in exam_cli.PDFS:
            info = subprocess.run(["pdfinfo", str(folder / name.replace(".tex", ".pdf"))],
                                  capture_output=True, text=True).stdout
            pages[name] = next(int(line.split()[-1]) for line in info.splitlines() if line.startswith("Pages"))
        cpu = texfloor.children_cpu()
        plain = {name: texfloor.plain_pass(folder, name) for name in sources}
        cpu_plain = texfloor.children_cpu() - cpu
    return {"derive": t, "pages": pages, "plain": plain, "floor": texfloor.floor(plain),
            "formats": sum(c.result().format is not None for c in compiled), "cpu_derive": cpu_derive,
            "cpu_plain": cpu_plain, "parts": len(drawn)}


def worksheet_process(k: int) -> float:
    """Seconds per `derive worksheet SPEC --no-pdf` in a fresh process: a variant made the naive way."""
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        for i in range(k):
            subprocess.run([sys.executable, "-m", "derive", "worksheet", str(EXAM), "--out",
                            str(Path(folder) / str(i)), "--no-pdf"], cwd=ROOT, check=True, capture_output=True)
        return (time.perf_counter() - start) / k


# Fresh processes run as an installed package runs, with Python's bytecode cache (this machine's
# sessions set PYTHONDONTWRITEBYTECODE=1, which would compile derive's modules in every process).
BYTECODE = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def cli(n: int, pdf: bool = False) -> float:
    """Seconds of `derive exam examples/exam.toml --variants N --seed 1 --out DIR` in a fresh process."""
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "derive", "exam", str(EXAM), "--variants", str(n), "--seed", "1",
                        "--out", str(Path(folder) / "x")] + ([] if pdf else ["--no-pdf"]), cwd=ROOT, check=True,
                       capture_output=True, env=BYTECODE)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=200)
    parser.add_argument("--no-tex", action="store_true", help="skip the TeX measurement")
    args = parser.parse_args()
    n = args.variants
    spec, settings, t_start = startup()
    b = batch(spec, settings, n)
    per = b["total"] / n
    t_naive = naive(spec, settings, 3)
    t_process = worksheet_process(3)
    big_solve, big_check = larger_network(50)
    t_cli = cli(n)
    print(f"start-up: import {T_IMPORT:.2f} s, derivation of the shape {t_start:.2f} s (once per process)")
    print(f"{n} variants ({b['draws']} draws): variants {b['variants']:.3f} s, documents {b['documents']:.3f} s; "
          f"{b['files']} files, {b['bytes'] / 1e6:.1f} MB")
    print()
    print(f"| {n} variants of examples/exam.toml, after start-up | time | per variant |")
    print("| --- | --- | --- |")
    rows = [
        ("drawing + acceptance rules (incl. rejected draws)", b["draw"]),
        ("verified solve (evaluate, key, independent check)", b["variants"] - b["draw"]),
        ("  of which the numpy + finite-difference check", b["verify"]),
        ("rendering: every .tex, keys.json, keys.csv, keys-long.csv, moodle.xml (cloze)", b["documents"]),
        ("  of which moodle.xml (cloze, no images: --no-pdf)", b["moodle"]),
        (f"**{n} variants' .tex + keys** (goal <= 2 s, 10 ms a variant)", b["total"]),
    ]
    for label, t in rows:
        print(f"| {label} | {t:.3f} s | {t / n * 1000:.2f} ms |")
    print()
    print("| derive once, substitute many | per variant | ratio |")
    print("| --- | --- | --- |")
    print(f"| one `derive worksheet --no-pdf` process per variant | {t_process * 1000:.0f} ms | "
          f"{t_process / per:.0f}x |")
    print(f"| derivation redone for every variant (derive's and sympy's caches cleared) | "
          f"{t_naive * 1000:.0f} ms | {t_naive / per:.0f}x |")
    print(f"| derived once per shape (this tool) | {per * 1000:.2f} ms | 1x |")
    print()
    print(f"| independent check on a 3-4-4-2 network | per variant | share |")
    print("| --- | --- | --- |")
    print(f"| verified solve | {big_solve * 1000:.2f} ms | 100 % |")
    print(f"| of which numpy + finite differences | {big_check * 1000:.2f} ms | "
          f"{100 * big_check / big_solve:.0f} % |")
    print()
    print(f"`derive exam examples/exam.toml --variants {n} --no-pdf` in a fresh process: {t_cli:.2f} s "
          "(start-up included)")
    if not args.no_tex:
        load_before = texfloor.load()
        t = tex_time(spec, settings, n)
        cpu = texfloor.children_cpu()
        t_end = cli(n, pdf=True)
        cpu_end = texfloor.children_cpu() - cpu
        floor, cores = t["floor"], texfloor.cores()
        print()
        print(f"TeX on {cores} cores, before: {load_before}, after: {texfloor.load()}; plain pdflatex, one pass: "
              + ", ".join(f"{name} {s:.1f} s" for name, s in t["plain"].items()))
        print(f"CPU time of the TeX processes: plain pdflatex {t['cpu_plain']:.1f} s, derive's "
              f"{t['cpu_derive']:.1f} s (with pdftoppm); `derive exam` in a fresh process, Python and its "
              f"children: {cpu_end:.1f} s (CPU time is what the load of other jobs does not inflate)")
        print()
        print(f"| TeX for {n} variants: solutions.pdf, exam.pdf, keys.pdf ({t['pages']['solutions.tex']} + "
              f"{t['pages']['exam.tex']} + {t['pages']['keys.tex']} pages) and {n} diagram PNGs | time | / floor |")
        print("| --- | --- | --- |")
        print(f"| floor: plain pdflatex of the four .tex (diagrams.tex whole), one pass each, sum / {cores} cores "
              f"| {floor:.1f} s | 1.00 |")
        print(f"| derive's TeX: one pass each on the cached format ({t['formats']}/3), the diagrams in "
              f"{t['parts']} parts with their PNGs, side by side | {t['derive']:.1f} s | {t['derive'] / floor:.2f} |")
        print(f"| `derive exam examples/exam.toml --variants {n} --seed 1 --out DIR` in a fresh process "
              f"(goal <= 1.2 x floor) | {t_end:.1f} s | {t_end / floor:.2f} |")


if __name__ == "__main__":
    main()
