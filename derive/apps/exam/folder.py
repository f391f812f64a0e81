"""`derive exam`: N variants with their question pages, worked solutions, answer keys and the quiz
for a learning platform (Moodle XML always; a Canvas or QTI 2.1 package on request).

    derive exam SPEC --variants N --seed S --out DIR [--no-pdf] [--lms moodle|canvas|qti21]
                [--students roster.csv] [--csv-dialect excel|excel-de]
    derive exam SPEC --stress K [--seed S]

Everything is written into a staging folder and moved into place only when all succeeded (the
folder is derive's alone, see output.folders); the three PDFs are one pdflatex pass each, side by
side, each started as soon as its .tex is written; the diagrams are drawn by TeX from the moment
the variants are drawn (diagrams.py) and become the PNGs that the LMS files embed, which are
written while TeX still runs on the long documents.
"""
from __future__ import annotations

import contextlib
from pathlib import Path
import sys
import time

from . import canvas, cloze, csvkeys, diagrams, moodle, qti
from . import draw as exam_draw
from . import layout as exam_layout
from ...errors import DeriveError
from ...output import tex
from ...output.folders import check_target, dumps_json, staged_folder
from ...output.render import render
from ...spec import Spec
from .draw import Variant
from .roster import Student
from .settings import Settings

PDFS = ["solutions.tex", "exam.tex", "keys.tex"]          # the diagrams' PDF: see diagrams.py
LMS = {"moodle": "moodle.xml", "canvas": "canvas.zip", "qti21": "qti21.zip"}
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


def documents(spec: Spec, settings: Settings, variants: list[Variant], progress=None,
              students: list[Student] | None = None, dialect: str = "excel") -> dict[str, str]:
    """Every file of the exam folder as text, by its path in the folder (no PDFs, no LMS files)."""
    pages, solutions, files = [], [], {}
    spaces = exam_layout.working_space(variants[0].solution.derivation, settings.questions,
                                       exam_layout.update_lines(variants[0].solution))
    who = [s.as_dict() for s in students] if students else []
    for n, v in enumerate(variants):
        solution = exam_layout.solution_context(v)
        page = exam_layout.page(v, settings, spaces, who[n] if n < len(who) else None, solution)
        # Each variant's page and worked solution are typeset once, for its own files and the
        # documents of all variants (exam.tex and exam_solutions.tex take them as text).
        page["text"] = render("exam_page.tex", {"title": spec.title, "v": page})
        solution["body"] = render("solution_body.tex", solution)
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
        "keys.tex": render("keys.tex", exam_layout.keys_context(spec, settings, variants, who)),
        "keys.json": dumps_json([{"variant": v.number, **({"student": who[n]} if n < len(who) else {}),
                                  "spec": v.spec_dict(), "key": v.solution.key}
                                 for n, v in enumerate(variants)]),
        "keys.csv": csvkeys.wide(settings, variants, students, dialect),
        "keys-long.csv": csvkeys.long(settings, variants, dialect),
    }
    return main | files


def lms_files(spec: Spec, settings: Settings, variants: list[Variant], lms: str,
              images: dict[int, bytes] | None, students: list[Student] | None = None) -> dict[str, str | bytes]:
    """moodle.xml (cloze or numerical, as [exam] moodle says), and the package `lms` asks for."""
    if settings.lms.moodle == "cloze":
        files: dict[str, str | bytes] = {"moodle.xml": cloze.quiz(spec, settings, variants, images)}
    else:
        files = {"moodle.xml": moodle.quiz(spec, settings, variants)}
    if lms == "canvas":
        files["canvas.zip"] = canvas.package(spec, settings, variants, images,
                                             [s.as_dict() for s in students or []])
    elif lms == "qti21":
        files["qti21.zip"] = qti.package(spec, settings, variants, images)
    return files


def variant_count(spec: Spec, settings: Settings, students: list[Student] | None) -> int:
    """[exam] variants (or --variants), raised to one variant per student when a roster is longer."""
    if settings.variants is None and not students:
        raise DeriveError("how many variants? give --variants N or set [exam] variants",
                          file=spec.source, field="[exam] variants")
    return max(settings.variants or 0, len(students or []))


def write_exam(spec: Spec, settings: Settings, out: str | Path, pdf: bool = True, stream=None,
               students: list[Student] | None = None, lms: str = "moodle",
               dialect: str = "excel", force: bool = False, roster: str | None = None) -> list[Variant]:
    """Draw, verify, render and (with `pdf`) compile the exam into `out`; on any error `out` is untouched.

    `force` writes derive's files beside files derive did not write (which are kept)."""
    inputs = ([spec.source] if spec.source != "<spec>" else []) + ([roster] if roster else [])
    check_target(out, inputs)
    n = variant_count(spec, settings, students)
    if pdf:
        tex.require_tex()
    variants = exam_draw.variants(spec, settings, n, progress=Progress(n, "drawing and checking", stream))
    with staged_folder(out, force=force, inputs=inputs, known=KNOWN) as stage:
        batch = tex.Batch(stage, single_run=True) if pdf else contextlib.nullcontext()
        with batch:
            if pdf:          # TeX draws the diagrams while Python writes the documents
                Progress(n, "", stream).say("running TeX on " + ", ".join([diagrams.SOURCE] + PDFS) + " ...")
                drawn = diagrams.start(batch, stage, variants)
            files = documents(spec, settings, variants, progress=Progress(n, "writing .tex        ", stream),
                              students=students, dialect=dialect)
            compiled = PDFS if pdf else []
            for name in compiled + [name for name in files if name not in compiled]:
                path = stage / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(files[name], encoding="utf-8")
                if name in compiled:
                    batch.submit(name)           # at once; the largest waiting document first
            images = None
            if pdf:
                images = diagrams.collect(drawn, stage)
            else:
                names = sorted({LMS["moodle"], LMS[lms]})
                has, its = ("has", "its") if len(names) == 1 else ("have", "their")
                (stream or sys.stderr).write(
                    f"note: {' and '.join(names)} {has} no picture of the network (--no-pdf skips TeX, which draws it); "
                    f"{its} questions state the wiring in words\n")
            for name, data in lms_files(spec, settings, variants, lms, images, students).items():
                if isinstance(data, bytes):
                    (stage / name).write_bytes(data)
                else:
                    (stage / name).write_text(data, encoding="utf-8")
    return variants
