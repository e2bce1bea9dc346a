"""The words of the console's confirmation pages: a subject after «по» and the pronoun for a
person (diary_core.russian)."""

from __future__ import annotations

import pytest

from diary_core.russian import by_subject, pronoun


@pytest.mark.parametrize(
    ("name", "phrase"),
    [
        ("Математика", "по математике"),
        ("Русский язык", "по русскому языку"),
        ("Литературное чтение", "по литературному чтению"),
        ("Физическая культура", "по физической культуре"),
        ("Изобразительное искусство", "по изобразительному искусству"),
        ("Окружающий мир", "по окружающему миру"),
        ("История России", "по истории России"),
        ("Химия", "по химии"),
        ("Обществознание", "по обществознанию"),
        ("Труд", "по труду"),
        ("  Английский   язык ", "по английскому языку"),
    ],
)
def test_subject_after_po_is_in_the_dative(name: str, phrase: str) -> None:
    assert by_subject(name) == phrase


@pytest.mark.parametrize(
    "name",
    ["ОБЖ", "Алгебра и начала анализа", "Вероятность и статистика", "Основы безопасности"],
)
def test_a_name_the_rules_cannot_decline_is_quoted_as_written(name: str) -> None:
    assert by_subject(name) == f"по предмету «{name}»"


def test_pronoun_follows_the_persons_gender_and_admits_not_knowing() -> None:
    assert pronoun("Харитонова", "Алёна", "Вадимовна") == "она"
    assert pronoun("Харитонов", "Олег", "Ильич") == "он"
    assert pronoun("Smith", "Alex") == ""
