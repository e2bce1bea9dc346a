"""What a published correction tells families: one phrase per changed lesson, in week order."""

from __future__ import annotations

from datetime import date

from diary_core.timetable import Slot, WeekPlan, describe_changes
from diary_core.timetable.differences import publish_text

MATH = Slot(1, "Математика", 10, "Числова М.", "14")
RUSSIAN = Slot(2, "Русский язык", 11, "Классова О.", "5")
PE = Slot(3, "Физкультура", 12, "Бегунов П.", "спортзал")


def test_a_room_teacher_and_subject_change_in_one_lesson() -> None:
    before: WeekPlan = {(2, 3): MATH}
    after: WeekPlan = {(2, 3): Slot(2, "Русский язык", 11, "Классова О.", "12")}
    assert describe_changes(before, after) == [
        "вторник, 3-й урок — предмет Русский язык (раньше — Математика), "
        "ведёт Классова О. (раньше — Числова М.), кабинет 12 вместо 14"
    ]


def test_named_and_missing_rooms_read_as_names() -> None:
    before: WeekPlan = {(1, 1): MATH, (1, 2): PE, (1, 3): RUSSIAN}
    after: WeekPlan = {
        (1, 1): Slot(1, "Математика", 10, "Числова М.", "актовый зал"),
        (1, 2): Slot(3, "Физкультура", 12, "Бегунов П.", "7"),
        (1, 3): Slot(2, "Русский язык", 11, "Классова О.", ""),
    }
    assert describe_changes(before, after) == [
        "понедельник, 1-й урок — актовый зал (раньше — кабинет 14)",
        "понедельник, 2-й урок — кабинет 7 (раньше — спортзал)",
        "понедельник, 3-й урок — кабинет не указан (раньше — кабинет 5)",
    ]


def test_moved_added_and_removed_lessons() -> None:
    before: WeekPlan = {(5, 2): MATH, (3, 1): RUSSIAN}
    after: WeekPlan = {(4, 6): MATH, (6, 1): PE}
    assert describe_changes(before, after) == [
        "среда, 1-й урок — убран урок Русский язык",
        "пятница, 2-й урок (Математика) перенесён на четверг, 6-й урок",
        "суббота, 1-й урок — добавлен урок Физкультура (Бегунов П., спортзал)",
    ]


def test_no_change_tells_nothing_and_a_first_timetable_is_announced() -> None:
    plan: WeekPlan = {(1, 1): MATH}
    assert publish_text("5А", date(2026, 12, 8), plan, dict(plan), first=False) == ""
    assert publish_text("5А", date(2026, 9, 1), {}, plan, first=True) == (
        "Опубликовано расписание класса 5А с 01.09.2026"
    )
    assert publish_text("5А", date(2026, 12, 8), plan, {}, first=False) == (
        "Изменения в расписании 5А с 08.12.2026: понедельник, 1-й урок — убран урок Математика"
    )
