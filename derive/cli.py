"""The `derive` command: parses arguments, runs one stage of the pipeline, explains user errors.

A `DeriveError` is printed as one line (plus a log excerpt where TeX failed) and exits 2.
"""
from __future__ import annotations

import argparse
import sys
from typing import Callable

from .errors import DeriveError, VerificationError

COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = []


def command(register: Callable[[argparse._SubParsersAction], None]):
    """Decorator: a function that adds one sub-command to the parser."""
    COMMANDS.append(register)
    return register


@command
def _key(sub) -> None:
    p = sub.add_parser("key", help="derive one round of training and write the answer key as JSON")
    p.add_argument("spec", help="the spec file (TOML)")
    p.add_argument("-o", "--output", help="write key.json here (default: standard output)")
    p.set_defaults(run=_run_key)


def _run_key(args) -> int:
    from . import spec as spec_mod
    from .output import dumps_json, write_file
    from .solve import solve
    solution = solve(spec_mod.load(args.spec))
    text = dumps_json(solution.key)
    if args.output:
        write_file(args.output, text)
    else:
        sys.stdout.write(text)
    return 0


def _load_commands() -> None:
    # Modules that add sub-commands register them on import.
    from . import commands  # noqa: F401


def build_parser() -> argparse.ArgumentParser:
    _load_commands()
    parser = argparse.ArgumentParser(prog="derive", description="Worked solutions of neural-network "
                                     "training, derived with sympy and typeset with LaTeX.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in COMMANDS:
        register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except VerificationError as exc:
        print(f"derive: {exc.line()}", file=sys.stderr)
        return 3
    except DeriveError as exc:
        print(f"derive: {exc.line()}", file=sys.stderr)
        if exc.details:
            print(exc.details, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
