"""How wide a formula prints, roughly, in characters: what decides where a long equality breaks."""
from __future__ import annotations


def latex_width(tex: str) -> float:
    """Roughly how many characters wide a formula prints: fractions as their wider part, scripts
    smaller, matrices as their widest row. Used to break long chains of equalities into rows."""
    return _width(tex.replace(r"\left", "").replace(r"\right", ""))


def _group(tex: str, i: int) -> tuple[str, int]:
    """The brace group starting at tex[i] == "{" and the index after it."""
    depth = 0
    for j in range(i, len(tex)):
        depth += {"{": 1, "}": -1}.get(tex[j], 0)
        if depth == 0:
            return tex[i + 1:j], j + 1
    return tex[i + 1:], len(tex)


def _width(tex: str) -> float:
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
