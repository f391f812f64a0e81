"""`derive chain` and `derive jacobian` as a user runs them: JSON shapes, fragments that compile
inside a plain article, the CS231n graph, and every bad expression as one line with exit status 2.

Compiling and the main bad inputs run `python -m derive` in subprocesses; the other cases call the
same `main` in this process, which keeps the file fast."""
from __future__ import annotations

import json
import math
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from derive.cli import main

from helpers import pdf_text, run_cli

CS231N = ("chain", "q*z", "--let", "q = x + y", "--wrt", "x,y,z", "--at", "x=-2,y=5,z=-4")
SIN = ("chain", "sin(y)", "--let", "y=0.5*x**2", "--wrt", "x")


def ok(*args) -> str:
    """Run in a subprocess, as a user does."""
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def derive(capsys):
    """The same command line in this process (fast): derive(*args) -> (status, stdout, stderr)."""
    def run(*args):
        status = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return status, out, err
    return run


def ok_here(derive, *args) -> str:
    status, out, err = derive(*args)
    assert status == 0, err
    return out


# -- JSON -----------------------------------------------------------------------------------------------

def test_chain_json_sin_example_at_x_2_is_cos_2_times_2(derive):
    data = json.loads(ok_here(derive, *SIN, "--at", "x=2", "--json"))
    assert set(data) == {"function", "value", "gradient"}
    assert data["function"] == "sin(0.5*x**2)"
    assert data["value"] == pytest.approx(math.sin(2))
    (chain,) = data["gradient"]["x"].pop("steps")     # df/dy . dy/dx, each local worked by rules
    assert chain["rule"] == "chain" and [s["rule"] for s in chain["steps"]] == ["trig", "constant multiple"]
    assert [s["result"] for s in chain["steps"]] == ["cos(y)", "x"]
    assert data["gradient"] == {"x": {"expression": "x*cos(0.5*x**2)",
                                      "value": pytest.approx(math.cos(2) * 2)}}


def test_chain_json_has_no_values_without_at(derive):
    data = json.loads(ok_here(derive, *SIN, "--json"))
    assert set(data) == {"function", "gradient"}
    assert data["gradient"]["x"].pop("steps")[0]["rule"] == "chain"
    assert data["gradient"] == {"x": {"expression": "x*cos(0.5*x**2)"}}


def test_chain_json_cs231n(derive):
    data = json.loads(ok_here(derive, *CS231N, "--json"))
    assert data["value"] == -12
    assert {k: v["value"] for k, v in data["gradient"].items()} == {"x": -4, "y": -4, "z": 3}
    assert data["gradient"]["z"]["expression"] == "x + y"


def test_jacobian_json_shapes(derive):
    data = json.loads(ok_here(derive, "jacobian", "x1*x2, sin(x1) + x3", "--wrt", "x1,x2,x3", "--json"))
    assert data == {"jacobian": [["x2", "x1", "0"], ["cos(x1)", "0", "1"]]}
    data = json.loads(ok_here(derive, "jacobian", "x1*x2, sin(x1) + x3", "--at", "x1=0,x2=2,x3=3",
                              "--json"))
    assert data["values"] == [[2, 0, 0], [1, 0, 1]]


def test_jacobian_json_with_outer_gives_the_vector_chain_rule(derive):
    data = json.loads(ok_here(derive, "jacobian", "x1*x2, x1 + x2", "--outer", "z = a*b in a,b",
                              "--at", "x1=2,x2=3", "--json"))
    assert set(data) == {"jacobian", "values", "determinant", "outer", "gradient"}
    assert data["determinant"] == {"expression": "-x1 + x2", "value": 1}     # |x2 x1; 1 1| = x2 - x1
    assert data["outer"]["function"] == "a*b" and data["outer"]["value"] == 30
    assert data["outer"]["gradient"] == {"a": {"expression": "b", "value": 5},
                                         "b": {"expression": "a", "value": 6}}
    # z = x1 x2 (x1 + x2): dz/dx1 = 2 x1 x2 + x2^2 = 21, dz/dx2 = x1^2 + 2 x1 x2 = 16
    assert {k: v["value"] for k, v in data["gradient"].items()} == {"x1": 21, "x2": 16}


# -- LaTeX ----------------------------------------------------------------------------------------------

def test_sin_fragment_shows_the_nested_structure(derive):
    text = ok_here(derive, *SIN, "--at", "x=2")
    assert r"\frac{d f}{d x} &= \frac{d f}{d y} \cdot \frac{d y}{d x}" in text
    assert r"\cos\left(0.5 x^{2}\right) \cdot x" in text
    assert "-0.832293673" in text                       # cos(2) * 2
    assert r"\documentclass" not in text


def test_cs231n_graph_shows_q_3_f_minus_12_and_gradients(tmp_path):
    ok(*CS231N, "--graph", "-o", tmp_path / "graph.tex")
    text = (tmp_path / "graph.tex").read_text()
    values = re.findall(r"node\[value[^\]]*\] \{\$(.*?)\$\}", text)
    gradients = re.findall(r"node\[gradient[^\]]*\] \{\$(.*?)\$\}", text)
    assert values == ["-2", "5", "q = 3", "-4", "-12"]
    assert gradients == ["-4", "-4", "-4", "3", "1"]      # x, y, q, z, f
    assert r"{$+$}" in text and r"{$\times$}" in text


@pytest.fixture(scope="module")
def notes(tmp_path_factory):
    """Fragments of both commands \\input into a plain article, compiled with latexmk."""
    folder = tmp_path_factory.mktemp("calculus")
    commands = [
        (*CS231N, "--graph", "-o", folder / "cs231n.tex"),
        (*SIN, "--at", "x=2", "-o", folder / "sin.tex"),
        ("chain", "z = y1*y2", "--let", "y1 = x^2", "--let", "y2 = 3x", "--at", "x=2", "--graph",
         "-o", folder / "paths.tex"),
        ("jacobian", "x1*x2, sin(x1) + x3", "--outer", "z = a*b in a,b", "--at", "x1=1,x2=2,x3=3",
         "-o", folder / "jacobian.tex"),
    ]
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda args: ok(*args), commands))
    body = "\n".join(rf"\input{{{n}}}" for n in ("cs231n", "sin", "paths", "jacobian"))
    (folder / "notes.tex").write_text("\\documentclass{article}\n\\usepackage{amsmath,tikz}\n"
                                      f"\\begin{{document}}\n{body}\n\\end{{document}}\n")
    subprocess.run(["latexmk", "-pdf", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error",
                    "notes.tex"], cwd=folder, check=True, capture_output=True, timeout=120)
    return pdf_text(folder / "notes.pdf")


def test_fragments_compile_inside_a_plain_article(notes):
    for number in ("-0.832293673", "-12", "36", "8.763546581"):
        assert number in notes


def test_standalone_compiles_on_its_own(tmp_path):
    ok(*SIN, "--at", "x=2", "--graph", "--standalone", "-o", tmp_path / "sin.tex")
    subprocess.run(["latexmk", "-pdf", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error",
                    "sin.tex"], cwd=tmp_path, check=True, capture_output=True, timeout=120)
    assert "-0.832293673" in pdf_text(tmp_path / "sin.pdf")


# -- errors ---------------------------------------------------------------------------------------------

BAD = [   # run as a user runs them, in subprocesses
    (("chain", "__import__('os')"), "'__import__' is not allowed"),
    (("chain", "sin(x"), "syntax error"),
    (("chain", "foo(x)"), "unknown function 'foo'"),
    (("chain", "x*y", "--wrt", "w"), "w does not occur"),
    (("chain", "x*y", "--at", "x=1"), "missing a value for y"),
    (("jacobian", "x1*x2, x1", "--outer", "y1*x1"), "only through"),
]
ALSO_BAD = [   # the same command line, in this process
    (("chain", "__import__('os').system('true')"), "'__import__' is not allowed"),
    (("chain", "x.__class__"), "unexpected '.'"),
    (("chain", "x +* y"), "cannot parse"),
    (("chain", "x*y", "--at", "x=1,y=2,w=3"), "w does not occur"),
    (("chain", "sin(y)", "--let", "y=z", "--let", "z=y"), "circular"),
    (("chain", "sin(y)", "--let", "y=exec(x)"), "unknown function 'exec'"),
    (("chain", "1/x", "--at", "x=0"), "undefined"),
    (("chain", "x", "--at", "x=open"), "must be a number"),
    (("chain", "x", "--json", "--graph"), "cannot be combined"),
    (("jacobian", "x1*x2, x1", "--wrt", "x3"), "x3 does not occur"),
    (("jacobian", "x1*x2, lambda: 0"), "'lambda'"),
    (("jacobian", "x1*x2, x1", "--outer", "a*b"), "uses none of the components y1, y2"),
]


@pytest.fixture(scope="module")
def bad_runs(tmp_path_factory):
    """Every bad command, run at once (each in its own empty folder, with -o there)."""
    folders = [tmp_path_factory.mktemp("bad") for _ in BAD]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda case: run_cli(*case[0][0], "-o", case[1] / "out.tex"),
                                zip(BAD, folders)))
    return list(zip(results, folders))


@pytest.mark.parametrize("case", range(len(BAD)), ids=[says for _, says in BAD])
def test_bad_input_is_one_line_and_exit_status_2(bad_runs, case):
    result, folder = bad_runs[case]
    assert result.returncode == 2
    assert result.stderr.startswith("derive: ") and result.stderr.count("\n") == 1, result.stderr
    assert BAD[case][1] in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert list(folder.iterdir()) == []          # nothing written


@pytest.mark.parametrize("args, says", ALSO_BAD, ids=[says for _, says in ALSO_BAD])
def test_more_bad_input_is_one_line_and_exit_status_2(derive, tmp_path, args, says):
    status, out, err = derive(*args, "-o", tmp_path / "out.tex")
    assert status == 2 and out == ""
    assert err.startswith("derive: ") and err.count("\n") == 1 and says in err
    assert list(tmp_path.iterdir()) == []
