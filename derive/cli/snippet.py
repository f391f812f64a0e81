"""`derive snippet`: one part or one step of a worked solution as a LaTeX fragment."""
from __future__ import annotations

import sys

from ..apps.snippet import snippet
from ..output.folders import write_file
from ..solution import solve


def run(args) -> int:
    solution = solve(args.spec)
    text = snippet(solution, args.part, args.step, args.standalone, headings=not args.no_headings)
    if args.output:
        write_file(args.output, text, inputs=[args.spec.source])
    else:
        sys.stdout.write(text)
    return 0
