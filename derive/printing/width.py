"""How wide a formula prints, roughly, in characters: what decides where a long equality breaks."""
from __future__ import annotations

from functools import lru_cache
import re

# Every digit counts the same (one unit, never part of a command's name), so a formula's width depends
# on its form with the digits made 0: the same line of 200 exam variants, whose numbers differ, is
# measured once per form (24,000 measurements of 200 variants are about 360 forms).
_DIGITS_AS_ZERO = str.maketrans("123456789", "000000000")
FORMS_KEPT = 4096                   # the cache's bound: a long process keeps at most this many forms


# A tall matrix: rows half as tall again (KaTeX keeps the stretch; MathJax sets plain rows),
# and room under the bracket's top and above its foot (TeX's bracket may fall 5 pt short of what it
# encloses, so a superscript in the first row would touch it): struts of a grown bar's height in
# the first row and its depth in the last. None of it takes width; each row is about 1.8 lines.
TALL_ROWS = r"\def\arraystretch{1.5}"
TALL_TOP, TALL_FOOT = r"\smash[b]{\vphantom{\bigg|}}", r"\smash[t]{\vphantom{\Big|}}"
_TALL_FORMS = tuple(x.translate(_DIGITS_AS_ZERO) for x in (TALL_ROWS, TALL_TOP, TALL_FOOT))


def latex_width(tex: str) -> float:
    """Roughly how many characters wide a formula prints: fractions as their wider part, scripts
    smaller, matrices as their widest row. Used to break long chains of equalities into rows."""
    return _form_width(tex.translate(_DIGITS_AS_ZERO))


@lru_cache(maxsize=FORMS_KEPT)
def _form_width(form: str) -> float:
    for tall in _TALL_FORMS:
        form = form.replace(tall, "")
    return _width(form.replace(r"\left", "").replace(r"\right", ""))


def _group(tex: str, i: int) -> tuple[str, int]:
    """The brace group starting at tex[i] == "{" and the index after it."""
    depth = 0
    for j in range(i, len(tex)):
        depth += {"{": 1, "}": -1}.get(tex[j], 0)
        if depth == 0:
            return tex[i + 1:j], j + 1
    return tex[i + 1:], len(tex)


def _width(tex: str) -> float:
    # Every digit must weigh the same here and never be part of a name: latex_width measures the
    # form with its digits made 0 (and caches it), so a digit of its own weight would be missed.
    width, i = 0.0, 0
    while i < len(tex):
        if tex.startswith(r"\begin{bmatrix}", i):
            end = tex.find(r"\end{bmatrix}", i)
            end = len(tex) if end < 0 else end
            body = tex[i + len(r"\begin{bmatrix}"):end]
            rows = [[_width(c) + 2 for c in row.split("&")] for row in body.split(r"\\")]
            width += max(sum(r) for r in rows) + 1
            i = end + len(r"\end{bmatrix}")
        elif tex.startswith((r"\frac{", r"\dfrac{"), i):
            top, i = _group(tex, tex.index("{", i))
            bottom, i = _group(tex, i) if tex[i:i + 1] == "{" else ("", i)
            width += max(_width(top), _width(bottom))
        elif tex[i] == "\\":
            j = i + 1
            while j < len(tex) and tex[j].isalpha():
                j += 1
            name = tex[i + 1:j] or tex[j:j + 1]
            width += 3 if name in ("sin", "cos", "tan", "exp", "max", "min", "tanh", "ln") else \
                2 if name in ("cdot", "times") else 1
            i = max(j, i + 2)
        elif tex[i] in "^_" and tex[i + 1:i + 2] == "{":
            script, i = _group(tex, i + 1)
            width += 0.7 * _width(script)
        elif tex[i] in "{} ":
            i += 1
        elif tex[i] in "=+-":
            width += 2
            i += 1
        else:
            width += 1
            i += 1
    return width


# One latex_width unit in points at a 10 pt body font (measured: what a display row of N units needs
# in a plain article, with room for the = column); scales with the font size.
POINTS_PER_UNIT = 5.6


def units(points: float, font_size: float = 10.0) -> float:
    """How many latex_width units fit in `points` of line width at `font_size`."""
    return points / (POINTS_PER_UNIT * font_size / 10.0)


def split_top_level(tex: str, width: float) -> list[str]:
    """A formula too wide for one row, cut before its top-level + and - (outside braces, \\left..\\right
    and environments), else before \\odot, else before \\cdot: pieces of at most `width` where possible.
    Every piece after the first starts with its operator, as a continued row of a display does."""
    if latex_width(tex) <= width:
        return [tex]
    cuts = (_cut_points(tex, ("+", "-")) or _cut_points(tex, (r"\odot",)) or _cut_points(tex, (r"\cdot",))
            or _between_matrices(tex))
    if not cuts:
        return _split_parenthesised(tex, width)
    pieces: list[str] = []
    start = 0
    last = 0
    for cut in cuts + [len(tex)]:
        if latex_width(tex[start:cut]) > width and last > start:
            pieces.append(tex[start:last].strip())
            start = last
        last = cut
    pieces.append(tex[start:].strip())
    return [p for p in pieces if p]


def _split_parenthesised(tex: str, width: float) -> list[str]:
    """-(a + b) or a factor times (a + b), e.g. the mean 1/n (a + b + ...), as a whole: cut inside the
    parentheses, which become \\bigl( ... \\bigr) (or \\Bigl for fractions) since a \\left ... \\right
    pair cannot span two rows."""
    start = tex.find(r"\left(")
    sign = tex[:start]
    if start < 0 or _depth(sign) != 0 or _cut_points(sign, ("+", "-")):
        return [tex]
    inner = tex[start:].strip()
    if not inner.endswith(r"\right)"):
        return [tex]
    body = inner[len(r"\left("):-len(r"\right)")]
    depth = 0
    for i in range(len(body)):        # the parentheses must enclose the whole formula
        if body.startswith(r"\left", i):
            depth += 1
        elif body.startswith(r"\right", i):
            depth -= 1
            if depth < 0:
                return [tex]
    pieces = split_top_level(body, width - 3)
    if len(pieces) < 2:
        return [tex]
    size = "B" if latex_height(body) > 1 else "b"
    pieces[0] = f"{sign}\\{size}igl(" + pieces[0]
    pieces[-1] = pieces[-1] + f"\\{size}igr)"
    return pieces


def _between_matrices(tex: str) -> list[int]:
    """Where a product of matrices written side by side may go on in the next row."""
    return [i for i in range(1, len(tex)) if tex.startswith(r"\begin{bmatrix}", i)
            and tex[:i].rstrip().endswith(r"\end{bmatrix}") and _depth(tex[:i]) == 0]


def _depth(tex: str) -> int:
    return (tex.count("{") - tex.count("}") + tex.count(r"\left") - tex.count(r"\right")
            + tex.count(r"\begin{") - tex.count(r"\end{"))


def _cut_points(tex: str, operators: tuple[str, ...]) -> list[int]:
    """Where a top-level binary operator starts (not a leading or unary sign)."""
    points, depth, i = [], 0, 0
    previous = ""
    while i < len(tex):
        if tex.startswith((r"\left", r"\begin{"), i):
            depth += 1
            i = i + 5 if tex.startswith(r"\left", i) else tex.find("}", i) + 1
            continue
        if tex.startswith((r"\right", r"\end{"), i):
            depth -= 1
            previous = ")"
            i = i + 6 if tex.startswith(r"\right", i) else tex.find("}", i) + 1
            continue
        c = tex[i]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif depth == 0 and previous and previous not in "+-=(,[" and not previous.endswith("cdot"):
            for op in operators:
                if tex.startswith(op, i) and not (op[0] == "\\" and tex[i + len(op):i + len(op) + 1].isalpha()):
                    points.append(i)
                    break
        if not c.isspace():
            previous = c if c != "\\" else "\\"
        if c == "\\":
            j = i + 1
            while j < len(tex) and tex[j].isalpha():
                j += 1
            previous = tex[i:j] if j > i + 1 else tex[i:i + 2]
            i = max(j, i + 2)
            continue
        i += 1
    return points


def latex_height(tex: str) -> float:
    """Roughly how tall a display row prints, in multiples of the font size: a fraction (nested ones
    taller) or a matrix's rows above the baseline's one line."""
    height = 1.0
    if r"\begin{bmatrix}" in tex:
        body = tex[tex.find(r"\begin{bmatrix}"):]
        height = max(height, (1.8 if TALL_ROWS in tex else 1.25) * (body.count(r"\\") + 1))
    fractions = tex.count(r"\frac") + tex.count(r"\dfrac")
    if fractions:
        nested = max((tex[i:].split("}{", 1)[0].count(r"\frac") for i in range(len(tex))
                      if tex.startswith(r"\frac", i)), default=1)
        height = max(height, 2.0 + 0.6 * (nested - 1) + _raised(tex))
    else:
        height = max(height, _grown(tex))
    return height


def _grown(tex: str) -> float:
    """A row without a fraction whose parentheses grow around a name with a superscript and a
    subscript (max(0, z^{(1)}_{12}): 1.57 font sizes a row, measured in a beamer frame; 1.11 around
    a square, (1 - 0.1194^{2}))."""
    height = 1.0
    for inside in re.findall(r"\\left(.*?)\\right", tex):
        if re.search(r"\^\{[^}]*\}_\{", inside):
            return 1.6
        if "^" in inside:
            height = 1.1
    return height


def _raised(tex: str) -> float:
    """What a fraction adds beyond its plain height (measured in a beamer frame): a superscript in a
    numerator (dE^{[1]}_total) or a denominator (∂E/∂w^{(1)}_{11}: 2.49 font sizes, not 2) half a
    line, parentheses grown around a fraction a quarter."""
    extra = 0.0
    for i in range(len(tex)):
        if tex.startswith(r"\frac{", i):
            numerator, after = _group(tex, i + 5)
            if "^" in numerator or "^" in _group(tex, after)[0]:
                extra = 0.5
                break
    depth, inside = 0, False
    for i in range(len(tex)):
        if tex.startswith(r"\left", i):
            depth += 1
        elif tex.startswith(r"\right", i):
            depth -= 1
        elif depth and tex.startswith(r"\frac", i):
            inside = True
    return extra + (0.25 if inside else 0.0)
