"""`derive snippet`: one part or one step of a worked solution as a LaTeX or Markdown fragment."""
from __future__ import annotations

import sys

from ..apps.markdown import markdown
from ..apps.snippet import snippet
from ..layout.frames import fit_named
from ..output.folders import write_file
from ..solution import solve


def run(args) -> int:
    fit = fit_named(args.fit)
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
