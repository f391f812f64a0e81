"""Documents compiled while the next ones are written (output.tex.Batch): real TeX, tiny documents.

The batch runs as many TeX processes as it is given workers, the waiting document of highest
priority first; leaving it waits for every run and raises the first failure; leaving it on an
error cancels what has not started; nothing of its build folder stays.
"""
from __future__ import annotations

import time

import pytest

from derive.errors import DeriveError
from derive.output import tex

from helpers import pdf_text


def write(folder, name: str, words: str, size: int = 0):
    (folder / name).write_text("\\documentclass{article}\n\\begin{document}\n" + words + "\n"
                               + "%" * size + "\n\\end{document}\n")


def started(future):
    """The future once its document runs (a worker takes it a moment after it was queued)."""
    while not (future.running() or future.done()):
        time.sleep(0.005)
    return future


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    out = tmp_path / "docs"
    out.mkdir()
    write(out, "warm.tex", "")            # the documents' format dumped first: no dump job in the queue
    assert tex.build_format(tex.head_of((out / "warm.tex").read_bytes())) is not None
    (out / "warm.tex").unlink()
    return out


def test_the_waiting_document_of_highest_priority_runs_first(folder):
    for name, size in (("first", 0), ("small", 10), ("large", 5000), ("last", 0)):
        write(folder, f"{name}.tex", f"This is {name}.", size)
    finished = []
    with tex.Batch(folder, workers=1) as batch:
        started(batch.submit("first.tex", then=lambda c: finished.append(c.pdf.stem) or c))
        batch.submit("small.tex", then=lambda c: finished.append(c.pdf.stem) or c)
        batch.submit("last.tex", priority=10, then=lambda c: finished.append(c.pdf.stem) or c)
        large = batch.submit("large.tex", then=lambda c: finished.append(c.pdf.stem) or c)
    assert finished == ["first", "large", "small", "last"]       # by size, an explicit priority last
    assert large.result().pdf == folder / "large.pdf" and large.result().passes == 1
    assert "This is large." in pdf_text(folder / "large.pdf")
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f"{n}.{e}" for n in ("first", "small", "large", "last") for e in ("tex", "pdf"))


def test_a_part_in_the_build_folder_is_kept_for_its_callback_and_removed_after(folder):
    (folder / tex.BUILD).mkdir()
    write(folder / tex.BUILD, "part.tex", "A part.")
    with tex.Batch(folder) as batch:
        text = batch.submit(f"{tex.BUILD}/part.tex", keep=False, then=lambda c: pdf_text(c.pdf))
    assert "A part." in text.result()
    assert list(folder.iterdir()) == []


def test_a_failure_is_raised_after_the_others_finished(folder):
    write(folder, "good.tex", "Fine.", 3000)
    write(folder, "bad.tex", "\\undefinedcommand")
    with pytest.raises(DeriveError) as error:
        with tex.Batch(folder) as batch:
            batch.submit("bad.tex")
            good = batch.submit("good.tex")
    assert error.value.file == "bad.tex" and "Undefined control sequence" in error.value.details
    assert good.result().pdf.exists() and "Fine." in pdf_text(folder / "good.pdf")
    assert not (folder / tex.BUILD).exists()


def test_leaving_on_an_error_cancels_what_has_not_started(folder):
    for name in ("one", "two", "three"):
        write(folder, f"{name}.tex", name)
    with pytest.raises(KeyError):
        with tex.Batch(folder, workers=1) as batch:
            futures = [started(batch.submit("one.tex"))] + [batch.submit(f"{name}.tex") for name in ("two", "three")]
            raise KeyError("Python failed while TeX ran")
    assert futures[0].result().pdf.exists()                      # the one running was waited for
    assert [f.cancelled() for f in futures[1:]] == [True, True]
    assert sorted(p.name for p in folder.iterdir()) == ["one.pdf", "one.tex", "three.tex", "two.tex"]
