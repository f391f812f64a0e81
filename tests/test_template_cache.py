"""Compiled templates kept in derive's cache folder: the next process loads them instead of compiling
again; a corrupt or stale entry is compiled again and replaced; a cache that cannot be written is no
error. Each test has a cache folder (XDG_CACHE_HOME) and a templates folder of its own.
"""
from __future__ import annotations

import jinja2
import pytest

from derive.output import render

TEMPLATE = r"""\BLOCK{for item in items}\VAR{item|tex} \BLOCK{endfor}
\VAR{title|tex}
"""
CONTEXT = {"items": ["a_1", "b&c"], "title": "50% off"}
EXPECTED = "a{\\ttfamily\\char95}1 b\\&c 50\\% off\n"


@pytest.fixture
def templates(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "t.tex").write_text(TEMPLATE)
    render._environment.cache_clear()          # as in a new process
    yield folder
    render._environment.cache_clear()


@pytest.fixture
def compiles(monkeypatch):
    """How many times Jinja compiled a template (the real compiler runs; this only counts)."""
    count = []
    original = jinja2.Environment.compile

    def counting(self, *args, **kwargs):
        count.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    return count


def new_process_render(folder) -> str:
    render._environment.cache_clear()
    return render.render("t.tex", CONTEXT, folder=str(folder))


def cached(tmp_path):
    return sorted((tmp_path / "xdg" / "derive" / "templates").glob("*/*.jinja"))


def test_the_second_process_loads_the_compiled_template(templates, compiles, tmp_path):
    assert new_process_render(templates) == EXPECTED
    assert len(compiles) == 1
    [entry] = cached(tmp_path)
    written = entry.stat().st_mtime_ns
    assert new_process_render(templates) == EXPECTED
    assert len(compiles) == 1                          # loaded, not compiled
    assert entry.stat().st_mtime_ns == written


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "checksum only"])
def test_a_corrupt_entry_is_compiled_again_and_replaced(templates, compiles, tmp_path, damage):
    new_process_render(templates)
    [entry] = cached(tmp_path)
    good = entry.read_bytes()
    entry.write_bytes({"garbage": b"\x00\xffnot a template" * 50, "truncated": good[:len(good) // 2],
                       "empty": b"", "checksum only": good[:60]}[damage])
    assert new_process_render(templates) == EXPECTED
    assert len(compiles) == 2
    assert entry.read_bytes() == good                  # replaced by the sound entry
    assert new_process_render(templates) == EXPECTED
    assert len(compiles) == 2


def test_an_edited_template_is_compiled_again(templates, compiles):
    new_process_render(templates)
    (templates / "t.tex").write_text(TEMPLATE.replace(r"\VAR{title|tex}", r"[\VAR{title|tex}]"))
    assert new_process_render(templates) == EXPECTED.replace("50\\% off", "[50\\% off]")
    assert len(compiles) == 2


def test_other_environment_settings_use_another_folder(templates, tmp_path, monkeypatch):
    """Jinja's own check sees the source, not the delimiters the code was compiled with."""
    new_process_render(templates)
    monkeypatch.setitem(render.SETTINGS, "trim_blocks", False)
    assert new_process_render(templates) != EXPECTED   # compiled afresh with the other setting
    assert len({entry.parent for entry in cached(tmp_path)}) == 2


def test_a_cache_that_cannot_be_written_is_no_error(templates, compiles, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert new_process_render(templates) == EXPECTED
    assert new_process_render(templates) == EXPECTED
    assert len(compiles) == 2                          # nothing cached, each process compiles
