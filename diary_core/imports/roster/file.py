"""Reading and checking a roster file, without the database: its columns, each row's pupil
and parent, and the agreement of rows that name the same person (by SNILS).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from datetime import date
from typing import Any

from diary_core.errors import InvalidInput
from diary_core.imports.csvfile import CsvRow, Errors, parse_date, read_csv
from diary_core.school import parse_class_name
from diary_core.snils import normalize_snils

ROSTER_COLUMNS = (
    "class",
    "pupil_last_name",
    "pupil_first_name",
    "pupil_middle_name",
    "pupil_birth_date",
    "pupil_snils",
    "parent_last_name",
    "parent_first_name",
    "parent_middle_name",
    "parent_snils",
    "parent_email",
    "parent_phone",
)
#: The columns' Russian titles, accepted in the header beside the names above.
ROSTER_TITLES = {
    "class": "Класс",
    "pupil_last_name": "Фамилия обучающегося",
    "pupil_first_name": "Имя обучающегося",
    "pupil_middle_name": "Отчество обучающегося",
    "pupil_birth_date": "Дата рождения обучающегося",
    "pupil_snils": "СНИЛС обучающегося",
    "parent_last_name": "Фамилия родителя",
    "parent_first_name": "Имя родителя",
    "parent_middle_name": "Отчество родителя",
    "parent_snils": "СНИЛС родителя",
    "parent_email": "Email родителя",
    "parent_phone": "Телефон родителя",
}
PARENT_COLUMNS = ROSTER_COLUMNS[6:]
_NAME_MAX = 100
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^[0-9+()\-\s]{5,40}$")


@dataclass(frozen=True)
class PupilEntry:
    class_name: str
    grade: int
    last_name: str
    first_name: str
    middle_name: str
    birth_date: date | None


@dataclass(frozen=True)
class ParentEntry:
    last_name: str
    first_name: str
    middle_name: str
    email: str
    phone: str


#: The column that carries each entry field, to name it when two rows disagree.
_PUPIL_COLUMN = {
    "class_name": "class",
    "grade": "class",
    "last_name": "pupil_last_name",
    "first_name": "pupil_first_name",
    "middle_name": "pupil_middle_name",
    "birth_date": "pupil_birth_date",
}
_PARENT_COLUMN = {
    "last_name": "parent_last_name",
    "first_name": "parent_first_name",
    "middle_name": "parent_middle_name",
    "email": "parent_email",
    "phone": "parent_phone",
}


@dataclass
class RosterFile:
    """The file's content after checking: each person once (by SNILS), and the rows as
    (pupil SNILS, parent SNILS or None) pairs in file order."""

    pupils: dict[str, PupilEntry] = field(default_factory=dict)
    parents: dict[str, ParentEntry] = field(default_factory=dict)
    rows: list[tuple[str, str | None]] = field(default_factory=list)
    first_line: dict[str, int] = field(default_factory=dict)  # SNILS → line it first appears


def _name(row: CsvRow, column: str, errors: Errors, *, required: bool) -> str:
    value = " ".join(row[column].split())
    if required and not value:
        errors.add(row.line, column, "не заполнено")
    elif len(value) > _NAME_MAX:
        errors.add(row.line, column, f"длиннее {_NAME_MAX} символов")
    return value


def _snils(row: CsvRow, column: str, errors: Errors) -> str | None:
    try:
        return normalize_snils(row[column])
    except InvalidInput as exc:
        errors.add(row.line, column, str(exc))
        return None


def _birth_date(row: CsvRow, today: date, errors: Errors) -> date | None:
    raw = row["pupil_birth_date"]
    if not raw:
        return None
    try:
        born = parse_date(raw)
    except InvalidInput as exc:
        errors.add(row.line, "pupil_birth_date", str(exc))
        return None
    if not date(1900, 1, 1) <= born <= today:
        errors.add(row.line, "pupil_birth_date", f"невозможная дата рождения «{raw}»")
    return born


def _pupil(row: CsvRow, today: date, errors: Errors) -> tuple[str | None, PupilEntry]:
    class_name, grade = "", 0
    try:
        class_name, grade = parse_class_name(row["class"])
    except InvalidInput as exc:
        errors.add(row.line, "class", str(exc))
    entry = PupilEntry(
        class_name=class_name,
        grade=grade,
        last_name=_name(row, "pupil_last_name", errors, required=True),
        first_name=_name(row, "pupil_first_name", errors, required=True),
        middle_name=_name(row, "pupil_middle_name", errors, required=False),
        birth_date=_birth_date(row, today, errors),
    )
    return _snils(row, "pupil_snils", errors), entry


def _parent(row: CsvRow, errors: Errors) -> tuple[str | None, ParentEntry]:
    email, phone = row["parent_email"], row["parent_phone"]
    if email and not _EMAIL.match(email):
        errors.add(row.line, "parent_email", f"неверный адрес электронной почты «{email}»")
    if phone and not _PHONE.match(phone):
        errors.add(row.line, "parent_phone", f"неверный номер телефона «{phone}»")
    entry = ParentEntry(
        last_name=_name(row, "parent_last_name", errors, required=True),
        first_name=_name(row, "parent_first_name", errors, required=True),
        middle_name=_name(row, "parent_middle_name", errors, required=False),
        email=email,
        phone=phone,
    )
    return _snils(row, "parent_snils", errors), entry


def _agree(
    known: Any, entry: Any, columns: dict[str, str], line: int, first: int, errors: Errors
) -> Any:
    """The same person described on another row: what both rows say together.

    A cell left empty on one row and filled on another is no conflict (a parent's phone
    written once is enough); two different non-empty values are, and name their column.
    """
    merged: dict[str, Any] = {}
    reported: set[str] = set()
    for f in fields(known):
        old, new = getattr(known, f.name), getattr(entry, f.name)
        merged[f.name] = old or new
        column = columns[f.name]
        if old and new and old != new and column not in reported:
            reported.add(column)
            errors.add(line, column, f"расходится с данными того же СНИЛС в строке {first}")
    return replace(known, **merged)


def _add_row(data: RosterFile, row: CsvRow, today: date, errors: Errors) -> None:
    before = len(errors.items)
    pupil_snils, pupil = _pupil(row, today, errors)
    parent_snils: str | None = None
    parent: ParentEntry | None = None
    if any(row[c] for c in PARENT_COLUMNS):
        parent_snils, parent = _parent(row, errors)
        if parent_snils is not None and parent_snils == pupil_snils:
            errors.add(row.line, "parent_snils", "СНИЛС родителя совпадает со СНИЛС обучающегося")
    if len(errors.items) > before or pupil_snils is None:
        return
    _remember(data, pupil_snils, pupil, data.pupils, _PUPIL_COLUMN, row.line, errors)
    if parent is not None and parent_snils is not None:
        _remember(data, parent_snils, parent, data.parents, _PARENT_COLUMN, row.line, errors)
    data.rows.append((pupil_snils, parent_snils))


def _remember(
    data: RosterFile,
    snils: str,
    entry: Any,
    known: dict[str, Any],
    columns: dict[str, str],
    line: int,
    errors: Errors,
) -> None:
    if snils in known:
        known[snils] = _agree(known[snils], entry, columns, line, data.first_line[snils], errors)
    else:
        known[snils] = entry
        data.first_line.setdefault(snils, line)


def _check_roles(data: RosterFile, rows: list[CsvRow], errors: Errors) -> None:
    """One SNILS cannot be a pupil on one row and a parent on another."""
    both = data.pupils.keys() & data.parents.keys()
    if not both:
        return
    for row in rows:
        try:
            snils = normalize_snils(row["parent_snils"]) if row["parent_snils"] else None
        except InvalidInput:
            continue
        if snils in both:
            first = data.first_line[snils]
            errors.add(
                row.line, "parent_snils", f"этот СНИЛС указан у обучающегося (строка {first})"
            )


def read_roster(data: bytes | str, today: date, errors: Errors) -> RosterFile:
    """Read and check a roster file on its own. A bad header raises
    :class:`~diary_core.imports.csvfile.ImportFailed` at once; bad rows are added to
    ``errors`` and left out, so the rest can still be checked against the database."""
    table = read_csv(data, ROSTER_COLUMNS, titles=ROSTER_TITLES)
    errors.columns.update(table.columns)
    roster = RosterFile()
    for row in table.rows:
        _add_row(roster, row, today, errors)
    _check_roles(roster, table.rows, errors)
    return roster
