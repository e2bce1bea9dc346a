"""Reading marks: one pupil's marks by subject, and a class-subject gradebook grid.

Both are bulk reads: Core ``select()`` rows in a handful of queries, whatever the size.
Staff reading a pupil's personal data is written to the audit log (docs/architecture.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import CompoundSelect, Select, bindparam, func, literal, null, select, union_all

from diary_core import audit
from diary_core.context import Ctx
from diary_core.errors import NotFound
from diary_core.grading import suggested_period_mark, weighted_average
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
from diary_core.policy import Action, ClassTarget, PupilTarget, SubjectTarget


@dataclass(frozen=True)
class MarkRow:
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


@dataclass(frozen=True)
class AttendanceRow:
    date: date
    lesson_number: int
    subject_id: int
    kind: str


@dataclass(frozen=True)
class SubjectMarks:
    subject_id: int
    subject: str
    marks: list[MarkRow]
    average: Decimal | None
    period_marks: dict[int, str]  # period id → mark

    @property
    def suggested(self) -> int | None:
        return suggested_period_mark(self.average)


@dataclass(frozen=True)
class PupilReport:
    pupil_id: int
    full_name: str
    class_id: int
    class_name: str
    school_id: int
    start: date
    end: date
    subjects: list[SubjectMarks]
    attendance: list[AttendanceRow]


def _average(marks: list[MarkRow]) -> Decimal | None:
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


def _marks_query(start: date, end: date) -> Select[*tuple[Any, ...]]:
    """Marks in a date range with their work type and lesson topic; the last column is the
    pupil id."""
    return (
        select(*_MARK_COLUMNS, func.coalesce(Lesson.topic, ""), Mark.pupil_id)
        .join(WorkType, WorkType.id == Mark.work_type_id)
        .outerjoin(Lesson, Lesson.id == Mark.lesson_id)
        .where(Mark.date >= start, Mark.date <= end)
    )


# A pupil's report is read on every diary page: its statements are built once, with bound
# parameters, so a request pays neither for building them nor for their cache keys.
_PUPIL_PLACE = (
    select(
        Pupil.school_id,
        Pupil.class_id,
        SchoolClass.name,
        User.last_name,
        User.first_name,
        User.middle_name,
    )
    .join(User, User.id == Pupil.user_id)
    .join(SchoolClass, SchoolClass.id == Pupil.class_id)
    .where(Pupil.id == bindparam("pupil_id"))
)
# The report's data in one statement, one row per mark, period mark or attendance entry. Each
# part fills the columns it has: ``part``, then a MarkRow's eleven fields (period marks put
# the period's id and attendance the lesson number where a mark has its id; both put their
# value, or the attendance kind, in ``value``), then the subject's name.
_MARK, _PERIOD_MARK, _ATTENDANCE = 0, 1, 2
_NOT_A_MARK = (null(),) * 7  # numeric, weight, counts, work type, comment, lesson, topic
_PUPIL_REPORT: CompoundSelect = union_all(
    select(
        literal(_MARK).label("part"),
        Mark.id.label("number"),
        Mark.subject_id,
        Mark.date.label("day"),
        Mark.value,
        Mark.numeric,
        Mark.weight,
        Mark.counts,
        WorkType.name,
        Mark.comment,
        Mark.lesson_id,
        func.coalesce(Lesson.topic, ""),
        Subject.name.label("subject"),
    )
    .join(WorkType, WorkType.id == Mark.work_type_id)
    .outerjoin(Lesson, Lesson.id == Mark.lesson_id)
    .join(Subject, Subject.id == Mark.subject_id)
    .where(
        Mark.pupil_id == bindparam("pupil_id"),
        Mark.date >= bindparam("start"),
        Mark.date <= bindparam("end"),
    ),
    select(
        literal(_PERIOD_MARK),
        PeriodMark.period_id,
        PeriodMark.subject_id,
        null(),
        PeriodMark.value,
        *_NOT_A_MARK,
        Subject.name,
    )
    .join(Period, Period.id == PeriodMark.period_id)
    .join(Subject, Subject.id == PeriodMark.subject_id)
    .where(
        PeriodMark.pupil_id == bindparam("pupil_id"),
        Period.starts_on <= bindparam("end"),
        Period.ends_on >= bindparam("start"),
    ),
    select(
        literal(_ATTENDANCE),
        Attendance.lesson_number,
        Attendance.subject_id,
        Attendance.date,
        Attendance.kind,
        *_NOT_A_MARK,
        null(),
    ).where(
        Attendance.pupil_id == bindparam("pupil_id"),
        Attendance.date >= bindparam("start"),
        Attendance.date <= bindparam("end"),
    ),
).order_by("part", "day", "number")  # marks by date and id, attendance by date and lesson


def _audit_staff_read(ctx: Ctx, action: str, **fields: object) -> None:
    """Staff and operator reads of personal data are audited; a family's own reads are not."""
    if ctx.actor.is_staff or ctx.actor.system:
        audit.record(ctx.session, ctx.actor, action, ctx.now(), **fields)  # type: ignore[arg-type]


async def pupil_marks(ctx: Ctx, pupil_id: int, start: date, end: date) -> PupilReport:
    """A pupil's marks by subject with weighted averages, period marks and attendance."""
    place = (await ctx.session.execute(_PUPIL_PLACE, {"pupil_id": pupil_id})).first()
    if place is None:
        raise NotFound("обучающийся не найден")
    school_id, class_id, class_name, *full_name = place
    ctx.require(Action.READ_PUPIL, PupilTarget(school_id, class_id, pupil_id))
    rows = await ctx.session.execute(
        _PUPIL_REPORT, {"pupil_id": pupil_id, "start": start, "end": end}
    )
    by_subject: dict[int, list[MarkRow]] = defaultdict(list)
    periods: dict[int, dict[int, str]] = defaultdict(dict)
    names: dict[int, str] = {}  # subject id → name, read with the marks and period marks
    attendance: list[AttendanceRow] = []
    for r in rows:
        part, number, subject_id, day, value = r[:5]
        if part == _MARK:
            by_subject[subject_id].append(MarkRow(*r[1:12]))
            names[subject_id] = r.subject
        elif part == _PERIOD_MARK:
            periods[subject_id][number] = value
            names[subject_id] = r.subject
        else:
            attendance.append(AttendanceRow(day, number, subject_id, value))
    subjects = [
        SubjectMarks(
            sid, names[sid], by_subject[sid], _average(by_subject[sid]), periods.get(sid, {})
        )
        for sid in sorted(set(by_subject) | set(periods), key=lambda s: names[s])
    ]
    _audit_staff_read(
        ctx,
        "pupil.marks.read",
        school_id=school_id,
        pupil_id=pupil_id,
        object_type="pupil",
        object_id=pupil_id,
    )
    return PupilReport(
        pupil_id,
        " ".join(p for p in full_name if p),
        class_id,
        class_name,
        school_id,
        start,
        end,
        subjects,
        attendance,
    )


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
    cells: dict[int, list[MarkRow]] = field(default_factory=dict)  # lesson id → marks
    unplaced: list[MarkRow] = field(default_factory=list)  # marks not tied to a lesson
    attendance: dict[int, str] = field(default_factory=dict)  # lesson id → н/б/оп
    period_mark: str | None = None
    period_mark_locked: bool = False  # signed off: no longer changed in the journal

    @property
    def marks(self) -> list[MarkRow]:
        return [m for ms in self.cells.values() for m in ms] + self.unplaced

    @property
    def average(self) -> Decimal | None:
        return _average(self.marks)


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
# The class's pupils' marks of the subject in the period (a MarkRow's fields, then the pupil
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
        row, mark = rows[r[-1]], MarkRow(*r[:11])
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
