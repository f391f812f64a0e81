"""The console script as a process: the entry point in pyproject.toml, and argparse's exit statuses.

Everything else runs the command line in the test process (helpers.run_cli); these few start a
real interpreter, as a user's shell does. Two more live with their subjects:
test_key_cli.py::test_key_without_output_prints_the_json (exit 0, the key on stdout) and
test_regularization.py::test_bad_regularization_through_the_command (exit 2, one line on stderr).
"""
from __future__ import annotations

import subprocess
import sys
import tomllib

from helpers import ROOT, run_console


def test_the_console_script_in_pyproject_runs_and_help_exits_0():
    target = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]["derive"]
    module, function = target.split(":")
    script = f"import sys; from {module} import {function}; sys.exit({function}())"   # what pip installs
    result = subprocess.run([sys.executable, "-c", script, "--help"], capture_output=True, text=True,
                            cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout and "key" in result.stdout and result.stderr == ""


def test_a_usage_error_exits_2_as_a_process():
    result = run_console("key")                       # the spec file is missing
    assert result.returncode == 2 and result.stdout == ""
    assert "usage: derive key" in result.stderr and "Traceback" not in result.stderr


def test_help_argument_and_spec_errors_and_the_budget_load_no_sympy(tmp_path):
    """The start-up promise (README, performance): `derive --help`, an argument error, a spec error
    and the cost budget's refusal answer without importing sympy or numpy (0.3 s and 0.1 s)."""
    bad = tmp_path / "bad.toml"
    bad.write_text((ROOT / "examples/lecture.toml").read_text().replace("[network]", "[network]\nlayers_x = 1", 1))
    script = f"""
import contextlib, io, sys, dataclasses
from derive.cli import main
from derive import budget, spec
from derive.errors import DeriveError
codes = []
for argv in (["--help"], ["key"], ["key", {str(bad)!r}]):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            codes.append(main(argv))
        except SystemExit as exc:
            codes.append(exc.code)
lecture = dataclasses.replace(spec.load({str(ROOT / "examples/lecture.toml")!r}), iterations=900_000)
try:
    budget.check(lecture)
except DeriveError as exc:
    codes.append("refused")
print(codes, sorted(m for m in ("sympy", "numpy") if m in sys.modules))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[0] == "[0, 2, 2, 'refused'] []"
