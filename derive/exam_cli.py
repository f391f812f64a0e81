"""`derive exam`: N variants with their question pages, worked solutions, answer keys and a Moodle quiz.

    derive exam SPEC --variants N --seed S --out DIR [--no-pdf]
    derive exam SPEC --stress K [--seed S]

Everything is written into a temporary folder and moved into place only when all succeeded; the
three PDFs are one pdflatex pass each, side by side (see tex.compile_all).
"""
from __future__ import annotations

import csv
import io
import sys
import time
from pathlib import Path

from . import exam, exam_layout, moodle, tex
from .cli import command
from .errors import DeriveError
from .exam import Settings, Variant
from .output import dumps_json, staged_folder
from .printing import plain_number
from .render import render
from .spec import Spec, load

PDFS = ["solutions.tex", "exam.tex", "keys.tex"]
PROGRESS_FROM = 20                                  # a progress bar for batches at least this long


class Progress:
    """A one-line progress bar on the terminal's standard error; silent when that is not a TTY."""

    def __init__(self, total: int, label: str, stream=None):
        self.stream = stream or sys.stderr
        self.total = total
        self.label = label
        self.on = total >= PROGRESS_FROM and self.stream.isatty()
        self.last = 0.0

    def __call__(self, done: int) -> None:
        if not self.on or (done < self.total and time.monotonic() - self.last < 0.1):
            return
        self.last = time.monotonic()
        width = 30
        filled = width * done // self.total
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {done}/{self.total}")
        if done >= self.total:
            self.stream.write("\n")
        self.stream.flush()

    def say(self, text: str) -> None:
        if self.on:
            self.stream.write(text + "\n")
            self.stream.flush()


def documents(spec: Spec, settings: Settings, variants: list[Variant],
              progress=None) -> dict[str, str]:
    """Every file of the exam folder as text, by its path in the folder (no PDFs)."""
    pages, solutions, files = [], [], {}
    for v in variants:
        page = exam_layout.page(v, settings)
        solution = exam_layout.solution_context(v)
        pages.append(page)
        solutions.append(solution)
        folder = f"variants/{v.number:03d}/"
        files[folder + "exam.tex"] = render("exam.tex", {"title": spec.title, "decimals": spec.decimals,
                                                         "plots": False, "variants": [page]})
        files[folder + "solutions.tex"] = render("solutions.tex", solution)
        files[folder + "key.json"] = dumps_json(v.solution.key)
        if progress is not None:
            progress(v.number)
    main = {
        "exam.tex": render("exam.tex", {"title": spec.title, "decimals": spec.decimals, "plots": False,
                                        "variants": pages}),
        "solutions.tex": render("exam_solutions.tex", exam_layout.solutions_context(spec, settings, solutions)),
        "keys.tex": render("keys.tex", exam_layout.keys_context(spec, settings, variants)),
        "keys.json": dumps_json([{"variant": v.number, "spec": v.spec_dict(), "key": v.solution.key}
                                 for v in variants]),
        "keys.csv": keys_csv(spec, settings, variants),
        "moodle.xml": moodle.quiz(spec, settings, variants),
    }
    return main | files


def keys_csv(spec: Spec, settings: Settings, variants: list[Variant]) -> str:
    """variant, question, answer (rounded as displayed), tolerance (absolute): one row per answer."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["variant", "question", "answer", "tolerance"])
    for v in variants:
        for q, a in zip(settings.questions, v.answers):
            writer.writerow([v.number, q.name, plain_number(a, spec.decimals),
                             plain_number(q.tolerance, moodle.TOLERANCE_DECIMALS)])
    return buffer.getvalue()


def write_exam(spec: Spec, settings: Settings, out: str | Path, pdf: bool = True,
               stream=None) -> list[Variant]:
    """Draw, verify, render and (with `pdf`) compile the exam into `out`; on any error `out` is untouched."""
    if settings.variants is None:
        raise DeriveError("how many variants? give --variants N or set [exam] variants",
                          file=spec.source, field="[exam] variants")
    if pdf:
        tex.require_tex()
    n = settings.variants
    variants = exam.variants(spec, settings, n, progress=Progress(n, "drawing and checking", stream))
    files = documents(spec, settings, variants, progress=Progress(n, "writing .tex        ", stream))
    with staged_folder(out) as stage:
        for name, text in files.items():
            path = stage / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        if pdf:
            Progress(n, "", stream).say("running TeX on " + ", ".join(PDFS) + " ...")
            tex.compile_all(stage, PDFS, single_run=True)
    return variants


@command
def _register(sub) -> None:
    p = sub.add_parser("exam", help="exam variants: new numbers per student, worked solutions, keys, Moodle XML")
    p.add_argument("spec", help="the spec file (TOML), optionally with [exam] and [exam.random]")
    p.add_argument("--variants", type=int, metavar="N",
                   help=f"how many variants (1 to {exam.MAX_VARIANTS}; default: [exam] variants)")
    p.add_argument("--seed", type=int, metavar="S", help="the random seed (default: [exam] seed, else drawn)")
    p.add_argument("--out", help="the output folder (replaced as a whole on success)")
    p.add_argument("--no-pdf", action="store_true", help="write everything but the PDFs, without TeX")
    p.add_argument("--stress", type=int, metavar="K",
                   help=f"draw K variants (1 to {exam.MAX_STRESS}) and report their spread; writes nothing")
    p.set_defaults(run=_run)


def _run(args) -> int:
    spec = load(args.spec)
    settings = exam.settings(spec, variants=args.variants, seed=args.seed)
    if args.stress is not None:
        if args.out:
            raise DeriveError("--stress draws without writing anything: leave out --out", field="--out")
        report = exam.stress(spec, settings, args.stress, progress=Progress(args.stress, "drawing"))
        sys.stdout.write(report.text())
        return 0
    if not args.out:
        raise DeriveError("give the output folder with --out DIR (or --stress K to only draw)", field="--out")
    pdf = not args.no_pdf
    variants = write_exam(spec, settings, args.out, pdf=pdf)
    written = (["exam.pdf", "solutions.pdf", "keys.pdf"] if pdf else []) + [
        "exam.tex", "solutions.tex", "keys.tex", "keys.json", "keys.csv", "moodle.xml", "variants/"]
    print(f"wrote {args.out}/: {', '.join(written)} ({len(variants)} variants, seed {settings.seed})")
    if settings.seed_drawn:
        print(f"the seed was drawn: give --seed {settings.seed} to get the same variants again")
    return 0
