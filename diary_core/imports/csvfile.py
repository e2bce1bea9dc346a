"""Reading the import files (README.md): CSV in UTF-8 (with or without a BOM) or in
Windows-1251 (what Excel on a Russian Windows saves as «CSV»), told apart by the bytes; ``,`` or
``;`` (told apart by the header); a header row that must name exactly the expected columns, by
their English names or their Russian titles (any case, spaces and underscores alike); dates as
``YYYY-MM-DD`` or ``DD.MM.YYYY``.

Errors are collected, not raised one by one: an import reports every bad cell of the file at
once, each with its physical line (the header is line 1) and its column.

Every cell is held to the diary's one rule for text (:mod:`diary_core.text`): no control
characters, nothing XML cannot carry; tab and line breaks only in the columns an import
names as multi-line (a mark's comment). The check is made on the cell as written, before
any stripping, so a tab inside a name is refused rather than silently turned into a space.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
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
    #: Each column's name as the file's header wrote it (``"class"`` → ``"Класс"``).
    columns: dict[str, str] = field(default_factory=dict)


@dataclass
class Errors:
    """The error list an import fills while it checks every row. ``columns`` names the
    columns as the file's header does (so a file with Russian titles is answered in them)."""

    items: list[RowError] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)

    def add(self, line: int, column: str | None, reason: str) -> None:
        shown_as = self.columns.get(column, column) if column is not None else None
        self.items.append(RowError(line, shown_as, reason))

    def raise_if_any(self) -> None:
        if self.items:
            raise ImportFailed(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)


_UTF8_CYRILLIC = re.compile(rb"[\xd0\xd1][\x80-\xbf]")
_HIGH_BYTE = re.compile(rb"[\x80-\xff]")
_NOT_DECODED = (
    "файл не в кодировке UTF-8 и не в Windows-1251 (сохраните его как «CSV UTF-8» "
    "или «CSV (разделители — точка с запятой)»)"
)


def decode(data: bytes | str) -> str:
    """The file's text: UTF-8 (a leading BOM dropped), UTF-16 with its BOM, else Windows-1251
    (Excel's «CSV» on a Russian Windows). Bytes that are neither fail with their line; so
    does UTF-8 broken part way (its Cyrillic byte pairs show through), rather than being
    read as Windows-1251 gibberish."""
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise ImportFailed([RowError(1, None, _NOT_DECODED)]) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        utf8_error = exc.start
    utf8_pairs = len(_UTF8_CYRILLIC.findall(data))
    if utf8_pairs * 2 * 5 < len(_HIGH_BYTE.findall(data)):  # under a fifth: not UTF-8 text
        try:
            return data.decode("cp1251")
        except UnicodeDecodeError as exc:
            utf8_error = exc.start
    line = data[:utf8_error].count(b"\n") + 1
    raise ImportFailed([RowError(line, None, _NOT_DECODED)])


def header_key(name: str) -> str:
    """How a header cell is matched to a column: case, ``ё``, spaces and underscores aside."""
    return " ".join(name.replace("_", " ").split()).casefold().replace("ё", "е")


def detect_delimiter(header_line: str) -> str:
    """``;`` when the header has more semicolons than commas (Excel in a Russian locale)."""
    return ";" if header_line.count(";") > header_line.count(",") else ","


def check_header(
    header: list[str], expected: Sequence[str], titles: Mapping[str, str] | None = None
) -> list[RowError]:
    """Every expected column present once, nothing else; problems are named at line 1 (a
    missing column by its Russian title when ``titles`` gives one)."""
    titles = titles or {}
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
            errors.append(RowError(1, titles.get(name, name), "нет обязательного столбца"))
    return errors


def read_csv(
    data: bytes | str,
    expected: Sequence[str],
    *,
    multiline: Collection[str] = (),
    titles: Mapping[str, str] | None = None,
) -> CsvTable:
    """The file's data rows keyed by column; a missing header or a wrong one is
    :class:`ImportFailed`. Blank lines are skipped; a row with the wrong number of cells is
    reported (it would shift every value into the wrong column); so is every cell holding a
    character the diary refuses (:func:`bad_cell`), the columns in ``multiline`` taking tab
    and line breaks. Any of these raises :class:`ImportFailed` listing them all.

    A header cell names a column by its name or by its Russian title in ``titles``
    (``"Фамилия обучающегося"`` for ``pupil_last_name``), case, spaces and underscores aside."""
    text = decode(data)
    first_line = text.split("\n", 1)[0]
    if not first_line.strip():
        raise ImportFailed([RowError(1, None, "нет строки заголовка")])
    delimiter = detect_delimiter(first_line)
    records = _records(text, delimiter)
    _, raw_header = next(records)
    known = {header_key(name): name for name in expected}
    known.update({header_key(title): name for name, title in (titles or {}).items()})
    written = [h.strip().lstrip("\ufeff") for h in raw_header]
    header = [known.get(header_key(h), h) for h in written]
    uses_titles = any(header_key(h) != header_key(c) for h, c in zip(written, header, strict=True))
    header_errors = check_header(header, expected, titles if uses_titles else None)
    if header_errors:
        raise ImportFailed(header_errors)
    columns = dict(zip(header, written, strict=True))
    errors = Errors(columns=columns)
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
    return CsvTable(rows, delimiter, columns)


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
