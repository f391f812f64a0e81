"""Pages of a PDF as PNG images: pdftoppm draws the pixels, this module writes the PNG files.

pdftoppm's own PNG writer spends about 25 ms a page compressing (libpng's slowest settings); its raw
PPM output on a pipe costs about 4 ms a page, and zlib at its default level here about 2.5 ms, for
files a quarter smaller and pixels identical. Deterministic: the same PDF gives the same bytes.
"""
from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

from ..errors import DeriveError

TIMEOUT = 300
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def require_pdftoppm() -> None:
    if shutil.which("pdftoppm") is None:
        raise DeriveError("pdftoppm not found; install it with: sudo apt-get install poppler-utils "
                          "(or use --no-pdf)")


def png_pages(pdf: Path, resolution: int) -> list[bytes]:
    """Every page of `pdf` as a PNG of `resolution` pixels per inch (RGB, 8 bits a channel)."""
    require_pdftoppm()
    try:
        result = subprocess.run(["pdftoppm", "-r", str(resolution), str(pdf)], capture_output=True,
                                stdin=subprocess.DEVNULL, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        raise DeriveError(f"pdftoppm took longer than {TIMEOUT} s", file=pdf.name) from None
    if result.returncode != 0:
        raise DeriveError(f"pdftoppm failed: {result.stderr.decode(errors='replace').strip()}", file=pdf.name)
    return [png(width, height, pixels, resolution) for width, height, pixels in ppm_images(result.stdout)]


def ppm_images(data: bytes) -> list[tuple[int, int, bytes]]:
    """(width, height, RGB bytes) of each image in a stream of binary PPM images (P6, maxval 255)."""
    images, at = [], 0
    while at < len(data):
        fields = []
        while len(fields) < 4:                # P6, width, height, maxval, separated by whitespace
            while data[at:at + 1].isspace():
                at += 1
            start = at
            while at < len(data) and not data[at:at + 1].isspace():
                at += 1
            fields.append(data[start:at])
        at += 1                               # the one whitespace byte before the pixels
        if fields[0] != b"P6" or fields[3] != b"255":
            raise DeriveError(f"pdftoppm wrote an image this reader does not know ({fields[0]!r})")
        width, height = int(fields[1]), int(fields[2])
        size = width * height * 3
        if at + size > len(data):
            raise DeriveError("pdftoppm's output ended inside an image")
        images.append((width, height, data[at:at + size]))
        at += size
    return images


def png(width: int, height: int, rgb: bytes, resolution: int) -> bytes:
    """A PNG of RGB pixels: no filter on any row, zlib's default level, the resolution in pHYs."""
    stride = width * 3
    rows = b"".join(b"\0" + rgb[y * stride:(y + 1) * stride] for y in range(height))
    per_metre = int(resolution / 0.0254)
    return (PNG_SIGNATURE + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + _chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1))
            + _chunk(b"IDAT", zlib.compress(rows, 6)) + _chunk(b"IEND", b""))


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
