"""What a page review of the module documents (cnn, residual, rnn) found, each fixed and held here:
what a student needs is given (h_0), one letter means one thing on a page (t: the time step in an
RNN, so its target is target_k), every step has its rule sentence, titles say which step they are,
and the pages say where entries are dropped."""
from __future__ import annotations

import re
import subprocess

import pytest

from conftest import ROOT
from helpers import run_cli

EXAMPLES = ("cnn", "residual", "rnn")


@pytest.fixture(scope="module")
def documents(tmp_path_factory) -> dict[str, dict[str, str]]:
    """Each example's worksheet.tex and solutions.tex (no PDF)."""
    out = {}
    for name in EXAMPLES:
        folder = tmp_path_factory.mktemp(name)
        assert run_cli("worksheet", ROOT / "examples" / f"{name}.toml", "--no-pdf", "--out", folder).returncode == 0
        out[name] = {doc: (folder / f"{doc}.tex").read_text() for doc in ("worksheet", "solutions")}
    return out


def _given(tex: str) -> str:
    start = tex.index("\\section*{The network}")
    ends = [tex.find(mark, start) for mark in ("\\begin{derivestep}", "\\section*{Tasks}")]
    return tex[start:min(e for e in ends if e >= 0)]


def _steps(tex: str) -> list[tuple[str, str]]:
    """(title, body) of each numbered step of a solution."""
    return re.findall(r"\\begin\{derivestep\}\{\d+\}\{([^\n]*)\}\n(.*?)\\end\{derivestep\}", tex, re.S)


@pytest.mark.parametrize("doc", ("worksheet", "solutions"))
def test_the_rnn_s_initial_state_is_given_even_when_it_is_zero(documents, doc):
    """Step 1 works W_11 h_{0,1} + W_12 h_{0,2} with 0 and 0: the student must be told h_0 = 0."""
    assert (r"b &= \begin{bmatrix} 0.1 \\ 0 \end{bmatrix},\qquad h_{0} = \begin{bmatrix} 0 \\ 0 \end{bmatrix} \\"
            in _given(documents["rnn"][doc]))        # beside b: the list still fits page 1 with the picture


def test_the_rnn_s_given_values_with_h0_stay_on_the_first_page(tmp_path):
    """Listed on a line of its own, h_0 pushed the whole list (kept together) to page 2 of the worksheet."""
    assert run_cli("worksheet", ROOT / "examples" / "rnn.toml", "--out", tmp_path).returncode == 0
    for doc in ("worksheet", "solutions"):
        first = subprocess.run(["pdftotext", "-f", "1", "-l", "1", tmp_path / f"{doc}.pdf", "-"], capture_output=True,
                               text=True, check=True).stdout
        assert "η = 0.5" in first and "h0 =" in first.replace("\n", " "), doc


def test_t_is_the_time_step_in_an_rnn_and_its_target_is_named_target(documents):
    """x_t, h_t, δ_{t,j} and the sum over t count the time steps; the target t_1 on the same pages
    meant something else. A recurrent network's target is the lecture's target_k; the other
    documents keep t_k (no time there)."""
    for doc in ("worksheet", "solutions"):
        tex = documents["rnn"][doc]
        assert "\\mathit{target}_{1} &= 0.7" in _given(tex)
        assert not re.search(r"(?<![A-Za-z\\{])t_\{", tex), doc       # no t_{...} (the time's t is a subscript)
    solution = documents["rnn"]["solutions"]
    assert r"$E = \frac{1}{2}\sum_{k} \left(\mathit{target}_{k} - a^{(2)}_{k}\right)^{2}$" in solution
    assert r"-\left(\mathit{target}_{1} - a^{(2)}_{1}\right) = -\left(0.7 - 0.650975187\right)" in solution
    assert r"E = -\sum_{k} t_{k} \ln a^{(4)}_{k}" in documents["cnn"]["solutions"]
    assert "target" not in documents["cnn"]["solutions"]


def test_a_single_target_is_given_as_the_loss_line_names_it(documents):
    """t = [0.8] was a 1×1 matrix beside the loss line's t_1."""
    given = _given(documents["residual"]["solutions"])
    assert "t_{1} &= 0.8 \\\\" in given and "\\begin{bmatrix} 0.8" not in given


def test_the_rnn_s_sums_over_time_say_how_many_steps(documents):
    """Σ_{t=1}^{T} with T never defined: the pages give 4 time steps, so the sums run to 4."""
    solution = documents["rnn"]["solutions"]
    assert r"\frac{\partial E}{\partial W_{jk}} = \sum_{t=1}^{4} \delta_{t,j}\, h_{t-1,k}" in solution
    assert "^{T}" not in solution


def test_the_rnn_s_two_steps_of_one_time_step_have_their_own_titles(documents):
    """'backpropagation through time, t = 3' titled both the gradient reaching h_3 and the step through tanh."""
    for doc in ("solutions", "worksheet"):
        tex = documents["rnn"][doc]
        titles = re.findall(r"\\begin\{derivestep\}\{\d+\}\{(.*)\}", tex) or re.findall(r"\\item (Module.*)", tex)
        assert len(titles) == len(set(titles)) > 20, doc
    solution = documents["rnn"]["solutions"]
    assert r"{Module 1 (recurrent cell),{} $t = 3$: the gradient reaching $h_{3}$}" in solution
    assert r"{Module 1 (recurrent cell),{} $t = 3$: through tanh}" in solution


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_step_opens_with_its_rule_sentence(documents, name):
    """The loss-gradient step was the only one without a 'By ...' sentence (its display opened the
    paragraph and left a blank line under the heading)."""
    for title, body in _steps(documents[name]["solutions"]):
        assert not body.lstrip().startswith("\\begin{align"), title
    solution = documents["residual"]["solutions"]
    assert (r"{The loss: its gradient at the outputs}" "\n" r"By the chain rule,{} $\frac{\partial E}{\partial "
            r"a^{(5)}_{k}} = -\left(t_{k} - a^{(5)}_{k}\right)$.") in solution


def test_the_residual_input_gradient_names_the_skip_connection_in_the_lines_order(documents):
    """'the +1 path' is no word a student has met (step 7 says 'the skip connection'), and the rule
    put the skip term first while the worked lines put the path through f first."""
    solution = documents["residual"]["solutions"]
    assert "+1 path" not in solution and "+1 path" not in documents["residual"]["worksheet"]
    body = dict(_steps(solution))["Module 2 (residual block): the gradient of its input"]
    rule = body[:body.index("\\begin{align*}")]
    assert "through the skip connection" in rule
    assert rule.index(r"\frac{\partial a^{(4)}}{\partial a^{(1)}}") < rule.index(r"\frac{\partial E}{\partial y^{(2)}}")
    line = body[body.index("\\begin{align*}"):].splitlines()[1]
    assert line.index(r"\delta^{(3)}_{2}") < line.index(r"\frac{\partial E}{\partial y^{(2)}_{1}} \cdot 1")


@pytest.mark.parametrize("name", ("cnn", "residual"))
def test_relu_s_slope_is_said_in_words_not_with_else(documents, name):
    solution = documents[name]["solutions"]
    assert r"\operatorname{ReLU}'(z) = 1 \text{ if } z > 0,\ 0 \text{ otherwise}" in solution
    assert r"\text{ else }" not in solution


def test_pooling_says_where_the_last_row_and_column_are_dropped(documents):
    """The 5×5 map pooled 2×2 with stride 2 leaves row 5 and column 5 in no window; only the backward
    pass said so ('or in no window'). The module line and the pooling step say it; the rule says
    the window's offsets and the title says what the step computes."""
    for doc in ("worksheet", "solutions"):
        tex = documents["cnn"][doc]
        assert (r"max-{}pooling: the max of each 2\ensuremath{\times}2 window,{} stride 2; row 5 and column 5 of the "
                r"5\ensuremath{\times}5 map fall in no window.") in tex
        assert "max-{}pooling): max-{}pooling" not in tex
    solution = documents["cnn"]["solutions"]
    assert (r"{Module 2 (max-{}pooling): the maximum of each window}" "\n"
            r"By $p^{(2)}_{ij} = \max_{u,v \in \{1, 2\}} a^{(1)}_{2(i-1)+u,\,2(j-1)+v}$ (row 5 and column 5 of "
            r"$a^{(1)}$ fall in no window and are not used):") in solution


def test_the_flattened_vector_has_its_own_name_in_the_dense_rules_and_lines(documents):
    """The rule z_k = Σ_j w_kj p^{(2)}_j sent a student looking for p_3, while the lines paired w_13 with
    p^{(2)}_{21}: the flattened vector is a^{(3)} (a^{(3)}_{3} = p^{(2)}_{21}, shown once in the flatten
    step), in the dense rules and their lines; the pooling step says how its gradient comes back."""
    solution = documents["cnn"]["solutions"]
    assert (r"a^{(3)} &= \operatorname{flatten}\left(p^{(2)}\right) = {\def\arraystretch{1.5}\begin{bmatrix} "
            r"\smash[b]{\vphantom{\bigg|}}p^{(2)}_{11} \\ p^{(2)}_{12} \\ p^{(2)}_{21} \\ "
            r"\smash[t]{\vphantom{\Big|}}p^{(2)}_{22} \end{bmatrix}}") in solution
    assert r"By $z^{(4)}_{k} = \sum_{j} w^{(4)}_{kj}\, a^{(3)}_{j} + b^{(4)}_{k}$:" in solution
    assert r"w^{(4)}_{13} a^{(3)}_{3} + w^{(4)}_{14} a^{(3)}_{4}" in solution
    assert (r"\frac{\partial E}{\partial w^{(4)}_{13}} &= \delta^{(4)}_{1} a^{(3)}_{3} = \left(-0.432170748\right) "
            r"\cdot 0.370000000 = -0.159903177") in solution
    assert (r"\frac{\partial E}{\partial a^{(3)}_{3}} &= \delta^{(4)}_{1} w^{(4)}_{13} + \delta^{(4)}_{2} w^{(4)}_{23}"
            in solution)
    assert r"Flatten only reorders: $\partial E / \partial p^{(2)}$ is $\partial E / \partial a^{(3)}$ put back" in solution
    assert r"\frac{\partial E}{\partial a^{(1)}_{32}} &= \frac{\partial E}{\partial a^{(3)}_{3}} = -0.302519524" in solution
    assert not re.search(r"p\^\{\(2\)\}_\{[j1-4]\}", solution)      # no one-index p^{(2)} anywhere


def _task(sheet: str, title: str) -> str:
    start = re.search(re.escape("\\item " + title) + r"( \(.*\))?\n", sheet).start()
    end = sheet.find("\\item ", start + 6)
    return sheet[start:end if end >= 0 else len(sheet)]


def test_a_map_s_task_is_a_grid_to_fill_in_labelled_once(documents):
    """Tasks 1-2 listed 25 names (7 + 7 + 7 + 3 + 1) where the gradient tasks gave a 5×5 grid; and those
    grids had their name twice, '∂E/∂a^(1) (every entry)' above a grid captioned '∂E/∂a^(1)'."""
    sheet = documents["cnn"]["worksheet"]
    assert "{$z^{(1)}$}" not in _given(sheet) and "{$a^{(1)}$}" not in _given(sheet)   # computed, not given
    for title, label, size in (("Module 1 (convolution): pre-{}activations", r"z^{(1)}", 5),
                               ("Module 1 (convolution): ReLU", r"a^{(1)}", 5),
                               ("Module 2 (max-{}pooling): the maximum of each window", r"p^{(2)}", 2),
                               ("Module 1 (convolution): through ReLU", r"\delta^{(1)}", 5),
                               ("Module 1 (convolution): the input gradient", r"\partial E / \partial x", 6)):
        task = _task(sheet, title)
        assert "\\begin{gather*}" not in task, title                   # no list of names, no second label
        assert f"{{${label}\\ \\text{{(every entry)}}$}}" in task, title
        assert f"grid ({size},-{size});" in task, title
    assert "z^{(1)}_{55}" not in sheet


@pytest.mark.parametrize("name, title", [("cnn", "Module 1 (convolution): the input gradient"),
                                         ("residual", "Module 1 (dense layer): the gradient of its input"),
                                         ("rnn", "Module 1 (recurrent cell): the gradient of the inputs")])
def test_the_data_s_gradient_says_why_it_is_asked(documents, name, title):
    """∂E/∂x was asked (a whole page for cnn) though nothing uses it in the update: task and step say why."""
    why = "no update uses it: it is the gradient a module before this one would receive"
    assert f"\\item {title} ({why})\n" in documents[name]["worksheet"]
    body = dict(_steps(documents[name]["solutions"]))[title]
    assert f" N{why[1:]}." in body[:body.index("\\begin{align*}")]


def test_zero_parameter_gradients_are_said_one_way(documents):
    """Step 18 worked ∂E/∂w^(4)_11 = (−0.053…) · 0 = 0 while steps 22-23 said 'The other 2 entries are 0':
    a zero entry of a parameter's gradient is said in the sentence, with why, and not worked."""
    steps = dict(_steps(documents["residual"]["solutions"]))
    weights = steps["Module 4 (dense layer): the weight gradients"]
    assert r"\cdot 0 = 0" not in weights and r"\frac{\partial E}{\partial w^{(4)}_{11}}" not in weights
    assert "The other 2 entries are 0 (a factor of each is 0)." in weights
    assert "The other 2 entries are 0 (a factor of each is 0)." in steps["Module 3 (dense layer): the weight gradients"]
    assert r"The other entry is 0 (its $\delta$ is 0)." in steps["Module 3 (dense layer): the bias gradients"]
    for title, body in steps.items():
        if title.endswith(("weight gradients", "bias gradients", "bias gradient")):
            assert not re.search(r"= 0 (\\\\)?\n", body), title


def test_a_deck_s_shortened_step_says_its_other_entries_in_one_sentence(tmp_path):
    """cnn slide 29: 'The other 23 entries are 0 (...). The other 10 entries are computed in the same way.'"""
    # (the deck shows as many of its lines as one frame holds: 3 of 36 here, so 33 others)
    assert run_cli("slides", ROOT / "examples" / "cnn.toml", "--no-pdf", "--out", tmp_path).returncode == 0
    deck = (tmp_path / "slides.tex").read_text()
    assert ("Of the other 33 entries,{} 10 are computed in the same way and 23 are 0 (no non-{}zero "
            "\\ensuremath{\\delta} reaches them).") in deck
    assert "The other 23 entries are 0" not in deck
    assert "The other 22 entries are computed in the same way." in deck     # no zeros: as before


def test_element_wise_rules_carry_the_index_of_their_worked_lines(documents):
    """'a^(2) = 1/(1 + e^-z^(2))' above 'a^(2)_1 = ...', 'δ^(1) = ∂E/∂a^(1) · ReLU'(z^(1))' above
    'δ^(1)_12 = ...' (review 3, item 13): each rule names the entry its lines work, as its
    neighbours (z_k, ∂E/∂a_k) do."""
    cnn, rnn = documents["cnn"]["solutions"], documents["rnn"]["solutions"]
    assert r"By $a^{(1)}_{ij} = \max\left(0, z^{(1)}_{ij}\right)$:" in cnn
    assert (r"With ${\operatorname{ReLU}'(z) = 1 \text{ if } z > 0,\ 0 \text{ otherwise}}$,{} the chain rule gives "
            r"$\delta^{(1)}_{ij} = \frac{\partial E}{\partial a^{(1)}_{ij}} \cdot \operatorname{ReLU}'(z^{(1)}_{ij})$.") in cnn
    assert r"By $a^{(2)}_{k} = \frac{1}{1 + e^{-z^{(2)}_{k}}}$:" in rnn
    assert (r"$\delta^{(2)}_{k} = \frac{\partial E}{\partial a^{(2)}_{k}} \cdot "
            r"a^{(2)}_{k}\left(1 - a^{(2)}_{k}\right)$") in rnn
    for tex in (cnn, rnn, documents["residual"]["solutions"]):
        assert not re.search(r"(By \$|chain rule,\{\} \$)(\\delta|a)\^\{\(\d\)\} = ", tex)


def test_a_rule_s_inline_fraction_gets_room_from_the_next_line(tmp_path):
    """cnn Step 16: the denominator of ∂E/∂x_pq in 'By the chain rule, ...' sat on the next line
    ('No update uses it', 13.6pt baseline to baseline, seen at 200 dpi; review 3, item 11): prose
    lines closer than 2pt are now set 3pt apart (16.4pt here), displays keep their spacing."""
    out = tmp_path / "out"
    assert run_cli("worksheet", ROOT / "examples" / "cnn.toml", "--out", out).returncode == 0
    page = next(i for i in range(1, 20) if "full convolution of" in subprocess.run(
        ["pdftotext", "-f", str(i), "-l", str(i), out / "solutions.pdf", "-"], capture_output=True, text=True).stdout)
    boxes = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-bbox", out / "solutions.pdf", "-"],
                           capture_output=True, text=True, check=True).stdout
    words = [(float(y), w) for y, w in re.findall(r'yMax="([0-9.]+)">([^<]*)</word>', boxes)]
    rules = [k for k, (_, w) in enumerate(words) if w == "rule," and words[k - 1][1] == "chain"]
    last = rules[-1]                      # Step 16's sentence, the last chain rule of the page
    after = next(y for y, w in words[last:] if w == "No")
    assert after - words[last][0] > 15, after - words[last][0]
