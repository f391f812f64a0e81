"""`derive exam`: N variants with their question pages, worked solutions, answer keys and a Moodle quiz.

    derive exam SPEC --variants N --seed S --out DIR [--no-pdf]
    derive exam SPEC --stress K [--seed S]

Everything is written into a staging folder and moved into place only when all succeeded (the
folder is derive's alone, see output.folders); the three PDFs are one pdflatex pass each, side by
side (see tex.compile_all).
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
import sys
import time

from . import draw as exam_draw
from . import layout as exam_layout
from . import moodle
from ...errors import DeriveError
from ...output import tex
from ...output.folders import check_target, dumps_json, staged_folder
from ...output.render import render
from ...printing.numbers import given_number, plain_number
from ...spec import Spec
from .draw import Variant
from .settings import Settings

PDFS = ["solutions.tex", "exam.tex", "keys.tex"]
# What the derive before manifests wrote: a folder holding only these names counts as derive's.
KNOWN = ("exam.tex", "exam.pdf", "solutions.tex", "solutions.pdf", "keys.tex", "keys.pdf", "keys.json",
         "keys.csv", "moodle.xml", "variants/[0-9][0-9][0-9]/exam.tex",
         "variants/[0-9][0-9][0-9]/solutions.tex", "variants/[0-9][0-9][0-9]/key.json")
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
                             given_number(q.tolerance)])
    return buffer.getvalue()


def write_exam(spec: Spec, settings: Settings, out: str | Path, pdf: bool = True,
               stream=None, force: bool = False) -> list[Variant]:
    """Draw, verify, render and (with `pdf`) compile the exam into `out`; on any error `out` is untouched.

    `force` writes derive's files beside files derive did not write (which are kept)."""
    inputs = [spec.source] if spec.source != "<spec>" else []
    check_target(out, inputs)
    if settings.variants is None:
        raise DeriveError("how many variants? give --variants N or set [exam] variants",
                          file=spec.source, field="[exam] variants")
    if pdf:
        tex.require_tex()
    n = settings.variants
    variants = exam_draw.variants(spec, settings, n, progress=Progress(n, "drawing and checking", stream))
    files = documents(spec, settings, variants, progress=Progress(n, "writing .tex        ", stream))
    with staged_folder(out, force=force, inputs=inputs, known=KNOWN) as stage:
        for name, text in files.items():
            path = stage / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        if pdf:
            Progress(n, "", stream).say("running TeX on " + ", ".join(PDFS) + " ...")
            tex.compile_all(stage, PDFS, single_run=True)
    return variants
