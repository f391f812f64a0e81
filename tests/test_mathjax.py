"""Every \\( ... \\) of moodle.xml (cloze and numerical forms, feedback included) renders in MathJax.

MathJax 3 (npm mathjax-full, the exact version in package.json, installed by `make test` and
.ci/run with `npm ci`) runs in node with all its TeX packages except noundefined and noerrors, so an
unknown macro or a brace error fails instead of showing red text. Under CI (CI set) a missing node
or package fails the test; on a developer's machine without them it is skipped with the command
that installs them.
"""
from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from helpers import ROOT, run_cli

EXAM = ROOT / "examples" / "exam.toml"
CHECKER = ROOT / "tests" / "mathjax_check.mjs"
MATH = re.compile(r"\\\((.*?)\\\)", re.S)


def require_mathjax() -> None:
    problem = None
    if shutil.which("node") is None:
        problem = "node is not installed (apt-get install nodejs npm)"
    elif not (ROOT / "node_modules" / "mathjax-full" / "package.json").exists():
        problem = "mathjax-full is not installed: run `npm ci` in the repository root"
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"MathJax check cannot run: {problem}")
        pytest.skip(f"MathJax check cannot run: {problem}")


def formulas(xml_path) -> list[str]:
    out = []
    for text in ET.parse(xml_path).getroot().iter("text"):
        if text.text:
            out += [html.unescape(m) for m in MATH.findall(text.text)]   # the HTML's entities, as a browser reads them
    return out


@pytest.mark.parametrize("form", ["cloze", "numerical"])
def test_every_formula_renders_in_mathjax(tmp_path, form):
    require_mathjax()
    spec = tmp_path / "exam.toml"
    spec.write_text(EXAM.read_text().replace("[exam]\n", f'[exam]\nmoodle = "{form}"\n'))
    result = run_cli("exam", spec, "--variants", 3, "--seed", 11, "--out", tmp_path / "x", "--no-pdf")
    assert result.returncode == 0, result.stderr
    tex = formulas(tmp_path / "x" / "moodle.xml")
    assert len(tex) > 50 and any(r"\frac" in t for t in tex)
    done = subprocess.run(["node", str(CHECKER)], input=json.dumps(tex), capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["checked"] == len(tex)
    assert report["errors"] == []


def test_the_checker_does_catch_bad_tex():
    require_mathjax()
    bad = [r"\frac{1}{", r"\undefinedmacro x", r"a_{1"]
    done = subprocess.run(["node", str(CHECKER)], input=json.dumps(bad + [r"w_{1}"]), capture_output=True,
                          text=True, cwd=ROOT, timeout=120)
    assert [e["index"] for e in json.loads(done.stdout)["errors"]] == [0, 1, 2]
