"""`derive worksheet`: the handout, its worked solution and the key in one folder."""
from __future__ import annotations

from ..apps.worksheet import write_worksheet


def run(args) -> int:
    write_worksheet(args.spec, args.out, pdf=not args.no_pdf, force=args.force)
    print(f"wrote {args.out}/: " + ("worksheet.pdf, solutions.pdf, " if not args.no_pdf else "")
          + "worksheet.tex, solutions.tex, key.json")
    return 0
