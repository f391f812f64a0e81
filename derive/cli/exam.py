"""`derive exam`: N variants in one folder, or (--stress K) the spread of K draws."""
from __future__ import annotations

import sys

from .. import budget
from ..apps.exam import settings as exam_settings
from ..apps.exam import stress as exam_stress
from ..apps.exam.folder import LMS, Progress, variant_count, write_exam
from ..apps.exam.module_files import write_module_exam
from ..apps.exam.modules import decimals_note, module_settings, module_stress
from ..apps.exam.roster import read_roster
from ..errors import DeriveError
from ..limits import MAX_STRESS
from ..modules.section import ModuleSpec


def run(args) -> int:
    spec = args.spec
    if isinstance(spec, ModuleSpec):
        return run_modules(args)
    settings = exam_settings.settings(spec, variants=args.variants, seed=args.seed)
    if args.stress is not None:
        if args.out:
            raise DeriveError("--stress draws without writing anything: leave out --out", field="--out")
        if 1 <= args.stress <= MAX_STRESS:     # (outside: refused by exam.stress, naming the range)
            budget.check_exam(spec, args.stress, stress=True)
        report = exam_stress.stress(spec, settings, args.stress, progress=Progress(args.stress, "drawing"))
        sys.stdout.write(report.text())
        return 0
    if not args.out:
        raise DeriveError("give the output folder with --out DIR (or --stress K to only draw)", field="--out")
    pdf = not args.no_pdf
    if settings.variants:
        budget.check_exam(spec, settings.variants, stress=False)
    students = read_roster(args.students) if args.students else None
    if students and args.variants is not None and args.variants < len(students):
        raise DeriveError(f"--variants {args.variants} is fewer than the {len(students)} students of "
                          f"{args.students}: leave out --variants (one variant per student) or give more",
                          field="--variants")
    variants = write_exam(spec, settings, args.out, pdf=pdf, students=students, lms=args.lms,
                          dialect=args.csv_dialect, force=args.force,
                          roster=args.students)
    return _wrote(args, settings, len(variants), pdf, pictured=pdf)


def run_modules(args) -> int:
    """A spec of [[module]] tables: the exam's PDFs, keys, Moodle cloze quiz and --lms package, or
    (--stress K) the spread of K draws."""
    spec = args.spec
    settings = module_settings(spec, variants=args.variants, seed=args.seed)
    note = decimals_note(spec)
    if note is not None:
        sys.stderr.write(note)
    if args.stress is not None:
        if args.out:
            raise DeriveError("--stress draws without writing anything: leave out --out", field="--out")
        if 1 <= args.stress <= MAX_STRESS:     # (outside: refused by module_stress, naming the range)
            budget.check_module_exam(spec, args.stress, pdf=False, stress=True)
        report = module_stress(spec, settings, args.stress, progress=Progress(args.stress, "drawing"))
        sys.stdout.write(report.text())
        return 0
    if not args.out:
        raise DeriveError("give the output folder with --out DIR", field="--out")
    students = read_roster(args.students) if args.students else None
    if students and args.variants is not None and args.variants < len(students):
        raise DeriveError(f"--variants {args.variants} is fewer than the {len(students)} students of "
                          f"{args.students}: leave out --variants (one variant per student) or give more",
                          field="--variants")
    pdf = not args.no_pdf
    budget.check_module_exam(spec, variant_count(spec, settings, students), pdf)
    variants, pictured = write_module_exam(spec, settings, args.out, pdf=pdf, force=args.force,
                                           dialect=args.csv_dialect, students=students, roster=args.students,
                                           lms=args.lms)
    return _wrote(args, settings, len(variants), pdf, pictured)


def _wrote(args, settings, variants: int, pdf: bool, pictured: bool) -> int:
    """The one line saying what an exam wrote (MLP and module exams alike), and how to get a drawn
    seed's variants again."""
    written = (["exam.pdf", "solutions.pdf", "keys.pdf"] if pdf else []) + (["images/"] if pictured else []) + [
        "exam.tex", "solutions.tex", "keys.tex", "keys.json", "keys.csv", "keys-long.csv", "moodle.xml"] + (
        [LMS[args.lms]] if args.lms != "moodle" else []) + ["variants/"]
    print(f"wrote {args.out}/: {', '.join(written)} ({variants} variants, seed {settings.seed})")
    if settings.seed_drawn:
        print(f"the seed was drawn: give --seed {settings.seed} to get the same variants again")
    return 0
