"""The school's structure for its administrator: classes, subjects, who teaches what."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from diary_core import school
from diary_core.admin_views.staff import StaffMember, short_name, staff_list
from diary_core.context import Ctx
from diary_core.errors import NotFound
from diary_core.models import (
    AcademicYear,
    Pupil,
    SchoolClass,
    Subject,
    TeachingAssignment,
    User,
)
from diary_core.policy import Action, SchoolTarget


@dataclass(frozen=True)
class Assignment:
    subject_name: str
    teacher_name: str


@dataclass(frozen=True)
class ClassRow:
    id: int
    name: str
    class_teacher_id: int | None
    class_teacher_name: str
    pupils: int
    assignments: tuple[Assignment, ...]


@dataclass(frozen=True)
class SubjectRow:
    id: int
    name: str


@dataclass(frozen=True)
class Structure:
    """The current year's classes, the school's subjects and its active staff."""

    year: AcademicYear | None
    classes: tuple[ClassRow, ...]
    subjects: tuple[SubjectRow, ...]
    staff: tuple[StaffMember, ...]


async def current_year_or_none(ctx: Ctx, school_id: int) -> AcademicYear | None:
    """The current academic year, or None while the school has none (no policy check)."""
    try:
        return await school.current_year(ctx, school_id)
    except NotFound:
        return None


async def _assignments(ctx: Ctx, class_ids: list[int]) -> dict[int, list[Assignment]]:
    rows = await ctx.session.execute(
        select(
            TeachingAssignment.class_id,
            Subject.name,
            User.last_name,
            User.first_name,
            User.middle_name,
        )
        .join(Subject, Subject.id == TeachingAssignment.subject_id)
        .join(User, User.id == TeachingAssignment.teacher_id)
        .where(TeachingAssignment.class_id.in_(class_ids))
        .order_by(Subject.name, User.last_name)
    )
    out: dict[int, list[Assignment]] = {}
    for r in rows:
        name = short_name(" ".join(p for p in (r.last_name, r.first_name, r.middle_name) if p))
        out.setdefault(r.class_id, []).append(Assignment(r.name, name))
    return out


async def _classes(ctx: Ctx, school_id: int, year: AcademicYear) -> tuple[ClassRow, ...]:
    pupils = select(func.count(Pupil.id)).where(Pupil.class_id == SchoolClass.id).scalar_subquery()
    rows = list(
        await ctx.session.execute(
            select(SchoolClass, User.last_name, User.first_name, User.middle_name, pupils)
            .outerjoin(User, User.id == SchoolClass.class_teacher_id)
            .where(SchoolClass.school_id == school_id, SchoolClass.year_id == year.id)
            .order_by(SchoolClass.grade, SchoolClass.name)
        )
    )
    assignments = await _assignments(ctx, [r.SchoolClass.id for r in rows])
    return tuple(
        ClassRow(
            id=r.SchoolClass.id,
            name=r.SchoolClass.name,
            class_teacher_id=r.SchoolClass.class_teacher_id,
            class_teacher_name=short_name(f"{r.last_name} {r.first_name} {r.middle_name}")
            if r.last_name
            else "",
            pupils=int(r[4]),
            assignments=tuple(assignments.get(r.SchoolClass.id, [])),
        )
        for r in rows
    )


async def school_structure(ctx: Ctx, school_id: int) -> Structure:
    """Classes of the current year with their class teachers, pupil counts and teaching
    assignments; subjects; active staff for the selects (``MANAGE_SCHOOL``)."""
    ctx.require(Action.MANAGE_SCHOOL, SchoolTarget(school_id))
    year = await current_year_or_none(ctx, school_id)
    subjects = await ctx.session.execute(
        select(Subject.id, Subject.name)
        .where(Subject.school_id == school_id)
        .order_by(Subject.name)
    )
    return Structure(
        year=year,
        classes=await _classes(ctx, school_id, year) if year else (),
        subjects=tuple(SubjectRow(r.id, r.name) for r in subjects),
        staff=tuple(await staff_list(ctx, school_id, active_only=True)),
    )
