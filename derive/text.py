"""Which characters of user text (titles) the pages can set, and how each is written in LaTeX.

pdflatex with the T1 and TS1 font encodings (Latin Modern, templates/preamble.tex) sets printable
ASCII, Latin-1 and most of Latin Extended-A and the typographic marks below; Greek letters are set
as math letters. A title with any other character (emoji, CJK, bidirectional controls, zero-width
spaces, line separators) is refused when the spec is read, naming the character, instead of
failing in TeX. The ranges are those the T1/TS1 encodings' Unicode tables declare (t1enc.dfu,
ts1enc.dfu of TeX Live 2022), without the zero-width joiners.
"""
from __future__ import annotations

import unicodedata

from .fields import FieldReader, show

FONT_RANGES = ((0x00A0, 0x00B7), (0x00B9, 0x0125), (0x0128, 0x0137), (0x0139, 0x013E), (0x0141, 0x0148), (0x014A, 0x0165), (0x0168, 0x017E), (0x0192, 0x0192), (0x01C4, 0x01D4), (0x01E2, 0x01E3), (0x01E6, 0x01EB), (0x01F0, 0x01F0), (0x01F4, 0x01F5), (0x0218, 0x021B), (0x0232, 0x0233), (0x0237, 0x0237), (0x02C7, 0x02C7), (0x02D8, 0x02D9), (0x02DB, 0x02DB), (0x02DD, 0x02DD), (0x0E3F, 0x0E3F), (0x1E02, 0x1E03), (0x1E0D, 0x1E0D), (0x1E1E, 0x1E21), (0x1E25, 0x1E25), (0x1E30, 0x1E31), (0x1E37, 0x1E37), (0x1E43, 0x1E43), (0x1E45, 0x1E45), (0x1E47, 0x1E47), (0x1E5B, 0x1E5B), (0x1E63, 0x1E63), (0x1E6D, 0x1E6D), (0x1E8E, 0x1E91), (0x1E9E, 0x1E9E), (0x1EF2, 0x1EF3), (0x2010, 0x2016), (0x2018, 0x201A), (0x201C, 0x201E), (0x2020, 0x2022), (0x2030, 0x2031), (0x2039, 0x203B), (0x203D, 0x203D), (0x2044, 0x2044), (0x204E, 0x204E), (0x2052, 0x2052), (0x20A1, 0x20A1), (0x20A4, 0x20A4), (0x20A6, 0x20A6), (0x20A9, 0x20A9), (0x20AB, 0x20AC), (0x20B1, 0x20B1), (0x2103, 0x2103), (0x2116, 0x2117), (0x211E, 0x211E), (0x2120, 0x2120), (0x2122, 0x2122), (0x2126, 0x2127), (0x212E, 0x212E), (0x2190, 0x2193), (0x2329, 0x232A), (0x2422, 0x2423), (0x25E6, 0x25E6), (0x25EF, 0x25EF), (0x266A, 0x266A), (0x27E8, 0x27E9), (0x3008, 0x3009), (0xFB00, 0xFB06))

# Greek letters, set in math as the letters they are (capitals without a math command: Latin look-alikes).
GREEK = {
    "α": r"\alpha", "β": r"\beta", "γ": r"\gamma", "δ": r"\delta", "ε": r"\varepsilon", "ζ": r"\zeta",
    "η": r"\eta", "θ": r"\theta", "ι": r"\iota", "κ": r"\kappa", "λ": r"\lambda", "μ": r"\mu",
    "ν": r"\nu", "ξ": r"\xi", "ο": "o", "π": r"\pi", "ρ": r"\rho", "σ": r"\sigma", "ς": r"\varsigma",
    "τ": r"\tau", "υ": r"\upsilon", "φ": r"\varphi", "χ": r"\chi", "ψ": r"\psi", "ω": r"\omega",
    "ϑ": r"\vartheta", "ϕ": r"\phi", "ϵ": r"\epsilon",
    "Α": r"\mathrm{A}", "Β": r"\mathrm{B}", "Γ": r"\Gamma", "Δ": r"\Delta", "Ε": r"\mathrm{E}",
    "Ζ": r"\mathrm{Z}", "Η": r"\mathrm{H}", "Θ": r"\Theta", "Ι": r"\mathrm{I}", "Κ": r"\mathrm{K}",
    "Λ": r"\Lambda", "Μ": r"\mathrm{M}", "Ν": r"\mathrm{N}", "Ξ": r"\Xi", "Ο": r"\mathrm{O}",
    "Π": r"\Pi", "Ρ": r"\mathrm{P}", "Σ": r"\Sigma", "Τ": r"\mathrm{T}", "Υ": r"\Upsilon",
    "Φ": r"\Phi", "Χ": r"\mathrm{X}", "Ψ": r"\Psi", "Ω": r"\Omega",
}

# Mathematical characters in prose (method descriptions, notes, titles): set in math mode.
MATH = {
    "∇": r"\nabla", "∞": r"\infty", "≤": r"\le", "≥": r"\ge", "≠": r"\ne", "≈": r"\approx",
    "·": r"\cdot", "×": r"\times", "−": "-", "∂": r"\partial", "‖": r"\|", "²": "^{2}", "³": "^{3}",
    "¹": "^{1}", "⁺": "^{+}", "∈": r"\in", "∑": r"\sum", "√": r"\surd", "→": r"\to", "±": r"\pm",
    "₁": "_{1}", "₂": "_{2}", "ℓ": r"\ell", "𝓛": r"\mathcal{L}", "⊙": r"\odot", "ᵀ": "^{T}",
}


def settable(c: str) -> bool:
    """Whether the pages can set the character (as text, or as a math letter or symbol)."""
    if " " <= c <= "~" or c in GREEK or c in MATH:
        return True
    code = ord(c)
    return any(low <= code <= high for low, high in FONT_RANGES)


def unsettable(text: str) -> str | None:
    """The first character of the text the pages cannot set, described for an error line, or None."""
    for c in text:
        if not settable(c):
            name = unicodedata.name(c, "unnamed character")
            if unicodedata.category(c)[0] in "CZ":
                return f"U+{ord(c):04X} {name} (invisible)"
            return f"{c!r} (U+{ord(c):04X} {name})"
    return None


def read_title(raw: dict, r: FieldReader) -> str:
    """A spec's `title`: one settable line of at most 200 characters (every kind of spec reads it so)."""
    title = raw.get("title", "Worked solution")
    if not isinstance(title, str):
        raise r.fail("title", f"expected a string, got {show(title)}")
    if any(ord(c) < 32 and c not in "\t" for c in title) or len(title) > 200:
        raise r.fail("title", "expected one line of at most 200 characters")
    if not title.strip():
        raise r.fail("title", "expected some text, got an empty or blank title")
    bad = unsettable(title)
    if bad:
        raise r.fail("title", f"the pages cannot set the character {bad} of {show(title)}; use Latin "
                     "letters (accents included), Greek letters, digits and punctuation")
    return title
