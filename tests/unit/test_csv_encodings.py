"""Import files as staff have them (diary_core.imports.csvfile): the encoding told from the
bytes, column titles in Russian or English in any case, errors naming columns as the file
does."""

from __future__ import annotations

import codecs

import pytest

from diary_core.imports.csvfile import Errors, ImportFailed, decode, header_key, read_csv

COLUMNS = ("class", "last_name", "date")
TITLES = {"class": "Класс", "last_name": "Фамилия ученика", "date": "Дата"}
TEXT = "Класс;Фамилия ученика;Дата\r\n5А;Ёлкина «Младшая»;01.09.2025\r\n"


@pytest.mark.parametrize(
    "data",
    [
        TEXT.encode("cp1251"),
        TEXT.encode("utf-8"),
        codecs.BOM_UTF8 + TEXT.encode("utf-8"),
        TEXT.encode("utf-16"),  # with its BOM
    ],
    ids=["windows-1251", "utf-8", "utf-8 with BOM", "utf-16"],
)
def test_every_encoding_excel_saves_is_read(data: bytes) -> None:
    assert decode(data) == TEXT
    table = read_csv(data, COLUMNS, titles=TITLES)
    assert table.rows[0].cells == {
        "class": "5А",
        "last_name": "Ёлкина «Младшая»",
        "date": "01.09.2025",
    }
    assert table.columns == TITLES


def test_utf8_broken_part_way_is_not_read_as_windows_1251() -> None:
    data = "class,last_name,date\n5А,Иванов,x\n".encode() + "5Б,Петров,x\n".encode("cp1251")
    with pytest.raises(ImportFailed) as caught:
        decode(data)
    (error,) = caught.value.errors
    assert error.line == 3 and "не в кодировке UTF-8 и не в Windows-1251" in error.reason


def test_bytes_in_neither_encoding_are_refused_by_line() -> None:
    data = TEXT.encode("cp1251") + b"\x98\r\n"
    with pytest.raises(ImportFailed) as caught:
        decode(data)
    assert caught.value.errors[0].line == 3


@pytest.mark.parametrize(
    "header",
    [
        "Класс,Фамилия ученика,Дата",
        "КЛАСС,фамилия_ученика,  дата ",
        "класс,Фамилия  Ученика,ДАТА",
        "class,LAST NAME,Date",
        "Класс,last_name,Дата",
    ],
)
def test_titles_match_in_any_case_with_spaces_or_underscores(header: str) -> None:
    table = read_csv(f"{header}\n5А,Иванов,01.09.2025\n", COLUMNS, titles=TITLES)
    assert table.rows[0]["last_name"] == "Иванов"


def test_header_key_ignores_case_yo_spaces_and_underscores() -> None:
    assert header_key(" Фамилия_ОБУЧАЮЩЕГОСЯ ") == header_key("фамилия обучающегося")
    assert header_key("Ёлка") == header_key("елка")


def test_missing_column_is_named_in_the_files_language() -> None:
    with pytest.raises(ImportFailed) as caught:
        read_csv("Класс;Дата\n5А;01.09.2025\n", COLUMNS, titles=TITLES)
    assert [(e.column, e.reason) for e in caught.value.errors] == [
        ("Фамилия ученика", "нет обязательного столбца")
    ]
    with pytest.raises(ImportFailed) as caught:
        read_csv("class,date\n5А,2025-09-01\n", COLUMNS, titles=TITLES)
    assert [e.column for e in caught.value.errors] == ["last_name"]


def test_cell_errors_name_the_column_as_the_file_does() -> None:
    with pytest.raises(ImportFailed) as caught:
        read_csv("Класс;Фамилия ученика;Дата\n5А;Ив\x01анов;01.09.2025\n", COLUMNS, titles=TITLES)
    assert str(caught.value.errors[0]).startswith("строка 2, столбец Фамилия ученика: ")
    errors = Errors(columns={"class": "Класс"})
    errors.add(4, "class", "нет такого класса")
    errors.add(5, None, "пусто")
    assert [str(e) for e in errors.items] == [
        "строка 4, столбец Класс: нет такого класса",
        "строка 5: пусто",
    ]
