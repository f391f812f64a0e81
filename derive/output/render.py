"""Jinja2 for LaTeX: one environment, LaTeX-friendly delimiters, one escaping filter.

Templates only lay out: they loop over records whose mathematics the printing module already
typeset. User text (titles, names) passes the `tex` filter.
"""
from __future__ import annotations

from functools import cache
import os
from pathlib import Path

import jinja2

from ..errors import DeriveError

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def templates_folder() -> str:
    """The templates: the repository's, or a lecturer's own copy named by DERIVE_TEMPLATES."""
    return os.environ.get("DERIVE_TEMPLATES") or str(TEMPLATES)

# Characters without a text glyph in TeX's default (OT1) fonts take the typewriter font's own glyph,
# so they print (and copy, and search) as themselves without extra font packages.
_ESCAPES = {
    "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#", "%": r"\%",
    **{c: rf"{{\ttfamily\char{ord(c)}}}" for c in "\\^~_<>|"},
    # Mathematical characters in prose (method descriptions, notes): typeset, not passed to pdflatex raw.
    **{c: f"\\ensuremath{{{m}}}" for c, m in {
        "λ": r"\lambda", "η": r"\eta", "θ": r"\theta", "σ": r"\sigma", "δ": r"\delta", "Ω": r"\Omega",
        "∇": r"\nabla", "∞": r"\infty", "≤": r"\le", "≥": r"\ge", "≠": r"\ne", "≈": r"\approx",
        "·": r"\cdot", "×": r"\times", "−": "-", "∂": r"\partial", "‖": r"\|", "²": "^{2}",
        "⁺": "^{+}", "∈": r"\in", "Σ": r"\Sigma", "∑": r"\sum", "√": r"\surd", "→": r"\to",
        "∞": r"\infty", "₁": "_{1}", "₂": "_{2}", "ℓ": r"\ell", "𝓛": r"\mathcal{L}",
    }.items()},
    "–": "--", "—": "---", "’": "'", "‘": "`", "“": "``", "”": "''", "…": r"\dots{}",
}


def escape_tex(text: str) -> str:
    """User text as literal LaTeX text: every special character escaped."""
    return "".join(_ESCAPES.get(c, c) for c in str(text))


def environment(folder: str | None = None) -> jinja2.Environment:
    return _environment(folder or templates_folder())


@cache
def _environment(folder: str) -> jinja2.Environment:
    if not Path(folder).is_dir():
        raise DeriveError("templates folder not found", file=folder)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        block_start_string=r"\BLOCK{", block_end_string="}",
        variable_start_string=r"\VAR{", variable_end_string="}",
        comment_start_string=r"\#{", comment_end_string="}",
        line_statement_prefix=None, line_comment_prefix="%#",
        trim_blocks=True, lstrip_blocks=True, autoescape=False,
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
    )
    env.filters["tex"] = escape_tex
    return env


def render(template: str, context: dict, folder: str | None = None) -> str:
    """Render one template; a template problem becomes one clear DeriveError."""
    try:
        return environment(folder).get_template(template).render(**context)
    except jinja2.TemplateSyntaxError as exc:
        raise DeriveError(f"template error at line {exc.lineno}: {exc.message}",
                          file=exc.filename or template) from None
    except jinja2.UndefinedError as exc:
        raise DeriveError(f"template error: {exc.message}", file=template) from None
    except jinja2.TemplateNotFound as exc:
        raise DeriveError("template not found", file=str(exc.name)) from None
    except jinja2.TemplateError as exc:
        raise DeriveError(f"template error: {exc}", file=template) from None
