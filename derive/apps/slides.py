"""`derive slides`: the lecture's worked example as a beamer deck, with the spec's numbers.

The deck follows the lecture: the network with its values, the forward pass, the loss, the output
weight's chain rule revealed factor by factor, its update, the hidden weight's sum over paths, every
update in a table, the loss after the step, and the regularisation frames when the spec has them.
It is arranged from the layout's records (sections, blocks, lines; `StepWriter` for the single steps
the lecture dwells on), cut into frames that each hold one idea and fit one frame. `[slides]` in the
spec may choose the theme and the aspect ratio.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from ..fields import FieldReader
from ..layout import problem, steps
from ..layout.blocks import Block, Line, NumberedStep, Section, pieces
from ..layout.frames import (BEAMER_43, DISPLAY_SKIP, FITS, Fit, block_height, continued_title, fit_regularization,
                             fitted, frames, joined, pack, regularization_frames, row_height, text_height)
from ..modules.layout import left_out, slide_parts
from ..modules.printing import Picture, side_by_side
from ..modules.section import ModuleSpec
from ..modules.solution import ModuleSolution
from ..numeric.compiled import evaluator
from ..output import tex
from ..output.folders import check_target, staged_folder
from ..output.render import escape_tex, render
from ..regularization.layout import regularization_context
from ..solution import Solution, solve
from ..spec import Spec
from .snippet import diagram_scale, fit_long_lines

# Beamer's own themes without a sidebar (a sidebar takes the width the displays are broken for);
# the ones with a headline or footline leave less height.
PLAIN_THEMES = ("default", "Pittsburgh", "Rochester")
FRAMED_THEMES = ("Boadilla", "Madrid", "CambridgeUS", "AnnArbor", "Copenhagen", "Warsaw", "Singapore", "Malmoe",
                 "Szeged", "Luebeck", "Dresden", "Frankfurt")
THEMES = PLAIN_THEMES + FRAMED_THEMES
ASPECT_RATIOS = {"16:9": "169", "4:3": "43", "16:10": "1610"}
FIELDS = ("theme", "aspect_ratio")
TABLE_ROWS = 10          # parameters per frame of the update table
SMALL_ROWS = 2           # ... and up to this many more in a smaller font rather than a second frame
LISTED_PER_FRAME = 24    # "name = value" entries per frame of the weights a diagram leaves out


@dataclass(frozen=True)
class SlideSettings:
    theme: str = "default"
    aspect_ratio: str = "16:9"

    @property
    def fit(self) -> Fit:
        base = BEAMER_43 if self.aspect_ratio == "4:3" else FITS["beamer"]
        height = base.height - (25.0 if self.theme in FRAMED_THEMES else 0.0)
        return Fit(base.name, base.points, base.font, True, height)


def settings(spec: Spec | ModuleSpec) -> SlideSettings:
    """The spec's [slides] section, validated (one-line errors naming the field)."""
    raw = spec.extra.get("slides", {})
    r = FieldReader(spec.source)
    if not isinstance(raw, dict):
        raise r.fail("slides", "expected a section [slides]")
    for key in raw:
        if key not in FIELDS:
            raise r.fail(f"[slides] {key}", "unknown field; expected one of: " + ", ".join(FIELDS))
    theme = r.choice(raw.get("theme", "default"), "[slides] theme", THEMES)
    ratio = r.choice(raw.get("aspect_ratio", "16:9"), "[slides] aspect_ratio", tuple(ASPECT_RATIOS))
    return SlideSettings(theme, ratio)


def _frame(kind: str, title: str, **fields) -> dict:
    return {"kind": kind, "title": title, "steps": [], **fields}


def title_tex(title: str | list) -> str:
    """A title (plain text, or pieces of text and `Math` from the printer) as LaTeX for a frame."""
    if isinstance(title, str):
        return escape_tex(title)
    return "".join(escape_tex(p) if isinstance(p, str) else f"${p.tex}$" for p in title)


def _step_title(section: Section, step: NumberedStep) -> str:
    """A frame's title: the section's, with the step's when the section has several steps."""
    if len(section.steps) < 2:
        return title_tex(section.title)
    head = title_tex(step.title)
    return f"{title_tex(section.title)}: {head[:1].lower() + head[1:] if isinstance(step.title, str) else head}"


def _blocks_frames(blocks: list[Block], fit: Fit, title: str, more: str | None = None,
                   room: float | None = None) -> list[dict]:
    """Blocks as frames that each fit one, packed in order; `title` is LaTeX already, and so is
    `more`, the title its continuation frames take (" (continued)" included) when given.
    With `room` (points: a frame's height less a margin, where `fit` keeps a larger one), a last
    frame of one or two lines goes back onto the frame before it when both fit that room."""
    cut = frames([Section("", blocks)], fit)
    if room is not None and len(cut) > 1 and sum(_lines(b) for b in cut[-1].blocks) <= FEW_LINES and \
            sum(block_height(b, fit) for b in cut[-2].blocks + cut[-1].blocks) <= room:
        cut[-2].blocks.extend(cut.pop().blocks)
    return [_frame("blocks", (more or title + " (continued)") if k else title, blocks=joined(frame.blocks))
            for k, frame in enumerate(cut)]


FEW_LINES = 2              # a continuation frame of this many lines at most is nearly empty


def _lines(block: Block) -> int:
    """A block's lines (a wrapped line's further rows not counted)."""
    return sum(1 for line in block.given if line.lhs and not line.continued)


def _step_frames(sections: list[Section], fit: Fit) -> list[dict]:
    """One idea a frame: each numbered step on its own frame (a step too tall for one over several)."""
    out = []
    for section in sections:
        for step in section.steps:
            out += _blocks_frames(step.blocks, fit, _step_title(section, step))
    return out


def _rows(lines: list[Line], fit: Fit, overlay: int) -> list[dict]:
    """Display rows, broken for the frame, that appear from overlay `overlay` on."""
    block = fitted([Section("", [Block(None, lines)])], fit)[0].blocks[0]
    return [{"line": row, "overlay": overlay} for row in block.lines]


def chain_rule_frames(solution: Solution, fit: Fit) -> list[dict]:
    """The first output weight: its local expressions, its chain rule factor by factor, its update."""
    w = steps.StepWriter(solution, 0)
    d, m = w.d, w.m
    weight = m.weights[-1][0][0]
    gradient = w.by_name[d.sample_gradient[weight]]
    factors = [w.by_name[f] for f in gradient.expr.args if f in w.by_name]
    name = w.p.name(weight)
    out = []
    definitions = [x for x in (w.definition(f) for f in factors) if x is not None]
    if definitions:
        out.append(_frame("blocks", f"The output weight ${name}$: what each factor differentiates", blocks=fitted(
            [Section("", [Block("The loss reaches the weight through a chain of local expressions:",
                                definitions)])], fit)[0].blocks))
    title = f"The chain rule for ${name}$, factor by factor"
    text = "A product of local partial derivatives:"

    def height(rows: list[dict]) -> float:
        return text_height(text, fit) + DISPLAY_SKIP * fit.font + sum(row_height(r["line"], fit) for r in rows)

    def factor_rows(lines) -> list[dict]:
        rows = _rows([w.rule(gradient.name)], fit, 1)
        for k, factor in enumerate(factors):
            rows += _rows(lines(factor), fit, k + 2)
        return rows

    # With the slides' intermediate lines (2 * 1/2 (target - out)^(2-1) * (-1) + 0) when they fit a frame.
    rows = factor_rows(w.worked)
    if height(rows) > fit.height:
        rows = factor_rows(lambda factor: [w.line(factor)])
    product = _rows([w.line(gradient)], fit, len(factors) + 2)
    if height(rows + product) <= fit.height:
        out.append(_frame("reveal", title, text=text, rows=rows + product))
    else:       # a narrow frame: the factors, then their product on the next frame
        out.append(_frame("reveal", title, text=text, rows=rows))
        out.append(_frame("reveal", f"The chain rule for ${name}$: the product", text="The three factors multiplied:"
                          if len(factors) == 3 else "The factors multiplied:",
                          rows=[dict(r, overlay=1) for r in product]))
    update = next(s for s in d.total_steps if s.kind == "update" and s.name == d.updated[weight])
    out.append(_frame("blocks", f"Updating ${name}$", blocks=fitted([Section("", [Block(
        "Gradient descent moves the weight against its gradient:", [w.line(update)])])], fit)[0].blocks))
    # The lecture goes on with w6+ ... w8+ before the hidden layer: the other output weights' updates.
    others = [s for s in d.total_steps if s.kind == "update" and s.name in
              {d.updated[x] for row in m.weights[-1] for x in row if x != weight and x in d.updated}]
    if others:
        out += _blocks_frames([Block("The same rule for the other weights into the output layer:",
                                     [w.line(s) for s in others])], fit, "The other output weights")
    return out


def hidden_frames(solution: Solution, fit: Fit) -> list[dict]:
    """The first weight of each hidden layer: the chain rule summed over every path, and its update."""
    w = steps.StepWriter(solution, 0)
    d, m = w.d, w.m
    L = m.shape.depth
    out = []
    sections = steps.sample_sections(solution, 0)
    for l in range(L - 1, 0, -1):
        weight = m.weights[l - 1][0][0]
        gradient = w.p.name(d.sample_gradient[weight])
        title = "Backward pass: hidden layer" + (f" {l}" if L > 2 else "")
        section = next((s for s in sections if s.title == title), None)
        if section is None:
            continue
        # the step of the hidden weight's gradient: its chain rule, the sum over paths, the product
        step = next((t for t in section.steps if any(x.lhs == gradient for b in t.blocks for x in b.given)), None)
        if step is None:
            continue
        name = w.p.name(weight)
        # The error signals the paths multiply (their rule and values) before they are used.
        for signals in section.steps[:section.steps.index(step)]:
            if isinstance(signals.title, str) and signals.title.startswith("The error signals"):
                out += _blocks_frames(signals.blocks, fit, title_tex(signals.title))
        out += _blocks_frames(step.blocks, fit, f"The hidden weight ${name}$: every path to the loss")
        update = next(s for s in d.total_steps if s.kind == "update" and s.name == d.updated[weight])
        out.append(_frame("blocks", f"Updating ${name}$", blocks=fitted([Section("", [Block(
            "The same rule as for every weight:", [w.line(update)])])], fit)[0].blocks))
    return out


def weight_frames(given: dict, diagram: dict) -> list[dict]:
    """The weights (and biases) a large diagram leaves out, listed on the frames after it, as its
    note says; a long list goes on over several frames."""
    if diagram["labelled"] and diagram["bias_labels"]:
        return []
    rows = [] if diagram["labelled"] else [(f"Weights into {r['layer']}", r["entries"])
                                           for r in given["weight_rows"]]
    if not diagram["bias_labels"]:
        rows.append(("Biases", given["bias_list"]))
    pieces = []      # (head, entries) no longer than a frame holds
    for head, entries in rows:
        for start in range(0, len(entries), LISTED_PER_FRAME):
            pieces.append((head + (" (continued)" if start else ""), entries[start:start + LISTED_PER_FRAME]))
    groups = pack(pieces, lambda piece: len(piece[1]), LISTED_PER_FRAME)
    title = "The weights" if diagram["bias_labels"] else "The weights and biases"
    return [_frame("weights", title + (" (continued)" if k else ""),
                   rows=[{"head": head, "entries": entries} for head, entries in group])
            for k, group in enumerate(groups)]


def loss_after(solution: Solution) -> float:
    """The loss at the updated parameters (one forward pass with them)."""
    d = solution.derivation
    totals = solution.values.totals
    params = [totals[d.updated[p]] if p in d.updated else totals[p] for p in d.model.parameters()]
    return evaluator(d).loss_and_update(params, solution.spec)[0]


def short_title(title: str) -> str:
    """What a theme's footline shows: the part before a colon, else the first few words."""
    head = title.split(":")[0].strip()
    return head if head and len(head) <= 30 else " ".join(title.split()[:4])


def below_diagram(spec: Spec, diagram: dict, fit: Fit) -> float:
    """Points the network frame needs under its picture: a line a sample and the learning rate, the
    paragraph's space, and the picture's own note when it leaves labels out."""
    lines = len(spec.inputs) + 2 + (0 if diagram["labelled"] and diagram["bias_labels"] else 1)
    return lines * 1.2 * fit.font


def deck_context(solution: Solution, options: SlideSettings, handout: bool) -> dict:
    spec = solution.spec
    fit = options.fit
    w = steps.StepWriter(solution, 0)
    sections = {s.title: s for s in steps.sample_sections(solution, 0)}
    diagram = problem.diagram(solution)
    given = problem.given(solution)
    deck = [_frame("network", "The network")] + weight_frames(given, diagram)
    deck += _step_frames([s for t, s in sections.items() if t.startswith("Forward pass")], fit)
    deck += _step_frames([s for t, s in sections.items() if t.startswith("Loss")], fit)
    deck += chain_rule_frames(solution, fit)
    deck += hidden_frames(solution, fit)
    rows = steps.summary_rows(solution)
    chunks = [rows[i:i + TABLE_ROWS] for i in range(0, len(rows), TABLE_ROWS)]
    biases = {w.p.name(b) for b in w.m.parameters()} - {w.p.name(x) for row in w.m.weights for r in row for x in r}
    for i, chunk in enumerate(chunks):
        # the biases' rows show a gradient but the value as it was: the frame says why, as the snippet does
        fixed = not spec.update_biases and any(r["name"] in biases for r in chunk)
        deck.append(_frame("table", "Every weight after one step" + (" (continued)" if i else ""), rows=chunk,
                           note="The biases stay fixed in the update, as in the lecture." if fixed else None))
    before, after = solution.values.totals[w.d.loss], loss_after(solution)
    deck.append(_frame("after", "The loss after one step", before=w.p.number(before), after=w.p.number(after),
                       loss=w.p.name(w.d.loss), loss_after=w.p.name(w.d.loss_after), falls=after < before))
    regularization, reg_frames = None, []
    if solution.regularization is not None:
        regularization = fit_regularization(regularization_context(solution, "none"), fit)
        reg_frames = regularization_frames(regularization, fit)
    return {"reg_frames": reg_frames, "title": spec.title, "short_title": short_title(spec.title), "theme": options.theme, "aspect": ASPECT_RATIOS[options.aspect_ratio],
            "handout": handout, "frames": deck, "diagram": diagram,
            "diagram_scale": diagram_scale(diagram, fit, below_diagram(spec, diagram, fit)),
            "given": given, "regularization": regularization,
            "several": len(spec.inputs) > 1}


# What the derive before manifests wrote: a folder holding only these names counts as derive's.
KNOWN = ("slides.tex", "slides.pdf")


def frame_count(text: str) -> int:
    """Frames in a deck's source (the title frame included)."""
    return text.count("\\begin{frame}")


CM = 28.45276    # pt per cm


def picture_scale(picture: Picture, fit: Fit) -> float:
    """The factor that fits a picture into a frame (1 when it fits as drawn)."""
    return min(1.0, fit.points / (picture.width * CM), (fit.height - 20.0) / (picture.height * CM))


DECK_SHARE = 0.95     # of a frame's height that a module deck's frames fill by the estimate (it counts the
                      # rows as measured in a frame, and the space above a display and a line of prose
                      # about 17 pt more than they take: 13 rows after a sentence ran over, 12 fitted)
FULL_SHARE = 1.0      # ... and when a last line or two joins the frame before
SHARED_SCALE = 0.85   # side by side, no picture may shrink below this share of its own frame's scale
LABEL_CM = 1.5        # a picture's label may stand out beside it (x (row t is x_t) over a column of 4)


def _beside(pictures: list[Picture]) -> Picture:
    """Pictures side by side, as wide as their labels too: each label may stand out beside its
    picture, the last one's past the group's right edge as well."""
    together = side_by_side(pictures)
    return Picture(together.tex, together.width + LABEL_CM * len(pictures), together.height)


def picture_groups(pictures: list[Picture], fit: Fit) -> list[list[Picture]]:
    """The data's pictures, in order, side by side on one frame while that shrinks none of them much
    (the CNN's 6×6 input beside its 2×2 kernel), so that no frame shows one small grid alone."""
    groups: list[list[Picture]] = []
    for picture in pictures:
        together = groups[-1] + [picture] if groups else []
        if together and picture_scale(_beside(together), fit) >= SHARED_SCALE * min(
                picture_scale(p, fit) for p in together):
            groups[-1].append(picture)
        else:
            groups.append([picture])
    return groups


def module_deck_context(solution: ModuleSolution, options: SlideSettings, handout: bool) -> dict:
    """A module spec's deck: the modules, the data's pictures scaled to a frame, the parameters, a
    frame (or several) per step of the worked solution, the parameters after the step, the loss."""
    spec = solution.spec
    fit = replace(options.fit, height=options.fit.height * DECK_SHARE)
    parts = slide_parts(solution)
    deck = [_frame("list", "The network", items=[title_tex(m) for m in parts["modules"]], text=parts["loss"])]
    for group in picture_groups(parts["pictures"], fit):
        picture = _beside(group)
        deck.append(_frame("picture", "The network and its data", picture=picture.tex,
                           scale=f"{picture_scale(picture, fit):.3f}"))
    room = options.fit.height * FULL_SHARE
    deck += _blocks_frames(parts["given"], fit, "The given values", room=room)
    for title, blocks in parts["steps"]:
        deck += _blocks_frames([_shortened(b, fit) for b in blocks], fit, title_tex(title),
                               title_tex(continued_title(title, fit)), room)
    for title, blocks in parts["whole_steps"]:      # an optimiser's steps: every line of each parameter
        deck += _blocks_frames([fit_long_lines(b, fit) for b in blocks], fit, title_tex(title),
                               title_tex(continued_title(title, fit)), room)
    summary = parts["summary"]
    small = TABLE_ROWS < len(summary) <= TABLE_ROWS + SMALL_ROWS     # a table of 11 rows: one frame, smaller
    for i, chunk in enumerate([summary] if small else pieces(summary, TABLE_ROWS)):   # even pieces
        deck.append(_frame("table", "Every parameter after one step" + (" (continued)" if i else ""), rows=chunk,
                           tall=any("^{" in r["name"] for r in chunk), small=small))   # w^{(1)}_{11} needs room
    deck.append(_frame("after", "The loss after one step", before=parts["before"], after=parts["after"],
                       loss=parts["loss_name"], loss_after=parts["loss_after_name"], falls=parts["falls"]))
    return {"reg_frames": [], "title": spec.title, "short_title": short_title(spec.title), "theme": options.theme,
            "aspect": ASPECT_RATIOS[options.aspect_ratio], "handout": handout, "frames": deck, "diagram": None,
            "diagram_scale": "1", "given": None, "regularization": None, "several": not spec.single_sample}


SHOWN_LINES = 3      # lines of a long step a module spec's deck works; the worked solution has them all


def _shortened(block: Block, fit: Fit) -> Block:
    """A step on a slide: of many lines alike (25 entries of a feature map) the first few, as many
    as one frame holds (no continuation frame with one line), and a sentence for the others; a line
    too tall for a frame as its rule and its value."""
    if len(block.given) <= SHOWN_LINES + 1:
        return fit_long_lines(block, fit)
    text = block.text if isinstance(block.text, list) else [block.text] if block.text else []
    for shown in range(SHOWN_LINES, 0, -1):
        short = fit_long_lines(Block(left_out(text, len(block.given) - shown), block.given[:shown]), fit)
        if block_height(short.fitted(fit.units), fit) <= fit.height:
            break
    return short


def write_slides(spec: Spec | ModuleSpec, out: str | Path, pdf: bool = True, handout: bool = False,
                 force: bool = False) -> int:
    """Solve, lay out and (with `pdf`) compile the deck into `out`; returns the number of frames."""
    options = settings(spec)
    inputs = [spec.source] if spec.source != "<spec>" else []
    check_target(out, inputs)
    solution = solve(spec)
    if isinstance(solution, ModuleSolution):
        text = render("slides.tex", module_deck_context(solution, options, handout))
    else:
        text = render("slides.tex", deck_context(solution, options, handout))
    if pdf:
        tex.require_tex()
    with staged_folder(out, force=force, inputs=inputs, known=KNOWN) as stage:
        (stage / "slides.tex").write_text(text, encoding="utf-8")
        if pdf:
            tex.compile_all(stage, ["slides.tex"])
    return frame_count(text)
