"""The worked solution's template context: the problem, sample 1's steps (the other samples' values
in tables), totals, update, the loss curve, and the regularisation part when the spec has one.
"""
from __future__ import annotations

import math

from ..printing.latex import Printer
from ..printing.numbers import given_number
from ..regularization.layout import regularization_context
from ..solution import Solution
from .optimizer import after_steps_section, optimizer_context
from .problem import diagram, given
from .samples import other_samples
from .steps import Counter, first_sample_sections, summary_rows, total_sections




def history(solution: Solution, points: int = 250) -> dict | None:
    """The loss curve (pgfplots coordinates, thinned) and the final parameters."""
    h = solution.values.history
    if h is None:
        return None
    m = solution.derivation.model
    # A parameter that training leaves alone (a bias with update_biases = false) keeps its given value.
    p = Printer(m.names.of, solution.spec.decimals,
                given=[par for par in m.parameters() if par not in solution.derivation.updated])
    trained = [par for par in m.parameters() if par in solution.derivation.updated]
    shown = dict(zip(trained, p.column([solution.values.final[par] for par in trained])))   # one form
    final = [{"name": p.name(par), "value": shown[par] if par in shown else p.value_of(par, solution.values.final[par])}
             for par in m.parameters()]
    return {**loss_curve(h, points), "first": p.number(h[0]), "last": p.number(h[-1]), "final": final}


def loss_curve(h: list[float], points: int = 250) -> dict:
    """The loss before each step and after the last as a pgfplots curve (thinned to about `points`),
    with its axis options."""
    n = len(h) - 1
    stride = max(1, n // points)
    picks = sorted(set(range(0, n + 1, stride)) | {n})
    coords = " ".join(f"({i},{h[i]:.6e})" for i in picks)
    return {"coords": coords, "iterations": n, "positive": all(v > 0 for v in h), "axis": loss_axis(n, min(h), max(h)),
            "falls": h[-1] < h[0]}


def loss_axis(iterations: int, low: float, high: float) -> str:
    """The loss curve's axis options: iterations from 0 to the last, and loss ticks a reader reads
    (0.2, 0.5, 1 on a log axis: 1, 2 and 5 times a power of ten, written out; never 10^-0.5)."""
    x = (f"xmin=0, xmax={iterations}, enlarge x limits=false, scaled x ticks=false, "
         f"xtick={{{','.join(str(t) for t in iteration_ticks(iterations))}}}")
    if low <= 0:
        return x + ", scaled y ticks=false, yticklabel style={/pgf/number format/fixed}"
    ticks = []
    for steps in ((1,), (1, 2, 5), (1, 2, 3, 4, 5, 6, 7, 8, 9)):
        ticks = [m * 10.0 ** k for k in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1)
                 for m in steps if low <= m * 10.0 ** k <= high]
        if len(ticks) >= 3:
            break
    if len(ticks) < 2:   # a curve within one step of 1-9: its ends
        ticks = [low, high]
    shown = [given_number(float(f"{t:.2g}")) for t in ticks]
    return (x + f", ymode=log, ytick={{{','.join(shown)}}}, yticklabels={{{','.join(shown)}}}, "
            "minor ytick={}, log basis y=10")


def iteration_ticks(iterations: int, most: int = 11) -> list[int]:
    """Ticks of the iteration axis: whole numbers (an iteration is never 2.5), every 1, 2 or 5
    times a power of ten, at most `most` of them, from 0."""
    k = 0
    while True:
        for m in (1, 2, 5):
            step = m * 10 ** k
            if iterations // step + 1 <= most:
                return list(range(0, iterations + 1, step))
        k += 1


def solutions_context(solution: Solution) -> dict:
    spec = solution.spec
    p = Printer(solution.derivation.model.names.of, spec.decimals)
    counter = Counter()                 # one numbering through the document: "step 7"
    # One sample: each update right after its gradient; an optimiser's updates get their own part.
    inline = len(spec.inputs) == 1 and solution.optimizer is None
    # Sample 1 worked in full; the others repeat its steps with other numbers: a table of its quantities.
    sections, quantities = first_sample_sections(solution, counter, inline)
    samples = [{"number": 1, "sections": sections}]
    others = other_samples(solution, quantities, (1, counter.number))
    optimizer = after = None
    if solution.optimizer is None:
        totals = total_sections(solution, counter, inline)
    else:
        totals = total_sections(solution, counter, inline=True, after=False)
        optimizer = optimizer_context(solution, counter)
        after = [after_steps_section(solution, counter)]   # the loss after the last shown step
    return {
        "title": spec.title, "decimals": spec.decimals, "diagram": diagram(solution),
        "given": given(solution), "samples": samples, "several": len(spec.inputs) > 1, "others": others,
        "totals": totals, "optimizer": optimizer, "after": after, "summary": summary_rows(solution),
        "history": history(solution),
        # Names with a layer superscript and an index subscript (w^{(1)}_{11}) touch the next row's
        # at the normal row height: their tables get taller rows (long tables break between rows).
        "tall_names": any("^{(" in p.name(par) for par in solution.derivation.model.parameters()),
        "plots": solution.values.history is not None or solution.regularization is not None,
        "regularization": regularization_context(solution),
    }
