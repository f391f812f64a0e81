"""LaTeX of a quantity's structured name: net_{h1}, w^{(2)+}_{12}, the partial dE_total/dw5."""
from __future__ import annotations

from functools import lru_cache

from ..model.naming import Name, Partial, Sampled, Stated

GREEK = {"mu": r"\mu", "alpha": r"\alpha", "beta": r"\beta", "epsilon": r"\varepsilon", "eta": r"\eta", "lambda": r"\lambda", "Omega": r"\Omega", "Lagrangian": r"\mathcal{L}", "delta": r"\delta", "theta": r"\theta", "sigma": r"\sigma"}


@lru_cache(maxsize=4096)      # names are frozen records; an exam prints the same few thousand times a variant
def name_latex(name: Name | Partial | Sampled | Stated, extra_sup: str = "") -> str:
    """LaTeX of a structured name: net_{h1}, w^{(2)+}_{12}, \\frac{\\partial E_{total}}{\\partial w_{5}}."""
    if isinstance(name, Stated):
        base = rf"\hat{{{name.base}}}" if name.hat else name.base
        return base + (f"^{{{name.mark}}}" if name.mark else "") + "_{" + name_latex(name.of) + "}"
    if isinstance(name, Sampled):
        marker = f"[{name.sample}]"
        if isinstance(name.inner, Partial):
            return _partial(name.inner.num, name.inner.den, marker)
        return name_latex(name.inner, marker)
    if isinstance(name, Partial):
        return _partial(name.num, name.den, "")
    base = GREEK.get(name.base, name.base if len(name.base) == 1 else rf"\mathit{{{name.base}}}")
    sup = name.sup + name.mark + extra_sup
    text = base
    if sup:
        text += "^{" + sup + "}"
    if name.sub:
        sub = name.sub if not name.sub.isalpha() or len(name.sub) == 1 else rf"\mathit{{{name.sub}}}"
        text += "_{" + sub + "}"
    return text


def _partial(num: Name, den: Name, marker: str) -> str:
    return rf"\frac{{\partial {name_latex(num, marker)}}}{{\partial {name_latex(den)}}}"
