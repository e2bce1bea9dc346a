"""The one rule for the characters a text may hold (diary_core.text, issue 13 item 6)."""

from __future__ import annotations

import pytest

from diary_core.errors import InvalidInput
from diary_core.text import clean_line, clean_text, find_bad, shown

REFUSED_ALWAYS = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1f", "\x7f", "\x80", "\x85", "\x9f",
                  "\ud800", "\udfff", "\ufffe", "\uffff"]  # fmt: skip
FINE = ["Иванов", "Ёлкина-Пётрова", "O'Neil", "ул.\u00a0Ленина", "5А", "😀", "\u2028", "\ue000"]


@pytest.mark.parametrize("bad", [*REFUSED_ALWAYS, "\t", "\n", "\r"])
def test_a_single_line_text_refuses_controls_and_line_breaks(bad: str) -> None:
    found = find_bad(f"Ив{bad}анов")
    assert found is not None and found.char == bad and found.position == 3
    assert found.code == f"U+{ord(bad):04X}"


@pytest.mark.parametrize("bad", REFUSED_ALWAYS)
def test_a_multi_line_text_refuses_controls(bad: str) -> None:
    assert find_bad(f"строка\n{bad}", multiline=True) is not None


def test_a_multi_line_text_takes_tab_lf_and_crlf_but_not_a_lone_cr() -> None:
    assert find_bad("пункт 1\r\n\tпункт 2\nпункт 3", multiline=True) is None
    lone = find_bad("пункт 1\rпункт 2", multiline=True)
    assert lone is not None and lone.code == "U+000D" and lone.position == 8


@pytest.mark.parametrize("text", FINE)
def test_ordinary_text_is_fine(text: str) -> None:
    assert find_bad(text) is None and clean_line(text, "name") == text


def test_errors_name_the_field_and_the_character_in_russian() -> None:
    with pytest.raises(InvalidInput) as caught:
        clean_line("Ор\x01лов", "last_name", "Фамилия")
    assert caught.value.field == "last_name"
    assert str(caught.value) == "Фамилия: недопустимый символ U+0001 (позиция 3)"
    with pytest.raises(InvalidInput, match="Тема: табуляция") as tab:
        clean_line("а\tб", "topic", "Тема")
    assert tab.value.field == "topic"
    with pytest.raises(InvalidInput, match="U\\+0007") as body:
        clean_text("текст\x07", "body", "Сообщение")
    assert body.value.field == "body"
    assert clean_text("текст\r\nещё", "body") == "текст\r\nещё"


def test_shown_writes_refused_characters_as_code_points() -> None:
    assert shown("Ор\x01лов\tи\n") == "Ор[U+0001]лов[U+0009]и[U+000A]"
    assert shown("Орлов") == "Орлов"
