"""TeX: one pdflatex pass unless the document needs more. Real TeX, no mocks."""
from __future__ import annotations

from derive import tex

from helpers import pdf_text


def test_one_pass_unless_the_document_asks_for_more(tmp_path):
    folder = tmp_path / "doc"
    folder.mkdir()
    (folder / "refs.tex").write_text("\\documentclass{article}\n\\begin{document}\n\\section{First}\\label{s}\n"
                                     "See section~\\ref{s} on page~\\pageref{s}.\n\\end{document}\n")
    (folder / "plain.tex").write_text("\\documentclass{article}\n\\begin{document}\nNo references.\n"
                                      "\\end{document}\n")
    refs, plain = tex.compile_all(folder, ["refs.tex", "plain.tex"])
    assert refs.passes >= 2 and plain.passes == 1
    assert "See section 1 on page 1." in pdf_text(folder / "refs.pdf")
    [single] = tex.compile_all(folder, ["refs.tex"], single_run=True)
    assert single.passes == 1 and "See section ?? on page ??." in pdf_text(folder / "refs.pdf")
