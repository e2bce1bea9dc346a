"""A class's week as it will be: each lesson as planned, the change of that date applied, and
the bell times (docs/regulation.md, clauses 4.1 and 6.2). Families see published timetables only.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

from sqlalchemy import (
    BindParameter,
    Row,
    Select,
    and_,
    bindparam,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from diary_core.context import Ctx
from diary_core.errors import InvalidInput
from diary_core.models import (
    BellTime,
    Subject,
    TimetableChange,
    User,
)
from diary_core.policy import Action, ClassTarget
from diary_core.timetable.plans import (
    SCHOOL_DAYS,
    Slot,
    class_of,
    plans_and_bells,
    sees_drafts,
    short_name,
)


@dataclass(frozen=True)
class Cell:
    """One lesson number of one day: the plan, the change applied, and the result.

    ``change`` is None, a change kind, or ``moved_in`` for a lesson moved here from another
    time; ``actual`` is None when the lesson is cancelled or moved away.
    """

    lesson_number: int
    starts_at: time | None
    ends_at: time | None
    planned: Slot | None
    actual: Slot | None
    change: str | None = None
    moved_to: tuple[date, int] | None = None
    moved_from: tuple[date, int] | None = None
    note: str = ""
    draft: bool = False


@dataclass(frozen=True)
class Day:
    date: date
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class WeekTimetable:
    class_id: int
    class_name: str
    monday: date
    days: tuple[Day, ...]


@dataclass(frozen=True)
class _Change:
    day: date
    lesson_number: int
    kind: str
    substitute: Slot | None  # the substitution's teacher (and subject), room unset
    room: str
    moved_to: tuple[date, int] | None
    note: str
    moved_to_bell: tuple[time, time] | None = None  # the bell times of ``moved_to``'s lesson


async def _changes(session: AsyncSession, class_id: int, first: date, last: date) -> list[_Change]:
    """The class's changes that touch the days: of lessons on them, or moved onto them."""
    rows = await session.execute(_CHANGES, {"class_id": class_id, "first": first, "last": last})
    return [_change_of(r) for r in rows]


def _changes_query() -> Select[Any]:
    c, u, subject = TimetableChange.__table__.c, User.__table__.c, Subject.__table__.c
    bell = BellTime.__table__.c
    first: BindParameter[date] = bindparam("first")
    last: BindParameter[date] = bindparam("last")
    return (
        select(
            c.date,
            c.lesson_number,
            c.kind,
            c.teacher_id,
            c.subject_id,
            c.room,
            c.moved_to_date,
            c.moved_to_lesson,
            c.note,
            u.last_name,
            u.first_name,
            u.middle_name,
            subject.name,
            bell.starts_at.label("bell_starts"),
            bell.ends_at.label("bell_ends"),
        )
        .outerjoin(User.__table__, u.id == c.teacher_id)
        .outerjoin(Subject.__table__, subject.id == c.subject_id)
        .outerjoin(
            BellTime.__table__,
            and_(bell.school_id == c.school_id, bell.number == c.moved_to_lesson),
        )
        .where(
            c.class_id == bindparam("class_id"),
            or_(c.date.between(first, last), c.moved_to_date.between(first, last)),
        )
    )


_CHANGES = _changes_query()


def _change_of(r: Row[Any]) -> _Change:
    sub = None
    if r.teacher_id is not None:
        teacher = short_name(r.last_name, r.first_name, r.middle_name)
        sub = Slot(r.subject_id or 0, r.name or "", r.teacher_id, teacher, "")
    moved = (r.moved_to_date, r.moved_to_lesson) if r.moved_to_date else None
    bell = (r.bell_starts, r.bell_ends) if r.bell_starts is not None else None
    return _Change(r.date, r.lesson_number, r.kind, sub, r.room, moved, r.note, bell)


def _apply(planned: Slot, change: _Change | None) -> tuple[Slot | None, _Change | None]:
    """The lesson as it will be given (None: cancelled or moved away)."""
    if change is None:
        return planned, None
    if change.kind == "substitution" and change.substitute is not None:
        sub = change.substitute
        return dataclasses.replace(
            planned,
            teacher_id=sub.teacher_id,
            teacher_name=sub.teacher_name,
            subject_id=sub.subject_id or planned.subject_id,
            subject_name=sub.subject_name or planned.subject_name,
        ), change
    if change.kind == "room_change":
        return dataclasses.replace(planned, room=change.room), change
    return None, change


def _cell(
    number: int,
    bells: dict[int, tuple[time, time]],
    planned: Slot | None,
    draft: bool,
    change: _Change | None,
) -> Cell:
    starts, ends = bells.get(number, (None, None))
    actual, applied = _apply(planned, change) if planned is not None else (None, None)
    return Cell(
        lesson_number=number,
        starts_at=starts,
        ends_at=ends,
        planned=planned,
        actual=actual,
        change=applied.kind if applied else None,
        moved_to=applied.moved_to if applied else None,
        note=applied.note if applied else "",
        draft=draft,
    )


async def week_timetable(ctx: Ctx, class_id: int, monday: date) -> WeekTimetable:
    """The class's week from Monday to Saturday: each lesson as planned, the change applied
    (substitution, cancellation, room change, moved away or ``moved_in``), and bell times.

    Who may: the policy's ``READ_CLASS``. Families see published timetables only.
    """
    _check_monday(monday)
    cls = await class_of(ctx, class_id)
    return await class_week(ctx, ClassTarget(cls.school_id, cls.id), cls.name, monday)


def _check_monday(monday: date) -> None:
    if monday.isoweekday() != 1:
        raise InvalidInput(f"{monday:%d.%m.%Y} не понедельник", field="monday")


async def class_week(ctx: Ctx, cls: ClassTarget, class_name: str, monday: date) -> WeekTimetable:
    """:func:`week_timetable` of a class the caller has already read from the database (the
    family's diary reads its child's class with the child), under the same ``READ_CLASS``."""
    _check_monday(monday)
    ctx.require(Action.READ_CLASS, cls)
    days = [monday + timedelta(days=i) for i in range(SCHOOL_DAYS)]
    changes = await _changes(ctx.session, cls.class_id, days[0], days[-1])
    drafts = sees_drafts(ctx, cls.school_id, cls.class_id)
    plans, bells = await plans_and_bells(
        ctx.session, cls.class_id, days + [c.day for c in changes], drafts=drafts
    )
    # A cell's number is planned (its bell read with the plan) or a lesson moved to it.
    bells.update(
        (c.moved_to[1], c.moved_to_bell) for c in changes if c.moved_to and c.moved_to_bell
    )
    by_lesson = {(c.day, c.lesson_number): c for c in changes}
    out = []
    for day in days:
        plan, draft = plans[day]
        cells = {n: _cell(n, bells, s, draft, by_lesson.get((day, n))) for n, s in plan.items()}
        for move in (c for c in changes if c.moved_to and c.moved_to[0] == day):
            source_plan, source_draft = plans[move.day]
            moved = source_plan.get(move.lesson_number)
            if moved is None:
                continue  # its source is not visible to this actor
            n = move.moved_to[1] if move.moved_to else 0
            cells[n] = dataclasses.replace(
                cells.get(n) or _cell(n, bells, None, source_draft, None),
                actual=moved,
                change="moved_in",
                moved_from=(move.day, move.lesson_number),
                note=move.note,
            )
        out.append(Day(day, tuple(cells[n] for n in sorted(cells))))
    return WeekTimetable(cls.class_id, class_name, monday, tuple(out))
