"""Names and products of the matrix form of backpropagation, and of the regularisation's optimum.

delta^(l), W^(l), f_l'(z^(l)), a ⊙ b, R(θ*), ||θ||₂: the pieces that `layout.vector` and the
regularisation layout place.
"""
from __future__ import annotations

_MATRIX_SYMBOLS = {
    "delta": r"\delta^{{({l})}}",
    "grad_a E": r"\nabla_{{a^{{({l})}}}} E",
    "act'": r"f_{{{l}}}'\left(z^{{({l})}}\right)",
    "jacobian^T": r"\left(\frac{{\partial a^{{({l})}}}}{{\partial z^{{({l})}}}}\right)^{{\top}}",
    "W^T": r"\left(W^{{({l})}}\right)^{{\top}}",
    "dE/dW": r"\frac{{\partial E}}{{\partial W^{{({l})}}}}",
    "a^T": r"\left(a^{{({l})}}\right)^{{\top}}",
}


def matrix_symbol(kind: str, layer: int) -> str:
    """Names of the matrix form: delta^(l), W^(l), the activation's derivative f_l'(z^(l)), ..."""
    return _MATRIX_SYMBOLS[kind].format(l=layer)


def hadamard(*parts: str) -> str:
    """Elementwise product of printed vectors: a ⊙ b."""
    return r" \odot ".join(parts)


def product(*parts: str) -> str:
    """Matrix product of printed factors, side by side."""
    return " ".join(parts)


def at_optimum(name: str) -> str:
    """A quantity evaluated at the constrained optimum: R(θ*)."""
    return name + r"\left(\theta^{*}\right)"


def norm_name(penalty: str) -> str:
    """The norm the constraint bounds: ||θ||₂ or ||θ||₁."""
    return r"\|\theta\|_2" if penalty == "l2" else r"\|\theta\|_1"


# -- The regularisation part in the slides' notation: L̂, R, r, λ*, 𝓛 ------------------------------
# Each function returns LaTeX; arguments are already printed pieces (names, numbers, expressions).

EMPIRICAL_LOSS = r"\hat{L}(\theta)"
PENALTY = r"R(\theta)"
LAGRANGIAN = r"\mathcal{L}(\theta, \lambda)"
LAGRANGIAN_AT_STAR = r"\mathcal{L}(\theta, \lambda^{*})"
BOUND = "r"                      # the slides' general bound on R


def empirical_loss(samples: str | None, mean: bool) -> str:
    """L̂(θ) = (1/n) Σ l(θ, x_i, y_i) (the slides' mean), or Σ l when the losses are summed.

    `samples` is the printed number of samples, or None for the slides' general n."""
    n = samples or "n"
    total = rf"\sum_{{i=1}}^{{{n}}} l(\theta, x_i, y_i)"
    return EMPIRICAL_LOSS + " = " + (rf"\frac{{1}}{{{n}}} " + total if mean else total)


def penalty_norm(penalty: str) -> str:
    """R as the slides write it: ||θ||₂² (l2) or ||θ||₁ (l1)."""
    return r"\|\theta\|_2^2" if penalty == "l2" else r"\|\theta\|_1"


def squared(name: str) -> str:
    """r² of a printed name."""
    return name + "^{2}"


def function_of(name: str, argument: str) -> str:
    """f(x) of printed pieces: E_total(θ), w_1(λ)."""
    return rf"{name}({argument})"


def theta_star() -> str:
    return r"\theta^{*}"


def relation(*parts: str) -> str:
    """Printed pieces joined as written: a = b, a ≤ b (the caller passes '=', r'\\le')."""
    return " ".join(parts)


def ellipsis_sum(first: list[str], last: str) -> str:
    """A long sum shortened: a + b + ... + z."""
    return " + ".join(first + [r"\dots", last])


def hard_problem(objective: str, constraint: str) -> str:
    """min_θ L̂(θ) subject to R(θ) ≤ r."""
    return rf"\min_{{\theta}}\; {objective} \quad \text{{subject to}} \quad {constraint}"


def soft_problem(objective: str, multiplier: str, penalty: str) -> str:
    """min_θ L̂(θ) + [λ* R(θ)], the penalty boxed as on the slides."""
    return rf"\min_{{\theta}}\; {objective} + \boxed{{{multiplier} {penalty}}}"


def lagrangian(multiplier: str, penalty: str, bound: str, define: bool = True) -> str:
    """𝓛(θ, λ) := L̂(θ) + λ[R(θ) − r] (the bound as the caller prints it)."""
    lhs = LAGRANGIAN if multiplier == r"\lambda" else LAGRANGIAN_AT_STAR
    sign = ":=" if define else "="
    return rf"{lhs} {sign} {EMPIRICAL_LOSS} + {multiplier}\left[{penalty} - {bound}\right]"


def lagrangian_expanded(penalty: str, bound: str) -> str:
    """𝓛(θ, λ*) = L̂(θ) + λ* R(θ) − λ* r: the constant last."""
    return rf"{LAGRANGIAN_AT_STAR} = {EMPIRICAL_LOSS} + \lambda^{{*}} {penalty} - \lambda^{{*}} {bound}"


def argmin_max() -> str:
    """θ* = argmin_θ max_{λ≥0} 𝓛(θ, λ)."""
    return rf"\theta^{{*}} = \operatorname*{{argmin}}_{{\theta}}\, \max_{{\lambda \ge 0}}\, {LAGRANGIAN}"


def argmin_at_star(penalty: str) -> str:
    """θ* = argmin_θ 𝓛(θ, λ*) = argmin_θ [L̂(θ) + λ* R(θ)]."""
    return (rf"\theta^{{*}} = \operatorname*{{argmin}}_{{\theta}}\, {LAGRANGIAN_AT_STAR}"
            rf" = \operatorname*{{argmin}}_{{\theta}} \left[{EMPIRICAL_LOSS} + \lambda^{{*}} {penalty}\right]")


def maximiser() -> str:
    """λ* = argmax_{λ≥0} 𝓛(θ*, λ)."""
    return r"\lambda^{*} = \operatorname*{argmax}_{\lambda \ge 0}\, \mathcal{L}(\theta^{*}, \lambda)"


def product_of(*parts: str) -> str:
    """a · b of printed numbers."""
    return r" \cdot ".join(parts)


def parenthesised(text: str) -> str:
    return rf"\left({text}\right)"


def fraction(top: str, bottom: str) -> str:
    return rf"\frac{{{top}}}{{{bottom}}}"


def breakable_tuple(parts: list[str]) -> str:
    """(a, b, c) of short names in running text: plain parentheses and a permitted line break after
    each comma, so a long θ = (w1, ..., w8) wraps instead of running into the margin."""
    return "(" + r",\allowbreak ".join(parts) + ")"


def listing(parts: list[str]) -> str:
    """a, b, c."""
    return ", ".join(parts)


def ellipsis_list(first: list[str], last: str) -> str:
    """a, ..., z."""
    return ", ".join(first + [r"\dots", last])
