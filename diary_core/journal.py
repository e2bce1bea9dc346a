"""The journal of a class and subject: the gradebook grid (pupils × lessons of a period, with
marks, attendance and period marks) and who last changed its cells; and a mark as the journal
shows it (:class:`MarkEntry`), which the pupil's report (:mod:`diary_core.pupil_report`)
shares.

Bulk reads: Core ``select()`` rows in a handful of queries, whatever the size. Staff reading
a pupil's personal data is written to the audit log (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, bindparam, func, select

from diary_core import audit
from diary_core.context import Ctx
from diary_core.errors import NotFound
from diary_core.grading import weighted_average
from diary_core.models import (
    Attendance,
    ChangeLogEntry,
    Lesson,
    Mark,
    Period,
    PeriodMark,
    Pupil,
    SchoolClass,
    Subject,
    User,
    WorkType,
)
from diary_core.policy import Action, ClassTarget, SubjectTarget


@dataclass(frozen=True)
class MarkEntry:
    """A mark as the journal shows it: with its work type's name and its lesson's topic."""

    id: int
    subject_id: int
    date: date
    value: str
    numeric: int | None
    weight: int
    counts: bool
    work_type: str
    comment: str
    lesson_id: int | None
    topic: str


def marks_average(marks: Iterable[MarkEntry]) -> Decimal | None:
    """The weighted average of the marks (:func:`diary_core.grading.weighted_average`)."""
    return weighted_average((m.numeric, m.weight, m.counts) for m in marks)


_MARK_COLUMNS = (
    Mark.id,
    Mark.subject_id,
    Mark.date,
    Mark.value,
    Mark.numeric,
    Mark.weight,
    Mark.counts,
    WorkType.name,
    Mark.comment,
    Mark.lesson_id,
)


def _audit_staff_read(ctx: Ctx, action: str, **fields: object) -> None:
    """Staff and operator reads of personal data are audited; a family's own reads are not."""
    if ctx.actor.is_staff or ctx.actor.system:
        audit.record(ctx.session, ctx.actor, action, ctx.now(), **fields)  # type: ignore[arg-type]


@dataclass(frozen=True)
class GridLesson:
    id: int
    date: date
    lesson_number: int
    topic: str
    homework: str


@dataclass
class GridRow:
    pupil_id: int
    full_name: str
    cells: dict[int, list[MarkEntry]] = field(default_factory=dict)  # lesson id → marks
    unplaced: list[MarkEntry] = field(default_factory=list)  # marks not tied to a lesson
    attendance: dict[int, str] = field(default_factory=dict)  # lesson id → н/б/оп
    period_mark: str | None = None
    period_mark_locked: bool = False  # signed off: no longer changed in the journal

    @property
    def marks(self) -> list[MarkEntry]:
        return [m for ms in self.cells.values() for m in ms] + self.unplaced

    @property
    def average(self) -> Decimal | None:
        return marks_average(self.marks)


@dataclass(frozen=True)
class Grid:
    class_id: int
    class_name: str
    subject_id: int
    subject: str
    period_id: int
    period_name: str
    lessons: list[GridLesson]
    rows: list[GridRow]


@dataclass(frozen=True)
class GridPeriod:
    id: int
    name: str
    kind: str  # quarter | trimester | half | year
    starts_on: date
    ends_on: date


@dataclass(frozen=True)
class GridPlace:
    """A class × subject journal whose reading the access policy allowed (``READ_GRADEBOOK``),
    and its school's periods: terms oldest first, then the year."""

    school_id: int
    class_id: int
    class_name: str
    subject_id: int
    subject_name: str
    periods: tuple[GridPeriod, ...]

    def period(self, period_id: int) -> GridPeriod:
        """One of the school's periods; any other is "not found"."""
        for period in self.periods:
            if period.id == period_id:
                return period
        raise NotFound("учебный период не найден")


# A grid is read on every gradebook page: its statements are built once, with bound parameters,
# and each reads what belongs together, in as few round trips as the page can have.
#
# The class with the subject asked for (missing, or another school's: the caller tells those
# apart) and the class's school's periods: a row per period.
_GRID_PLACE = (
    select(
        SchoolClass.school_id,
        SchoolClass.name,
        Subject.school_id,
        Subject.name,
        Period.id,
        Period.name,
        Period.kind,
        Period.starts_on,
        Period.ends_on,
    )
    .select_from(SchoolClass)
    .outerjoin(Subject, Subject.id == bindparam("subject_id"))
    .outerjoin(Period, Period.school_id == SchoolClass.school_id)
    .where(SchoolClass.id == bindparam("class_id"))
    .order_by(Period.kind == "year", Period.starts_on, Period.number)
)
# The period's lessons of the class and subject, each with its absences: a row per absence, or
# one without.
_GRID_LESSONS = (
    select(
        Lesson.id,
        Lesson.date,
        Lesson.lesson_number,
        Lesson.topic,
        Lesson.homework,
        Attendance.pupil_id,
        Attendance.kind,
    )
    .outerjoin(Attendance, Attendance.lesson_id == Lesson.id)
    .where(
        Lesson.class_id == bindparam("class_id"),
        Lesson.subject_id == bindparam("subject_id"),
        Lesson.date >= bindparam("start"),
        Lesson.date <= bindparam("end"),
    )
    .order_by(Lesson.date, Lesson.lesson_number)
)
# The class's pupils by name, each with his period mark (one per pupil, subject and period)
# and its lock.
_GRID_PUPILS = (
    select(
        Pupil.id,
        User.last_name,
        User.first_name,
        PeriodMark.value,
        PeriodMark.locked_at.is_not(None),
    )
    .join(User, User.id == Pupil.user_id)
    .outerjoin(
        PeriodMark,
        (PeriodMark.pupil_id == Pupil.id)
        & (PeriodMark.subject_id == bindparam("subject_id"))
        & (PeriodMark.period_id == bindparam("period_id")),
    )
    .where(Pupil.class_id == bindparam("class_id"))
    .order_by(User.last_name, User.first_name, Pupil.id)
)
# The class's pupils' marks of the subject in the period (a MarkEntry's fields, then the pupil
# id), by date and id. (Joined to the pupils above, the marks would need sorting by name too,
# which costs SQLite more than a statement of their own.)
_GRID_MARKS: Select[*tuple[Any, ...]] = (
    select(*_MARK_COLUMNS, func.coalesce(Lesson.topic, ""), Mark.pupil_id)
    .join(WorkType, WorkType.id == Mark.work_type_id)
    .outerjoin(Lesson, Lesson.id == Mark.lesson_id)
    .join(Pupil, Pupil.id == Mark.pupil_id)
    .where(
        Pupil.class_id == bindparam("class_id"),
        Mark.subject_id == bindparam("subject_id"),
        Mark.date >= bindparam("start"),
        Mark.date <= bindparam("end"),
    )
    .order_by(Mark.date, Mark.id)
)


async def grid_place(ctx: Ctx, class_id: int, subject_id: int) -> GridPlace:
    """A class × subject journal the actor may read (its teacher, the class teacher, the
    administration), with the school's periods, in one statement.

    Security decision: the policy's ``READ_GRADEBOOK`` is asked before any pupil data is read;
    another school's subject answers "not found", like a missing one."""
    ids = {"class_id": class_id, "subject_id": subject_id}
    found = (await ctx.session.execute(_GRID_PLACE, ids)).all()
    if not found:
        raise NotFound("класс не найден")
    school_id, class_name, subject_school, subject_name = found[0][:4]
    if subject_school != school_id:
        ctx.require(Action.READ_CLASS, ClassTarget(school_id, class_id))
        raise NotFound("предмет не найден")
    ctx.require(Action.READ_GRADEBOOK, SubjectTarget(school_id, class_id, subject_id))
    periods = tuple(GridPeriod(*r[4:]) for r in found if r[4] is not None)
    return GridPlace(school_id, class_id, class_name, subject_id, subject_name, periods)


async def gradebook_grid(ctx: Ctx, class_id: int, subject_id: int, period_id: int) -> Grid:
    """Pupils × lessons of one class and subject in a period, with marks and attendance."""
    place = await grid_place(ctx, class_id, subject_id)
    return await place_grid(ctx, place, place.period(period_id))


async def place_grid(ctx: Ctx, place: GridPlace, period: GridPeriod) -> Grid:
    """:func:`gradebook_grid` of a journal opened with :func:`grid_place`, for one of its
    periods (a caller that shows the periods has them without another lookup)."""
    ctx.require(
        Action.READ_GRADEBOOK, SubjectTarget(place.school_id, place.class_id, place.subject_id)
    )
    if period not in place.periods:
        raise NotFound("учебный период не найден")
    params = {
        "class_id": place.class_id,
        "subject_id": place.subject_id,
        "period_id": period.id,
        "start": period.starts_on,
        "end": period.ends_on,
    }
    # Core rows from the transaction's connection: for the grid's thousand-odd rows the ORM's
    # result machinery only adds time. (Flushed first, as the ORM's autoflush would.)
    await ctx.session.flush()
    db = await ctx.session.connection()
    lessons: dict[int, GridLesson] = {}
    absences: list[tuple[int, int, str]] = []
    for lesson_id, day, number, topic, homework, pupil_id, kind in await db.execute(
        _GRID_LESSONS, params
    ):
        if lesson_id not in lessons:
            lessons[lesson_id] = GridLesson(lesson_id, day, number, topic, homework)
        if pupil_id is not None:
            absences.append((pupil_id, lesson_id, kind))
    by_date: dict[date, int] = {}  # a mark without a lesson goes to its day's first lesson
    for lesson in reversed(lessons.values()):
        by_date[lesson.date] = lesson.id
    rows = {
        pupil_id: GridRow(pupil_id, f"{last} {first}", period_mark=final, period_mark_locked=locked)
        for pupil_id, last, first, final, locked in await db.execute(_GRID_PUPILS, params)
    }
    for r in await db.execute(_GRID_MARKS, params):
        row, mark = rows[r[-1]], MarkEntry(*r[:11])
        placed = mark.lesson_id or by_date.get(mark.date)
        if placed is None:
            row.unplaced.append(mark)
        else:
            row.cells.setdefault(placed, []).append(mark)
    for pupil_id, lesson_id, kind in absences:
        if pupil_id in rows:
            rows[pupil_id].attendance[lesson_id] = kind
    _audit_staff_read(
        ctx,
        "gradebook.read",
        school_id=place.school_id,
        object_type="class",
        object_id=place.class_id,
        subject_id=place.subject_id,
        period_id=period.id,
    )
    return Grid(
        place.class_id,
        place.class_name,
        place.subject_id,
        place.subject_name,
        period.id,
        period.name,
        list(lessons.values()),
        list(rows.values()),
    )


# How far back :func:`last_editors` looks in the pupils' change log: conflicts are about
# changes made while a page was open, the newest few.
_EDITORS_LOOKBACK = 1000


@dataclass(frozen=True)
class Editor:
    user_id: int | None  # None: the system (an import, the operator's command line)
    name: str


async def last_editors(
    ctx: Ctx, grid: Grid, cells: Collection[tuple[int, int | None]]
) -> dict[tuple[int, int | None], Editor]:
    """Who last changed each of these cells of a grid the actor has read, from the change
    log. A cell is (pupil id, lesson id), or (pupil id, ``None``) for the period mark; a mark
    without a lesson belongs to its day's first lesson, as in the grid. Cells the log says
    nothing of are left out; a change made by the system is named "система"."""
    pupils = sorted({pupil_id for pupil_id, _ in cells})
    if not pupils:
        return {}
    first_of_day: dict[str, int] = {}
    for lesson in reversed(grid.lessons):
        first_of_day[lesson.date.isoformat()] = lesson.id
    rows = await ctx.session.execute(
        select(
            ChangeLogEntry.pupil_id,
            ChangeLogEntry.entity,
            ChangeLogEntry.old,
            ChangeLogEntry.new,
            ChangeLogEntry.actor_id,
            User.last_name,
            User.first_name,
            User.middle_name,
        )
        .outerjoin(User, User.id == ChangeLogEntry.actor_id)
        .where(
            ChangeLogEntry.pupil_id.in_(pupils),
            ChangeLogEntry.entity.in_(("mark", "attendance", "period_mark")),
        )
        .order_by(ChangeLogEntry.id.desc())
        .limit(_EDITORS_LOOKBACK)
    )
    found: dict[tuple[int, int | None], Editor] = {}
    for pupil_id, entity, old, new, actor_id, *name in rows:
        snapshot: dict[str, Any] = new or old or {}
        if snapshot.get("subject_id") != grid.subject_id:
            continue
        place: int | None
        if entity == "period_mark":
            if snapshot.get("period_id") != grid.period_id:
                continue
            place = None
        else:
            place = snapshot.get("lesson_id") or first_of_day.get(str(snapshot.get("date")))
            if place is None:
                continue
        key = (pupil_id, place)
        if key in cells and key not in found:
            who = " ".join(part for part in name if part)
            found[key] = Editor(actor_id, who if actor_id is not None and who else "система")
    return found
