"""`derive snippet --format markdown`: a part of the worked solution as Markdown with `$$` displays.

For Quarto, Jupyter, course websites and Moodle pages: every display is `$$\\begin{aligned} ...
\\end{aligned}$$` with only what KaTeX and MathJax know (no macro from derive.sty), prose is
Markdown text, headings are `###`. The same sections as the LaTeX snippet; the network picture
becomes the problem's data, the path figure its caption.
"""
from __future__ import annotations

from ..layout import problem
from ..layout.blocks import Block, Line, Section
from ..modules.solution import ModuleSolution
from ..regularization.layout import regularization_context
from ..solution import Solution
from .snippet import chosen_sections, module_sections, regularization_sections

_MARKDOWN_SPECIAL = "\\`*_[]<>#|$"


def escape(text: str) -> str:
    """Plain text as Markdown text: characters Markdown (or a $ of KaTeX) would read, escaped."""
    return "".join("\\" + c if c in _MARKDOWN_SPECIAL else c for c in text)


_TEXT_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#", "%": r"\%",
                 "_": r"\_", "^": r"\^{}", "~": r"\~{}"}


def text_in_math(text: str) -> str:
    """Plain words inside a display: \\text{...} with TeX's special characters escaped."""
    return r"\text{" + "".join(_TEXT_SPECIAL.get(c, c) for c in text) + "}"


def display(lines: list[Line]) -> str:
    """One aligned display between $$ (rows from the printing package, arranged here)."""
    rows = []
    for line in lines:
        if line.continued:
            row = r"&\quad " + " = ".join(line.rhs)
        elif line.rhs:
            row = f"{line.lhs} &= " + " = ".join(line.rhs)
        else:
            row = f"{line.lhs} &"
        if line.note:
            row += r" \qquad " + text_in_math(f"({line.note})")
        rows.append(row)
    return "$$\n\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}\n$$"


def text_markdown(text: str | list) -> str:
    """Prose: plain text, or pieces of plain text and inline formulas (`Math`) as $...$."""
    if isinstance(text, str):
        return escape(text)
    return "".join(escape(p) if isinstance(p, str) else f"${p.tex}$" for p in text)


def blocks_markdown(blocks: list[Block]) -> list[str]:
    out = []
    for block in blocks:
        if block.text:
            out.append(text_markdown(block.text))
        if block.lines:
            out.append(display(block.lines))
    return out


def section_markdown(section: Section, headings: bool = True) -> str:
    """A section's blocks, then its numbered steps, each under its title in bold (a page of notes
    has no step 7 to refer to, so the title stands without the number, as in the LaTeX fragments)."""
    out = [f"### {text_markdown(section.title)}"] if headings else []
    out += blocks_markdown(section.blocks)
    for step in section.steps:
        out.append(f"**{text_markdown(step.title)}**")
        out += blocks_markdown(step.blocks)
    return "\n\n".join(out)


def prose(parts: list[dict]) -> str:
    """A paragraph of the regularisation pages: words, $inline$ mathematics, $$shown$$ formulas."""
    out = []
    for part in parts:
        if part["display"]:
            out.append(f"\n\n$$\n{part['text']}\n$$\n\n")
        elif part["math"]:
            out.append(f"${part['text']}$")
        else:
            out.append(escape(part["text"]))
    return "".join(out).strip()


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join([":--"] + ["--:"] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def regularization_markdown(solution: Solution, headings: bool) -> str:
    regularization_sections(solution)      # a spec without [regularization]: one clear error
    context = regularization_context(solution, "none")
    out: list[str] = []

    def pieces(section) -> None:
        if headings:
            out.append(f"### {escape(section.title)}")
        for piece in section.blocks:
            out.append(prose(piece["parts"]) if piece["kind"] == "para" else display(piece["lines"]))

    for section in context["soft"]:
        pieces(section)
    if context["table"]:
        out.append(f"The same two rules for every parameter, with and without the penalty "
                   f"($\\lambda = {context['lam']}$):")
        out.append(table(["parameter", "value", r"gradient without $\lambda$", r"gradient with $\lambda$",
                          r"after one step without $\lambda$", r"after one step with $\lambda$"],
                         [[f"${r[k]}$" if r[k] else "" for k in ("name", "value", "gradient", "regularized_gradient",
                                                                  "updated", "regularized_updated")]
                          for r in context["table"]]))
    for section in context["hard"]:
        pieces(section)
    eq = context["equivalence"]
    if eq:
        if headings:
            out.append("### " + prose(eq["title"]["parts"]))
        out.append(prose(eq["intro"]["parts"]))
        out.append(table(["parameter", r"hard, $\theta^{*}$", r"soft, $\lambda = \lambda^{*}$", "difference"],
                         [[f"${r[k]}$" for k in ("name", "hard", "soft", "difference")] for r in eq["rows"]]))
        out.append(prose(eq["outcome"]["parts"]))
        if eq["show_path"]:
            out.append(prose(eq["caption"]["parts"]))
    if context["kkt"]:
        out.append(prose(context["kkt"]["parts"]))
    return "\n\n".join(out)


def network_markdown(solution: Solution, headings: bool) -> str:
    """The network's data (a Markdown page has no TikZ picture): inputs, targets, parameters, η."""
    g = problem.given(solution)
    rows = []
    for sample in g["samples"]:
        rows += [sample["inputs"], sample["targets"]]
    rows += g["weights"] + g["biases"] + [g["eta"]]
    out = ["### The network"] if headings else []
    layers = "-".join(str(n) for n in solution.spec.layers)
    out.append(escape(f"A {layers} network ({g['activation']}), loss: {g['loss_name']}."))
    out.append("$$\n\\begin{aligned}\n" + " \\\\\n".join(f"&{r}" for r in rows) + "\n\\end{aligned}\n$$")
    return "\n\n".join(out)


def markdown(solution: Solution | ModuleSolution, part: str | None, step: str | None,
             headings: bool = True) -> str:
    """The part (or step) as Markdown, ending with one newline."""
    if isinstance(solution, ModuleSolution):
        sections = module_sections(solution, part, step)
        text = "\n\n".join(section_markdown(s, headings) for s in sections)
    elif step is None and part == "regularization":
        text = regularization_markdown(solution, headings)
    elif step is None and part == "network":
        text = network_markdown(solution, headings)
    else:
        sections = chosen_sections(solution, part, step)
        text = "\n\n".join(section_markdown(s, headings and step is None) for s in sections)
    return text.rstrip() + "\n"
