"""Small helpers shared by the tests: run the CLI, read a PDF's text.

`run_cli` runs `derive ARGS` in this process (fast); `run_console` starts the real console script
as a subprocess and is kept for the few tests of the command as a process.
"""
from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from derive.cli import main

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Result:
    """What a finished command left behind, like `subprocess.CompletedProcess`."""
    args: list[str]
    returncode: int
    stdout: str = field(repr=False)
    stderr: str = field(repr=False)


_ONE_AT_A_TIME = threading.Lock()   # stdout, stderr, cwd and the environment belong to the whole process


def run_cli(*args, env: dict | None = None, cwd: Path | None = None) -> Result:
    """`derive ARGS` in this process, from `cwd` (default: the repository root) with `env` added to
    the environment; all three are restored afterwards. Exit statuses are those of the console
    script: main's return value, or the code of a SystemExit (argparse: 2 on a usage error, 0 for
    --help). Anything else main raises is a bug and propagates with its traceback."""
    argv = [str(a) for a in args]
    out, err = io.StringIO(), io.StringIO()
    with _ONE_AT_A_TIME, _environment(env or {}), contextlib.chdir(cwd or ROOT), \
            contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as exc:
            status = exc.code
        if status is not None and not isinstance(status, int):   # sys.exit("message"), as Python does
            print(status, file=sys.stderr)
            status = 1
    return Result(argv, status or 0, out.getvalue(), err.getvalue())


@contextlib.contextmanager
def _environment(changes: dict):
    saved = {name: os.environ.get(name) for name in changes}
    os.environ.update({name: str(value) for name, value in changes.items()})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_console(*args) -> subprocess.CompletedProcess:
    """`python -m derive ARGS` as a separate process, from the repository root, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "derive", *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT, timeout=600)


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout.replace("\u2212", "-")
