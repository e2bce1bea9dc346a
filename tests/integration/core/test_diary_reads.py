"""The reads behind the family's diary page: each checks the policy on the pupil's or class's
place before reading, and reads what the separate use cases would read, in fewer queries.

The clock stands on Wednesday 15.10.2025.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import update

from diary_core import lessons, marks, notifications
from diary_core import timetable as tt
from diary_core.errors import NotFound
from diary_core.homework import class_homework
from diary_core.models import Notification
from diary_core.periods import pupil_periods
from diary_core.policy import ClassTarget, PupilPlace
from diary_core.recent_marks import recent_marks
from diary_core.timetable import SlotInput
from tests.support.world import World

SEPT_1 = date(2025, 9, 1)
NEXT_MONDAY = date(2025, 10, 20)
NEXT_WEDNESDAY = date(2025, 10, 22)


def _subjects(week: tt.WeekTimetable, day: date) -> list[str]:
    (found,) = [d for d in week.days if d.date == day]
    return [c.actual.subject_name for c in found.cells if c.actual is not None]


async def _timetable(world: World, valid_from: date, subject_id: int, *, publish: bool) -> None:
    """Math or Russian as the only lesson of every weekday, from a date on."""
    admin = await world.ctx(world.admin_a)
    teacher = world.teacher_math if subject_id == world.math_a else world.ct_5a
    slots = [SlotInput(day, 1, subject_id, teacher, "12") for day in range(1, 7)]
    info = await tt.set_weekly_timetable(admin, world.class_5a, valid_from, slots)
    if publish:
        await tt.publish_timetable(admin, info.id)
    await world.session.commit()


async def test_week_follows_the_timetable_valid_on_each_day(world: World) -> None:
    await _timetable(world, SEPT_1, world.math_a, publish=True)
    await _timetable(world, NEXT_WEDNESDAY, world.russian_a, publish=True)
    parent = await world.ctx(world.parent_a1)
    week = await tt.week_timetable(parent, world.class_5a, NEXT_MONDAY)
    assert _subjects(week, NEXT_MONDAY) == ["Математика"]
    assert _subjects(week, NEXT_MONDAY + timedelta(days=1)) == ["Математика"]
    assert _subjects(week, NEXT_WEDNESDAY) == ["Русский язык"]
    assert _subjects(week, NEXT_MONDAY + timedelta(days=5)) == ["Русский язык"]
    later = await tt.week_timetable(parent, world.class_5a, NEXT_MONDAY + timedelta(days=7))
    assert all(_subjects(later, d.date) == ["Русский язык"] for d in later.days)
    earlier = await tt.week_timetable(parent, world.class_5a, NEXT_MONDAY - timedelta(days=7))
    assert all(_subjects(earlier, d.date) == ["Математика"] for d in earlier.days)


async def test_draft_timetable_does_not_replace_the_published_one_for_families(
    world: World,
) -> None:
    await _timetable(world, SEPT_1, world.math_a, publish=True)
    await _timetable(world, NEXT_MONDAY, world.russian_a, publish=False)
    monday_after = NEXT_MONDAY + timedelta(days=7)
    family = await tt.week_timetable(await world.ctx(world.parent_a1), world.class_5a, monday_after)
    assert _subjects(family, monday_after) == ["Математика"]
    staff = await tt.week_timetable(await world.ctx(world.ct_5a), world.class_5a, monday_after)
    assert _subjects(staff, monday_after) == ["Русский язык"]
    assert all(c.draft for d in staff.days for c in d.cells)


async def test_class_week_checks_the_class_before_reading(world: World) -> None:
    await _timetable(world, SEPT_1, world.math_a, publish=True)
    other_family = await world.ctx(world.parent_z1)
    with pytest.raises(NotFound):
        await tt.class_week(
            other_family, ClassTarget(world.a.id, world.class_5a), "5А", NEXT_MONDAY
        )
    week = await tt.class_week(
        await world.ctx(world.parent_a1), ClassTarget(world.a.id, world.class_5a), "5А", NEXT_MONDAY
    )
    assert week.class_name == "5А" and _subjects(week, NEXT_MONDAY) == ["Математика"]


async def test_class_homework_lists_only_lessons_that_set_homework(world: World) -> None:
    teacher = await world.ctx(world.teacher_math)
    for day, number, homework in (
        (date(2025, 10, 13), 1, "№ 1"),
        (date(2025, 10, 13), 2, ""),
        (date(2025, 10, 16), 1, "№ 2"),
        (date(2025, 11, 3), 1, "№ 3"),  # outside the range asked for
    ):
        await lessons.record_lesson(
            teacher,
            class_id=world.class_5a,
            subject_id=world.math_a,
            day=day,
            lesson_number=number,
            topic="Дроби",
            homework=homework,
        )
    await world.session.commit()
    cls = ClassTarget(world.a.id, world.class_5a)
    parent = await world.ctx(world.parent_a1)
    given = await class_homework(parent, cls, date(2025, 10, 8), date(2025, 10, 22))
    assert [(h.date, h.lesson_number, h.homework) for h in given] == [
        (date(2025, 10, 13), 1, "№ 1"),
        (date(2025, 10, 16), 1, "№ 2"),
    ]
    assert given[0].subject == "Математика" and given[0].topic == "Дроби"
    with pytest.raises(NotFound):
        await class_homework(
            await world.ctx(world.parent_b1), cls, date(2025, 10, 8), date(2025, 10, 22)
        )


async def test_pupil_reads_refuse_another_familys_pupil(world: World) -> None:
    pupil = PupilPlace(world.pupil_a1, world.a.id, world.class_5a)
    stranger = await world.ctx(world.parent_b1)
    since = datetime(2025, 10, 1, tzinfo=world.clock.now().tzinfo)
    with pytest.raises(NotFound):
        await pupil_periods(stranger, pupil)
    with pytest.raises(NotFound):
        await recent_marks(stranger, pupil, since)
    parent = await world.ctx(world.parent_a1)
    periods = await pupil_periods(parent, pupil)
    assert [p.kind for p in periods] == ["quarter"] * 4 + ["year"]


async def test_recent_marks_newest_first_of_that_pupil_only(world: World) -> None:
    teacher = await world.ctx(world.teacher_math)
    wt = world.a.work_type_ids["Ответ на уроке"]
    for pupil_id, value in ((world.pupil_a1, "5"), (world.pupil_a2, "2"), (world.pupil_a1, "4")):
        await marks.record_mark(
            teacher,
            pupil_id=pupil_id,
            subject_id=world.math_a,
            day=date(2025, 10, 14),
            value=value,
            work_type_id=wt,
        )
    await world.session.commit()
    pupil = PupilPlace(world.pupil_a1, world.a.id, world.class_5a)
    since = world.clock.now() - timedelta(days=7)
    got = await recent_marks(await world.ctx(world.parent_a1), pupil, since)
    assert [(m.value, m.subject, m.work_type) for m in got] == [
        ("4", "Математика", "Ответ на уроке"),
        ("5", "Математика", "Ответ на уроке"),
    ]
    assert (
        await recent_marks(
            await world.ctx(world.parent_a1), pupil, world.clock.now() + timedelta(seconds=1)
        )
        == []
    )


async def test_latest_notifications_with_the_unread_count_of_all(world: World) -> None:
    parent = await world.ctx(world.parent_a1)
    assert await notifications.latest_notifications(parent, 3) == ([], 0)
    now = world.clock.now()
    for i in range(5):
        await notifications.notify(
            world.session, [world.parent_a1, world.parent_a2], "message", f"№ {i}", None,
            now + timedelta(minutes=i),
        )  # fmt: skip
    await world.session.execute(
        update(Notification)
        .where(Notification.user_id == world.parent_a1, Notification.text == "№ 4")
        .values(read_at=now)
    )
    await world.session.commit()
    latest, unread = await notifications.latest_notifications(parent, 3)
    assert [n.text for n in latest] == ["№ 4", "№ 3", "№ 2"]
    assert latest == await notifications.notifications_for(parent, limit=3)
    assert unread == 4 == await notifications.unread_notification_count(parent)
