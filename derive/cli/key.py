"""`derive key`: the verified answer key as JSON."""
from __future__ import annotations

import sys

from ..output.folders import dumps_json, write_file
from ..solution import solve


def run(args) -> int:
    text = dumps_json(solve(args.spec).key)
    if args.output:
        write_file(args.output, text, inputs=[args.spec.source])
    else:
        sys.stdout.write(text)
    return 0
