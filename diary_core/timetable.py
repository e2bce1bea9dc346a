"""The weekly timetable of a class, its publishing, and per-date changes (docs/regulation.md,
clauses 4.1, 6.2).

A class has weekly timetables, each valid from a date on; on a given day the one with the
latest ``valid_from`` not after it applies. Parents and pupils see only published timetables;
staff also see drafts. A published timetable is never edited in place: its correction is a
draft from its own date, invisible to families until it is published, and publishing it tells
the class's families which lessons changed. A change for one date (substitution,
cancellation, room change, moved lesson) notifies the pupils of the class and their
confirmed parents.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    BindParameter,
    Row,
    Select,
    and_,
    bindparam,
    case,
    delete,
    exists,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from diary_core import announcements, audit
from diary_core.context import Ctx
from diary_core.errors import Conflict, InvalidInput, NotFound
from diary_core.models import (
    BellTime,
    SchoolClass,
    Subject,
    Timetable,
    TimetableChange,
    TimetableSlot,
    User,
    UserRole,
)
from diary_core.notifications import notify
from diary_core.policy import Action, ClassTarget, allowed
from diary_core.roles import STAFF_ROLES
from diary_core.text import clean_line

CHANGE_KINDS = ("substitution", "cancellation", "room_change", "moved")
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
class ChangeRequest:
    """What changes, by kind: a substitution names the teacher (and may name a subject),
    a room change the room, a moved lesson the date and lesson number it moves to."""

    kind: str
    teacher_id: int | None = None
    subject_id: int | None = None
    room: str | None = None
    moved_to_date: date | None = None
    moved_to_lesson: int | None = None
    note: str = ""


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
class ChangeInfo:
    id: int
    class_id: int
    date: date
    lesson_number: int
    kind: str
    text: str
    notified: int
    announcement_id: int | None


# --- shared reads ---------------------------------------------------------------------


async def _class(ctx: Ctx, class_id: int) -> SchoolClass:
    cls = await ctx.session.get(SchoolClass, class_id)
    if cls is None:
        raise NotFound("класс не найден")
    return cls


async def _bells(session: AsyncSession, school_id: int) -> dict[int, tuple[time, time]]:
    rows = await session.execute(
        select(BellTime.number, BellTime.starts_at, BellTime.ends_at).where(
            BellTime.school_id == school_id
        )
    )
    return {r.number: (r.starts_at, r.ends_at) for r in rows}


async def _staff_ids(session: AsyncSession, school_id: int, ids: Iterable[int]) -> set[int]:
    """Those of ``ids`` who are active staff of the school."""
    is_staff = exists().where(UserRole.user_id == User.id, UserRole.role.in_(STAFF_ROLES))
    rows = await session.scalars(
        select(User.id).where(
            User.id.in_(set(ids)), User.school_id == school_id, User.is_active, is_staff
        )
    )
    return set(rows)


async def _subject_ids(session: AsyncSession, school_id: int, ids: Iterable[int]) -> set[int]:
    rows = await session.scalars(
        select(Subject.id).where(Subject.id.in_(set(ids)), Subject.school_id == school_id)
    )
    return set(rows)


def _short_name(last: str, first: str, middle: str) -> str:
    initials = "".join(f" {p[0]}." for p in (first, middle) if p)
    return f"{last}{initials}"


Bells = dict[int, tuple[time, time]]  # lesson number → (starts, ends)


async def _plans(
    session: AsyncSession, class_id: int, days: Iterable[date], *, drafts: bool
) -> dict[date, tuple[dict[int, Slot], bool]]:
    """For each day: the planned lessons by number, and whether they come from a draft.

    The timetable that applies on a day is the one with the latest ``valid_from`` not after
    it (a draft before a published one from the same date); without ``drafts`` only
    published timetables count (what families see).
    """
    plans, _ = await _plans_and_bells(session, class_id, days, drafts=drafts)
    return plans


async def _plans_and_bells(
    session: AsyncSession, class_id: int, days: Iterable[date], *, drafts: bool
) -> tuple[dict[date, tuple[dict[int, Slot], bool]], Bells]:
    """:func:`_plans`, and the bell times of the lesson numbers planned, read in the same
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
            teacher = _short_name(r.last_name, r.first_name, r.middle_name)
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


# --- the weekly timetable ---------------------------------------------------------------


def _clean_room(room: str) -> str:
    room = clean_line(room, "room", "Кабинет").strip()
    if len(room) > MAX_ROOM:
        raise InvalidInput(f"номер кабинета не длиннее {MAX_ROOM} символов", field="room")
    return room


def _check_lesson_number(number: int, bells: dict[int, tuple[time, time]], field: str) -> None:
    valid = bells.keys() if bells else range(1, MAX_LESSONS + 1)
    if number not in valid:
        raise InvalidInput(f"в расписании звонков нет {number}-го урока", field=field)


async def _validate_slots(
    session: AsyncSession, school_id: int, slots: Sequence[SlotInput]
) -> list[SlotInput]:
    """The slots, rooms stripped; any bad slot is :class:`InvalidInput` naming it."""
    if not slots:
        raise InvalidInput("в расписании нет ни одного урока", field="slots")
    bells = await _bells(session, school_id)
    seen: set[tuple[int, int]] = set()
    for slot in slots:
        if not 1 <= slot.weekday <= SCHOOL_DAYS:
            raise InvalidInput(f"день недели {slot.weekday}: ожидается от 1 до 6", field="weekday")
        _check_lesson_number(slot.lesson_number, bells, "lesson_number")
        key = (slot.weekday, slot.lesson_number)
        if key in seen:
            raise InvalidInput(
                f"день {slot.weekday}, {slot.lesson_number}-й урок указан дважды", field="slots"
            )
        seen.add(key)
    bad_subjects = {s.subject_id for s in slots} - await _subject_ids(
        session, school_id, (s.subject_id for s in slots)
    )
    if bad_subjects:
        raise InvalidInput(f"предметы не из этой школы: {sorted(bad_subjects)}", field="subject_id")
    bad_teachers = {s.teacher_id for s in slots} - await _staff_ids(
        session, school_id, (s.teacher_id for s in slots)
    )
    if bad_teachers:
        raise InvalidInput(
            f"учителя не из сотрудников школы: {sorted(bad_teachers)}", field="teacher_id"
        )
    return [dataclasses.replace(s, room=_clean_room(s.room)) for s in slots]


async def set_weekly_timetable(
    ctx: Ctx, class_id: int, valid_from: date, slots: Sequence[SlotInput]
) -> TimetableInfo:
    """Save a draft of the class's weekly timetable valid from a date: a new draft, or the
    draft already begun from that date with its slots replaced.

    A published timetable is never changed in place: a correction is a draft from its own
    date (the same date as the published one, or a later one), and until it is published
    families keep seeing the published timetable (docs/regulation.md, clause 6.2). Who may: the
    policy's ``PUBLISH_TIMETABLE``.
    """
    cls = await _class(ctx, class_id)
    ctx.require(Action.PUBLISH_TIMETABLE, ClassTarget(cls.school_id, cls.id))
    clean = await _validate_slots(ctx.session, cls.school_id, slots)
    now, by = ctx.now(), None if ctx.actor.system else ctx.actor.user_id
    tt = await ctx.session.scalar(
        select(Timetable).where(
            Timetable.class_id == class_id,
            Timetable.valid_from == valid_from,
            Timetable.published_at.is_(None),
        )
    )
    if tt is None:
        tt = Timetable(
            school_id=cls.school_id,
            class_id=class_id,
            valid_from=valid_from,
            created_at=now,
            created_by_id=by,
            updated_at=now,
            updated_by_id=by,
        )
        ctx.session.add(tt)
        await ctx.session.flush()
    else:
        await ctx.session.execute(delete(TimetableSlot).where(TimetableSlot.timetable_id == tt.id))
        tt.updated_at, tt.updated_by_id = now, by
    ctx.session.add_all(
        TimetableSlot(
            timetable_id=tt.id,
            weekday=s.weekday,
            lesson_number=s.lesson_number,
            subject_id=s.subject_id,
            teacher_id=s.teacher_id,
            room=s.room,
        )
        for s in clean
    )
    await ctx.session.flush()
    audit.record(
        ctx.session,
        ctx.actor,
        "timetable.set",
        now,
        school_id=cls.school_id,
        object_type="timetable",
        object_id=tt.id,
        class_id=class_id,
        valid_from=valid_from.isoformat(),
        slots=len(clean),
    )
    return TimetableInfo(tt.id, class_id, valid_from, None)


async def publish_timetable(ctx: Ctx, timetable_id: int) -> TimetableInfo:
    """Publish a draft weekly timetable: from its date on the class's families see it
    (docs/regulation.md, clause 6.2). A published timetable from the same date is replaced by it.

    The act is audited and records who published it. The class's pupils and their
    confirmed parents are told what changed from the date of this version against the
    timetable they saw until now (a first timetable: that there is one); a version that
    changes no lesson tells nobody anything.
    """
    tt = await ctx.session.get(Timetable, timetable_id)
    if tt is None:
        raise NotFound("расписание не найдено")
    ctx.require(Action.PUBLISH_TIMETABLE, ClassTarget(tt.school_id, tt.class_id))
    if tt.published_at is not None:
        raise Conflict("это расписание уже опубликовано")
    cls = await _class(ctx, tt.class_id)
    before = await _in_force(ctx.session, cls.id, tt.valid_from)
    before_plan, after_plan = (
        await _week_plan(ctx.session, before),
        await _week_plan(ctx.session, tt.id),
    )
    replaced = await ctx.session.scalar(
        select(Timetable.id).where(
            Timetable.class_id == cls.id,
            Timetable.valid_from == tt.valid_from,
            Timetable.published_at.is_not(None),
        )
    )
    if replaced is not None:
        await ctx.session.execute(
            delete(TimetableSlot).where(TimetableSlot.timetable_id == replaced)
        )
        await ctx.session.execute(delete(Timetable).where(Timetable.id == replaced))
    now = ctx.now()
    tt.published_at = now
    tt.published_by_id = None if ctx.actor.system else ctx.actor.user_id
    tt.updated_at, tt.updated_by_id = now, tt.published_by_id
    await ctx.session.flush()
    text = _publish_text(cls.name, tt.valid_from, before_plan, after_plan, first=before is None)
    notified = 0
    if text:
        families = await announcements.family_ids(ctx.session, cls.id)
        notified = await notify(ctx.session, families, "timetable", text, None, now)
    audit.record(
        ctx.session,
        ctx.actor,
        "timetable.publish",
        now,
        school_id=tt.school_id,
        object_type="timetable",
        object_id=tt.id,
        class_id=cls.id,
        valid_from=tt.valid_from.isoformat(),
        replaced=replaced,
        notified=notified,
    )
    return TimetableInfo(tt.id, tt.class_id, tt.valid_from, now)


WeekPlan = dict[tuple[int, int], Slot]  # (weekday, lesson number) → the lesson
WEEKDAY_NAMES = ("понедельник", "вторник", "среда", "четверг", "пятница", "суббота")


async def _in_force(session: AsyncSession, class_id: int, day: date) -> int | None:
    """The published timetable families see on ``day``, if any."""
    t = Timetable.__table__.c
    return await session.scalar(
        select(t.id)
        .where(t.class_id == class_id, t.valid_from <= day, t.published_at.is_not(None))
        .order_by(t.valid_from.desc())
        .limit(1)
    )


async def _week_plan(session: AsyncSession, timetable_id: int | None) -> WeekPlan:
    """The lessons of one weekly timetable by (weekday, lesson number)."""
    if timetable_id is None:
        return {}
    s, u, subject = TimetableSlot.__table__.c, User.__table__.c, Subject.__table__.c
    rows = await session.execute(
        select(
            s.weekday,
            s.lesson_number,
            s.subject_id,
            subject.name,
            s.teacher_id,
            u.last_name,
            u.first_name,
            u.middle_name,
            s.room,
        )
        .join(Subject.__table__, subject.id == s.subject_id)
        .join(User.__table__, u.id == s.teacher_id)
        .where(s.timetable_id == timetable_id)
    )
    return {
        (r.weekday, r.lesson_number): Slot(
            r.subject_id,
            r.name,
            r.teacher_id,
            _short_name(r.last_name, r.first_name, r.middle_name),
            r.room,
        )
        for r in rows
    }


def _room_label(room: str) -> str:
    """«кабинет 12» for a numbered room, a named one as it is named («актовый зал»)."""
    if not room:
        return "кабинет не указан"
    return f"кабинет {room}" if room[0].isdigit() else room


def _lesson_words(s: Slot) -> str:
    room = f", {_room_label(s.room)}" if s.room else ""
    return f"{s.subject_name} ({s.teacher_name}{room})"


def _where(key: tuple[int, int]) -> str:
    return f"{WEEKDAY_NAMES[key[0] - 1]}, {key[1]}-й урок"


def _slot_changes(before: Slot, after: Slot) -> list[str]:
    what = []
    if before.subject_id != after.subject_id:
        what.append(f"предмет {after.subject_name} (раньше — {before.subject_name})")
    if before.teacher_id != after.teacher_id:
        what.append(f"ведёт {after.teacher_name} (раньше — {before.teacher_name})")
    if before.room != after.room:
        old, new = before.room, after.room
        if old[:1].isdigit() and new[:1].isdigit():
            what.append(f"кабинет {new} вместо {old}")
        elif old:
            what.append(f"{_room_label(new)} (раньше — {_room_label(old)})")
        else:
            what.append(_room_label(new))
    return what


def describe_changes(before: WeekPlan, after: WeekPlan) -> list[str]:
    """What differs between two weekly plans, one Russian phrase per lesson, in the order of
    the week: a changed subject, teacher or room; a lesson moved to another time (the same
    subject and teacher gone from one place and added at another); an added or removed one."""
    removed = sorted(k for k in before if k not in after)
    added = sorted(k for k in after if k not in before)
    items: list[tuple[tuple[int, int], str]] = []
    for key in sorted(k for k in before if k in after):
        what = _slot_changes(before[key], after[key])
        if what:
            items.append((key, f"{_where(key)} — {', '.join(what)}"))
    for key in list(removed):
        old = before[key]
        to = next(
            (
                k
                for k in added
                if (after[k].subject_id, after[k].teacher_id) == (old.subject_id, old.teacher_id)
            ),
            None,
        )
        if to is None:
            continue
        removed.remove(key)
        added.remove(to)
        room = "" if after[to].room == old.room else f", {_room_label(after[to].room)}"
        moved = f"{_where(key)} ({old.subject_name}) перенесён на {_where(to)}{room}"
        items.append((key, moved))
    items += [(k, f"{_where(k)} — убран урок {before[k].subject_name}") for k in removed]
    items += [(k, f"{_where(k)} — добавлен урок {_lesson_words(after[k])}") for k in added]
    return [text for _, text in sorted(items)]


def _publish_text(
    class_name: str, valid_from: date, before: WeekPlan, after: WeekPlan, *, first: bool
) -> str:
    """The notification of a publication: empty when no lesson changed."""
    if first:
        return f"Опубликовано расписание класса {class_name} с {valid_from:%d.%m.%Y}"
    changes = describe_changes(before, after)
    if not changes:
        return ""
    return f"Изменения в расписании {class_name} с {valid_from:%d.%m.%Y}: {'; '.join(changes)}"


async def class_timetables(ctx: Ctx, class_id: int) -> list[TimetableInfo]:
    """The class's weekly timetables, oldest first; families see only the published ones."""
    cls = await _class(ctx, class_id)
    ctx.require(Action.READ_CLASS, ClassTarget(cls.school_id, cls.id))
    t = Timetable.__table__.c
    query = select(t.id, t.class_id, t.valid_from, t.published_at).where(t.class_id == class_id)
    if not _sees_drafts(ctx, cls.school_id, cls.id):
        query = query.where(t.published_at.is_not(None))
    return [TimetableInfo(*r) for r in await ctx.session.execute(query.order_by(t.valid_from))]


def _sees_drafts(ctx: Ctx, school_id: int, class_id: int) -> bool:
    """Unpublished timetables are the school staff's working copies, hidden from families."""
    return allowed(ctx.actor, Action.READ_DRAFT_TIMETABLE, ClassTarget(school_id, class_id))


# --- per-date changes -------------------------------------------------------------------


@dataclass(frozen=True)
class _ChangeValues:
    teacher_id: int | None = None
    subject_id: int | None = None
    room: str = ""
    moved_to_date: date | None = None
    moved_to_lesson: int | None = None


async def _substitution(
    ctx: Ctx, cls: SchoolClass, planned: Slot, teacher_id: int | None, subject_id: int | None
) -> _ChangeValues:
    if teacher_id is None:
        raise InvalidInput("для замены укажите заменяющего учителя", field="teacher_id")
    if teacher_id not in await _staff_ids(ctx.session, cls.school_id, [teacher_id]):
        raise InvalidInput(
            "заменяющий учитель должен быть сотрудником этой школы", field="teacher_id"
        )
    if teacher_id == planned.teacher_id and subject_id in (None, planned.subject_id):
        raise InvalidInput(
            "заменяющий учитель совпадает с учителем по расписанию", field="teacher_id"
        )
    if subject_id is not None and not await _subject_ids(ctx.session, cls.school_id, [subject_id]):
        raise InvalidInput("предмет не из этой школы", field="subject_id")
    return _ChangeValues(teacher_id=teacher_id, subject_id=subject_id)


def _room_change(planned: Slot, room: str | None) -> _ChangeValues:
    new_room = _clean_room(room or "")
    if not new_room:
        raise InvalidInput("укажите новый кабинет", field="room")
    if new_room == planned.room:
        raise InvalidInput("урок и так проходит в этом кабинете", field="room")
    return _ChangeValues(room=new_room)


async def _move(
    ctx: Ctx, cls: SchoolClass, day: date, number: int, to: tuple[date | None, int | None]
) -> _ChangeValues:
    to_date, to_lesson = to
    if to_date is None or to_lesson is None:
        raise InvalidInput("укажите дату и номер урока, куда переносится урок", field="moved_to")
    if to_date < ctx.today() or to_date.isoweekday() > SCHOOL_DAYS:
        raise InvalidInput("перенести урок можно на учебный день не в прошлом", field="moved_to")
    _check_lesson_number(to_lesson, await _bells(ctx.session, cls.school_id), "moved_to_lesson")
    if (to_date, to_lesson) == (day, number):
        raise InvalidInput("урок переносится на то же самое время", field="moved_to")
    if await _occupied(ctx.session, cls.id, to_date, to_lesson, moving=(day, number)):
        raise Conflict(f"у класса уже есть урок {to_date:%d.%m.%Y}, {to_lesson}-й урок")
    return _ChangeValues(moved_to_date=to_date, moved_to_lesson=to_lesson)


async def _occupied(
    session: AsyncSession, class_id: int, day: date, number: int, *, moving: tuple[date, int]
) -> bool:
    """Whether the class has a lesson at that time: planned and not cancelled or moved
    away, or another lesson already moved there."""
    plan, _ = (await _plans(session, class_id, [day], drafts=True))[day]
    c = TimetableChange.__table__.c
    freed = await session.scalar(
        select(c.id).where(
            c.class_id == class_id,
            c.date == day,
            c.lesson_number == number,
            c.kind.in_(("cancellation", "moved")),
        )
    )
    if number in plan and freed is None:
        return True
    other_move = await session.scalar(
        select(c.id).where(
            c.class_id == class_id,
            c.kind == "moved",
            c.moved_to_date == day,
            c.moved_to_lesson == number,
            or_(c.date != moving[0], c.lesson_number != moving[1]),
        )
    )
    return other_move is not None


async def _what_changed(ctx: Ctx, kind: str, planned: Slot, v: _ChangeValues) -> str:
    if kind == "substitution" and v.teacher_id is not None:
        t = await ctx.session.get(User, v.teacher_id)
        assert t is not None
        what = f"замена, урок ведёт {_short_name(t.last_name, t.first_name, t.middle_name)}"
        subject = await ctx.session.get(Subject, v.subject_id) if v.subject_id else None
        if subject is not None and subject.id != planned.subject_id:
            what += f", предмет: {subject.name}"
        return what
    if kind == "room_change":
        from diary_core.russian import where_room  # «в кабинете 7», «в актовом зале»

        place = where_room(v.room or "")
        return f"урок пройдёт {place}" if place.startswith("в ") else f"другой кабинет — {v.room}"
    if kind == "moved" and v.moved_to_date is not None:
        return f"урок перенесён на {v.moved_to_date:%d.%m.%Y}, {v.moved_to_lesson}-й урок"
    return "урок отменён"


async def _change_text(
    ctx: Ctx,
    cls: SchoolClass,
    planned: Slot,
    day: date,
    number: int,
    req: ChangeRequest,
    v: _ChangeValues,
) -> str:
    """The notification's Russian text: what changed, for which date and lesson."""
    text = (
        f"Изменение расписания {cls.name} на {day:%d.%m.%Y}, {number}-й урок "
        f"({planned.subject_name}): {await _what_changed(ctx, req.kind, planned, v)}"
    )
    return f"{text}. {req.note.strip()}" if req.note.strip() else text


async def _values(
    ctx: Ctx,
    cls: SchoolClass,
    planned: Slot,
    kind: str,
    day: date,
    number: int,
    req: ChangeRequest,
) -> _ChangeValues:
    if kind == "substitution":
        return await _substitution(ctx, cls, planned, req.teacher_id, req.subject_id)
    if kind == "room_change":
        return _room_change(planned, req.room)
    if kind == "moved":
        return await _move(ctx, cls, day, number, (req.moved_to_date, req.moved_to_lesson))
    return _ChangeValues()


async def change_timetable(
    ctx: Ctx,
    class_id: int,
    day: date,
    lesson_number: int,
    request: ChangeRequest,
    *,
    announce: bool = False,
) -> ChangeInfo:
    """Change one lesson of a class on one date (docs/regulation.md, clause 4.1).

    Who may: the policy's ``CHANGE_TIMETABLE`` (the class teacher, the administration). The
    lesson must be in the timetable for that date; a second change of the same lesson
    replaces the first. The class's pupils and their confirmed parents are notified; with
    ``announce`` the change is also posted as a class announcement until the day is over.
    """
    cls = await _class(ctx, class_id)
    ctx.require(Action.CHANGE_TIMETABLE, ClassTarget(cls.school_id, cls.id))
    if request.kind not in CHANGE_KINDS:
        raise InvalidInput(f"неизвестный вид изменения «{request.kind}»", field="kind")
    clean_line(request.note, "note", "Пояснение")
    if day < ctx.today():
        raise InvalidInput("нельзя изменить расписание на прошедшую дату", field="date")
    plan, _ = (await _plans(ctx.session, class_id, [day], drafts=True))[day]
    planned = plan.get(lesson_number)
    if planned is None:
        raise InvalidInput(
            f"у класса {cls.name} нет {lesson_number}-го урока {day:%d.%m.%Y}",
            field="lesson_number",
        )
    values = await _values(ctx, cls, planned, request.kind, day, lesson_number, request)
    row = await _save_change(ctx, cls, day, lesson_number, request, values)
    text = await _change_text(ctx, cls, planned, day, lesson_number, request, values)
    families = await announcements.family_ids(ctx.session, cls.id)
    notified = await notify(ctx.session, families, "timetable_change", text, None, ctx.now())
    announcement_id = await _announce(ctx, cls, day, values, text) if announce else None
    audit.record(
        ctx.session,
        ctx.actor,
        "timetable.change",
        ctx.now(),
        school_id=cls.school_id,
        object_type="timetable_change",
        object_id=row.id,
        class_id=cls.id,
        date=day.isoformat(),
        lesson_number=lesson_number,
        kind=request.kind,
    )
    return ChangeInfo(
        row.id, cls.id, day, lesson_number, request.kind, text, notified, announcement_id
    )


async def _save_change(
    ctx: Ctx, cls: SchoolClass, day: date, number: int, req: ChangeRequest, v: _ChangeValues
) -> TimetableChange:
    now, by = ctx.now(), None if ctx.actor.system else ctx.actor.user_id
    row = await ctx.session.scalar(
        select(TimetableChange).where(
            TimetableChange.class_id == cls.id,
            TimetableChange.date == day,
            TimetableChange.lesson_number == number,
        )
    )
    if row is None:
        row = TimetableChange(
            school_id=cls.school_id,
            class_id=cls.id,
            date=day,
            lesson_number=number,
            created_at=now,
            created_by_id=by,
        )
        ctx.session.add(row)
    row.kind, row.teacher_id, row.subject_id, row.room = (
        req.kind,
        v.teacher_id,
        v.subject_id,
        v.room,
    )
    row.moved_to_date, row.moved_to_lesson = v.moved_to_date, v.moved_to_lesson
    row.note, row.updated_at, row.updated_by_id = req.note.strip(), now, by
    await ctx.session.flush()
    return row


async def _announce(ctx: Ctx, cls: SchoolClass, day: date, v: _ChangeValues, text: str) -> int:
    """The change as a class announcement, shown until the (last) day it concerns is over."""
    expires = announcements.end_of_day(max(day, v.moved_to_date or day), ctx.zone)
    posted = await announcements.announce(
        ctx,
        f"Изменение расписания {cls.name} на {day:%d.%m.%Y}",
        text,
        "timetable_change",
        cls.school_id,
        cls.id,
        expires_at=expires,
    )
    return posted.id


# --- the week as it will be -------------------------------------------------------------


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
        teacher = _short_name(r.last_name, r.first_name, r.middle_name)
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
    cls = await _class(ctx, class_id)
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
    drafts = _sees_drafts(ctx, cls.school_id, cls.class_id)
    plans, bells = await _plans_and_bells(
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
