"""The exam's diagram PNGs: pdftoppm's pixels in derive's own PNG files, drawn in parts side by side.

PNGs are decoded here by a reader of our own (every PNG filter type, CRCs checked) and compared with
pdftoppm's own PNG of the same page of diagrams.tex compiled whole by plain pdflatex: the pixels
must be the same whatever the parts derive drew them in.
"""
from __future__ import annotations

import shutil
import struct
import subprocess
import zlib

import pytest

from derive.apps.exam import diagrams
from derive.errors import DeriveError
from derive.output import raster

from helpers import ROOT, run_cli

EXAM = ROOT / "examples" / "exam.toml"


def decode(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and RGB pixels of an 8-bit RGB PNG, whatever filters its rows use."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    at, idat = 8, b""
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        assert zlib.crc32(kind + body) == struct.unpack(">I", data[at + 8 + length:at + 12 + length])[0]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert (depth, colour) == (8, 2)
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    raw, stride, pixels, previous = zlib.decompress(idat), width * 3, bytearray(), bytearray(width * 3)
    for y in range(height):
        kind, row = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = row[x - 3] if x >= 3 else 0
            b, c = previous[x], (previous[x - 3] if x >= 3 else 0)
            p = a + b - c
            predicted = {0: 0, 1: a, 2: b, 3: (a + b) // 2,
                         4: a if abs(p - a) <= abs(p - b) and abs(p - a) <= abs(p - c) else b if abs(p - b) <= abs(p - c) else c}[kind]
            row[x] = (row[x] + predicted) & 255
        pixels += row
        previous = row
    return width, height, bytes(pixels)


def test_a_png_holds_the_pixels_it_was_given():
    rgb = bytes((x * 7 + y * 13 + c * 50) % 256 for y in range(5) for x in range(3) for c in range(3))
    data = raster.png(3, 5, rgb, 110)
    assert decode(data) == (3, 5, rgb)
    assert b"pHYs" + struct.pack(">IIB", 4330, 4330, 1) in data        # 110 dpi in pixels a metre
    assert raster.png(3, 5, rgb, 110) == data                           # deterministic


def test_a_ppm_stream_that_is_not_rgb_is_refused():
    with pytest.raises(DeriveError, match="does not know"):
        raster.ppm_images(b"P5\n2 1\n255\n\x00\x00")
    with pytest.raises(DeriveError, match="ended inside"):
        raster.ppm_images(b"P6\n2 2\n255\n\x00\x00\x00")


def test_diagrams_drawn_in_parts_have_the_pixels_of_one_whole_run(tmp_path, monkeypatch):
    monkeypatch.setattr(diagrams, "PART", 2)                # 5 variants: parts of 2, 2 and 1
    out = tmp_path / "exam"
    result = run_cli("exam", EXAM, "--variants", 5, "--seed", 4, "--out", out)
    assert result.returncode == 0, result.stderr
    assert not (out / "diagrams.pdf").exists() and not (out / "derive-build").exists()
    whole = tmp_path / "whole"
    whole.mkdir()
    shutil.copy(out / "diagrams.tex", whole)
    subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "diagrams.tex"], cwd=whole,
                   capture_output=True, check=True, timeout=600)
    subprocess.run(["pdftoppm", "-png", "-r", "110", "diagrams.pdf", "page"], cwd=whole, check=True, timeout=600)
    theirs = sorted(whole.glob("page-*.png"))
    ours = sorted((out / "images").glob("diagram-*.png"))
    assert [p.name for p in ours] == [f"diagram-{k:03d}.png" for k in range(1, 6)] and len(theirs) == 5
    for mine, pdftoppm in zip(ours, theirs):
        assert decode(mine.read_bytes()) == decode(pdftoppm.read_bytes()), mine.name
    assert len({decode(p.read_bytes())[2] for p in ours}) == 5          # five different networks


def test_without_pdftoppm_the_exam_stops_before_any_tex_and_says_how_to_install_it(tmp_path, monkeypatch):
    real = shutil.which
    monkeypatch.setattr(shutil, "which", lambda tool, *a, **k: None if tool == "pdftoppm" else real(tool, *a, **k))
    out = tmp_path / "exam"
    started = []
    monkeypatch.setattr(diagrams.tex.Batch, "submit", lambda self, *a, **k: started.append(a))
    result = run_cli("exam", EXAM, "--variants", 2, "--seed", 4, "--out", out)
    assert result.returncode == 2 and "pdftoppm not found" in result.stderr and "poppler-utils" in result.stderr
    assert started == [] and not out.exists()
