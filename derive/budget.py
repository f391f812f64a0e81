"""The cost of a spec, estimated before any work starts, and refused when it is too high.

Every command's time grows with the same few numbers of the spec: parameters P, samples S,
iterations I, and for a hard constraint on a network the solver's step caps (which it may use in
full). The constants below are seconds measured on the 2-core machine this project runs on (under
load, rounded up; `bench/` and the README's limits say how). An estimate above `BUDGET_SECONDS`
is refused in one line naming the field that costs most, so that every accepted spec finishes
within a minute, TeX included, instead of running for hours. It reads only the spec and the
limits: no sympy or numpy is loaded to refuse a spec.
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import DeriveError
from .limits import MAX_SOLVER_ITERATIONS, NEWTON_UP_TO, PATH_ITERATIONS, PATH_POINTS
from .modules.section import ModuleSpec
from .spec import Spec

BUDGET_SECONDS = 40.0          # estimated work allowed (the rest of a minute is margin and start-up)
TEX_BYTES = 1_000_000          # the largest worked solution TeX is asked to typeset (≈ 150 pages)

DERIVE_PER_PARAMETER = 3e-3    # sympy derivation and compilation, per parameter (once per shape)
EVALUATION = 5e-6              # one compiled loss-and-gradient, per parameter and sample
NUMPY_STEP = 4e-4              # the independent check of one descent step (numpy call overhead)
NUMPY_FLOP = 3e-8              # ... and its work, per parameter and sample
FD_EVALUATIONS = 4             # numpy loss evaluations per parameter in the finite differences
TEX_PER_BYTE = 2e-5            # pdflatex, per byte of worked solution
TEX_BYTES_PER_PARAMETER_SAMPLE = 1_000   # a worked solution's size: every step, every sample
TEX_BYTES_FIXED = 30_000
BACKTRACKING = 1.5             # loss evaluations per proximal step, on average at worst
# A hard constraint on a network may use every step its solvers are allowed: the constrained
# solve, the soft solve at λ*, each point of the regularisation path; Newton's method (at most
# three times, 30 steps, a Hessian of 2n gradients each) when there are few unknowns.
# A module exam's variant: every draw (a rejected one too) derives the network, the accepted one is
# solved and checked; all of it grows with the terms of the network's sums (a weight times an input,
# a kernel entry times an input entry, a window's entry), per sample. Measured on the shipped CNN
# (124 terms, 0.15 s a variant) and a 3×8×8 two-filter CNN with dense 16 (4160 terms, 6.7 s), rounded up.
MODULE_VARIANT = 0.02          # a variant's fixed share
MODULE_PER_TERM = 1.7e-3       # ... and per term: the draws' derivations, the solve and its check
MODULE_DERIVE_PER_TERM = 4e-4  # the derivation of the spec itself (once, for its questions)
MODULE_TRAIN_PER_TERM = 7e-4   # with an optimiser: compiling one training program (a draw's, the solve's;
                                # the CNN's 0.08 s for 128 terms under load, rounded up)
TRAININGS = 3                   # ... about three per accepted variant (its draws and its solve; measured
                                # 0.23 s a CNN variant beyond plain descent's 0.27 s)
MODULE_TEX_BYTES = 10_000      # a variant's worked solution: fixed ...
MODULE_TEX_BYTES_PER_TERM = 200   # ... and per term (the CNN's is 34 kB, the large one's 770 kB)
MODULE_TEX_PER_BYTE = 1.2e-5   # pdflatex on the exam's documents (solutions.pdf beside the other two)
HARD_EVALUATIONS = int(BACKTRACKING * (2 * MAX_SOLVER_ITERATIONS + PATH_POINTS * PATH_ITERATIONS))
NEWTON_EVALUATIONS_PER_UNKNOWN = 3 * 30 * 2


@dataclass(frozen=True)
class Estimate:
    """Estimated seconds per part (each named by the spec field that drives it) and TeX's input."""

    parts: dict[str, float]
    tex_bytes: int

    @property
    def seconds(self) -> float:
        return sum(self.parts.values())


def parameters(spec: Spec) -> int:
    weights = sum(a * b for a, b in zip(spec.layers, spec.layers[1:]))
    biases = sum(1 if shared else n for shared, n in zip(spec.shared_biases, spec.layers[1:]))
    return weights + biases


def estimate(spec: Spec, tex: bool = False) -> Estimate:
    """The work `spec` asks for, before any of it is done."""
    P, S, I = parameters(spec), len(spec.inputs), spec.iterations
    evaluation = EVALUATION * P * S
    numpy_step = NUMPY_STEP + NUMPY_FLOP * P * S
    parts = {
        "[network] layers": DERIVE_PER_PARAMETER * P * (1 + S / 16) + FD_EVALUATIONS * P * numpy_step,
        "[data] inputs": evaluation,
    }
    descents = 1
    config = spec.regularization
    if config is not None and config.lam is not None and I > 1:
        descents = 2     # the regularised descent beside the plain one
    if I > 1:
        parts["[training] iterations"] = descents * I * (evaluation + numpy_step)
    if config is not None and config.radius is not None and not _linear(spec):
        unknowns = P
        newton = NEWTON_EVALUATIONS_PER_UNKNOWN * unknowns if unknowns <= NEWTON_UP_TO else 0
        parts["[regularization] radius"] = (HARD_EVALUATIONS + newton) * evaluation
    tex_bytes = TEX_BYTES_FIXED + TEX_BYTES_PER_PARAMETER_SAMPLE * P * S if tex else 0
    if tex:
        parts["TeX"] = TEX_PER_BYTE * tex_bytes
    return Estimate(parts, tex_bytes)


def check(spec: Spec, tex: bool = False) -> Estimate:
    """Refuse `spec` (one line, the costliest field named) when its estimate exceeds the budget."""
    cost = estimate(spec, tex)
    P, S = parameters(spec), len(spec.inputs)
    shape = "-".join(map(str, spec.layers))
    what = f"a {shape} network ({P} parameters) on {S} sample{'s' if S > 1 else ''}"
    if tex and cost.tex_bytes > TEX_BYTES:
        raise DeriveError(f"the worked solution of {what} would be about {cost.tex_bytes // 1000} kB of "
                          f"LaTeX (about {cost.tex_bytes // 6500} pages), more than TeX is given "
                          f"({TEX_BYTES // 1000} kB: parameters × samples at most "
                          f"{(TEX_BYTES - TEX_BYTES_FIXED) // TEX_BYTES_PER_PARAMETER_SAMPLE}); use fewer "
                          "samples or a smaller network, or `derive key` for the numbers alone",
                          file=spec.source, field="[data] inputs" if S > 1 else "[network] layers")
    if cost.seconds > BUDGET_SECONDS:
        field = max(cost.parts, key=cost.parts.get)
        if field == "TeX":
            field = "[data] inputs" if S > 1 else "[network] layers"
        why = {
            "[training] iterations": f"{spec.iterations} iterations of {what}",
            "[regularization] radius": f"the hard constraint on {what} (a numerical solve of up to "
                                       f"{HARD_EVALUATIONS} loss evaluations)",
        }.get(field, what)
        raise DeriveError(f"too much work: {why} would take about {_duration(cost.seconds)}; at most "
                          f"{BUDGET_SECONDS:.0f} s of estimated work is allowed (see the README's limits)",
                          file=spec.source, field=field)
    return cost


def _linear(spec: Spec) -> bool:
    """The one-layer linear model with squared loss, whose hard constraint is solved exactly."""
    return len(spec.layers) == 2 and spec.activations == ("linear",) and spec.loss in ("half_sse", "mse")


def _duration(seconds: float) -> str:
    """`seconds` in words for a refusal. Above the budget, it must read above it: 40.3 s is not
    "about 40 s" beside "at most 40 s", so close to the budget a tenth is shown (at least 40.1 s)."""
    if seconds < 120:
        if BUDGET_SECONDS < seconds and round(seconds) <= BUDGET_SECONDS:
            return f"{max(round(seconds, 1), BUDGET_SECONDS + 0.1):.1f} s"
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds / 3600:.0f} hours"


def check_exam(spec: Spec, count: int, stress: bool) -> float:
    """An exam's work: the derivation once, then per variant its values and checks (a stress run:
    only the values of about two draws per variant). TeX's share is the exam's own (see README)."""
    P, S = parameters(spec), len(spec.inputs)
    evaluation = EVALUATION * P * S
    per_variant = 2 * evaluation if stress else (evaluation + FD_EVALUATIONS * P * (NUMPY_STEP + NUMPY_FLOP * P * S)
                                                 + max(0, spec.iterations - 1) * (evaluation + NUMPY_STEP))
    seconds = DERIVE_PER_PARAMETER * P * (1 + S / 16) + count * per_variant
    if seconds > BUDGET_SECONDS:
        field = "--stress" if stress else "[exam] variants"
        raise DeriveError(f"too much work: {count} {'draws' if stress else 'variants'} of a "
                          f"{'-'.join(map(str, spec.layers))} network ({P} parameters) would take about "
                          f"{_duration(seconds)}; at most {BUDGET_SECONDS:.0f} s of estimated work is allowed "
                          f"(here at most {max(1, int((BUDGET_SECONDS - seconds + count * per_variant) / per_variant))})",
                          file=spec.source, field=field)
    return seconds


def module_terms(spec: ModuleSpec) -> int:
    """The terms of every sum the module network computes, over its samples: what its derivation,
    its check and its worked solution grow with."""
    terms = 0
    for m in spec.modules:
        out = 1
        for n in m.out_shape:
            out *= n
        if m.kind == "dense":
            terms += out * m.in_shape[0]
        elif m.kind in ("conv1d", "conv2d"):
            window = 1
            for n in m.size:
                window *= n
            terms += out * m.in_shape[0] * window
        elif m.kind in ("maxpool", "avgpool"):
            window = 1
            for n in m.size:
                window *= n
            terms += out * window
        elif m.kind == "rnn":
            terms += m.in_shape[0] * m.out_shape[0] * (m.in_shape[1] + m.out_shape[0])
        elif m.kind == "residual":
            terms += out
        if m.activation == "softmax":
            terms += out * out
    return terms * len(spec.inputs)


def check_module_exam(spec: ModuleSpec, count: int, pdf: bool, stress: bool = False) -> float:
    """A module spec's exam: its derivation once, then per variant the draws, the solve and its
    check, and (with PDFs) TeX on its pages (a stress run: only about two draws' derivations per
    variant); refused in one line, naming the variants (or --stress), above the budget."""
    terms = module_terms(spec)
    trains = spec.optimizer is not None      # each draw trains one step with the optimiser too
    per_variant = MODULE_VARIANT + (MODULE_PER_TERM + (TRAININGS * MODULE_TRAIN_PER_TERM if trains else 0)) * terms
    if stress:
        per_variant = 2 * (MODULE_VARIANT + (MODULE_DERIVE_PER_TERM + (MODULE_TRAIN_PER_TERM if trains else 0)) * terms)
    elif pdf:
        per_variant += MODULE_TEX_PER_BYTE * (MODULE_TEX_BYTES + MODULE_TEX_BYTES_PER_TERM * terms)
    fixed = MODULE_DERIVE_PER_TERM * terms
    seconds = fixed + count * per_variant
    if seconds > BUDGET_SECONDS:
        most = max(1, int((BUDGET_SECONDS - fixed) / per_variant))
        with_pdfs = pdf and not stress
        what = "draws" if stress else "variants"
        raise DeriveError(f"too much work: {count} {what} of this network of {len(spec.modules)} modules "
                          f"({terms} terms in its sums{', with PDFs' if with_pdfs else ''}) would take about "
                          f"{_duration(seconds)}; at most {BUDGET_SECONDS:.0f} s of estimated work is allowed "
                          f"(here at most {most} {what}{'; --no-pdf allows more' if with_pdfs else ''})",
                          file=spec.source, field="--stress" if stress else "[exam] variants")
    return seconds
