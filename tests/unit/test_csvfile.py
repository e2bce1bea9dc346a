"""Reading import files (README.md): encodings, delimiters, the header, line numbers, dates."""

from __future__ import annotations

from datetime import date

import pytest

from diary_core.changes import mark_snapshot
from diary_core.errors import InvalidInput
from diary_core.imports.csvfile import (
    ImportFailed,
    RowError,
    parse_date,
    parse_positive_int,
    read_csv,
)
from diary_core.models import Mark

COLUMNS = ("class", "name", "date")


def errors_of(data: bytes | str) -> list[tuple[int, str | None]]:
    with pytest.raises(ImportFailed) as caught:
        read_csv(data, COLUMNS)
    return [(e.line, e.column) for e in caught.value.errors]


def test_comma_file_is_read_by_column_name() -> None:
    table = read_csv("class,name,date\n5А, Иванов ,2025-09-01\n", COLUMNS)
    assert table.delimiter == ","
    assert [(r.line, r.cells) for r in table.rows] == [
        (2, {"class": "5А", "name": "Иванов", "date": "2025-09-01"})
    ]


def test_semicolon_file_with_bom_and_crlf_from_excel() -> None:
    data = "\ufeffclass;name;date\r\n5А;Иванов, Пётр;01.09.2025\r\n".encode()
    table = read_csv(data, COLUMNS)
    assert table.delimiter == ";"
    assert table.rows[0].cells == {"class": "5А", "name": "Иванов, Пётр", "date": "01.09.2025"}


def test_header_columns_may_come_in_any_order_and_case() -> None:
    table = read_csv("Date,NAME,class\n2025-09-01,Иванов,5А\n", COLUMNS)
    assert table.rows[0]["class"] == "5А"


def test_missing_and_unknown_columns_are_named_on_line_one() -> None:
    with pytest.raises(ImportFailed) as caught:
        read_csv("class,nmae,date,extra\n5А,Иванов,2025-09-01,x\n", COLUMNS)
    found = {(e.line, e.column, e.reason) for e in caught.value.errors}
    assert found == {
        (1, "nmae", "неизвестный столбец"),
        (1, "extra", "неизвестный столбец"),
        (1, "name", "нет обязательного столбца"),
    }


def test_duplicate_column_is_refused() -> None:
    assert errors_of("class,name,date,name\n") == [(1, "name")]


def test_empty_file_has_no_header() -> None:
    assert errors_of(b"") == [(1, None)]
    assert errors_of("\n5А,Иванов,2025-09-01\n") == [(1, None)]


def test_line_numbers_are_physical_lines_of_the_file() -> None:
    # A quoted cell spanning two lines: only a column declared multi-line may hold one.
    data = 'class,name,date\n5А,"Иванов\nПётр",2025-09-01\n\n5Б,Петров,2025-09-02\n'
    table = read_csv(data, COLUMNS, multiline=("name",))
    assert [r.line for r in table.rows] == [2, 5]
    assert table.rows[0]["name"] == "Иванов\nПётр"
    with pytest.raises(ImportFailed) as caught:
        read_csv(data, COLUMNS)
    assert [(e.line, e.column) for e in caught.value.errors] == [(2, "name")]
    assert "U+000A" in caught.value.errors[0].reason


def test_row_with_wrong_number_of_cells_is_an_error_with_its_line() -> None:
    assert errors_of("class,name,date\n5А,Иванов,2025-09-01\n5Б,Петров\n") == [(3, None)]


def test_file_not_in_utf8_is_refused_with_the_line_of_the_bad_byte() -> None:
    data = "class,name,date\n5А,Иванов,2025-09-01\n".encode() + "5Б,Петров,x\n".encode("cp1251")
    with pytest.raises(ImportFailed) as caught:
        read_csv(data, COLUMNS)
    assert caught.value.errors[0].line == 3
    assert "UTF-8" in caught.value.errors[0].reason


def test_import_failed_is_invalid_input_listing_errors_by_line() -> None:
    failed = ImportFailed([RowError(7, "date", "b"), RowError(3, None, "a")])
    assert isinstance(failed, InvalidInput)
    assert [e.line for e in failed.errors] == [3, 7]
    assert "ничего не записано" in str(failed)


def test_error_reads_line_column_reason_in_russian() -> None:
    error = RowError(5, "pupil_snils", "неверная контрольная сумма СНИЛС")
    assert str(error) == "строка 5, столбец pupil_snils: неверная контрольная сумма СНИЛС"
    assert str(RowError(2, None, "пусто")) == "строка 2: пусто"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-09-01", date(2025, 9, 1)),
        ("01.09.2025", date(2025, 9, 1)),
        ("1.9.2025", date(2025, 9, 1)),
        (" 29.02.2024 ", date(2024, 2, 29)),
    ],
)
def test_dates_iso_or_russian(raw: str, expected: date) -> None:
    assert parse_date(raw) == expected


@pytest.mark.parametrize("raw", ["", "2025/09/01", "09.2025", "01-09-2025", "вчера", "2025-9-1"])
def test_other_date_forms_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput, match="неверная дата"):
        parse_date(raw)


@pytest.mark.parametrize("raw", ["31.02.2025", "2025-13-01", "00.01.2025"])
def test_days_that_do_not_exist_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput, match="такой даты нет"):
        parse_date(raw)


def test_positive_whole_numbers_only() -> None:
    assert parse_positive_int(" 3 ", maximum=100) == 3
    for raw in ("0", "-1", "1.5", "два", "²", "101"):
        with pytest.raises(InvalidInput):
            parse_positive_int(raw, maximum=100)


def test_snapshot_of_inserted_values_matches_the_snapshot_of_the_stored_mark() -> None:
    """A bulk writer's values and the stored row make the same change-log snapshot."""
    values = {
        "subject_id": 1,
        "date": date(2025, 10, 1),
        "value": "5",
        "numeric": 5,
        "work_type_id": 2,
        "weight": 1,
        "counts": True,
        "comment": "",
        "lesson_id": None,
    }
    assert mark_snapshot(values) == mark_snapshot(Mark(**values))
