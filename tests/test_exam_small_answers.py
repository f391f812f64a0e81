"""An asked answer must be large against its tolerance (review4 item 9): an rnn variant whose
∂E/∂U₁₁ was 0.0064 ± 0.0005 came from δ values of 0.0002 to 0.0005, whose worked lines at 4 places
do not check by hand. The rule is the MLP exam's and the module exam's alike."""
from __future__ import annotations

import sympy as sp
from helpers import ROOT

from derive.apps.exam import draw as exam_draw
from derive.apps.exam import settings as exam_settings
from derive.apps.exam.modules import module_draws, module_settings
from derive.apps.exam.questions import Question
from derive.spec import load


def test_an_answer_below_twenty_tolerances_is_rejected_and_an_update_is_not():
    x = sp.Symbol("x")
    grad = Question("dE/dU11", x, None, "backward", digits=4, tolerance=0.0005)
    update = Question("U11+", x, None, "update", digits=4, tolerance=0.0005)
    assert exam_draw.answer_rejection((grad,), (0.0064,), [True], [None]) == ("small_answer", "dE/dU11")
    assert exam_draw.answer_rejection((grad,), (-0.0099,), [True], [None]) == ("small_answer", "dE/dU11")
    assert exam_draw.answer_rejection((grad,), (0.0100,), [True], [None]) is None
    assert exam_draw.answer_rejection((update,), (0.0050,), [False], [0.2]) is None
    assert "small_answer" in exam_draw.RULES and "small_answer" in exam_draw.HINTS


def test_rnn_and_mlp_draws_ask_no_answer_below_twenty_tolerances():
    spec = load(ROOT / "examples" / "rnn.toml")
    settings = module_settings(spec, 12, 1)
    draws = module_draws(spec, settings, 12)
    for _, answers in draws.accepted:
        for q, a in zip(settings.questions, answers):
            if q.kind != "update":
                assert abs(a) >= 20 * q.tolerance_at(a), (q.name, a)
    assert draws.rejected["small_answer"] > 0
    mlp = load(ROOT / "examples" / "exam.toml")
    mlp_settings = exam_settings.settings(mlp, 12, 3)
    out = exam_draw.draw_variants(mlp, mlp_settings, 12, keep=False, reject_duplicates=True)
    for answers in out.answers:
        for q, a in zip(mlp_settings.questions, answers):
            if q.kind != "update":
                assert abs(a) >= 20 * q.tolerance_at(a), (q.name, a)
    assert out.rejected["small_answer"] > 0
