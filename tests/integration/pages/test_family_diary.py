"""The parent's and pupil's diary over HTTP (docs/regulation.md, clauses 2.1, 3.3, 4.1): marks with
what each was for and the weighted average, the period switch, attendance, homework, the week's
timetable with its changes, and a child switch that reaches only the family's own children."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core import attendance, families, lessons, marks, period_marks, timetable
from diary_core.clock import FixedClock
from diary_core.timetable import ChangeRequest, SlotInput
from tests.support.gateway import Browser, free_port, gateway_settings, running_gateway, sign_in_as
from tests.support.world import World

MONDAY = date(2025, 10, 13)  # the week of the test clock (Wednesday 15 October 2025)


@dataclass
class Diary:
    base: str
    world: World
    engine: AsyncEngine
    clock: FixedClock

    async def browser(self, user_id: int) -> Browser:
        browser = Browser()
        await sign_in_as(browser, self.engine, user_id, self.clock.now())
        return browser

    async def page(self, user_id: int, path: str = "/diary") -> tuple[int, str]:
        browser = await self.browser(user_id)
        try:
            resp = await browser.get(self.base + path)
            return resp.status, await resp.text()
        finally:
            await browser.close()


async def _journal(w: World) -> None:
    """5А's math: two lessons with topics and homework, three marks of pupil_a1 (5 for an
    answer, 3 for a test with a comment, 4 for independent work), an absence, a quarter
    mark; and pupil_b1 (5Б) a mark of his own."""
    teacher = await w.ctx(w.teacher_math)
    monday = await lessons.record_lesson(
        teacher,
        class_id=w.class_5a,
        subject_id=w.math_a,
        day=MONDAY,
        lesson_number=1,
        topic="Обыкновенные дроби",
        homework="№ 112, 114",
    )
    await lessons.record_lesson(
        teacher,
        class_id=w.class_5a,
        subject_id=w.math_a,
        day=date(2025, 10, 16),
        lesson_number=1,
        topic="Сложение дробей",
        homework="Параграф 5, выучить правило",
    )
    wt = w.a.work_type_ids
    for value, kind, comment in (
        ("5", "Ответ на уроке", ""),
        ("3", "Контрольная работа", "ошибка в задаче 3"),
        ("4", "Самостоятельная работа", ""),
    ):
        await marks.record_mark(
            teacher,
            pupil_id=w.pupil_a1,
            subject_id=w.math_a,
            day=MONDAY,
            value=value,
            work_type_id=wt[kind],
            comment=comment,
            lesson_id=monday.id,
        )
    await attendance.set_attendance(teacher, pupil_id=w.pupil_a2, lesson_id=monday.id, kind="н")
    await marks.record_mark(
        teacher,
        pupil_id=w.pupil_b1,
        subject_id=w.math_a,
        day=MONDAY,
        value="2",
        work_type_id=wt["Диктант"],
        comment="чужой комментарий",
    )
    await w.session.commit()


async def _timetable(w: World) -> None:
    """5А's published week: Thursday's first lesson substituted, its second cancelled."""
    admin = await w.ctx(w.admin_a)
    slots = [
        SlotInput(1, 1, w.math_a, w.teacher_math, "12"),
        SlotInput(1, 2, w.russian_a, w.ct_5a, "14"),
        SlotInput(4, 1, w.math_a, w.teacher_math, "12"),
        SlotInput(4, 2, w.russian_a, w.ct_5a, "14"),
    ]
    info = await timetable.set_weekly_timetable(admin, w.class_5a, date(2025, 9, 1), slots)
    await timetable.publish_timetable(admin, info.id)
    ct = await w.ctx(w.ct_5a)
    thursday = date(2025, 10, 16)
    await timetable.change_timetable(
        ct, w.class_5a, thursday, 1, ChangeRequest("substitution", teacher_id=w.ct_5b)
    )
    await timetable.change_timetable(ct, w.class_5a, thursday, 2, ChangeRequest("cancellation"))
    await w.session.commit()


@pytest.fixture
async def diary(
    db_url: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> AsyncIterator[Diary]:
    await _journal(world)
    await _timetable(world)
    async with running_gateway(gateway_settings(db_url, free_port()), clock) as url:
        yield Diary(url, world, engine, clock)


def _section(html: str, anchor: str) -> str:
    """The diary's card with that anchor, up to the next card."""
    marker = f'<section class="card" id="{anchor}">'
    assert marker in html, f"no section #{anchor}"
    return html.split(marker, 1)[1].split('<section class="card"', 1)[0]


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def test_parent_sees_marks_with_weighted_average_and_what_each_was_for(
    diary: Diary,
) -> None:
    status, html = await diary.page(diary.world.parent_a1)
    assert status == 200
    marks_text = _text(_section(html, "marks"))
    assert "Математика" in marks_text
    assert "3,67" in marks_text  # (5·1 + 3·3 + 4·2) / 6
    assert "Контрольная работа" in marks_text and "ошибка в задаче 3" in marks_text
    assert "Обыкновенные дроби" in marks_text and "13.10.2025" in marks_text
    assert "<details" in _section(html, "marks")
    assert "чужой комментарий" not in html and "Попов" not in html


async def test_period_selector_shows_period_marks_and_bounds(diary: Diary) -> None:
    w = diary.world
    teacher = await w.ctx(w.teacher_math)
    await period_marks.set_period_mark(
        teacher, pupil_id=w.pupil_a1, subject_id=w.math_a, period_id=w.a.quarter_ids[0], value="4"
    )
    await w.session.commit()
    status, html = await diary.page(w.parent_a1, f"/diary?period={w.a.quarter_ids[0]}")
    assert status == 200
    assert re.search(r"1[^<]*четверть[^<]*:\s*<strong>4</strong>", html), _section(html, "marks")
    _, second = await diary.page(w.parent_a1, f"/diary?period={w.a.quarter_ids[1]}")
    assert "3,67" not in _section(second, "marks")
    assert "Отметок за этот период пока нет" in second
    status, _ = await diary.page(w.parent_a1, f"/diary?period={w.b.quarter_ids[0]}")
    assert status == 404


async def test_attendance_listed_and_counted_per_subject(diary: Diary) -> None:
    w = diary.world
    status, html = await diary.page(w.parent_a2)
    assert status == 200
    text = _text(_section(html, "attendance"))
    assert "пропусков (н) — 1" in text and "Математика" in text
    assert "13.10.2025, 1-й урок, Математика: н" in text
    _, other = await diary.page(w.parent_a1)
    assert "Пропусков и опозданий за период нет" in other


async def test_homework_of_the_coming_days_and_the_last_week(diary: Diary) -> None:
    _, html = await diary.page(diary.world.parent_a1)
    text = _text(_section(html, "homework"))
    coming, past = text.split("Заданное за прошедшую неделю")
    assert "Параграф 5, выучить правило" in coming and "Сложение дробей" in coming
    assert "№ 112, 114" in past


async def test_timetable_week_marks_substitution_and_cancellation(diary: Diary) -> None:
    w = diary.world
    _, html = await diary.page(w.parent_a1)
    section = _section(html, "timetable")
    thursday = section.split("Чт, 16.10")[1].split('<section class="day')[0]
    assert "substitution" in thursday and "замена" in thursday and "Буквина И." in thursday
    assert "вместо Числова М." in thursday
    assert (
        "cancellation" in thursday and "отменён" in thursday and "<s>Русский язык</s>" in thursday
    )
    monday = section.split("Пн, 13.10")[1].split('<section class="day')[0]
    assert "замена" not in monday and "отменён" not in monday and "Математика" in monday
    _, later = await diary.page(w.parent_a1, "/diary?week=2025-10-22")
    later_tt = _section(later, "timetable")
    assert "Чт, 23.10" in later_tt and "замена" not in later_tt
    status, _ = await diary.page(w.parent_a1, "/diary?week=вчера")
    assert status == 400


async def test_timetable_week_shows_a_moved_lesson_at_its_new_time(diary: Diary) -> None:
    w = diary.world
    ct = await w.ctx(w.ct_5a)
    await timetable.change_timetable(
        ct,
        w.class_5a,
        date(2025, 10, 20),
        2,
        ChangeRequest("moved", moved_to_date=date(2025, 10, 21), moved_to_lesson=3),
    )
    await w.session.commit()
    _, html = await diary.page(w.parent_a1, "/diary?week=2025-10-20")
    section = _section(html, "timetable")
    monday = section.split("Пн, 20.10")[1].split('<section class="day')[0]
    assert "перенесён" in monday and "на 21.10, 3-й урок" in monday
    tuesday = _text(section.split("Вт, 21.10")[1].split('<section class="day')[0])
    assert "moved_in" in section
    assert "3 10:20 Русский язык" in tuesday and "перенесён сюда с 20.10, 2-го урока" in tuesday


async def test_child_switch_between_own_children(diary: Diary) -> None:
    w = diary.world
    await families.link_guardian(
        await w.ctx(), w.parent_a1, w.pupil_b1, source="roster", confirmed=True
    )
    await w.session.commit()
    _, first = await diary.page(w.parent_a1)
    assert f'href="/diary?pupil={w.pupil_b1}"' in first
    assert f'href="/diary?pupil={w.pupil_a1}"' in first
    status, second = await diary.page(w.parent_a1, f"/diary?pupil={w.pupil_b1}")
    assert status == 200
    assert "<h1>Попов Илья Иванович</h1>" in second and "чужой комментарий" in second
    assert "ошибка в задаче 3" not in second


async def test_other_familys_child_is_not_found_and_shows_none_of_its_names(
    diary: Diary,
) -> None:
    w = diary.world
    for pupil in (w.pupil_a2, w.pupil_b1, w.pupil_z1, 999_999):
        status, html = await diary.page(w.parent_a1, f"/diary?pupil={pupil}")
        assert status == 404
        for name in ("Кузнецова", "Попов", "Далёкий", "чужой комментарий"):
            assert name not in html


async def test_pupil_sees_only_himself(diary: Diary) -> None:
    w = diary.world
    status, html = await diary.page(w.pupil_a1_user)
    assert status == 200
    assert "<h1>Смирнов Артём Иванович</h1>" in html and "3,67" in html
    assert 'aria-label="Дети"' not in html
    status, other = await diary.page(w.pupil_a1_user, f"/diary?pupil={w.pupil_a2}")
    assert status == 404 and "Кузнецова" not in other


async def test_diary_shows_notifications_and_new_marks(diary: Diary) -> None:
    _, html = await diary.page(diary.world.parent_a1)
    text = _text(_section(html, "notifications"))
    assert "Изменение расписания 5А на 16.10.2025" in text
    assert "Контрольная работа" in text  # among the week's new marks
    assert 'href="/account"' in html


async def test_staff_are_sent_to_the_console(diary: Diary) -> None:
    browser = await diary.browser(diary.world.teacher_math)
    resp = await browser.get(diary.base + "/diary")
    await browser.close()
    assert resp.status == 303 and resp.headers["Location"] == "/console"
