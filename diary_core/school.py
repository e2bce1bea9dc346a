"""Setting up a school: years and periods, classes, subjects, work types, who teaches what."""

from __future__ import annotations

import re
from datetime import date, time

from sqlalchemy import select

from diary_core import audit
from diary_core.context import Ctx
from diary_core.errors import Conflict, InvalidInput, NotFound
from diary_core.models import (
    AcademicYear,
    BellTime,
    Period,
    School,
    SchoolClass,
    Subject,
    TeachingAssignment,
    WorkType,
)
from diary_core.policy import Action, ClassTarget, SchoolTarget
from diary_core.text import clean_line

#: The usual work types of a Russian school and their weights in the average.
DEFAULT_WORK_TYPES: tuple[tuple[str, int], ...] = (
    ("Ответ на уроке", 1),
    ("Домашняя работа", 1),
    ("Самостоятельная работа", 2),
    ("Практическая работа", 2),
    ("Диктант", 2),
    ("Контрольная работа", 3),
)

DEFAULT_BELLS: tuple[tuple[time, time], ...] = (
    (time(8, 30), time(9, 10)),
    (time(9, 20), time(10, 0)),
    (time(10, 20), time(11, 0)),
    (time(11, 20), time(12, 0)),
    (time(12, 10), time(12, 50)),
    (time(13, 0), time(13, 40)),
    (time(13, 50), time(14, 30)),
)

_CLASS_NAME = re.compile(r"^(1[01]|[1-9])([А-ЯЁ])?$")
PERIOD_KINDS = {"quarter": 4, "trimester": 3, "half": 2}
_PERIOD_TITLES = {"quarter": "четверть", "trimester": "триместр", "half": "полугодие"}


async def create_school(ctx: Ctx, name: str) -> School:
    """A new school in the deployment (the operator's act)."""
    if not ctx.actor.system:
        raise NotFound("школа не найдена")
    name = clean_line(name, "name", "Название школы").strip()
    if not name:
        raise InvalidInput("название школы не указано", field="name")
    if await ctx.session.scalar(select(School.id).where(School.name == name)):
        raise Conflict(f"школа «{name}» уже есть")
    school = School(name=name, created_at=ctx.now())
    ctx.session.add(school)
    await ctx.session.flush()
    audit.record(ctx.session, ctx.actor, "school.create", ctx.now(), school_id=school.id)
    return school


def year_start_for(today: date) -> int:
    """The first calendar year of the school year ``today`` belongs to: from September the
    year that has just begun, until August the one that began the September before (in the
    summer, the year just finished, as :func:`current_year` falls back to it)."""
    return today.year if today.month >= 9 else today.year - 1


async def create_regular_year(ctx: Ctx, school_id: int, start_year: int) -> AcademicYear:
    """The school year that starts on 1 September of ``start_year`` with the quarters of the
    usual calendar (1 September – 31 May between the autumn, winter and spring holidays; the
    same calendar the demo school keeps). Its periods are ordinary rows a school may edit."""
    from diary_core.demo.calendar import school_year

    calendar = school_year(start_year)
    return await create_year(
        ctx,
        school_id,
        calendar.name,
        calendar.starts_on,
        calendar.ends_on,
        period_kind="quarter",
        periods=list(calendar.quarters),
    )


async def set_up_school(ctx: Ctx, name: str, start_year: int) -> School:
    """A new school ready for its imports (the operator's act): the school year starting in
    ``start_year`` with its quarters, the usual work types and bell times, and the subjects
    of the federal basic curriculum, so classes, pupils and marks can be loaded at once."""
    from diary_core.demo.names import ALL_SUBJECTS

    new = await create_school(ctx, name)
    await create_regular_year(ctx, new.id, start_year)
    await create_work_types(ctx, new.id)
    await create_bells(ctx, new.id)
    for subject in ALL_SUBJECTS:
        await create_subject(ctx, new.id, subject)
    return new


async def school_by_name(ctx: Ctx, name: str) -> School:
    school = await ctx.session.scalar(select(School).where(School.name == name.strip()))
    if school is None:
        raise NotFound(f"школа «{name}» не найдена")
    ctx.require(Action.MANAGE_SCHOOL, SchoolTarget(school.id))
    return school


def split_periods(starts_on: date, ends_on: date, kind: str) -> list[tuple[date, date]]:
    """Equal-length periods covering the year (a school edits the dates if it needs to)."""
    count = PERIOD_KINDS.get(kind)
    if count is None:
        raise InvalidInput(f"неизвестный вид периода «{kind}»", field="kind")
    days = (ends_on - starts_on).days + 1
    bounds = [starts_on.toordinal() + days * i // count for i in range(count + 1)]
    return [
        (date.fromordinal(bounds[i]), date.fromordinal(bounds[i + 1] - 1)) for i in range(count)
    ]


async def create_year(
    ctx: Ctx,
    school_id: int,
    name: str,
    starts_on: date,
    ends_on: date,
    *,
    period_kind: str = "quarter",
    periods: list[tuple[date, date]] | None = None,
) -> AcademicYear:
    """An academic year with its periods and a ``year`` period for the year marks."""
    ctx.require(Action.MANAGE_SCHOOL, SchoolTarget(school_id))
    clean_line(name, "name", "Учебный год")
    if ends_on <= starts_on:
        raise InvalidInput("учебный год должен заканчиваться позже, чем начинается")
    year = AcademicYear(school_id=school_id, name=name, starts_on=starts_on, ends_on=ends_on)
    ctx.session.add(year)
    await ctx.session.flush()
    spans = periods or split_periods(starts_on, ends_on, period_kind)
    title = _PERIOD_TITLES.get(period_kind, period_kind)
    for number, (start, end) in enumerate(spans, start=1):
        ctx.session.add(
            Period(
                school_id=school_id,
                year_id=year.id,
                kind=period_kind,
                number=number,
                name=f"{number} {title}",
                starts_on=start,
                ends_on=end,
            )
        )
    ctx.session.add(
        Period(
            school_id=school_id,
            year_id=year.id,
            kind="year",
            number=1,
            name="Год",
            starts_on=starts_on,
            ends_on=ends_on,
        )
    )
    await ctx.session.flush()
    audit.record(ctx.session, ctx.actor, "year.create", ctx.now(), school_id=school_id, name=name)
    return year


async def current_year(ctx: Ctx, school_id: int, on: date | None = None) -> AcademicYear:
    """The year that contains ``on`` (today by default), else the latest one."""
    day = on or ctx.now().date()
    years = list(
        await ctx.session.scalars(
            select(AcademicYear)
            .where(AcademicYear.school_id == school_id)
            .order_by(AcademicYear.starts_on.desc())
        )
    )
    if not years:
        raise NotFound("в школе не заведён учебный год")
    return next((y for y in years if y.starts_on <= day <= y.ends_on), years[0])


def parse_class_name(raw: str) -> tuple[str, int]:
    """``"5а"`` → ``("5А", 5)``; a bad name is :class:`InvalidInput`."""
    clean_line(raw, "name", "Название класса")
    name = raw.strip().upper().replace(" ", "").replace("-", "")
    match = _CLASS_NAME.match(name)
    if not match:
        raise InvalidInput(f"неверное название класса «{raw}» (ожидается, например, 5А)")
    return name, int(match.group(1))


async def create_class(
    ctx: Ctx, school_id: int, year_id: int, name: str, class_teacher_id: int | None = None
) -> SchoolClass:
    ctx.require(Action.MANAGE_SCHOOL, SchoolTarget(school_id))
    norm, grade = parse_class_name(name)
    cls = SchoolClass(
        school_id=school_id, year_id=year_id, name=norm, grade=grade, class_teacher_id=None
    )
    ctx.session.add(cls)
    await ctx.session.flush()
    if class_teacher_id is not None:
        await set_class_teacher(ctx, cls, class_teacher_id)
    audit.record(ctx.session, ctx.actor, "class.create", ctx.now(), school_id=school_id, name=norm)
    return cls


async def set_class_teacher(ctx: Ctx, cls: SchoolClass, teacher_id: int) -> None:
    from diary_core.accounts import add_role, require_staff_of

    ctx.require(Action.MANAGE_SCHOOL, SchoolTarget(cls.school_id))
    await require_staff_of(ctx, teacher_id, cls.school_id)
    cls.class_teacher_id = teacher_id
    await add_role(ctx, teacher_id, "class_teacher")
    await ctx.session.flush()


async def get_class(ctx: Ctx, class_id: int) -> SchoolClass:
    cls = await ctx.session.get(SchoolClass, class_id)
    if cls is None:
        raise NotFound("класс не найден")
    ctx.require(Action.READ_CLASS, ClassTarget(cls.school_id, cls.id))
    return cls


async def create_subject(ctx: Ctx, school_id: int, name: str) -> Subject:
    ctx.require(Action.MANAGE_SCHOOL, SchoolTarget(school_id))
    subject = Subject(school_id=school_id, name=clean_line(name, "name", "Предмет").strip())
    ctx.session.add(subject)
    await ctx.session.flush()
    return subject


async def create_work_types(
    ctx: Ctx, school_id: int, types: tuple[tuple[str, int], ...] = DEFAULT_WORK_TYPES
) -> list[WorkType]:
    ctx.require(Action.MANAGE_SCHOOL, SchoolTarget(school_id))
    created = [
        WorkType(school_id=school_id, name=clean_line(n, "name", "Вид работы"), weight=w)
        for n, w in types
    ]
    ctx.session.add_all(created)
    await ctx.session.flush()
    return created


async def create_bells(
    ctx: Ctx, school_id: int, bells: tuple[tuple[time, time], ...] = DEFAULT_BELLS
) -> None:
    ctx.require(Action.MANAGE_SCHOOL, SchoolTarget(school_id))
    ctx.session.add_all(
        BellTime(school_id=school_id, number=i, starts_at=s, ends_at=e)
        for i, (s, e) in enumerate(bells, start=1)
    )
    await ctx.session.flush()


async def assign_teacher(
    ctx: Ctx, class_id: int, subject_id: int, teacher_id: int
) -> TeachingAssignment:
    """Teacher × class × subject: from now on he may mark this class in this subject."""
    from diary_core.accounts import require_staff_of

    cls = await ctx.session.get(SchoolClass, class_id)
    subject = await ctx.session.get(Subject, subject_id)
    if cls is None or subject is None or subject.school_id != cls.school_id:
        raise NotFound("класс или предмет не найден")
    ctx.require(Action.MANAGE_SCHOOL, SchoolTarget(cls.school_id))
    await require_staff_of(ctx, teacher_id, cls.school_id)
    assignment = TeachingAssignment(
        school_id=cls.school_id, class_id=class_id, subject_id=subject_id, teacher_id=teacher_id
    )
    ctx.session.add(assignment)
    await ctx.session.flush()
    audit.record(
        ctx.session,
        ctx.actor,
        "assignment.create",
        ctx.now(),
        school_id=cls.school_id,
        object_type="assignment",
        object_id=assignment.id,
    )
    return assignment
