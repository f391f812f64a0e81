"""Jinja2 for LaTeX: one environment, LaTeX-friendly delimiters, one escaping filter.

Templates only lay out: they loop over records whose mathematics the printing module already
typeset. User text (titles, names) passes the `tex` filter. Compiled templates are kept in derive's
cache folder (output/cache.py), so a new process does not compile them again.
"""
from __future__ import annotations

from functools import cache
import os
from pathlib import Path

import jinja2

from ..errors import DeriveError
from ..layout.blocks import pieces
from ..text import GREEK, MATH
from .cache import TemplateCache

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def templates_folder() -> str:
    """The templates: the repository's, or a lecturer's own copy named by DERIVE_TEMPLATES."""
    return os.environ.get("DERIVE_TEMPLATES") or str(TEMPLATES)

# Characters that LaTeX would not print as themselves: escaped. The typewriter font's own glyph for
# those without a text glyph; braces after -, and , so that TeX forms no ligature (--, ---, ,,);
# the backquote and the straight quote as the characters themselves (no ?` !` '' `` ligatures,
# no curly quotes): user text is printed literally.
_ESCAPES = {
    "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#", "%": r"\%",
    **{c: rf"{{\ttfamily\char{ord(c)}}}" for c in "\\^~_<>|"},
    "`": r"\textasciigrave{}", "'": r"\textquotesingle{}", "-": "-{}", ",": ",{}",
    "\t": " ", "\u00ad": "",
    **{c: f"\\ensuremath{{{m}}}" for c, m in (GREEK | MATH).items()},
    # Typographic marks written by derive's own prose: as the marks themselves.
    "–": r"\textendash{}", "—": r"\textemdash{}", "’": r"\textquoteright{}", "‘": r"\textquoteleft{}",
    "“": r"\textquotedblleft{}", "”": r"\textquotedblright{}", "…": r"\dots{}",
}


_ESCAPE_TABLE = str.maketrans(_ESCAPES)


def escape_tex(text: str) -> str:
    """User text as literal LaTeX text: every special character escaped, no ligature formed."""
    return str(text).translate(_ESCAPE_TABLE)


def environment(folder: str | None = None) -> jinja2.Environment:
    return _environment(folder or templates_folder())


# How templates are read. The compiled templates cached on disk depend on these: their cache folder
# is named by a hash of them.
SETTINGS = dict(
    block_start_string=r"\BLOCK{", block_end_string="}",
    variable_start_string=r"\VAR{", variable_end_string="}",
    comment_start_string=r"\#{", comment_end_string="}",
    line_statement_prefix=None, line_comment_prefix="%#",
    trim_blocks=True, lstrip_blocks=True, autoescape=False, keep_trailing_newline=True,
)


@cache
def _environment(folder: str) -> jinja2.Environment:
    if not Path(folder).is_dir():
        raise DeriveError("templates folder not found", file=folder)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(folder), undefined=jinja2.StrictUndefined,
                             bytecode_cache=TemplateCache(repr(sorted(SETTINGS.items()))), **SETTINGS)
    env.filters["tex"] = escape_tex
    env.filters["pieces"] = pieces      # a long table's rows in pieces that each fit a page
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
