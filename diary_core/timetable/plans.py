"""The weekly plans of a class and what every part of the timetable reads with them: which
weekly timetable applies on a day (the latest ``valid_from`` not after it; families count
published ones only), its lessons, the school's bell times, and the checks on lesson
numbers, rooms, teachers and subjects.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    bindparam,
    case,
    exists,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from diary_core.context import Ctx
from diary_core.errors import InvalidInput, NotFound
from diary_core.models import (
    BellTime,
    SchoolClass,
    Subject,
    Timetable,
    TimetableSlot,
    User,
    UserRole,
)
from diary_core.policy import Action, ClassTarget, allowed
from diary_core.roles import STAFF_ROLES
from diary_core.text import clean_line

SCHOOL_DAYS = 6  # Monday … Saturday
MAX_LESSONS = 10  # when a school has no bell times yet
MAX_ROOM = 20


@dataclass(frozen=True)
class SlotInput:
    """One lesson of the weekly timetable: weekday 1 = Monday … 6 = Saturday."""

    weekday: int
    lesson_number: int
    subject_id: int
    teacher_id: int
    room: str = ""


@dataclass(frozen=True)
class TimetableInfo:
    id: int
    class_id: int
    valid_from: date
    published_at: datetime | None


@dataclass(frozen=True)
class Slot:
    """A lesson as planned, or as it will actually be given."""

    subject_id: int
    subject_name: str
    teacher_id: int
    teacher_name: str
    room: str


async def class_of(ctx: Ctx, class_id: int) -> SchoolClass:
    cls = await ctx.session.get(SchoolClass, class_id)
    if cls is None:
        raise NotFound("класс не найден")
    return cls


async def bells_of(session: AsyncSession, school_id: int) -> dict[int, tuple[time, time]]:
    rows = await session.execute(
        select(BellTime.number, BellTime.starts_at, BellTime.ends_at).where(
            BellTime.school_id == school_id
        )
    )
    return {r.number: (r.starts_at, r.ends_at) for r in rows}


async def staff_ids(session: AsyncSession, school_id: int, ids: Iterable[int]) -> set[int]:
    """Those of ``ids`` who are active staff of the school."""
    is_staff = exists().where(UserRole.user_id == User.id, UserRole.role.in_(STAFF_ROLES))
    rows = await session.scalars(
        select(User.id).where(
            User.id.in_(set(ids)), User.school_id == school_id, User.is_active, is_staff
        )
    )
    return set(rows)


async def subject_ids(session: AsyncSession, school_id: int, ids: Iterable[int]) -> set[int]:
    rows = await session.scalars(
        select(Subject.id).where(Subject.id.in_(set(ids)), Subject.school_id == school_id)
    )
    return set(rows)


def short_name(last: str, first: str, middle: str) -> str:
    initials = "".join(f" {p[0]}." for p in (first, middle) if p)
    return f"{last}{initials}"


Bells = dict[int, tuple[time, time]]  # lesson number → (starts, ends)


async def plans(
    session: AsyncSession, class_id: int, days: Iterable[date], *, drafts: bool
) -> dict[date, tuple[dict[int, Slot], bool]]:
    """For each day: the planned lessons by number, and whether they come from a draft.

    The timetable that applies on a day is the one with the latest ``valid_from`` not after
    it (a draft before a published one from the same date); without ``drafts`` only
    published timetables count (what families see).
    """
    plans, _ = await plans_and_bells(session, class_id, days, drafts=drafts)
    return plans


async def plans_and_bells(
    session: AsyncSession, class_id: int, days: Iterable[date], *, drafts: bool
) -> tuple[dict[date, tuple[dict[int, Slot], bool]], Bells]:
    """:func:`plans`, and the bell times of the lesson numbers planned, read in the same
    query as the timetables that may apply and their slots."""
    wanted = sorted(set(days))
    if not wanted:
        return {}, {}
    timetables: dict[int, tuple[date, bool]] = {}  # id → (valid_from, draft), oldest first
    slots: dict[tuple[int, int], dict[int, Slot]] = {}
    bells: Bells = {}
    bounds = {"class_id": class_id, "first": wanted[0], "last": wanted[-1]}
    for r in await session.execute(_PLANS[drafts], bounds):
        timetables[r.id] = (r.valid_from, r.published_at is None)
        if r.weekday is not None:
            teacher = short_name(r.last_name, r.first_name, r.middle_name)
            slot = Slot(r.subject_id, r.name, r.teacher_id, teacher, r.room)
            slots.setdefault((r.id, r.weekday), {})[r.lesson_number] = slot
        if r.bell_starts is not None:
            bells[r.lesson_number] = (r.bell_starts, r.bell_ends)
    plans: dict[date, tuple[dict[int, Slot], bool]] = {day: ({}, False) for day in wanted}
    for day in wanted:
        applicable = [(tt_id, draft) for tt_id, (v, draft) in timetables.items() if v <= day]
        if applicable:
            tt_id, draft = applicable[-1]
            plans[day] = (slots.get((tt_id, day.isoweekday()), {}), draft)
    return plans, bells


def _plans_query(drafts: bool) -> Select[Any]:
    """The class's timetables that may apply between two days (valid from no later than the
    last, and not replaced by another before the first), each with its slots and their bell
    times, oldest first; a timetable without slots comes as one row of NULL slot columns."""
    t, s, later = Timetable.__table__.c, TimetableSlot.__table__.c, _LATER.c
    u, subject, bell = User.__table__.c, Subject.__table__.c, BellTime.__table__.c
    replaced = exists().where(
        later.class_id == t.class_id,
        later.valid_from > t.valid_from,
        later.valid_from <= bindparam("first"),
    )
    query = (
        select(
            t.id,
            t.valid_from,
            t.published_at,
            s.weekday,
            s.lesson_number,
            s.subject_id,
            subject.name,
            s.teacher_id,
            u.last_name,
            u.first_name,
            u.middle_name,
            s.room,
            bell.starts_at.label("bell_starts"),
            bell.ends_at.label("bell_ends"),
        )
        .select_from(Timetable.__table__)
        .outerjoin(TimetableSlot.__table__, s.timetable_id == t.id)
        .outerjoin(Subject.__table__, subject.id == s.subject_id)
        .outerjoin(User.__table__, u.id == s.teacher_id)
        .outerjoin(
            BellTime.__table__,
            and_(bell.school_id == t.school_id, bell.number == s.lesson_number),
        )
        .where(t.class_id == bindparam("class_id"), t.valid_from <= bindparam("last"))
        # A draft correction from the same date as a published timetable comes after it:
        # staff see the draft they are working on.
        .order_by(t.valid_from, case((t.published_at.is_(None), 1), else_=0))
    )
    if not drafts:
        replaced = replaced.where(later.published_at.is_not(None))
        query = query.where(t.published_at.is_not(None))
    return query.where(~replaced)


_LATER = Timetable.__table__.alias("later")
_PLANS = {drafts: _plans_query(drafts) for drafts in (False, True)}


def clean_room(room: str) -> str:
    room = clean_line(room, "room", "Кабинет").strip()
    if len(room) > MAX_ROOM:
        raise InvalidInput(f"номер кабинета не длиннее {MAX_ROOM} символов", field="room")
    return room


def check_lesson_number(number: int, bells: dict[int, tuple[time, time]], field: str) -> None:
    valid = bells.keys() if bells else range(1, MAX_LESSONS + 1)
    if number not in valid:
        raise InvalidInput(f"в расписании звонков нет {number}-го урока", field=field)


def sees_drafts(ctx: Ctx, school_id: int, class_id: int) -> bool:
    """Unpublished timetables are the school staff's working copies, hidden from families."""
    return allowed(ctx.actor, Action.READ_DRAFT_TIMETABLE, ClassTarget(school_id, class_id))
