"""`derive.show`: a worked solution that displays itself in Jupyter.

Built on `derive.derive`'s verified `Solution`: its parts and steps are the snippet's sections as
Markdown with `$$` displays (what Jupyter, VS Code and Quarto render), and `_repr_latex_` gives the
displays as `$$...$$` for front ends that take LaTeX.
"""
from __future__ import annotations

from ..choices import PARTS
from ..errors import DeriveError
from ..modules.solution import ModuleSolution
from ..solution import Solution, derive
from ..spec import Spec
from .markdown import markdown

SHOWN_PARTS = ("network", "forward", "loss", "backward", "update")


class Shown:
    """One part or step of a solution, for display: Markdown with $$ displays, or LaTeX."""

    def __init__(self, text: str):
        self.markdown = text

    def _repr_markdown_(self) -> str:
        return self.markdown

    def _repr_latex_(self) -> str:
        """Only the displays, each as $$...$$ (a LaTeX front end shows no Markdown prose)."""
        chunks = self.markdown.split("$$")
        return "\n".join(f"$${chunk.strip()}$$" for chunk in chunks[1::2])

    def __str__(self) -> str:
        return self.markdown


class ShownSolution(Shown):
    """A verified solution whose parts and steps display as mathematics in a notebook."""

    def __init__(self, solution: Solution | ModuleSolution):
        self.solution = solution
        super().__init__("\n\n".join(self.part(p).markdown for p in self.parts()))

    def parts(self) -> list[str]:
        """The parts this solution has (regularisation only with a [regularization] section)."""
        return list(SHOWN_PARTS) + (["regularization"] if self.solution.regularization is not None else [])

    @property
    def key(self) -> dict:
        """The answer key (the JSON that `derive key` writes), as a dict."""
        return self.solution.key

    def part(self, name: str) -> Shown:
        if name not in PARTS:
            raise DeriveError(f"unknown part {name!r}; expected one of: {', '.join(PARTS)}", field="part")
        return Shown(markdown(self.solution, name, None))

    def step(self, name: str) -> Shown:
        """One step by its plain name, e.g. `dE_total/dw5`, `out_h1`, `w5+`."""
        return Shown(markdown(self.solution, None, name))

    def value(self, name: str, sample: int = 0) -> float:
        return self.solution.value(name, sample)


def show(spec: Spec | dict | str) -> ShownSolution:
    """The verified solution of a spec (a path, a dict in the TOML schema or a `Spec`), for display."""
    return ShownSolution(derive(spec))
