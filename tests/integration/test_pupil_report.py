"""A pupil's report for a date range (pupil_report.pupil_marks), on both databases: what it holds,
in what order, who may read it, and which reads are audited."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from diary_core import attendance, lessons, marks, period_marks, pupil_report
from diary_core.errors import NotFound
from diary_core.models import AuditEvent
from tests.support.world import World

START, END = date(2025, 9, 15), date(2025, 10, 26)  # inside the 1st quarter


async def _lesson(world: World, teacher: int, subject: int, day: date, number: int) -> int:
    ctx = await world.ctx(teacher)
    lesson = await lessons.record_lesson(
        ctx,
        class_id=world.class_5a,
        subject_id=subject,
        day=day,
        lesson_number=number,
        topic=f"Тема {day:%d.%m}/{number}",
    )
    return lesson.id


async def _mark(world: World, value: str, day: date, lesson_id: int | None = None) -> None:
    ctx = await world.ctx(world.teacher_math)
    await marks.record_mark(
        ctx,
        pupil_id=world.pupil_a1,
        subject_id=world.math_a,
        day=day,
        value=value,
        work_type_id=world.a.work_type_ids["Контрольная работа"],
        lesson_id=lesson_id,
        comment=f"за {value}",
    )


async def _period_mark(world: World, teacher: int, subject: int, period: int, value: str) -> None:
    ctx = await world.ctx(teacher)
    await period_marks.set_period_mark(
        ctx, pupil_id=world.pupil_a1, subject_id=subject, period_id=period, value=value
    )


async def _absent(world: World, teacher: int, lesson_id: int, kind: str) -> None:
    ctx = await world.ctx(teacher)
    await attendance.set_attendance(ctx, pupil_id=world.pupil_a1, lesson_id=lesson_id, kind=kind)


async def _report(world: World, reader: int) -> pupil_report.PupilReport:
    ctx = await world.ctx(reader)
    return await pupil_report.pupil_marks(ctx, world.pupil_a1, START, END)


async def test_report_names_the_pupil_his_class_and_range(world: World) -> None:
    report = await _report(world, world.parent_a1)
    assert (report.pupil_id, report.full_name) == (world.pupil_a1, "Смирнов Артём Иванович")
    assert (report.class_id, report.class_name) == (world.class_5a, "5А")
    assert (report.school_id, report.start, report.end) == (world.a.id, START, END)
    assert (report.subjects, report.attendance) == ([], [])


async def test_marks_of_the_range_by_date_then_as_written(world: World) -> None:
    lesson = await _lesson(world, world.teacher_math, world.math_a, date(2025, 10, 14), 2)
    await _mark(world, "5", date(2025, 10, 14), lesson)
    await _mark(world, "3", date(2025, 9, 16))
    await _mark(world, "4", date(2025, 10, 14))
    await _mark(world, "2", date(2025, 9, 12))  # before the range
    (math,) = (await _report(world, world.parent_a1)).subjects
    assert (math.subject_id, math.subject) == (world.math_a, "Математика")
    assert [(m.date, m.value) for m in math.marks] == [
        (date(2025, 9, 16), "3"),
        (date(2025, 10, 14), "5"),
        (date(2025, 10, 14), "4"),
    ]
    first = math.marks[1]
    assert (first.numeric, first.weight, first.counts) == (5, 3, True)
    assert (first.work_type, first.comment) == ("Контрольная работа", "за 5")
    assert (first.lesson_id, first.topic) == (lesson, "Тема 14.10/2")
    assert (math.marks[0].lesson_id, math.marks[0].topic) == (None, "")
    assert math.average == Decimal("4.00")


async def test_period_marks_of_periods_overlapping_the_range(world: World) -> None:
    q1, q2 = world.a.quarter_ids[:2]
    await _period_mark(world, world.teacher_math, world.math_a, q1, "4")
    await _period_mark(world, world.teacher_math, world.math_a, world.a.year_period_id, "5")
    await _period_mark(world, world.teacher_math, world.math_a, q2, "3")  # after the range
    (math,) = (await _report(world, world.parent_a1)).subjects
    assert math.period_marks == {q1: "4", world.a.year_period_id: "5"}
    assert (math.marks, math.average, math.suggested) == ([], None, None)


async def test_subjects_by_name_a_period_mark_alone_lists_its_subject(world: World) -> None:
    await _period_mark(world, world.ct_5a, world.russian_a, world.a.quarter_ids[0], "5")
    await _mark(world, "4", date(2025, 10, 1))
    subjects = (await _report(world, world.parent_a1)).subjects
    assert [s.subject for s in subjects] == ["Математика", "Русский язык"]
    assert [len(s.marks) for s in subjects] == [1, 0]
    assert subjects[1].period_marks == {world.a.quarter_ids[0]: "5"}


async def test_attendance_of_the_range_by_date_and_lesson(world: World) -> None:
    late = await _lesson(world, world.ct_5a, world.russian_a, date(2025, 10, 13), 3)
    ill = await _lesson(world, world.teacher_math, world.math_a, date(2025, 10, 13), 1)
    absent = await _lesson(world, world.teacher_math, world.math_a, date(2025, 9, 22), 4)
    before = await _lesson(world, world.teacher_math, world.math_a, date(2025, 9, 8), 1)
    await _absent(world, world.ct_5a, late, "оп")
    await _absent(world, world.teacher_math, ill, "б")
    await _absent(world, world.teacher_math, absent, "н")
    await _absent(world, world.teacher_math, before, "н")
    report = await _report(world, world.parent_a1)
    assert report.attendance == [
        pupil_report.AttendanceRow(date(2025, 9, 22), 4, world.math_a, "н"),
        pupil_report.AttendanceRow(date(2025, 10, 13), 1, world.math_a, "б"),
        pupil_report.AttendanceRow(date(2025, 10, 13), 3, world.russian_a, "оп"),
    ]
    assert report.subjects == []  # attendance is not a mark


async def test_unknown_pupil_is_not_found(world: World) -> None:
    ctx = await world.ctx(world.admin_a)
    with pytest.raises(NotFound, match="обучающийся не найден"):
        await pupil_report.pupil_marks(ctx, 10**9, START, END)


async def test_staff_of_another_school_cannot_read(world: World) -> None:
    with pytest.raises(NotFound):
        await _report(world, world.teacher_b)


async def test_family_reads_are_not_audited_staff_reads_are(world: World) -> None:
    async def reads() -> int:
        await world.session.flush()
        query = select(func.count()).where(AuditEvent.action == "pupil.marks.read")
        return int(await world.session.scalar(query) or 0)

    await _report(world, world.parent_a1)
    await _report(world, world.pupil_a1_user)
    assert await reads() == 0
    await _report(world, world.ct_5a)
    assert await reads() == 1
