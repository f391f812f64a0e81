"""The network diagram of every variant as a PNG for the learning platforms, from our own TikZ.

All variants' diagrams are one TeX run (one cropped page per diagram, `exam_diagrams.tex`) and one
pdftoppm call, so 200 variants cost one TeX start, not 200.
"""
from __future__ import annotations

from pathlib import Path
import shutil
import struct
import subprocess

from ...errors import DeriveError
from ...layout import problem
from ...output import tex
from ...output.render import render
from .draw import Variant

RESOLUTION = 110                    # pixels per inch: the picture about as large as on paper
SOURCE = "diagrams.tex"
FOLDER = "images"


def image_name(number: int) -> str:
    return f"diagram-{number:03d}.png"


def document(variants: list[Variant]) -> str:
    """The TeX document with one page per variant's diagram."""
    return render("exam_diagrams.tex", {"plots": False,
                                        "diagrams": [problem.diagram(v.solution) for v in variants]})


def rasterize(folder: Path, count: int) -> dict[int, bytes]:
    """diagrams.pdf (compiled in `folder`) as PNGs in folder/images/, by variant number."""
    if shutil.which("pdftoppm") is None:
        raise DeriveError("pdftoppm not found; install it with: sudo apt-get install poppler-utils "
                          "(or use --no-pdf)")
    out = folder / FOLDER
    out.mkdir(exist_ok=True)
    work = out / ".pages"
    work.mkdir()
    try:
        # Two pdftoppm processes on the two halves of the pages: the machine's two cores.
        half = (count + 1) // 2
        ranges = [(1, half), (half + 1, count)] if count > 1 else [(1, count)]
        runs = [subprocess.Popen(["pdftoppm", "-png", "-r", str(RESOLUTION), "-f", str(first), "-l", str(last),
                                  str(folder / "diagrams.pdf"), str(work / "page")],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
                for first, last in ranges]
        messages, failed = [], False
        for run in runs:
            said, _ = run.communicate(timeout=tex.TIMEOUT)
            messages.append(said.decode(errors="replace").strip())
            failed |= run.returncode != 0
        pages = sorted(work.glob("page-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
        if failed or len(pages) != count:
            raise DeriveError(f"pdftoppm made {len(pages)} images of {count} diagrams: "
                              + " ".join(m for m in messages if m), file="diagrams.pdf")
        images = {}
        for number, page in enumerate(pages, start=1):
            target = out / image_name(number)
            page.rename(target)
            images[number] = target.read_bytes()
        return images
    finally:
        shutil.rmtree(work, ignore_errors=True)


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG in pixels (its IHDR chunk)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise DeriveError("not a PNG image")
    return struct.unpack(">II", data[16:24])
