"""Russian grammar helpers (diary_core.russian): plural forms, the genitive of full names,
where a lesson takes place."""

from __future__ import annotations

from datetime import timedelta

import pytest

from diary_core.russian import counted, days, genitive_name, plural, waiting, where_room


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (0, "0 дней"), (1, "1 день"), (2, "2 дня"), (4, "4 дня"), (5, "5 дней"),
        (11, "11 дней"), (12, "12 дней"), (14, "14 дней"), (21, "21 день"), (22, "22 дня"),
        (25, "25 дней"), (101, "101 день"), (111, "111 дней"), (112, "112 дней"),
        (122, "122 дня"),
    ],
)  # fmt: skip
def test_days_take_the_right_plural_form(n: int, expected: str) -> None:
    assert days(n) == expected


def test_plural_and_counted_work_for_any_noun() -> None:
    assert plural(3, "час", "часа", "часов") == "часа"
    assert counted(7, "час", "часа", "часов") == "7 часов"
    assert counted(-1, "час", "часа", "часов") == "-1 час"


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(minutes=5), "меньше дня"),
        (timedelta(hours=23, minutes=59), "меньше дня"),
        (timedelta(seconds=-30), "меньше дня"),
        (timedelta(days=1), "1 день"),
        (timedelta(days=2, hours=5), "2 дня"),
        (timedelta(days=5), "5 дней"),
        (timedelta(days=21), "21 день"),
    ],
)
def test_waiting_never_says_zero_days(delta: timedelta, expected: str) -> None:
    assert waiting(delta) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (("Харитонова", "Алёна", "Вадимовна"), "Харитоновой Алёны Вадимовны"),
        (("Смирнова", "Елена", "Петровна"), "Смирновой Елены Петровны"),
        (("Иванов", "Пётр", "Сергеевич"), "Иванова Петра Сергеевича"),
        (("Покровский", "Игорь", "Олегович"), "Покровского Игоря Олеговича"),
        (("Кузьмина", "Олеся", "Андреевна"), "Кузьминой Олеси Андреевны"),
        (("Соловьёв", "Лев", "Ильич"), "Соловьёва Льва Ильича"),
        (("Черных", "Анна", "Ильинична"), "Черных Анны Ильиничны"),
        (("Шевченко", "Тарас", "Григорьевич"), "Шевченко Тараса Григорьевича"),
        (("Римский-Корсаков", "Николай", "Андреевич"), "Римского-Корсакова Николая Андреевича"),
        (("Завучева", "Анна", ""), "Завучевой Анны"),
        (("Числова", "Мария", ""), "Числовой Марии"),
    ],
)
def test_genitive_of_full_names(name: tuple[str, str, str], expected: str) -> None:
    assert genitive_name(*name) == expected


def test_a_name_of_unknown_gender_is_left_as_written() -> None:
    assert genitive_name("Ким", "Саша", "") == "Ким Саша"
    assert genitive_name("", "", "") == ""


@pytest.mark.parametrize(
    ("room", "expected"),
    [
        ("12", "в кабинете 12"),
        ("203а", "в кабинете 203а"),
        ("№ 5", "в кабинете № 5"),
        ("актовый зал", "в актовом зале"),
        ("Актовый зал", "в актовом зале"),
        ("спортзал", "в спортзале"),
        ("малый спортзал", "в малом спортзале"),
        ("Большой спортивный зал", "в большом спортивном зале"),
        ("мастерская", "в мастерской"),
        ("библиотека", "в библиотеке"),
        ("Лаборатория химии", "в лаборатории химии"),
        ("Кабинет 12", "в кабинете 12"),
        ("школьный музей", "в школьном музее"),
        ("ИЗО", "кабинет: ИЗО"),
        ("Точка роста", "кабинет: Точка роста"),
        ("  актовый   зал ", "в актовом зале"),
        ("", ""),
    ],
)
def test_where_a_lesson_takes_place(room: str, expected: str) -> None:
    assert where_room(room) == expected
