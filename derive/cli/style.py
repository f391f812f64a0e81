"""`derive style`: the small style file that derive's fragments need."""
from __future__ import annotations

from pathlib import Path

from ..output.folders import write_file
from ..output.render import templates_folder


def run(args) -> int:
    source = Path(templates_folder()) / "derive.sty"
    write_file(args.output, source.read_text(encoding="utf-8"))
    return 0
