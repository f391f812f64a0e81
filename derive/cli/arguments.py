"""Every sub-command's arguments, and the one table that lists the sub-commands.

Only argparse and small constants are imported here, so `derive --help` and argument errors
answer without loading sympy; a command's own module is imported when that command runs.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Callable

from ..choices import PARTS
from ..errors import shorten_quoted
from ..limits import MAX_STRESS, MAX_VARIANTS


OUT_HELP = ("the output folder, derive's alone: new, empty or written by derive (replaced as a whole "
            "on success)")
FORCE_HELP = ("write into a folder that holds other files too: derive replaces only the files it wrote "
              "there and keeps yours")


@dataclass(frozen=True)
class Subcommand:
    name: str
    module: str                      # the module of derive.cli that runs it (its `run(args)`)
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]


def _key(p) -> None:
    p.add_argument("spec", help="the spec file (TOML)")
    p.add_argument("-o", "--output", help="write key.json here (default: standard output)")


def _worksheet(p) -> None:
    p.add_argument("spec", help="the spec file (TOML)")
    p.add_argument("--out", required=True, help=OUT_HELP)
    p.add_argument("--no-pdf", action="store_true", help="write the .tex and key.json without running TeX")
    p.add_argument("--force", action="store_true", help=FORCE_HELP)


def _snippet(p) -> None:
    p.add_argument("spec", help="the spec file (TOML)")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--part", choices=PARTS, help="which part of the solution")
    group.add_argument("--step", help="one step by name, e.g. dE_total/dw5, out_h1, w5+")
    p.add_argument("-o", "--output", help="the .tex file to write (default: standard output)")
    p.add_argument("--standalone", action="store_true", help="a whole document (compiles on its own, "
                   "derive.sty's definitions inlined)")
    p.add_argument("--no-headings", action="store_true", help="leave out the headings (\\deriveheading)")
    p.add_argument("--fit", default="article", metavar="article|twocolumn|beamer|WIDTH",
                   help="the document it lands in: displays broken for that width, the network scaled; "
                   "beamer: a sequence of frames; WIDTH such as 12cm (default: article)")
    p.add_argument("--frame-bodies", action="store_true", help="with --fit beamer: frame bodies for your "
                   "own frames (\\deriveframe{forward-1}) instead of whole frames")
    p.add_argument("--format", choices=("latex", "markdown"), default="latex",
                   help="latex (default) or markdown with $$ displays for KaTeX/MathJax (Quarto, Jupyter, "
                   "course websites, Moodle)")


def _slides(p) -> None:
    p.add_argument("spec", help="the spec file (TOML), optionally with [slides] theme and aspect_ratio")
    p.add_argument("--out", required=True, help=OUT_HELP)
    p.add_argument("--no-pdf", action="store_true", help="write slides.tex without running TeX")
    p.add_argument("--handout", action="store_true", help="overlays collapsed, for printing")
    p.add_argument("--force", action="store_true", help=FORCE_HELP)


def _style(p) -> None:
    p.add_argument("-o", "--output", default="derive.sty", help="where to write it (default: derive.sty)")


def _exam(p) -> None:
    p.add_argument("spec", help="the spec file (TOML), optionally with [exam] and [exam.random]")
    p.add_argument("--variants", type=int, metavar="N",
                   help=f"how many variants (1 to {MAX_VARIANTS}; default: [exam] variants)")
    p.add_argument("--seed", type=int, metavar="S", help="the random seed (default: [exam] seed, else drawn)")
    p.add_argument("--out", help=OUT_HELP)
    p.add_argument("--force", action="store_true", help=FORCE_HELP)
    p.add_argument("--no-pdf", action="store_true",
                   help="write everything but the PDFs and the diagram pictures, without TeX")
    p.add_argument("--lms", choices=["moodle", "canvas", "qti21"], default="moodle",
                   help="the learning platform: moodle.xml is always written; canvas adds canvas.zip "
                        "(QTI 1.2 for Canvas's quiz import), qti21 adds qti21.zip (QTI 2.1) (default: moodle)")
    p.add_argument("--students", metavar="ROSTER.csv",
                   help="a CSV file with columns id and name: variant k goes to the k-th student, whose "
                        "name and ID are printed on its pages and in the keys")
    p.add_argument("--csv-dialect", choices=["excel", "excel-de"], default="excel",
                   help="keys.csv and keys-long.csv: excel (comma, decimal point; the default) or "
                        "excel-de (semicolon, decimal comma)")
    p.add_argument("--stress", type=int, metavar="K",
                   help=f"draw K variants (1 to {MAX_STRESS}) and report their spread; writes nothing")


def _calculus_options(p) -> None:
    p.add_argument("--wrt", metavar="x,y,z", help="differentiate with respect to these variables "
                   "(comma-separated; default: every variable, in the order written)")
    p.add_argument("--at", action="append", metavar="x=-2,y=5", help="substitute these numbers")
    p.add_argument("--json", action="store_true", help="print the results as JSON instead of LaTeX")
    p.add_argument("--standalone", action="store_true", help="a compilable document, not a fragment")
    p.add_argument("--decimals", type=int, default=9, help="decimal places shown (default 9)")
    p.add_argument("-o", "--output", metavar="FILE.tex", help="write here (default: standard output)")


def _chain(p) -> None:
    p.add_argument("expression", help='the function, e.g. "sin(y)" or "f = (x + y)*z" (one that '
                   'starts with a minus sign: "f = -x", or put -- before it)')
    p.add_argument("--let", action="append", default=[], metavar="NAME=EXPR",
                   help='an inner function, e.g. "y = 0.5*x**2" (repeatable)')
    p.add_argument("--graph", action="store_true", help="add the TikZ computation graph "
                   "(values above the wires, gradients below)")
    p.add_argument("--brief", action="store_true", help="fold the elementary steps (constants, the "
                   "variable, x^n, sin x, ...) into the steps that use them")
    _calculus_options(p)


def _jacobian(p) -> None:
    p.add_argument("expression", help='the components, comma-separated: "x1*x2, sin(x1) + x3"')
    p.add_argument("--outer", metavar='"EXPR in y1,y2"', help="a scalar function z of the "
                   "components (named after 'in'; default y1, y2, ...): dz/dx = (dy/dx)^T dz/dy")
    _calculus_options(p)


SUBCOMMANDS = (
    Subcommand("key", "key", "derive one round of training and write the answer key as JSON", _key),
    Subcommand("worksheet", "worksheet", "write the handout, its worked solution and the key", _worksheet),
    Subcommand("exam", "exam", "exam variants: new numbers per student, worked solutions, keys, Moodle XML",
               _exam),
    Subcommand("snippet", "snippet", "one part of the worked solution as a LaTeX fragment to \\input",
               _snippet),
    Subcommand("slides", "slides", "a beamer deck of the worked example with the spec's numbers", _slides),
    Subcommand("style", "style", "write derive.sty, the package that derive's fragments need", _style),
    Subcommand("chain", "chain", "the chain rule worked for any expression (LaTeX or JSON)", _chain),
    Subcommand("jacobian", "jacobian", "the Jacobian of a vector of expressions, and the vector "
               "chain rule with --outer", _jacobian),
)
BY_NAME = {s.name: s for s in SUBCOMMANDS}
# The commands that take a spec of [[module]] tables (the others refuse it in one line).
MODULE_COMMANDS = ("key", "worksheet", "snippet", "slides", "exam")


class Parser(argparse.ArgumentParser):
    """argparse, with the offending argument cut to ~80 characters in its error line (a 130 kB
    argument is not echoed whole); the sub-commands' parsers are of this class too."""

    def error(self, message: str):
        super().error(shorten_quoted(message))


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="derive", description="Worked solutions of neural-network "
                                     "training, derived with sympy and typeset with LaTeX.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for s in SUBCOMMANDS:
        s.arguments(sub.add_parser(s.name, help=s.help))
    return parser
