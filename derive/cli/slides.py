"""`derive slides`: the worked example as a beamer deck in one folder."""
from __future__ import annotations

from ..apps.slides import write_slides


def run(args) -> int:
    count = write_slides(args.spec, args.out, pdf=not args.no_pdf, handout=args.handout, force=args.force)
    print(f"wrote {args.out}/: " + ("slides.pdf, " if not args.no_pdf else "") + f"slides.tex ({count} frames)")
    return 0
