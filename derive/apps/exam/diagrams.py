"""The network diagram of every variant as a PNG for the learning platforms, from our own TikZ.

`diagrams.tex` (in the exam folder) holds every variant's diagram, one cropped page each. To make
the PNGs, derive compiles it in parts of PART variants (each part the same document over fewer
variants, in the build folder), queued as soon as the variants are drawn: TeX draws the first
diagrams while Python writes the other documents, and the parts fill the cores around the long
documents. Each page's pixels do not depend on which part it was drawn in. pdftoppm rasterises each
part (output/raster.py). The PDF of all diagrams is not written: compile diagrams.tex to see them.
"""
from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path
import struct
from typing import Callable

from ...errors import DeriveError
from ...layout import problem
from ...output import raster, tex
from ...output.render import render
from .draw import Variant

RESOLUTION = 110                    # pixels per inch: the picture about as large as on paper
SOURCE = "diagrams.tex"
FOLDER = "images"
PART = 25                           # variants per part: small enough to fill the cores' last gaps


def image_name(number: int) -> str:
    return f"diagram-{number:03d}.png"


def document(variants: list[Variant]) -> str:
    """The TeX document with one page per variant's diagram."""
    return render("exam_diagrams.tex", {"plots": False,
                                        "diagrams": [problem.diagram(v.solution) for v in variants]})


def start(batch: tex.Batch, folder: Path, variants: list[Variant], priority: float = 0,
          document: Callable[[list[Variant]], str] = document) -> list[Future]:
    """Queue the parts of diagrams.tex, then write it whole into `folder` (TeX starts on the first
    part meanwhile); each future gives {variant number: PNG}. `document`: the TeX of some variants'
    pictures, one page each (a module spec draws its own)."""
    raster.require_pdftoppm()            # before any TeX runs, not after the first part
    (folder / tex.BUILD).mkdir(exist_ok=True)
    futures = []
    for first in range(0, len(variants), PART):
        part = variants[first:first + PART]
        name = f"{tex.BUILD}/diagrams-{part[0].number:03d}.tex"
        (folder / name).write_text(document(part), encoding="utf-8")
        numbers = [v.number for v in part]
        futures.append(batch.submit(name, priority=priority, keep=False,
                                    then=lambda compiled, numbers=numbers: _images(compiled.pdf, numbers)))
    (folder / SOURCE).write_text(document(variants), encoding="utf-8")
    return futures


def _images(pdf: Path, numbers: list[int]) -> dict[int, bytes]:
    pages = raster.png_pages(pdf, RESOLUTION)
    if len(pages) != len(numbers):
        raise DeriveError(f"pdftoppm made {len(pages)} images of {len(numbers)} diagrams", file=SOURCE)
    return dict(zip(numbers, pages))


def collect(futures: list[Future], folder: Path) -> dict[int, bytes]:
    """Wait for the parts and write their PNGs into folder/images/; the PNGs by variant number."""
    images: dict[int, bytes] = {}
    for future in futures:
        images |= future.result()
    out = folder / FOLDER
    out.mkdir(exist_ok=True)
    for number, data in images.items():
        (out / image_name(number)).write_bytes(data)
    return images


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG in pixels (its IHDR chunk)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise DeriveError("not a PNG image")
    return struct.unpack(">II", data[16:24])
