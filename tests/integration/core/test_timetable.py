"""Timetable: weekly slots, publishing (docs/regulation.md, clause 6.2) and per-date changes
(docs/regulation.md, clause 4.1).

The clock stands on Wednesday 15.10.2025; the tests change lessons of the next week.
"""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select

from diary_core import timetable as tt
from diary_core.announcements import announcements_for
from diary_core.clock import FixedClock
from diary_core.errors import Conflict, Forbidden, InvalidInput, NotFound
from diary_core.models import AuditEvent, Notification, Pupil, Timetable, TimetableSlot
from diary_core.timetable import ChangeRequest, SlotInput
from tests.support.world import World

SEPT_1 = date(2025, 9, 1)
THIS_MONDAY = date(2025, 10, 13)
NEXT_MONDAY = date(2025, 10, 20)
NEXT_TUESDAY = date(2025, 10, 21)


def slots_5a(world: World) -> list[SlotInput]:
    """Monday: math (Числова, room 12), Russian (Классова, room 5); Tuesday: Russian, math."""
    return [
        SlotInput(1, 1, world.math_a, world.teacher_math, "12"),
        SlotInput(1, 2, world.russian_a, world.ct_5a, "5"),
        SlotInput(2, 1, world.russian_a, world.ct_5a, "5"),
        SlotInput(2, 2, world.math_a, world.teacher_math, "12"),
    ]


async def published_5a(world: World) -> int:
    ctx = await world.ctx(world.ct_5a)
    info = await tt.set_weekly_timetable(ctx, world.class_5a, SEPT_1, slots_5a(world))
    await tt.publish_timetable(ctx, info.id)
    await world.session.commit()
    return info.id


async def user_of(world: World, pupil_id: int) -> int:
    user_id = await world.session.scalar(select(Pupil.user_id).where(Pupil.id == pupil_id))
    assert user_id is not None
    return user_id


async def notified(world: World, kind: str) -> dict[int, list[str]]:
    rows = await world.session.execute(
        select(Notification.user_id, Notification.text).where(Notification.kind == kind)
    )
    out: dict[int, list[str]] = {}
    for user_id, text in rows:
        out.setdefault(user_id, []).append(text)
    return out


def cell(week: tt.WeekTimetable, day: date, number: int) -> tt.Cell:
    (d,) = [d for d in week.days if d.date == day]
    (c,) = [c for c in d.cells if c.lesson_number == number]
    return c


async def test_timetable_change_notifies_parents_and_pupils_of_that_class_only(
    world: World,
) -> None:
    await published_5a(world)
    ctx = await world.ctx(world.ct_5a)
    info = await tt.change_timetable(
        ctx, world.class_5a, NEXT_MONDAY, 1, ChangeRequest("cancellation")
    )
    await world.session.commit()
    got = await notified(world, "timetable_change")
    expected = {
        world.pupil_a1_user,
        await user_of(world, world.pupil_a2),
        world.parent_a1,
        world.parent_a2,
    }
    assert set(got) == expected  # not parent_pending, not 5Б, not the other school, no staff
    assert info.notified == len(expected)
    (text,) = got[world.parent_a1]
    assert "20.10.2025" in text and "1-й урок" in text
    assert "Математика" in text and "отменён" in text


async def test_parent_cannot_change_timetable(world: World) -> None:
    await published_5a(world)
    ctx = await world.ctx(world.parent_a1)
    with pytest.raises(Forbidden):
        await tt.change_timetable(
            ctx, world.class_5a, NEXT_MONDAY, 1, ChangeRequest("cancellation")
        )
    other_family = await world.ctx(world.parent_z1)
    with pytest.raises(NotFound):
        await tt.change_timetable(
            other_family, world.class_5a, NEXT_MONDAY, 1, ChangeRequest("cancellation")
        )


async def test_class_teacher_of_other_class_cannot_change_timetable(world: World) -> None:
    await published_5a(world)
    for user_id in (world.ct_5b, world.teacher_math):
        ctx = await world.ctx(user_id)
        with pytest.raises(Forbidden):
            await tt.change_timetable(
                ctx, world.class_5a, NEXT_MONDAY, 1, ChangeRequest("cancellation")
            )
    assert await notified(world, "timetable_change") == {}


async def test_administrator_may_change_timetable(world: World) -> None:
    await published_5a(world)
    ctx = await world.ctx(world.admin_a)
    info = await tt.change_timetable(
        ctx, world.class_5a, NEXT_MONDAY, 2, ChangeRequest("room_change", room=" 7 ")
    )
    assert "кабинете 7" in info.text


async def test_substitution_teacher_must_be_staff_of_the_school(world: World) -> None:
    await published_5a(world)
    ctx = await world.ctx(world.ct_5a)
    for outsider in (world.teacher_b, world.parent_a1, None):
        with pytest.raises(InvalidInput) as err:
            await tt.change_timetable(
                ctx,
                world.class_5a,
                NEXT_MONDAY,
                1,
                ChangeRequest("substitution", teacher_id=outsider),
            )
        assert err.value.field == "teacher_id"
    info = await tt.change_timetable(
        ctx, world.class_5a, NEXT_MONDAY, 1, ChangeRequest("substitution", teacher_id=world.ct_5b)
    )
    assert "замена" in info.text and "Буквина И." in info.text


async def test_week_shows_cancelled_and_moved_lessons(world: World) -> None:
    await published_5a(world)
    ctx = await world.ctx(world.ct_5a)
    await tt.change_timetable(ctx, world.class_5a, NEXT_MONDAY, 1, ChangeRequest("cancellation"))
    await tt.change_timetable(
        ctx,
        world.class_5a,
        NEXT_MONDAY,
        2,
        ChangeRequest("moved", moved_to_date=NEXT_TUESDAY, moved_to_lesson=3),
    )
    await tt.change_timetable(
        ctx, world.class_5a, NEXT_TUESDAY, 1, ChangeRequest("substitution", teacher_id=world.ct_5b)
    )
    await tt.change_timetable(
        ctx, world.class_5a, NEXT_TUESDAY, 2, ChangeRequest("room_change", room="21")
    )
    await world.session.commit()
    week = await tt.week_timetable(await world.ctx(world.parent_a1), world.class_5a, NEXT_MONDAY)
    assert [d.date.isoweekday() for d in week.days] == [1, 2, 3, 4, 5, 6]
    cancelled = cell(week, NEXT_MONDAY, 1)
    assert cancelled.change == "cancellation" and cancelled.actual is None
    assert cancelled.planned is not None and cancelled.planned.subject_name == "Математика"
    assert (cancelled.starts_at, cancelled.ends_at) == (time(8, 30), time(9, 10))
    moved_away = cell(week, NEXT_MONDAY, 2)
    assert moved_away.change == "moved" and moved_away.moved_to == (NEXT_TUESDAY, 3)
    assert moved_away.actual is None
    moved_in = cell(week, NEXT_TUESDAY, 3)
    assert moved_in.change == "moved_in" and moved_in.moved_from == (NEXT_MONDAY, 2)
    assert moved_in.planned is None
    assert moved_in.actual is not None and moved_in.actual.subject_name == "Русский язык"
    assert moved_in.starts_at == time(10, 20)
    substituted = cell(week, NEXT_TUESDAY, 1)
    assert substituted.change == "substitution"
    assert substituted.actual is not None and substituted.actual.teacher_id == world.ct_5b
    assert substituted.planned is not None and substituted.planned.teacher_id == world.ct_5a
    room = cell(week, NEXT_TUESDAY, 2)
    assert room.change == "room_change"
    assert room.actual is not None and room.actual.room == "21"
    assert room.planned is not None and room.planned.room == "12"
    # The week before is untouched.
    before = await tt.week_timetable(await world.ctx(world.parent_a1), world.class_5a, THIS_MONDAY)
    assert all(c.change is None for d in before.days for c in d.cells)


async def test_lesson_moved_from_an_earlier_week_shows_in_the_target_week(world: World) -> None:
    await published_5a(world)
    ctx = await world.ctx(world.ct_5a)
    await tt.change_timetable(
        ctx,
        world.class_5a,
        NEXT_TUESDAY,
        1,
        ChangeRequest("moved", moved_to_date=date(2025, 10, 27), moved_to_lesson=4),
    )
    week = await tt.week_timetable(ctx, world.class_5a, date(2025, 10, 27))
    moved_in = cell(week, date(2025, 10, 27), 4)
    assert moved_in.change == "moved_in" and moved_in.moved_from == (NEXT_TUESDAY, 1)


async def test_move_onto_an_occupied_lesson_conflicts(world: World) -> None:
    await published_5a(world)
    ctx = await world.ctx(world.ct_5a)
    move = ChangeRequest("moved", moved_to_date=NEXT_TUESDAY, moved_to_lesson=1)
    with pytest.raises(Conflict):
        await tt.change_timetable(ctx, world.class_5a, NEXT_MONDAY, 1, move)
    await tt.change_timetable(ctx, world.class_5a, NEXT_TUESDAY, 1, ChangeRequest("cancellation"))
    await tt.change_timetable(ctx, world.class_5a, NEXT_MONDAY, 1, move)  # freed now
    week = await tt.week_timetable(ctx, world.class_5a, NEXT_MONDAY)
    target = cell(week, NEXT_TUESDAY, 1)
    assert target.change == "moved_in"
    assert target.planned is not None and target.planned.subject_name == "Русский язык"
    assert target.actual is not None and target.actual.subject_name == "Математика"


async def test_change_of_a_lesson_not_in_the_timetable_refused(world: World) -> None:
    await published_5a(world)
    ctx = await world.ctx(world.ct_5a)
    with pytest.raises(InvalidInput) as err:
        await tt.change_timetable(
            ctx, world.class_5a, NEXT_MONDAY, 5, ChangeRequest("cancellation")
        )
    assert err.value.field == "lesson_number"
    with pytest.raises(InvalidInput):
        await tt.change_timetable(ctx, world.class_5a, NEXT_MONDAY, 1, ChangeRequest("holiday"))


async def test_change_for_a_past_date_refused(world: World) -> None:
    await published_5a(world)
    ctx = await world.ctx(world.ct_5a)
    with pytest.raises(InvalidInput, match="прошедшую"):
        await tt.change_timetable(
            ctx, world.class_5a, THIS_MONDAY, 1, ChangeRequest("cancellation")
        )


async def test_second_change_of_a_lesson_replaces_the_first(world: World) -> None:
    await published_5a(world)
    ctx = await world.ctx(world.ct_5a)
    await tt.change_timetable(
        ctx, world.class_5a, NEXT_MONDAY, 1, ChangeRequest("room_change", room="3")
    )
    await tt.change_timetable(ctx, world.class_5a, NEXT_MONDAY, 1, ChangeRequest("cancellation"))
    week = await tt.week_timetable(ctx, world.class_5a, NEXT_MONDAY)
    assert cell(week, NEXT_MONDAY, 1).change == "cancellation"
    assert len((await notified(world, "timetable_change"))[world.parent_a1]) == 2


async def test_timetable_change_may_become_a_class_announcement(
    world: World, clock: FixedClock
) -> None:
    await published_5a(world)
    ctx = await world.ctx(world.ct_5a)
    info = await tt.change_timetable(
        ctx, world.class_5a, NEXT_MONDAY, 1, ChangeRequest("cancellation"), announce=True
    )
    assert info.announcement_id is not None
    seen = await announcements_for(await world.ctx(world.parent_a1))
    assert [(a.id, a.kind) for a in seen] == [(info.announcement_id, "timetable_change")]
    assert await announcements_for(await world.ctx(world.parent_b1)) == []
    clock.advance(timedelta(days=6))  # Tuesday 21.10: the day it concerned is over
    assert await announcements_for(await world.ctx(world.parent_a1)) == []


async def test_unpublished_timetable_hidden_from_parents(world: World) -> None:
    ctx = await world.ctx(world.ct_5a)
    info = await tt.set_weekly_timetable(ctx, world.class_5a, SEPT_1, slots_5a(world))
    await world.session.commit()
    for family in (world.parent_a1, world.pupil_a1_user):
        week = await tt.week_timetable(await world.ctx(family), world.class_5a, NEXT_MONDAY)
        assert all(d.cells == () for d in week.days)
        assert await tt.class_timetables(await world.ctx(family), world.class_5a) == []
    staff_week = await tt.week_timetable(
        await world.ctx(world.teacher_math), world.class_5a, NEXT_MONDAY
    )
    assert cell(staff_week, NEXT_MONDAY, 1).draft
    await tt.publish_timetable(ctx, info.id)
    week = await tt.week_timetable(await world.ctx(world.parent_a1), world.class_5a, NEXT_MONDAY)
    first = cell(week, NEXT_MONDAY, 1)
    assert not first.draft and first.actual is not None
    assert first.actual.teacher_name == "Числова М."


async def test_publishing_is_audited(world: World) -> None:
    ctx = await world.ctx(world.ct_5a)
    info = await tt.set_weekly_timetable(ctx, world.class_5a, SEPT_1, slots_5a(world))
    published = await tt.publish_timetable(ctx, info.id)
    await world.session.commit()
    assert published.published_at == world.clock.now()
    row = await world.session.get(Timetable, info.id)
    assert row is not None and row.published_by_id == world.ct_5a
    events = list(
        await world.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "timetable.publish")
        )
    )
    assert [(e.actor_id, e.object_id, e.school_id) for e in events] == [
        (world.ct_5a, str(info.id), world.a.id)
    ]
    got = await notified(world, "timetable")
    assert world.parent_a1 in got and world.parent_b1 not in got
    assert "01.09.2025" in got[world.parent_a1][0]
    with pytest.raises(Conflict):
        await tt.publish_timetable(ctx, info.id)


async def test_parent_and_subject_teacher_cannot_publish(world: World) -> None:
    info = await tt.set_weekly_timetable(
        await world.ctx(world.admin_a), world.class_5a, SEPT_1, slots_5a(world)
    )
    for user_id in (world.parent_a1, world.teacher_math):
        with pytest.raises(Forbidden):
            await tt.publish_timetable(await world.ctx(user_id), info.id)
    with pytest.raises(NotFound):
        await tt.publish_timetable(await world.ctx(world.admin_b), info.id)


async def test_correcting_a_published_timetable_keeps_it_shown_until_published(
    world: World,
) -> None:
    timetable_id = await published_5a(world)
    ctx = await world.ctx(world.ct_5a)
    again = await tt.set_weekly_timetable(ctx, world.class_5a, SEPT_1, slots_5a(world)[:1])
    assert again.id != timetable_id and again.published_at is None
    published = await world.session.get(Timetable, timetable_id)
    assert published is not None and published.published_at is not None
    count = await world.session.scalar(
        select(func.count())
        .select_from(TimetableSlot)
        .where(TimetableSlot.timetable_id == timetable_id)
    )
    assert count == 4  # the published version is untouched
    await world.session.commit()
    week = await tt.week_timetable(await world.ctx(world.parent_a1), world.class_5a, NEXT_MONDAY)
    assert [len(d.cells) for d in week.days[:2]] == [2, 2]  # still the published one
    staff = await tt.week_timetable(
        await world.ctx(world.teacher_math), world.class_5a, NEXT_MONDAY
    )
    assert [len(d.cells) for d in staff.days[:2]] == [1, 0] and cell(staff, NEXT_MONDAY, 1).draft
    # saving again replaces the same draft's slots
    same = await tt.set_weekly_timetable(ctx, world.class_5a, SEPT_1, slots_5a(world)[:2])
    assert same.id == again.id
    await tt.publish_timetable(ctx, again.id)
    assert await world.session.get(Timetable, timetable_id) is None  # replaced by the correction
    week = await tt.week_timetable(await world.ctx(world.parent_a1), world.class_5a, NEXT_MONDAY)
    assert [len(d.cells) for d in week.days[:2]] == [2, 0]
    (text,) = (await notified(world, "timetable"))[world.parent_a1][1:]
    assert text == (
        "Изменения в расписании 5А с 01.09.2025: вторник, 1-й урок — убран урок Русский язык; "
        "вторник, 2-й урок — убран урок Математика"
    )


async def test_later_timetable_applies_from_its_date(world: World) -> None:
    await published_5a(world)
    ctx = await world.ctx(world.ct_5a)
    later = await tt.set_weekly_timetable(
        ctx, world.class_5a, NEXT_TUESDAY, [SlotInput(2, 4, world.math_a, world.teacher_math)]
    )
    await tt.publish_timetable(ctx, later.id)
    week = await tt.week_timetable(await world.ctx(world.parent_a1), world.class_5a, NEXT_MONDAY)
    by_day = {d.date: [c.lesson_number for c in d.cells] for d in week.days}
    assert by_day[NEXT_MONDAY] == [1, 2]  # the September timetable still
    assert by_day[NEXT_TUESDAY] == [4]  # the new one


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (SlotInput(7, 1, 0, 0), "weekday"),
        (SlotInput(1, 9, 0, 0), "lesson_number"),
        (SlotInput(1, 1, 0, 0), "slots"),  # the same lesson twice
        (SlotInput(3, 1, -1, 0), "subject_id"),
        (SlotInput(3, 1, 0, -1), "teacher_id"),
        (SlotInput(3, 1, 0, 0, "x" * 21), "room"),
    ],
)
async def test_bad_slots_refused_and_nothing_written(
    world: World, bad: SlotInput, field: str
) -> None:
    subject = world.math_a if bad.subject_id == 0 else world.math_b
    teacher = world.teacher_math if bad.teacher_id == 0 else world.teacher_b
    slot = SlotInput(bad.weekday, bad.lesson_number, subject, teacher, bad.room)
    ctx = await world.ctx(world.ct_5a)
    with pytest.raises(InvalidInput) as err:
        await tt.set_weekly_timetable(ctx, world.class_5a, SEPT_1, [*slots_5a(world), slot])
    assert err.value.field == field
    assert await world.session.scalar(select(func.count()).select_from(Timetable)) == 0


async def test_week_must_start_on_monday_and_class_must_be_visible(world: World) -> None:
    await published_5a(world)
    with pytest.raises(InvalidInput):
        await tt.week_timetable(await world.ctx(world.parent_a1), world.class_5a, NEXT_TUESDAY)
    with pytest.raises(NotFound):
        await tt.week_timetable(await world.ctx(world.parent_b1), world.class_5a, NEXT_MONDAY)
    with pytest.raises(NotFound):
        await tt.week_timetable(await world.ctx(world.teacher_b), world.class_5a, NEXT_MONDAY)
