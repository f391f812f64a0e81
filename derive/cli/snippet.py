"""`derive snippet`: one part or one step of a worked solution as a LaTeX or Markdown fragment."""
from __future__ import annotations

import sys

from ..apps.markdown import markdown
from ..apps.snippet import snippet
from ..errors import DeriveError
from ..layout.frames import fit_named
from ..output.folders import write_file
from ..solution import solve


def run(args) -> int:
    fit = fit_named(args.fit)
    if args.format == "markdown" and (args.standalone or args.frame_bodies or args.fit != "article"):
        raise DeriveError("Markdown has no page to fit: leave out --standalone, --fit and --frame-bodies",
                          field="--format markdown")
    solution = solve(args.spec)
    if args.format == "markdown":
        text = markdown(solution, args.part, args.step, headings=not args.no_headings)
    else:
        text = snippet(solution, args.part, args.step, args.standalone, headings=not args.no_headings,
                       fit=fit, frame_bodies=args.frame_bodies)
    if args.output:
        write_file(args.output, text, inputs=[args.spec.source])
    else:
        sys.stdout.write(text)
    return 0
