"""Per-date changes of a class's timetable (docs/regulation.md, clause 4.1): a substitution, a
cancellation, a room change or a moved lesson on one date, which notifies the class's pupils and
their confirmed parents; and what the change form offers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import (
    exists,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from diary_core import announcements, audit
from diary_core.context import Ctx
from diary_core.errors import Conflict, InvalidInput
from diary_core.models import (
    BellTime,
    SchoolClass,
    Subject,
    TimetableChange,
    User,
    UserRole,
)
from diary_core.notifications import notify
from diary_core.policy import Action, ClassTarget
from diary_core.roles import STAFF_ROLES
from diary_core.russian import full_name
from diary_core.text import clean_line
from diary_core.timetable.plans import (
    MAX_LESSONS,
    SCHOOL_DAYS,
    Slot,
    bells_of,
    check_lesson_number,
    class_of,
    clean_room,
    plans,
    short_name,
    staff_ids,
    subject_ids,
)

CHANGE_KINDS = ("substitution", "cancellation", "room_change", "moved")


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
class ChangeInfo:
    id: int
    class_id: int
    date: date
    lesson_number: int
    kind: str
    text: str
    notified: int
    announcement_id: int | None


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
    if teacher_id not in await staff_ids(ctx.session, cls.school_id, [teacher_id]):
        raise InvalidInput(
            "заменяющий учитель должен быть сотрудником этой школы", field="teacher_id"
        )
    if teacher_id == planned.teacher_id and subject_id in (None, planned.subject_id):
        raise InvalidInput(
            "заменяющий учитель совпадает с учителем по расписанию", field="teacher_id"
        )
    if subject_id is not None and not await subject_ids(ctx.session, cls.school_id, [subject_id]):
        raise InvalidInput("предмет не из этой школы", field="subject_id")
    return _ChangeValues(teacher_id=teacher_id, subject_id=subject_id)


def _room_change(planned: Slot, room: str | None) -> _ChangeValues:
    new_room = clean_room(room or "")
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
    check_lesson_number(to_lesson, await bells_of(ctx.session, cls.school_id), "moved_to_lesson")
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
    plan, _ = (await plans(session, class_id, [day], drafts=True))[day]
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
        what = f"замена, урок ведёт {short_name(t.last_name, t.first_name, t.middle_name)}"
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
    cls = await class_of(ctx, class_id)
    ctx.require(Action.CHANGE_TIMETABLE, ClassTarget(cls.school_id, cls.id))
    if request.kind not in CHANGE_KINDS:
        raise InvalidInput(f"неизвестный вид изменения «{request.kind}»", field="kind")
    clean_line(request.note, "note", "Пояснение")
    if day < ctx.today():
        raise InvalidInput("нельзя изменить расписание на прошедшую дату", field="date")
    plan, _ = (await plans(ctx.session, class_id, [day], drafts=True))[day]
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


@dataclass(frozen=True)
class Option:
    id: int
    name: str


@dataclass(frozen=True)
class ChangeOptions:
    """What a timetable-change form offers: the school's staff (substitutes), its subjects,
    and the lesson numbers of its bell schedule."""

    teachers: list[Option]
    subjects: list[Option]
    lesson_numbers: list[int]


async def timetable_change_options(ctx: Ctx, class_id: int) -> ChangeOptions:
    """For whoever may change the class's timetable (the policy's ``CHANGE_TIMETABLE``)."""
    cls = await class_of(ctx, class_id)
    ctx.require(Action.CHANGE_TIMETABLE, ClassTarget(cls.school_id, cls.id))
    is_staff = exists().where(UserRole.user_id == User.id, UserRole.role.in_(STAFF_ROLES))
    staff = await ctx.session.execute(
        select(User.id, User.last_name, User.first_name, User.middle_name)
        .where(User.school_id == cls.school_id, User.is_active, is_staff)
        .order_by(User.last_name, User.first_name, User.id)
    )
    subjects = await ctx.session.execute(
        select(Subject.id, Subject.name)
        .where(Subject.school_id == cls.school_id)
        .order_by(Subject.name)
    )
    bells = list(
        await ctx.session.scalars(
            select(BellTime.number)
            .where(BellTime.school_id == cls.school_id)
            .order_by(BellTime.number)
        )
    )
    return ChangeOptions(
        [Option(r.id, full_name(r.last_name, r.first_name, r.middle_name)) for r in staff],
        [Option(*r) for r in subjects],
        bells or list(range(1, MAX_LESSONS + 1)),
    )
