"""Period-mark sign-off for the administrator: the current year's periods with how many
period marks each has and how many are locked, and one class's marks of one period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased

from diary_core import audit
from diary_core.admin_views.classes import current_year_or_none
from diary_core.admin_views.timetable import ClassChoice
from diary_core.context import Ctx
from diary_core.errors import NotFound
from diary_core.models import AcademicYear, Period, PeriodMark, Pupil, SchoolClass, Subject, User
from diary_core.policy import Action, SchoolTarget
from diary_core.russian import full_name


@dataclass(frozen=True)
class PeriodRow:
    id: int
    name: str
    starts_on: date
    ends_on: date
    marks: int
    locked: int
    kind: str = ""  # quarter | trimester | half | year


@dataclass(frozen=True)
class PeriodsOverview:
    year: AcademicYear | None
    periods: tuple[PeriodRow, ...]
    classes: tuple[ClassChoice, ...]


@dataclass(frozen=True)
class PeriodMarkRow:
    id: int
    pupil_name: str
    subject_name: str
    value: str
    locked_at: datetime | None
    locked_by: str


async def periods_overview(ctx: Ctx, school_id: int) -> PeriodsOverview:
    """The current year's periods (the year itself last) with counts of period marks and
    locked ones, and the year's classes (``LOCK_PERIOD_MARKS``)."""
    ctx.require(Action.LOCK_PERIOD_MARKS, SchoolTarget(school_id))
    year = await current_year_or_none(ctx, school_id)
    if year is None:
        return PeriodsOverview(None, (), ())
    locked = func.sum(case((PeriodMark.locked_at.is_not(None), 1), else_=0))
    rows = await ctx.session.execute(
        select(Period, func.count(PeriodMark.id), locked)
        .outerjoin(PeriodMark, PeriodMark.period_id == Period.id)
        .where(Period.year_id == year.id)
        .group_by(Period.id)
        .order_by(case((Period.kind == "year", 1), else_=0), Period.starts_on, Period.number)
    )
    classes = await ctx.session.execute(
        select(SchoolClass.id, SchoolClass.name)
        .where(SchoolClass.year_id == year.id)
        .order_by(SchoolClass.grade, SchoolClass.name)
    )
    return PeriodsOverview(
        year,
        tuple(
            PeriodRow(p.id, p.name, p.starts_on, p.ends_on, int(n), int(k or 0), p.kind)
            for p, n, k in rows
        ),
        tuple(ClassChoice(r.id, r.name) for r in classes),
    )


async def class_period_marks(
    ctx: Ctx, school_id: int, period_id: int, class_id: int
) -> list[PeriodMarkRow]:
    """One class's period marks of one period, by pupil and subject, each with its lock
    (``LOCK_PERIOD_MARKS``; another school's period or class is "not found"). Staff reads
    of marks are audited."""
    ctx.require(Action.LOCK_PERIOD_MARKS, SchoolTarget(school_id))
    period = await ctx.session.get(Period, period_id)
    cls = await ctx.session.get(SchoolClass, class_id)
    if period is None or period.school_id != school_id:
        raise NotFound("учебный период не найден")
    if cls is None or cls.school_id != school_id:
        raise NotFound("класс не найден")
    locker = aliased(User)
    rows = await ctx.session.execute(
        select(
            PeriodMark,
            User.last_name,
            User.first_name,
            User.middle_name,
            Subject.name,
            locker.last_name.label("l_last"),
            locker.first_name.label("l_first"),
        )
        .join(Pupil, Pupil.id == PeriodMark.pupil_id)
        .join(User, User.id == Pupil.user_id)
        .join(Subject, Subject.id == PeriodMark.subject_id)
        .outerjoin(locker, locker.id == PeriodMark.locked_by_id)
        .where(PeriodMark.period_id == period_id, Pupil.class_id == class_id)
        .order_by(User.last_name, User.first_name, Subject.name)
    )
    out = [
        PeriodMarkRow(
            r.PeriodMark.id,
            full_name(r.last_name, r.first_name, r.middle_name),
            r.name,
            r.PeriodMark.value,
            r.PeriodMark.locked_at,
            full_name(r.l_last, r.l_first),
        )
        for r in rows
    ]
    audit.record(
        ctx.session,
        ctx.actor,
        "period_marks.view",
        ctx.now(),
        school_id=school_id,
        object_type="period",
        object_id=period_id,
        class_id=class_id,
    )
    return out
