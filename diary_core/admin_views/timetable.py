"""The weekly timetable editor's read: a class's timetable versions, who published each and
when (docs/regulation.md, clause 6.2), and the slots of the one being edited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from diary_core.admin_views.classes import SubjectRow
from diary_core.admin_views.staff import StaffMember, staff_rows
from diary_core.context import Ctx
from diary_core.errors import NotFound
from diary_core.models import BellTime, SchoolClass, Subject, Timetable, TimetableSlot, User
from diary_core.policy import Action, ClassTarget
from diary_core.timetable import SlotInput

DEFAULT_LESSONS = 7  # rows offered per day when the school has no bell times yet


@dataclass(frozen=True)
class Version:
    id: int
    valid_from: date
    published_at: datetime | None
    published_by: str
    updated_at: datetime
    slots: int


@dataclass(frozen=True)
class ClassChoice:
    id: int
    name: str


@dataclass(frozen=True)
class Editor:
    """Everything the editor shows for one class."""

    class_id: int
    class_name: str
    classes: tuple[ClassChoice, ...]
    versions: tuple[Version, ...]
    selected: Version | None
    slots: dict[tuple[int, int], SlotInput]
    lesson_numbers: tuple[int, ...]
    subjects: tuple[SubjectRow, ...]
    teachers: tuple[StaffMember, ...]


async def _versions(ctx: Ctx, class_id: int) -> tuple[Version, ...]:
    slots = (
        select(func.count(TimetableSlot.id))
        .where(TimetableSlot.timetable_id == Timetable.id)
        .scalar_subquery()
    )
    rows = await ctx.session.execute(
        select(Timetable, User.last_name, User.first_name, User.middle_name, slots)
        .outerjoin(User, User.id == Timetable.published_by_id)
        .where(Timetable.class_id == class_id)
        # newest first; a draft correction before the published version of its date
        .order_by(Timetable.valid_from.desc(), Timetable.published_at.is_not(None))
    )
    return tuple(
        Version(
            r.Timetable.id,
            r.Timetable.valid_from,
            r.Timetable.published_at,
            " ".join(p for p in (r.last_name, r.first_name, r.middle_name) if p),
            r.Timetable.updated_at,
            int(r[4]),
        )
        for r in rows
    )


async def _slots(ctx: Ctx, timetable_id: int) -> dict[tuple[int, int], SlotInput]:
    rows = await ctx.session.scalars(
        select(TimetableSlot).where(TimetableSlot.timetable_id == timetable_id)
    )
    return {
        (s.weekday, s.lesson_number): SlotInput(
            s.weekday, s.lesson_number, s.subject_id, s.teacher_id, s.room
        )
        for s in rows
    }


async def _lesson_numbers(ctx: Ctx, school_id: int, used: set[int]) -> tuple[int, ...]:
    bells = set(
        await ctx.session.scalars(select(BellTime.number).where(BellTime.school_id == school_id))
    )
    return tuple(sorted((bells or set(range(1, DEFAULT_LESSONS + 1))) | used))


async def _classes(ctx: Ctx, cls: SchoolClass) -> tuple[ClassChoice, ...]:
    rows = await ctx.session.execute(
        select(SchoolClass.id, SchoolClass.name)
        .where(SchoolClass.school_id == cls.school_id, SchoolClass.year_id == cls.year_id)
        .order_by(SchoolClass.grade, SchoolClass.name)
    )
    return tuple(ClassChoice(r.id, r.name) for r in rows)


async def timetable_editor(ctx: Ctx, class_id: int, timetable_id: int | None = None) -> Editor:
    """The class's timetables, newest first, and the slots of ``timetable_id`` (default: the
    newest). Who may: the policy's ``PUBLISH_TIMETABLE`` on the class; another school's
    class, or a timetable of another class, is "not found"."""
    cls = await ctx.session.get(SchoolClass, class_id)
    if cls is None:
        raise NotFound("класс не найден")
    ctx.require(Action.PUBLISH_TIMETABLE, ClassTarget(cls.school_id, cls.id))
    versions = await _versions(ctx, cls.id)
    selected = versions[0] if versions and timetable_id is None else None
    if timetable_id is not None:
        selected = next((v for v in versions if v.id == timetable_id), None)
        if selected is None:
            raise NotFound("расписание не найдено")
    slots = await _slots(ctx, selected.id) if selected else {}
    subjects = await ctx.session.execute(
        select(Subject.id, Subject.name)
        .where(Subject.school_id == cls.school_id)
        .order_by(Subject.name)
    )
    return Editor(
        class_id=cls.id,
        class_name=cls.name,
        classes=await _classes(ctx, cls),
        versions=versions,
        selected=selected,
        slots=slots,
        lesson_numbers=await _lesson_numbers(ctx, cls.school_id, {n for _, n in slots}),
        subjects=tuple(SubjectRow(r.id, r.name) for r in subjects),
        teachers=tuple(await staff_rows(ctx.session, cls.school_id, active_only=True)),
    )
