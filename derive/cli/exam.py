"""`derive exam`: N variants in one folder, or (--stress K) the spread of K draws."""
from __future__ import annotations

import sys

from .. import budget
from ..apps.exam import draw as exam
from ..apps.exam.folder import Progress, write_exam
from ..errors import DeriveError
from ..limits import MAX_STRESS
from ..spec import load


def run(args) -> int:
    spec = load(args.spec)
    settings = exam.settings(spec, variants=args.variants, seed=args.seed)
    if args.stress is not None:
        if args.out:
            raise DeriveError("--stress draws without writing anything: leave out --out", field="--out")
        if 1 <= args.stress <= MAX_STRESS:     # (outside: refused by exam.stress, naming the range)
            budget.check_exam(spec, args.stress, stress=True)
        report = exam.stress(spec, settings, args.stress, progress=Progress(args.stress, "drawing"))
        sys.stdout.write(report.text())
        return 0
    if not args.out:
        raise DeriveError("give the output folder with --out DIR (or --stress K to only draw)", field="--out")
    pdf = not args.no_pdf
    if settings.variants:
        budget.check_exam(spec, settings.variants, stress=False)
    variants = write_exam(spec, settings, args.out, pdf=pdf)
    written = (["exam.pdf", "solutions.pdf", "keys.pdf"] if pdf else []) + [
        "exam.tex", "solutions.tex", "keys.tex", "keys.json", "keys.csv", "moodle.xml", "variants/"]
    print(f"wrote {args.out}/: {', '.join(written)} ({len(variants)} variants, seed {settings.seed})")
    if settings.seed_drawn:
        print(f"the seed was drawn: give --seed {settings.seed} to get the same variants again")
    return 0
