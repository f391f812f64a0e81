"""The pipeline is the folder tree: every module imports only modules of earlier stages.

`ORDER` lists every module of the package from the bottom of the flow to its top; a module may
import only modules listed before it. Imports stand at the top of their module (none inside a
function or class), and no private name (`_x`) is imported from another module of the package.
The two ways of loading later allowed are not import statements: the CLI's `importlib` call for the
command that runs, and the package's lazy `__getattr__`.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "derive"

ORDER = [
    # what every stage may use
    "errors", "fields", "choices", "limits", "text",
    # spec (and the regularisation slice's section beside it)
    "regularization.section", "training", "modules.section", "spec",
    # the cost of a spec, estimated before work starts (no sympy)
    "budget",
    # model
    "model.unevaluated", "model.naming", "model.activations", "model.losses", "model.network",
    "modules.graph",
    # derivation
    "derivation", "modules.derivation",
    # numbers and their independent check (the penalty's steps are compiled like the core's)
    "numeric.compiled", "numeric.optimizers", "regularization.symbolic", "numeric.optimize", "numeric.verify",
    "numeric.verify_optimizers", "regularization.verify", "modules.verify", "modules.training",
    "regularization.result", "regularization.soft", "regularization.problem", "regularization.linear",
    "regularization.compare", "regularization.hard", "regularization.solve",
    # the spine (a module spec's beside it)
    "modules.solution", "solution",
    # printing
    "printing.numbers", "printing.names", "printing.width", "printing.latex", "printing.matrix",
    "printing.calculus", "modules.printing",
    # layout
    "layout.blocks", "layout.placement", "regularization.path_plot", "layout.frames", "layout.problem", "layout.steps", "layout.samples", "layout.vector", "layout.optimizer",
    "regularization.layout",
    "layout.solution", "modules.layout",
    # output
    "output.folders", "output.cache", "output.render", "output.tex", "output.raster",
    # applications
    "apps.chain.expressions", "apps.chain.budget", "apps.chain.evaluation", "apps.chain.rules",
    "apps.chain.calculus", "apps.chain.graph", "apps.chain.verify", "apps.chain.layout",
    "apps.chain.document",
    "modules.documents", "apps.worksheet", "apps.snippet", "apps.markdown", "apps.slides", "apps.notebook",
    "apps.exam.questions", "apps.exam.settings", "apps.exam.draw", "apps.exam.stress",
    "apps.exam.roster", "apps.exam.layout", "apps.exam.diagrams", "apps.exam.csvkeys", "apps.exam.package",
    "apps.exam.moodle", "apps.exam.cloze", "apps.exam.canvas", "apps.exam.qti", "apps.exam.folder",
    "apps.exam.modules", "apps.exam.module_files",
    # the command line
    "cli.arguments", "cli", "cli.key", "cli.worksheet", "cli.snippet", "cli.slides", "cli.style", "cli.exam",
    "cli.chain", "cli.jacobian",
    "__main__",
]


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
            if not parts:
                continue            # derive/__init__.py: the lazy front door, imports nothing
            name = ".".join(parts)
            tree = ast.parse(path.read_text(encoding="utf-8"))
            if not any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(tree)) and name not in ORDER:
                continue            # a package's docstring only
        found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path):
    """(line, imported module, imported names, at top level) for each import of the package's modules."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = set(id(n) for n in tree.body)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0:
                if node.module and (node.module == "derive" or node.module.startswith("derive.")):
                    base = node.module.split(".")[1:]
                else:
                    continue
            else:
                base = package[:len(package) - (node.level - 1)] + (node.module.split(".") if node.module else [])
            for alias in node.names:
                target = ".".join(base + [alias.name])
                module = target if target in ORDER else ".".join(base)
                yield node.lineno, module, alias.name, id(node) in top
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("derive"):
                    yield node.lineno, alias.name.split(".", 1)[1], None, id(node) in top
            if not id(node) in top:
                yield node.lineno, None, None, False


def test_every_module_has_its_place_in_the_order():
    missing = sorted(set(_modules()) - set(ORDER))
    assert not missing, f"add these modules to ORDER at the stage they serve: {missing}"


@pytest.mark.parametrize("name", sorted(_modules()))
def test_imports_point_down_the_flow_and_stand_at_the_top(name):
    path = _modules()[name]
    rank = ORDER.index(name)
    for line, module, imported, at_top in _imports(name, path):
        assert at_top, f"{path.name}:{line}: an import inside a function or class; put it at the top"
        if module is None:
            continue
        assert module in ORDER, f"{path.name}:{line}: imports {module}, which is not in ORDER"
        assert ORDER.index(module) < rank, (f"{name} (line {line}) imports {module}, a later stage: "
                                            "imports must point down the flow")
        assert imported is None or not imported.startswith("_") or imported.startswith("__"), (
            f"{name} (line {line}) takes the private name {imported} from {module}; make it public "
            "in one place")
