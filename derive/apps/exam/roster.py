"""`--students roster.csv`: who sits the exam, in order. Variant k goes to the k-th student.

The roster is a CSV file with a header naming the columns `id` and `name` (other columns are
ignored; comma or semicolon separated, as spreadsheets write it). With more students than variants
as many variants as students are drawn: variant k is the same whatever the count, so the variants
that were asked for do not change; with fewer, the extra variants have no student.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
import io
from pathlib import Path

from ...errors import DeriveError
from ...limits import MAX_VARIANTS


@dataclass(frozen=True)
class Student:
    id: str
    name: str

    def as_dict(self) -> dict:
        return {"id": self.id, "name": self.name}


def read_roster(path: str | Path) -> list[Student]:
    """The students of a roster file, in its order; bad input is one line naming the file and row."""
    where = str(path)
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except OSError as e:
        raise DeriveError(f"cannot read the roster: {e.strerror}", file=where) from None
    except UnicodeDecodeError:
        raise DeriveError("expected a UTF-8 text file (CSV with columns id, name)", file=where) from None
    lines = text.splitlines()
    if not lines:
        raise DeriveError("the roster is empty: expected a header line id,name and one line per student",
                          file=where)
    delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    header = [h.strip().lower() for h in rows[0]]
    if "id" not in header or "name" not in header:
        raise DeriveError(f"expected a header with the columns id and name, got {','.join(rows[0])!r}",
                          file=where, field="line 1")
    at_id, at_name = header.index("id"), header.index("name")
    students: list[Student] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(at_id, at_name):
            raise DeriveError(f"expected {len(header)} columns, got {len(row)}", file=where, field=f"line {number}")
        sid, name = row[at_id].strip(), row[at_name].strip()
        if not sid or not name:
            raise DeriveError("every student needs an id and a name", file=where, field=f"line {number}")
        if sid in seen:
            raise DeriveError(f"the id {sid!r} is also on line {seen[sid]}", file=where, field=f"line {number}")
        seen[sid] = number
        students.append(Student(sid, name))
    if not students:
        raise DeriveError("the roster has no student", file=where)
    if len(students) > MAX_VARIANTS:
        raise DeriveError(f"{len(students)} students: at most {MAX_VARIANTS} variants can be drawn",
                          file=where)
    return students
