"""The journal page's reads in the core (docs/regulation.md, clauses 1.4, 2.1): one lookup of the
class and the subject for the rights and the grid, the school's own periods only, the period marks'
locks read with the grid, a fixed number of statements whatever the class's size, and the read
audited."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import delete, event, select

from diary_core import attendance, gradebook, journal, lessons, marks, period_marks
from diary_core.errors import Forbidden, InvalidInput, NotFound
from diary_core.models import AuditEvent, Period
from tests.support.world import World

MONDAY = date(2025, 10, 13)


@contextmanager
def statements(world: World) -> Iterator[list[str]]:
    """The SQL statements sent through the world's session while inside."""
    sent: list[str] = []
    engine = world.session.bind.sync_engine  # type: ignore[union-attr]

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def fill(world: World, days: list[date]) -> None:
    """A math lesson of 5А on each day with a mark for one pupil and an absence for the other."""
    ctx = await world.ctx(world.teacher_math)
    for day in days:
        lesson = await lessons.record_lesson(
            ctx, class_id=world.class_5a, subject_id=world.math_a, day=day, lesson_number=1
        )
        await marks.record_mark(
            ctx,
            pupil_id=world.pupil_a1,
            subject_id=world.math_a,
            day=day,
            value="4",
            work_type_id=world.a.work_type_ids["Ответ на уроке"],
            lesson_id=lesson.id,
        )
        await attendance.set_attendance(ctx, pupil_id=world.pupil_a2, lesson_id=lesson.id, kind="н")
    await world.session.commit()


async def test_view_opens_the_current_term_with_rights_periods_and_work_types(
    world: World,
) -> None:
    ctx = await world.ctx(world.teacher_math)
    view = await gradebook.gradebook_view(ctx, world.class_5a, world.math_a, None)
    assert view.grid.period_id == world.a.quarter_ids[0]  # 15.10.2025: the first quarter
    assert (view.rights.write_marks, view.rights.write_period_marks) == (True, True)
    assert view.rights.school_id == world.a.id
    assert [p.id for p in view.periods][:4] == world.a.quarter_ids
    assert {w.id for w in view.work_types} == set(world.a.work_type_ids.values())
    reader = await world.ctx(world.ct_5a)  # the class teacher reads, never writes
    read_only = await gradebook.gradebook_view(reader, world.class_5a, world.math_a, None)
    assert (read_only.rights.write_marks, read_only.rights.write_period_marks) == (False, False)


async def test_another_schools_period_subject_or_class_is_not_found(world: World) -> None:
    ctx = await world.ctx(world.teacher_math)
    other_period = world.b.quarter_ids[0]
    with pytest.raises(NotFound, match="период"):
        await gradebook.gradebook_view(ctx, world.class_5a, world.math_a, other_period)
    with pytest.raises(NotFound, match="период"):
        await journal.gradebook_grid(ctx, world.class_5a, world.math_a, other_period)
    with pytest.raises(NotFound, match="предмет"):
        await gradebook.gradebook_view(ctx, world.class_5a, world.math_b, None)
    with pytest.raises(NotFound, match="класс"):
        await journal.gradebook_grid(ctx, 10**9, world.math_a, world.a.quarter_ids[0])


async def test_teacher_of_another_class_is_refused_before_any_pupil_is_read(world: World) -> None:
    ctx = await world.ctx(world.ct_5b)
    with statements(world) as sent:
        with pytest.raises(Forbidden):
            await gradebook.gradebook_view(ctx, world.class_5a, world.math_a, None)
    assert len(sent) == 1 and "pupils" not in sent[0]


async def test_the_place_holds_its_schools_periods_only(world: World) -> None:
    ctx = await world.ctx(world.teacher_math)
    place = await journal.grid_place(ctx, world.class_5a, world.math_a)
    assert [p.id for p in place.periods] == [*world.a.quarter_ids, world.a.year_period_id]
    other = journal.GridPeriod(world.b.quarter_ids[0], "1 четверть", "quarter", MONDAY, MONDAY)
    with pytest.raises(NotFound):
        place.period(other.id)
    with pytest.raises(NotFound):
        await journal.place_grid(ctx, place, other)


async def test_locked_period_marks_are_marked_in_the_grid_rows(world: World) -> None:
    ctx = await world.ctx(world.teacher_math)
    quarter = world.a.quarter_ids[0]

    async def period_mark(pupil_id: int, value: str) -> None:
        await period_marks.set_period_mark(
            ctx, pupil_id=pupil_id, subject_id=world.math_a, period_id=quarter, value=value
        )

    await period_mark(world.pupil_a1, "5")
    await period_mark(world.pupil_b1, "3")  # 5Б's: locked too, and not in 5А's grid
    await period_marks.lock_period_marks(await world.ctx(world.admin_a), world.a.id, quarter)
    ctx = await world.ctx(world.teacher_math)
    await period_mark(world.pupil_a2, "4")  # set after the sign-off: not locked
    grid = await journal.gradebook_grid(ctx, world.class_5a, world.math_a, quarter)
    rows = {r.pupil_id: (r.period_mark, r.period_mark_locked) for r in grid.rows}
    assert rows == {world.pupil_a1: ("5", True), world.pupil_a2: ("4", False)}
    russian = await journal.gradebook_grid(
        await world.ctx(world.ct_5a), world.class_5a, world.russian_a, quarter
    )
    assert {(r.period_mark, r.period_mark_locked) for r in russian.rows} == {(None, False)}


async def test_the_journal_reads_in_the_same_statements_whatever_its_size(world: World) -> None:
    await fill(world, [MONDAY])
    ctx = await world.ctx(world.teacher_math)
    with statements(world) as small:
        await gradebook.gradebook_view(ctx, world.class_5a, world.math_a, None)
    await world.session.commit()
    await fill(world, [date(2025, 10, d) for d in (6, 7, 8, 9, 10, 14)])
    ctx = await world.ctx(world.teacher_math)
    with statements(world) as big:
        view = await gradebook.gradebook_view(ctx, world.class_5a, world.math_a, None)
    assert len(view.grid.lessons) == 7
    assert sum(len(ms) for r in view.grid.rows for ms in r.cells.values()) == 7
    assert sum(len(r.attendance) for r in view.grid.rows) == 7
    assert len(big) == len(small)
    assert sum("FROM classes" in s for s in big) == 1  # rights and grid: one lookup


async def test_the_journal_read_is_audited(world: World) -> None:
    ctx = await world.ctx(world.teacher_math)
    quarter = world.a.quarter_ids[0]
    await gradebook.gradebook_view(ctx, world.class_5a, world.math_a, quarter)
    await world.session.commit()
    found = (
        await world.session.execute(
            select(AuditEvent.actor_id, AuditEvent.object_type, AuditEvent.object_id).where(
                AuditEvent.action == "gradebook.read"
            )
        )
    ).all()
    assert [tuple(r) for r in found] == [(world.teacher_math, "class", str(world.class_5a))]


async def test_a_school_without_periods_is_said_plainly(world: World) -> None:
    await world.session.execute(delete(Period).where(Period.school_id == world.a.id))
    ctx = await world.ctx(world.teacher_math)
    with pytest.raises(InvalidInput, match="учебные периоды"):
        await gradebook.gradebook_view(ctx, world.class_5a, world.math_a, None)
