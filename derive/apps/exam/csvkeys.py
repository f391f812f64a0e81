"""The answer keys as CSV for graders' spreadsheets.

keys.csv: one row per variant (variant, the student's id and name when a roster is given, then one
column per asked quantity, headed by its name); keys-long.csv: one row per answer (variant,
question, answer, tolerance). Answers carry exactly the digits asked for, as text, so a spreadsheet
shows what the student should write.

Dialects: "excel" (comma-separated, decimal point) and "excel-de" (semicolon-separated, decimal
comma, with a byte-order mark so that German Excel reads names with umlauts as UTF-8).
"""
from __future__ import annotations

import csv
import io

from .draw import Variant
from .questions import tolerance_plain
from .settings import Settings

DIALECTS = {"excel": (",", "."), "excel-de": (";", ",")}


def _writer(dialect: str) -> tuple[io.StringIO, "csv._writer", str]:
    delimiter, point = DIALECTS[dialect]
    buffer = io.StringIO()
    if dialect == "excel-de":
        buffer.write("\ufeff")
    return buffer, csv.writer(buffer, delimiter=delimiter, lineterminator="\n"), point


def wide(settings: Settings, variants: list[Variant], students: list | None, dialect: str) -> str:
    """keys.csv: one row per variant, one column per answer."""
    buffer, writer, point = _writer(dialect)
    roster = bool(students)
    writer.writerow(["variant"] + (["student_id", "student_name"] if roster else [])
                    + [q.name for q in settings.questions])
    for n, v in enumerate(variants):
        who = []
        if roster:
            s = students[n] if n < len(students) else None
            who = [s.id, s.name] if s else ["", ""]
        writer.writerow([v.number] + who + [q.shown(a).replace(".", point)
                                           for q, a in zip(settings.questions, v.answers)])
    return buffer.getvalue()


def long(settings: Settings, variants: list[Variant], dialect: str) -> str:
    """keys-long.csv: variant, question, answer (as shown), tolerance (absolute): one row per answer."""
    buffer, writer, point = _writer(dialect)
    writer.writerow(["variant", "question", "answer", "tolerance"])
    for v in variants:
        for q, a in zip(settings.questions, v.answers):
            writer.writerow([v.number, q.name, q.shown(a).replace(".", point),
                             tolerance_plain(q.tolerance_at(a)).replace(".", point)])
    return buffer.getvalue()
