"""Reading a marks file on its own (its format: README, "Importing rosters and marks"): its
columns, and each line checked as far as it can be without the database. A mark's fields
take the checks a mark saved in the journal takes (:mod:`diary_core.mark_writes`);
:mod:`diary_core.imports.marks` checks the lines against the school and writes them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from diary_core.errors import InvalidInput
from diary_core.grading import MarkValue, parse_mark
from diary_core.imports.common import name_key
from diary_core.imports.csvfile import CsvRow, Errors, parse_date, parse_positive_int, read_csv
from diary_core.mark_writes import MAX_WEIGHT, checked_comment, checked_weight
from diary_core.school import parse_class_name
from diary_core.snils import normalize_snils

MARKS_COLUMNS = (
    "class",
    "subject",
    "pupil_snils",
    "date",
    "mark",
    "work_type",
    "weight",
    "comment",
)
#: The columns' Russian titles, accepted in the header beside the names above.
MARKS_TITLES = {
    "class": "Класс",
    "subject": "Предмет",
    "pupil_snils": "СНИЛС обучающегося",
    "date": "Дата",
    "mark": "Отметка",
    "work_type": "Вид работы",
    "weight": "Вес",
    "comment": "Комментарий",
}


@dataclass(frozen=True)
class ParsedMarkLine:
    """A line of a marks file that passed the checks that need no database (its cells read,
    each checked as a mark's field is: :mod:`diary_core.mark_writes`)."""

    line: int
    class_name: str
    subject: str  # name_key of the subject
    snils: str
    day: date
    mark: MarkValue
    work_type: str  # name_key of the work type
    weight: int | None
    comment: str
    subject_text: str = ""  # the subject and the work type as written, for errors
    work_type_text: str = ""


# --- reading and checking the file (no database) -------------------------------------------


def _weight(raw: str) -> int | None:
    """The weight written, if any (else the work type's), checked as a saved mark's is."""
    if not raw:
        return None
    try:
        weight = parse_positive_int(raw, maximum=MAX_WEIGHT)
    except InvalidInput as exc:
        raise InvalidInput(f"вес должен быть целым положительным числом: {exc}") from None
    return checked_weight(weight, weight)


def _name(raw: str) -> str:
    if not raw:
        raise InvalidInput("не заполнено")
    return name_key(raw)


#: How each checked cell is read; a failure is :class:`InvalidInput` with the reason.
_PARSERS: dict[str, Callable[[str], Any]] = {
    "class": lambda raw: parse_class_name(raw)[0],
    "subject": _name,
    "pupil_snils": normalize_snils,
    "date": parse_date,
    "mark": parse_mark,
    "work_type": _name,
    "weight": _weight,
    "comment": checked_comment,
}


class _Cells:
    """Reads each distinct cell text once: 200,000 marks name only a few thousand pupils,
    classes and dates, and checking a SNILS is the costliest part of reading a row."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], tuple[Any, str | None]] = {}

    def read(self, column: str, raw: str) -> tuple[Any, str | None]:
        """(value, None), or (None, the reason it is wrong)."""
        key = (column, raw)
        hit = self._seen.get(key)
        if hit is None:
            try:
                hit = (_PARSERS[column](raw), None)
            except InvalidInput as exc:
                hit = (None, str(exc))
            self._seen[key] = hit
        return hit


def _parse_row(row: CsvRow, cells: _Cells, errors: Errors) -> ParsedMarkLine | None:
    before = len(errors.items)
    values: dict[str, Any] = {}
    for column in _PARSERS:
        values[column], reason = cells.read(column, row[column])
        if reason is not None:
            errors.add(row.line, column, reason)
    if len(errors.items) > before:
        return None
    return ParsedMarkLine(
        line=row.line,
        class_name=values["class"],
        subject=values["subject"],
        snils=values["pupil_snils"],
        day=values["date"],
        mark=values["mark"],
        work_type=values["work_type"],
        weight=values["weight"],
        comment=values["comment"],
        subject_text=row["subject"],
        work_type_text=row["work_type"],
    )


def read_marks(data: bytes | str, errors: Errors) -> list[ParsedMarkLine]:
    """Read and check a marks file on its own. A bad header raises
    :class:`~diary_core.imports.csvfile.ImportFailed` at once; bad rows are added to
    ``errors`` and left out, so the rest can still be checked against the database."""
    table = read_csv(data, MARKS_COLUMNS, multiline=("comment",), titles=MARKS_TITLES)
    errors.columns.update(table.columns)
    cells = _Cells()
    return [r for r in (_parse_row(row, cells, errors) for row in table.rows) if r is not None]
