"""The administrator's (deputy director's) acts on his school's staff and structure.

Disabling and re-enabling staff accounts, and the structural acts of :mod:`diary_core.school`
wrapped with the checks a form needs (a duplicate class, subject or assignment is a clear
:class:`Conflict`, not a database error), the class-teacher change and period locking
limited to the school's own classes. Each act is ``MANAGE_SCHOOL`` (or
``LOCK_PERIOD_MARKS``) on the school the object belongs to, and is audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, select

from diary_core import audit, period_marks, school
from diary_core.accounts import require_staff_of
from diary_core.context import Ctx
from diary_core.errors import Conflict, InvalidInput, NotFound
from diary_core.models import (
    AcademicYear,
    Period,
    PeriodMark,
    SchoolClass,
    Subject,
    TeachingAssignment,
    User,
)
from diary_core.policy import Action, SchoolTarget
from diary_core.text import clean_line

MAX_SUBJECT_NAME = 100


async def _staff_member(ctx: Ctx, user_id: int) -> User:
    """A staff account of a school the actor manages; anyone else's is "not found"."""
    user = await ctx.session.get(User, user_id)
    if user is None or user.school_id is None:
        raise NotFound("сотрудник не найден")
    ctx.require(Action.MANAGE_SCHOOL, SchoolTarget(user.school_id))
    return await require_staff_of(ctx, user_id, user.school_id)


async def set_user_active(ctx: Ctx, user_id: int, active: bool) -> User:
    """Disable (or re-enable) a staff account of the actor's school.

    Security decision: a disabled account can no longer sign in, and its open sessions end
    at their next request (the gateway loads the actor afresh and finds no active account).
    An administrator cannot disable himself, so a school is never left without one by
    mistake.
    """
    user = await _staff_member(ctx, user_id)
    if not active and user.id == ctx.actor.user_id:
        raise Conflict("нельзя отключить собственную учётную запись")
    if user.is_active == active:
        return user
    user.is_active = active
    user.updated_at = ctx.now()
    user.updated_by_id = None if ctx.actor.system else ctx.actor.user_id
    await ctx.session.flush()
    audit.record(
        ctx.session,
        ctx.actor,
        "user.enable" if active else "user.disable",
        ctx.now(),
        school_id=user.school_id,
        object_type="user",
        object_id=user.id,
    )
    return user


async def disable_user(ctx: Ctx, user_id: int) -> User:
    """Disable a staff account (see :func:`set_user_active`)."""
    return await set_user_active(ctx, user_id, False)


async def enable_user(ctx: Ctx, user_id: int) -> User:
    """Re-enable a disabled staff account (see :func:`set_user_active`)."""
    return await set_user_active(ctx, user_id, True)


async def add_class(
    ctx: Ctx, school_id: int, name: str, class_teacher_id: int | None = None
) -> SchoolClass:
    """A class of the school's current year; a name already taken that year is a conflict."""
    ctx.require(Action.MANAGE_SCHOOL, SchoolTarget(school_id))
    norm, _ = school.parse_class_name(name)
    year: AcademicYear = await school.current_year(ctx, school_id)
    taken = await ctx.session.scalar(
        select(SchoolClass.id).where(
            SchoolClass.school_id == school_id,
            SchoolClass.year_id == year.id,
            SchoolClass.name == norm,
        )
    )
    if taken is not None:
        raise Conflict(f"класс {norm} уже есть в {year.name} учебном году")
    return await school.create_class(ctx, school_id, year.id, norm, class_teacher_id)


async def _school_class(ctx: Ctx, class_id: int) -> SchoolClass:
    cls = await ctx.session.get(SchoolClass, class_id)
    if cls is None:
        raise NotFound("класс не найден")
    ctx.require(Action.MANAGE_SCHOOL, SchoolTarget(cls.school_id))
    return cls


async def change_class_teacher(ctx: Ctx, class_id: int, teacher_id: int) -> SchoolClass:
    """Make a staff member of the school the class teacher of one of its classes."""
    cls = await _school_class(ctx, class_id)
    await school.set_class_teacher(ctx, cls, teacher_id)
    audit.record(
        ctx.session,
        ctx.actor,
        "class.set_teacher",
        ctx.now(),
        school_id=cls.school_id,
        object_type="class",
        object_id=cls.id,
        teacher_id=teacher_id,
    )
    return cls


async def add_subject(ctx: Ctx, school_id: int, name: str) -> Subject:
    """A subject of the school; its name is required, short, and not taken (any case)."""
    ctx.require(Action.MANAGE_SCHOOL, SchoolTarget(school_id))
    clean = " ".join(clean_line(name, "name", "Название предмета").split())
    if not clean:
        raise InvalidInput("укажите название предмета", field="name")
    if len(clean) > MAX_SUBJECT_NAME:
        raise InvalidInput(
            f"название предмета не длиннее {MAX_SUBJECT_NAME} символов", field="name"
        )
    existing = await ctx.session.scalars(select(Subject.name).where(Subject.school_id == school_id))
    if clean.casefold() in {n.casefold() for n in existing}:
        raise Conflict(f"предмет «{clean}» уже есть")
    subject = await school.create_subject(ctx, school_id, clean)
    audit.record(
        ctx.session,
        ctx.actor,
        "subject.create",
        ctx.now(),
        school_id=school_id,
        object_type="subject",
        object_id=subject.id,
        name=clean,
    )
    return subject


async def add_assignment(
    ctx: Ctx, class_id: int, subject_id: int, teacher_id: int
) -> TeachingAssignment:
    """Teacher × class × subject of one school; the same assignment twice is a conflict."""
    await _school_class(ctx, class_id)
    duplicate = await ctx.session.scalar(
        select(func.count(TeachingAssignment.id)).where(
            TeachingAssignment.class_id == class_id,
            TeachingAssignment.subject_id == subject_id,
            TeachingAssignment.teacher_id == teacher_id,
        )
    )
    if duplicate:
        raise Conflict("этот учитель уже ведёт этот предмет в этом классе")
    return await school.assign_teacher(ctx, class_id, subject_id, teacher_id)


async def lock_period(
    ctx: Ctx, school_id: int, period_id: int, class_ids: Sequence[int] = ()
) -> int:
    """Sign off a period's marks (of some classes of the school, or all); returns how many
    were locked. A class of another school is "not found", never silently skipped."""
    ctx.require(Action.LOCK_PERIOD_MARKS, SchoolTarget(school_id))
    wanted = set(class_ids)
    if wanted:
        own = set(
            await ctx.session.scalars(
                select(SchoolClass.id).where(
                    SchoolClass.id.in_(wanted), SchoolClass.school_id == school_id
                )
            )
        )
        if own != wanted:
            raise NotFound("класс не найден")
    return await period_marks.lock_period_marks(ctx, school_id, period_id, sorted(wanted) or None)


async def change_period_dates(
    ctx: Ctx, school_id: int, period_id: int, starts_on: date, ends_on: date
) -> Period:
    """Move a term of the school's year (a quarter, trimester or half): a school whose
    holidays differ from the usual calendar sets its own dates. The term stays inside its
    year and clear of the year's other terms; a term whose final marks are already signed
    off keeps its dates (reopen them first). The year's own period follows the year."""
    ctx.require(Action.MANAGE_SCHOOL, SchoolTarget(school_id))
    period = await ctx.session.get(Period, period_id)
    if period is None or period.school_id != school_id:
        raise NotFound("период не найден")
    if period.kind == "year":
        raise InvalidInput("даты года — это даты учебного года; меняются даты четвертей")
    if ends_on < starts_on:
        raise InvalidInput("период не может закончиться раньше, чем начался", field="ends_on")
    year = await ctx.session.get(AcademicYear, period.year_id)
    assert year is not None
    if starts_on < year.starts_on or ends_on > year.ends_on:
        raise InvalidInput(
            f"даты периода должны лежать внутри {year.name} учебного года "
            f"({year.starts_on:%d.%m.%Y} – {year.ends_on:%d.%m.%Y})",
            field="starts_on" if starts_on < year.starts_on else "ends_on",
        )
    others = await ctx.session.scalars(
        select(Period).where(
            Period.year_id == period.year_id, Period.kind != "year", Period.id != period.id
        )
    )
    for other in others:
        if starts_on <= other.ends_on and other.starts_on <= ends_on:
            raise Conflict(
                f"даты пересекаются с периодом «{other.name}» "
                f"({other.starts_on:%d.%m.%Y} – {other.ends_on:%d.%m.%Y})"
            )
    locked = await ctx.session.scalar(
        select(func.count(PeriodMark.id)).where(
            PeriodMark.period_id == period.id, PeriodMark.locked_at.is_not(None)
        )
    )
    if locked:
        raise Conflict(
            f"итоговые отметки за период «{period.name}» уже закрыты ({locked}); "
            "даты закрытого периода не меняются"
        )
    if (period.starts_on, period.ends_on) == (starts_on, ends_on):
        return period
    period.starts_on, period.ends_on = starts_on, ends_on
    await ctx.session.flush()
    span: dict[str, Any] = {"from": starts_on.isoformat(), "to": ends_on.isoformat()}
    audit.record(
        ctx.session,
        ctx.actor,
        "period.dates",
        ctx.now(),
        school_id=school_id,
        object_type="period",
        object_id=period.id,
        **span,
    )
    return period
