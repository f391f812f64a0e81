"""The `derive` command: parses arguments, runs one sub-command, explains user errors.

The sub-commands are listed in one table (`arguments.SUBCOMMANDS`); the module that runs one is
imported only when it runs, and a command's spec file is read and validated before that (`args.spec`
becomes the validated `Spec`), so `derive --help`, argument errors and spec errors need no sympy.
A `DeriveError` is printed as one line (plus a log excerpt where TeX failed) and exits 2; a failed
independent check (`VerificationError`) exits 3.
"""
from __future__ import annotations

import importlib
import sys

from ..errors import DeriveError, VerificationError
from ..spec import load
from .arguments import BY_NAME, build_parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if isinstance(getattr(args, "spec", None), str):
            args.spec = load(args.spec)
        command = importlib.import_module(f"{__name__}.{BY_NAME[args.command].module}")
        return command.run(args)
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
