"""Marks, attendance and period marks through the core's use cases, on both databases."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from diary_core import attendance, journal, lessons, marks, period_marks, pupil_report
from diary_core.errors import Conflict, Forbidden, InvalidInput, NotFound
from diary_core.models import AuditEvent, ChangeLogEntry, Mark
from tests.support.world import World

DAY = date(2025, 10, 14)  # a Tuesday before the fixed clock's "today"


async def _lesson(world: World, number: int = 1, day: date = DAY) -> int:
    ctx = await world.ctx(world.teacher_math)
    lesson = await lessons.record_lesson(
        ctx,
        class_id=world.class_5a,
        subject_id=world.math_a,
        day=day,
        lesson_number=number,
        topic="Дроби",
        homework="№ 12, 14",
    )
    return lesson.id


async def _mark(world: World, value: str, work_type: str = "Ответ на уроке", **kw: object) -> Mark:
    ctx = await world.ctx(world.teacher_math)
    return await marks.record_mark(
        ctx,
        pupil_id=kw.pop("pupil_id", world.pupil_a1),  # type: ignore[arg-type]
        subject_id=world.math_a,
        day=kw.pop("day", DAY),  # type: ignore[arg-type]
        value=value,
        work_type_id=world.a.work_type_ids[work_type],
        **kw,  # type: ignore[arg-type]
    )


async def test_teacher_records_mark_with_weight_from_work_type(world: World) -> None:
    mark = await _mark(world, "5", "Контрольная работа")
    assert (mark.value, mark.numeric, mark.weight, mark.counts) == ("5", 5, 3, True)
    assert mark.created_by_id == world.teacher_math
    assert mark.created_at == world.clock.now()


async def test_weight_can_be_overridden(world: World) -> None:
    mark = await _mark(world, "4", weight=2)
    assert mark.weight == 2


async def test_teacher_of_other_subject_cannot_mark(world: World) -> None:
    ctx = await world.ctx(world.ct_5b)  # teaches Russian in 5Б only
    # A pupil of a class he does not teach is one he may not know of: "not found".
    with pytest.raises(NotFound):
        await marks.record_mark(
            ctx,
            pupil_id=world.pupil_a1,
            subject_id=world.math_a,
            day=DAY,
            value="5",
            work_type_id=world.a.work_type_ids["Ответ на уроке"],
        )


async def test_teacher_of_other_school_cannot_mark(world: World) -> None:
    ctx = await world.ctx(world.teacher_b)
    with pytest.raises(NotFound):
        await marks.record_mark(
            ctx,
            pupil_id=world.pupil_a1,
            subject_id=world.math_a,
            day=DAY,
            value="5",
            work_type_id=world.a.work_type_ids["Ответ на уроке"],
        )


async def test_parent_cannot_mark(world: World) -> None:
    ctx = await world.ctx(world.parent_a1)
    with pytest.raises(Forbidden):
        await marks.record_mark(
            ctx,
            pupil_id=world.pupil_a1,
            subject_id=world.math_a,
            day=DAY,
            value="5",
            work_type_id=world.a.work_type_ids["Ответ на уроке"],
        )
    count = await world.session.scalar(select(func.count()).select_from(Mark))
    assert count == 0


@pytest.mark.parametrize("value", ["6", "0", "отлично", ""])
async def test_unknown_mark_is_refused(world: World, value: str) -> None:
    with pytest.raises(InvalidInput, match="неизвестная отметка"):
        await _mark(world, value)


async def test_mark_in_the_future_is_refused(world: World) -> None:
    with pytest.raises(InvalidInput, match="будущую"):
        await _mark(world, "5", day=world.clock.now().date() + timedelta(days=1))


async def test_mark_outside_the_academic_year_is_refused(world: World) -> None:
    with pytest.raises(InvalidInput, match="вне учебного года"):
        await _mark(world, "5", day=date(2025, 8, 20))


async def test_work_type_of_other_school_is_refused(world: World) -> None:
    ctx = await world.ctx(world.teacher_math)
    with pytest.raises(InvalidInput, match="вид работы"):
        await marks.record_mark(
            ctx,
            pupil_id=world.pupil_a1,
            subject_id=world.math_a,
            day=DAY,
            value="5",
            work_type_id=world.b.work_type_ids["Ответ на уроке"],
        )


async def test_correction_keeps_history_old_new_who_when(world: World) -> None:
    mark = await _mark(world, "3")
    world.clock.advance(timedelta(hours=2))  # type: ignore[attr-defined]
    ctx = await world.ctx(world.teacher_math)
    await marks.correct_mark(ctx, mark.id, value="4", reason="пересдача")
    history = await marks.mark_history(ctx, mark.id)
    assert [h["action"] for h in history] == ["create", "update"]
    update = history[1]
    assert update["old"]["value"] == "3"  # type: ignore[index]
    assert update["new"]["value"] == "4"  # type: ignore[index]
    assert update["by"] == world.teacher_math
    assert update["at"] == world.clock.now()


async def test_correction_to_same_value_writes_nothing(world: World) -> None:
    mark = await _mark(world, "3")
    ctx = await world.ctx(world.teacher_math)
    await marks.correct_mark(ctx, mark.id, value="3")
    entries = await world.session.scalar(select(func.count()).select_from(ChangeLogEntry))
    assert entries == 1


async def test_deletion_leaves_a_tombstone(world: World) -> None:
    mark = await _mark(world, "2")
    ctx = await world.ctx(world.teacher_math)
    await marks.delete_mark(ctx, mark.id, reason="ошибка")
    assert await world.session.get(Mark, mark.id) is None
    last = await world.session.scalar(select(ChangeLogEntry).order_by(ChangeLogEntry.id.desc()))
    assert last is not None
    assert (last.action, last.new, last.old["value"]) == ("delete", None, "2")  # type: ignore[index]


async def test_other_teacher_cannot_correct_a_mark(world: World) -> None:
    mark = await _mark(world, "3")
    ctx = await world.ctx(world.ct_5a)  # teaches Russian, not math, in 5А
    with pytest.raises(Forbidden):
        await marks.correct_mark(ctx, mark.id, value="5")
    await world.session.refresh(mark)
    assert mark.value == "3"


async def test_parent_sees_childs_marks_with_weighted_average(world: World) -> None:
    await _mark(world, "5", "Ответ на уроке")
    await _mark(world, "3", "Контрольная работа")
    await _mark(world, "4", pupil_id=world.pupil_a2)  # another family's
    ctx = await world.ctx(world.parent_a1)
    report = await pupil_report.pupil_marks(
        ctx, world.pupil_a1, date(2025, 9, 1), date(2025, 10, 31)
    )
    (math,) = report.subjects
    assert [m.value for m in math.marks] == ["5", "3"]
    assert math.average == Decimal("3.50")  # (5*1 + 3*3) / 4
    assert math.suggested == 4


async def test_parent_cannot_see_other_family_marks(world: World) -> None:
    await _mark(world, "4", pupil_id=world.pupil_a2)
    ctx = await world.ctx(world.parent_a1)
    with pytest.raises(NotFound):
        await pupil_report.pupil_marks(ctx, world.pupil_a2, date(2025, 9, 1), date(2025, 10, 31))


async def test_parent_with_pending_link_cannot_see_marks(world: World) -> None:
    await _mark(world, "5")
    ctx = await world.ctx(world.parent_pending)
    with pytest.raises(NotFound):
        await pupil_report.pupil_marks(ctx, world.pupil_a1, date(2025, 9, 1), date(2025, 10, 31))


async def test_staff_reading_a_pupils_marks_is_audited(world: World) -> None:
    ctx = await world.ctx(world.teacher_math)
    await pupil_report.pupil_marks(ctx, world.pupil_a1, date(2025, 9, 1), date(2025, 10, 31))
    await world.session.flush()
    event = await world.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "pupil.marks.read")
    )
    assert event is not None
    assert (event.actor_id, event.pupil_id) == (world.teacher_math, world.pupil_a1)


async def test_gradebook_grid_places_marks_in_lessons(world: World) -> None:
    lesson_id = await _lesson(world)
    await _mark(world, "5", lesson_id=lesson_id)
    await _mark(world, "4", day=date(2025, 10, 13))  # no lesson that day: unplaced
    ctx = await world.ctx(world.teacher_math)
    await attendance.set_attendance(ctx, pupil_id=world.pupil_a2, lesson_id=lesson_id, kind="н")
    grid = await journal.gradebook_grid(ctx, world.class_5a, world.math_a, world.a.quarter_ids[0])
    assert [lesson.id for lesson in grid.lessons] == [lesson_id]
    rows = {r.pupil_id: r for r in grid.rows}
    assert set(rows) == {world.pupil_a1, world.pupil_a2}
    assert [m.value for m in rows[world.pupil_a1].cells[lesson_id]] == ["5"]
    assert [m.value for m in rows[world.pupil_a1].unplaced] == ["4"]
    assert rows[world.pupil_a2].attendance == {lesson_id: "н"}
    assert rows[world.pupil_a1].average == Decimal("4.50")


async def test_teacher_cannot_open_grid_of_a_class_he_does_not_teach(world: World) -> None:
    ctx = await world.ctx(world.ct_5b)
    with pytest.raises(Forbidden):
        await journal.gradebook_grid(ctx, world.class_5a, world.math_a, world.a.quarter_ids[0])


async def test_attendance_is_kept_apart_from_marks_and_logged(world: World) -> None:
    lesson_id = await _lesson(world)
    ctx = await world.ctx(world.teacher_math)
    await attendance.set_attendance(ctx, pupil_id=world.pupil_a1, lesson_id=lesson_id, kind="б")
    await attendance.set_attendance(ctx, pupil_id=world.pupil_a1, lesson_id=lesson_id, kind="оп")
    await attendance.set_attendance(ctx, pupil_id=world.pupil_a1, lesson_id=lesson_id, kind=None)
    assert await world.session.scalar(select(func.count()).select_from(Mark)) == 0
    actions = list(
        await world.session.scalars(
            select(ChangeLogEntry.action)
            .where(ChangeLogEntry.entity == "attendance")
            .order_by(ChangeLogEntry.id)
        )
    )
    assert actions == ["create", "update", "delete"]


async def test_locked_period_mark_cannot_change(world: World) -> None:
    teacher = await world.ctx(world.teacher_math)
    quarter = world.a.quarter_ids[0]
    await period_marks.set_period_mark(
        teacher, pupil_id=world.pupil_a1, subject_id=world.math_a, period_id=quarter, value="4"
    )
    admin = await world.ctx(world.admin_a)
    assert await period_marks.lock_period_marks(admin, world.a.id, quarter) == 1
    with pytest.raises(Conflict, match="закрыта"):
        await period_marks.set_period_mark(
            teacher, pupil_id=world.pupil_a1, subject_id=world.math_a, period_id=quarter, value="5"
        )


async def test_other_schools_admin_cannot_lock_period_marks(world: World) -> None:
    admin_b = await world.ctx(world.admin_b)
    with pytest.raises(NotFound):
        await period_marks.lock_period_marks(admin_b, world.a.id, world.a.quarter_ids[0])


async def test_lessons_without_topic_or_marks_are_listed(world: World) -> None:
    lesson_id = await _lesson(world)
    ctx = await world.ctx(world.teacher_math)
    missing = await lessons.missing_entries(
        ctx, world.a.id, date(2025, 9, 1), DAY, teacher_id=world.teacher_math
    )
    assert [(m.lesson_id, m.without_topic, m.without_marks) for m in missing] == [
        (lesson_id, False, True)
    ]
    await _mark(world, "5", lesson_id=lesson_id)
    assert (
        await lessons.missing_entries(
            ctx, world.a.id, date(2025, 9, 1), DAY, teacher_id=world.teacher_math
        )
        == []
    )


async def test_new_mark_notifies_the_pupil_and_confirmed_parents_only(world: World) -> None:
    from diary_core.models import Notification

    await _mark(world, "5", "Контрольная работа")
    rows = (await world.session.execute(select(Notification.user_id, Notification.text))).all()
    told = {user_id for user_id, _ in rows}
    assert told == {world.pupil_a1_user, world.parent_a1}  # not parent_pending
    assert all("«5»" in text and "Математика" in text for _, text in rows)


async def test_correction_notifies_with_old_and_new_value(world: World) -> None:
    from diary_core.models import Notification

    mark = await _mark(world, "3")
    ctx = await world.ctx(world.teacher_math)
    await marks.correct_mark(ctx, mark.id, value="4")
    texts = list(await world.session.scalars(select(Notification.text).order_by(Notification.id)))
    assert any("«3» → «4»" in t for t in texts)
