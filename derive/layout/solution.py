"""The worked solution's template context: the problem, sample 1's steps (the other samples' values
in tables), totals, update, the loss curve, and the regularisation part when the spec has one.
"""
from __future__ import annotations

from ..printing.latex import Printer
from ..regularization.layout import regularization_context
from ..solution import Solution
from .problem import diagram, given
from .samples import other_samples
from .steps import Counter, first_sample_sections, summary_rows, total_sections


def history(solution: Solution, points: int = 250) -> dict | None:
    """The loss curve (pgfplots coordinates, thinned) and the final parameters."""
    h = solution.values.history
    if h is None:
        return None
    n = len(h) - 1
    stride = max(1, n // points)
    picks = sorted(set(range(0, n + 1, stride)) | {n})
    coords = " ".join(f"({i},{h[i]:.6e})" for i in picks)
    m = solution.derivation.model
    p = Printer(m.names.of, solution.spec.decimals)
    final = [{"name": p.name(par), "value": p.number(solution.values.final[par])} for par in m.parameters()]
    return {"coords": coords, "iterations": n, "first": p.number(h[0]), "last": p.number(h[-1]),
            "final": final, "positive": all(v > 0 for v in h)}


def solutions_context(solution: Solution) -> dict:
    spec = solution.spec
    counter = Counter()                 # one numbering through the document: "step 7"
    inline = len(spec.inputs) == 1      # one sample: each update right after its gradient
    # Sample 1 worked in full; the others repeat its steps with other numbers: a table of its quantities.
    sections, quantities = first_sample_sections(solution, counter, inline)
    samples = [{"number": 1, "sections": sections}]
    others = other_samples(solution, quantities, (1, counter.number))
    return {
        "title": spec.title, "decimals": spec.decimals, "diagram": diagram(solution),
        "given": given(solution), "samples": samples, "several": len(spec.inputs) > 1, "others": others,
        "totals": total_sections(solution, counter, inline), "summary": summary_rows(solution),
        "history": history(solution),
        "plots": solution.values.history is not None or solution.regularization is not None,
        "regularization": regularization_context(solution),
    }
