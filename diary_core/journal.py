"""Reading marks: one pupil's marks by subject, and a class-subject gradebook grid.

Both are bulk reads: Core ``select()`` rows in a handful of queries, whatever the size.
Staff reading a pupil's personal data is written to the audit log (DESIGN §2).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, func, select

from diary_core import audit
from diary_core.context import Ctx
from diary_core.errors import NotFound
from diary_core.grading import suggested_period_mark, weighted_average
from diary_core.models import (
    Attendance,
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


async def _pupil_place(ctx: Ctx, pupil_id: int) -> tuple[Pupil, str, str]:
    row = (
        await ctx.session.execute(
            select(Pupil, User.last_name, User.first_name, User.middle_name, SchoolClass.name)
            .join(User, User.id == Pupil.user_id)
            .join(SchoolClass, SchoolClass.id == Pupil.class_id)
            .where(Pupil.id == pupil_id)
        )
    ).first()
    if row is None:
        raise NotFound("обучающийся не найден")
    name = " ".join(p for p in (row.last_name, row.first_name, row.middle_name) if p)
    return row.Pupil, name, row.name


def _audit_staff_read(ctx: Ctx, action: str, **fields: object) -> None:
    """Staff and operator reads of personal data are audited; a family's own reads are not."""
    if ctx.actor.is_staff or ctx.actor.system:
        audit.record(ctx.session, ctx.actor, action, ctx.now(), **fields)  # type: ignore[arg-type]


async def pupil_marks(ctx: Ctx, pupil_id: int, start: date, end: date) -> PupilReport:
    """A pupil's marks by subject with weighted averages, period marks and attendance."""
    pupil, name, class_name = await _pupil_place(ctx, pupil_id)
    ctx.require(Action.READ_PUPIL, PupilTarget(pupil.school_id, pupil.class_id, pupil.id))
    rows = await ctx.session.execute(
        _marks_query(start, end)
        .add_columns(Subject.name)
        .join(Subject, Subject.id == Mark.subject_id)
        .where(Mark.pupil_id == pupil_id)
        .order_by(Mark.date, Mark.id)
    )
    by_subject: dict[int, list[MarkRow]] = defaultdict(list)
    names: dict[int, str] = {}  # subject id → name, read with the marks (no query of its own)
    for r in rows:
        by_subject[r[1]].append(MarkRow(*r[:11]))
        names[r[1]] = r[-1]
    period_rows = await ctx.session.execute(
        select(PeriodMark.subject_id, PeriodMark.period_id, PeriodMark.value, Subject.name)
        .join(Period, Period.id == PeriodMark.period_id)
        .join(Subject, Subject.id == PeriodMark.subject_id)
        .where(
            PeriodMark.pupil_id == pupil_id,
            and_(Period.starts_on <= end, Period.ends_on >= start),
        )
    )
    periods: dict[int, dict[int, str]] = defaultdict(dict)
    for subject_id, period_id, value, subject_name in period_rows:
        periods[subject_id][period_id] = value
        names[subject_id] = subject_name
    subject_ids = set(by_subject) | set(periods)
    subjects = [
        SubjectMarks(
            sid, names[sid], by_subject[sid], _average(by_subject[sid]), periods.get(sid, {})
        )
        for sid in sorted(subject_ids, key=lambda s: names[s])
    ]
    attendance = [
        AttendanceRow(*r)
        for r in await ctx.session.execute(
            select(
                Attendance.date, Attendance.lesson_number, Attendance.subject_id, Attendance.kind
            )
            .where(
                Attendance.pupil_id == pupil_id,
                Attendance.date >= start,
                Attendance.date <= end,
            )
            .order_by(Attendance.date, Attendance.lesson_number)
        )
    ]
    _audit_staff_read(
        ctx,
        "pupil.marks.read",
        school_id=pupil.school_id,
        pupil_id=pupil.id,
        object_type="pupil",
        object_id=pupil.id,
    )
    return PupilReport(
        pupil.id,
        name,
        pupil.class_id,
        class_name,
        pupil.school_id,
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


async def _class_subject_period(
    ctx: Ctx, class_id: int, subject_id: int, period_id: int
) -> tuple[SchoolClass, Subject, Period]:
    cls = await ctx.session.get(SchoolClass, class_id)
    if cls is None:
        raise NotFound("класс не найден")
    subject = await ctx.session.get(Subject, subject_id)
    if subject is None or subject.school_id != cls.school_id:
        ctx.require(Action.READ_CLASS, ClassTarget(cls.school_id, cls.id))
        raise NotFound("предмет не найден")
    ctx.require(Action.READ_GRADEBOOK, SubjectTarget(cls.school_id, cls.id, subject.id))
    period = await ctx.session.get(Period, period_id)
    if period is None or period.school_id != cls.school_id:
        raise NotFound("учебный период не найден")
    return cls, subject, period


async def gradebook_grid(ctx: Ctx, class_id: int, subject_id: int, period_id: int) -> Grid:
    """Pupils × lessons of one class and subject in a period, with marks and attendance."""
    cls, subject, period = await _class_subject_period(ctx, class_id, subject_id, period_id)
    start, end = period.starts_on, period.ends_on
    pupils = await ctx.session.execute(
        select(Pupil.id, User.last_name, User.first_name)
        .join(User, User.id == Pupil.user_id)
        .where(Pupil.class_id == class_id)
        .order_by(User.last_name, User.first_name, Pupil.id)
    )
    rows = {pid: GridRow(pid, f"{last} {first}") for pid, last, first in pupils}
    lessons = [
        GridLesson(*r)
        for r in await ctx.session.execute(
            select(Lesson.id, Lesson.date, Lesson.lesson_number, Lesson.topic, Lesson.homework)
            .where(
                Lesson.class_id == class_id,
                Lesson.subject_id == subject_id,
                Lesson.date >= start,
                Lesson.date <= end,
            )
            .order_by(Lesson.date, Lesson.lesson_number)
        )
    ]
    by_date: dict[date, int] = {}
    for lesson in reversed(lessons):
        by_date[lesson.date] = lesson.id
    marks = await ctx.session.execute(
        _marks_query(start, end)
        .where(Mark.pupil_id.in_(list(rows)), Mark.subject_id == subject_id)
        .order_by(Mark.date, Mark.id)
    )
    for r in marks:
        row, mark = rows[r[-1]], MarkRow(*r[:11])
        lesson_id = mark.lesson_id or by_date.get(mark.date)
        if lesson_id is None:
            row.unplaced.append(mark)
        else:
            row.cells.setdefault(lesson_id, []).append(mark)
    lesson_ids = [lesson.id for lesson in lessons]
    absences = await ctx.session.execute(
        select(Attendance.pupil_id, Attendance.lesson_id, Attendance.kind).where(
            Attendance.lesson_id.in_(lesson_ids)
        )
    )
    for pupil_id, lesson_id, kind in absences:
        if pupil_id in rows and lesson_id is not None:
            rows[pupil_id].attendance[lesson_id] = kind
    finals = await ctx.session.execute(
        select(PeriodMark.pupil_id, PeriodMark.value).where(
            PeriodMark.pupil_id.in_(list(rows)),
            PeriodMark.subject_id == subject_id,
            PeriodMark.period_id == period_id,
        )
    )
    for pupil_id, value in finals:
        rows[pupil_id].period_mark = value
    _audit_staff_read(
        ctx,
        "gradebook.read",
        school_id=cls.school_id,
        object_type="class",
        object_id=cls.id,
        subject_id=subject_id,
        period_id=period_id,
    )
    return Grid(
        cls.id,
        cls.name,
        subject.id,
        subject.name,
        period.id,
        period.name,
        lessons,
        list(rows.values()),
    )
