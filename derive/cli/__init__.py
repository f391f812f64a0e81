"""The `derive` command: parses arguments, runs one sub-command, explains user errors.

The sub-commands are listed in one table (`arguments.SUBCOMMANDS`); the module that runs one is
imported only when it runs, and a command's spec file is read and validated before that (`args.spec`
becomes the validated `Spec`), so `derive --help`, argument errors and spec errors need no sympy.
A `DeriveError` is printed as one line (plus a log excerpt where TeX failed) and exits 2; a failed
independent check (`VerificationError`) exits 3. Ctrl-C and SIGTERM clean up as an error does and
exit 130 and 143. Anything else is a bug: one line asking for a report, exit 1, and no traceback
unless DERIVE_DEBUG=1 is set (then it is raised).
"""
from __future__ import annotations

import contextlib
import importlib
import os
import signal
import sys
import threading

from ..errors import DeriveError, VerificationError, shorten
from ..modules.section import ModuleSpec
from ..spec import load
from .arguments import BY_NAME, MODULE_COMMANDS, build_parser


class Terminated(BaseException):
    """SIGTERM, raised where the program is, so that the same cleanup runs as for Ctrl-C."""


def _on_sigterm(signum, frame):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)     # a second one must not cut the cleanup short
    raise Terminated()


@contextlib.contextmanager
def _sigterm_raises():
    """Turn SIGTERM into `Terminated` while a command runs (only the main thread can catch signals)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def debugging() -> bool:
    return os.environ.get("DERIVE_DEBUG", "") not in ("", "0")


def main(argv: list[str] | None = None) -> int:
    with _sigterm_raises():
        try:
            return _run(argv)
        except KeyboardInterrupt:
            print("derive: interrupted; nothing half-written was left", file=sys.stderr)
            return 130
        except Terminated:
            print("derive: terminated (SIGTERM); nothing half-written was left", file=sys.stderr)
            return 143


def _run(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if isinstance(getattr(args, "spec", None), str):
            args.spec = load(args.spec)
            if isinstance(args.spec, ModuleSpec) and args.command not in MODULE_COMMANDS:
                raise DeriveError(f"a spec with [[module]] tables is not yet supported by derive "
                                  f"{args.command}; derive " + ", ".join(MODULE_COMMANDS) + " take it",
                                  file=args.spec.source, field="module")
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
    except Exception as exc:
        if debugging():
            raise
        print(f"derive: internal error ({type(exc).__name__}: {shorten(str(exc))}); "
              "please report it with the command you ran", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
