"""Reading the import files of DESIGN §7: CSV in UTF-8 (with or without a BOM), ``,`` or ``;``
(told apart by the header), a header row that must name exactly the expected columns, dates as
``YYYY-MM-DD`` or ``DD.MM.YYYY``.

Errors are collected, not raised one by one: an import reports every bad cell of the file at
once, each with its physical line (the header is line 1) and its column.

Every cell is held to the diary's one rule for text (:mod:`diary_core.text`): no control
characters, nothing XML cannot carry; tab and line breaks only in the columns an import
names as multi-line (a mark's comment). The check is made on the cell as written, before
any stripping, so a tab inside a name is refused rather than silently turned into a space.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date

from diary_core.errors import InvalidInput
from diary_core.text import find_bad, shown

_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_RU_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")


@dataclass(frozen=True)
class RowError:
    """One problem of an import file: where it is and what is wrong, in Russian."""

    line: int
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = f"строка {self.line}"
        if self.column:
            where += f", столбец {self.column}"
        return f"{where}: {self.reason}"


class ImportFailed(InvalidInput):
    """The file has errors; nothing was written. ``errors`` lists every one of them."""

    code = "import_failed"

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors = sorted(errors, key=lambda e: e.line)
        super().__init__(f"файл не загружен, ошибок: {len(self.errors)}; ничего не записано")


@dataclass(frozen=True)
class CsvRow:
    """A data row: its physical line number and its cells by column name (stripped)."""

    line: int
    cells: dict[str, str]

    def __getitem__(self, column: str) -> str:
        return self.cells[column]


@dataclass
class CsvTable:
    rows: list[CsvRow]
    delimiter: str


@dataclass
class Errors:
    """The error list an import fills while it checks every row."""

    items: list[RowError] = field(default_factory=list)

    def add(self, line: int, column: str | None, reason: str) -> None:
        self.items.append(RowError(line, column, reason))

    def raise_if_any(self) -> None:
        if self.items:
            raise ImportFailed(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)


def decode(data: bytes | str) -> str:
    """UTF-8 text with a leading BOM dropped; bytes that are not UTF-8 fail with their line."""
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        reason = "файл не в кодировке UTF-8 (сохраните его как «CSV UTF-8»)"
        raise ImportFailed([RowError(line, None, reason)]) from None


def detect_delimiter(header_line: str) -> str:
    """``;`` when the header has more semicolons than commas (Excel in a Russian locale)."""
    return ";" if header_line.count(";") > header_line.count(",") else ","


def check_header(header: list[str], expected: Sequence[str]) -> list[RowError]:
    """Every expected column present once, nothing else; problems are named at line 1."""
    errors: list[RowError] = []
    seen: set[str] = set()
    for name in header:
        if name in seen:
            errors.append(RowError(1, name, "столбец указан дважды"))
        elif name not in expected:
            errors.append(RowError(1, shown(name) or "(пусто)", "неизвестный столбец"))
        seen.add(name)
    for name in expected:
        if name not in seen:
            errors.append(RowError(1, name, "нет обязательного столбца"))
    return errors


def read_csv(
    data: bytes | str, expected: Sequence[str], *, multiline: Collection[str] = ()
) -> CsvTable:
    """The file's data rows keyed by column; a missing header or a wrong one is
    :class:`ImportFailed`. Blank lines are skipped; a row with the wrong number of cells is
    reported (it would shift every value into the wrong column); so is every cell holding a
    character the diary refuses (:func:`bad_cell`), the columns in ``multiline`` taking tab
    and line breaks. Any of these raises :class:`ImportFailed` listing them all."""
    text = decode(data)
    first_line = text.split("\n", 1)[0]
    if not first_line.strip():
        raise ImportFailed([RowError(1, None, "нет строки заголовка")])
    delimiter = detect_delimiter(first_line)
    records = _records(text, delimiter)
    _, raw_header = next(records)
    header = [h.strip().lstrip("\ufeff").lower() for h in raw_header]
    header_errors = check_header(header, expected)
    if header_errors:
        raise ImportFailed(header_errors)
    errors = Errors()
    rows: list[CsvRow] = []
    for line, values in records:
        if all(not v.strip() and find_bad(v, multiline=True) is None for v in values):
            continue
        if len(values) != len(header):
            errors.add(line, None, f"ячеек {len(values)}, а столбцов в заголовке {len(header)}")
            continue
        bad = [(h, reason) for h, v in zip(header, values, strict=True)
               if (reason := bad_cell(v, multiline=h in multiline)) is not None]  # fmt: skip
        for column, reason in bad:
            errors.add(line, column, reason)
        if bad:
            continue
        rows.append(CsvRow(line, {h: v.strip() for h, v in zip(header, values, strict=True)}))
    errors.raise_if_any()
    return CsvTable(rows, delimiter)


def bad_cell(value: str, *, multiline: bool = False) -> str | None:
    """Why a cell as written cannot be imported (a control character, a character XML cannot
    carry, a line break in a one-line column), quoting it; None when it is fine."""
    bad = find_bad(value, multiline=multiline)
    if bad is None:
        return None
    return f"{bad.reason()} в значении «{shown(value)}»"


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Records with the physical line each starts on (a quoted cell may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    try:
        for values in reader:
            yield start, values
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ImportFailed([RowError(start, None, f"файл CSV повреждён: {exc}")]) from None


def parse_date(raw: str) -> date:
    """``YYYY-MM-DD`` or ``DD.MM.YYYY``; anything else, or a day that does not exist, is
    :class:`InvalidInput`."""
    text = raw.strip()
    iso = _ISO_DATE.match(text)
    ru = _RU_DATE.match(text)
    try:
        if iso:
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
        if ru:
            return date(int(ru[3]), int(ru[2]), int(ru[1]))
    except ValueError:
        raise InvalidInput(f"такой даты нет: «{raw}»") from None
    raise InvalidInput(f"неверная дата «{raw}» (ожидается ГГГГ-ММ-ДД или ДД.ММ.ГГГГ)")


def parse_positive_int(raw: str, *, maximum: int) -> int:
    """A whole number 1…``maximum`` written in ASCII digits, else :class:`InvalidInput`."""
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or int(text) <= 0:
        raise InvalidInput(f"«{raw}» — не целое положительное число")
    if int(text) > maximum:
        raise InvalidInput(f"«{raw}» — больше допустимого ({maximum})")
    return int(text)
