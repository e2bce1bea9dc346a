"""A pupil's report: his marks by subject with weighted averages, period marks and
attendance over a date range, read in one statement (every diary page reads it).

Staff reading a pupil's personal data is written to the audit log (docs/architecture.md).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import CompoundSelect, bindparam, func, literal, null, select, union_all

from diary_core import audit
from diary_core.context import Ctx
from diary_core.errors import NotFound
from diary_core.grading import suggested_period_mark
from diary_core.journal import MarkEntry, marks_average
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
from diary_core.policy import Action, PupilTarget


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
    marks: list[MarkEntry]
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
# part fills the columns it has: ``part``, then a MarkEntry's eleven fields (period marks put
# the period's id and attendance the lesson number where a mark has its id; both put their
# value, or the attendance kind, in ``value``), then the subject's name.
_MARK, _PERIOD_MARK, _ATTENDANCE = 0, 1, 2
_NOT_A_MARK = (null(),) * 7  # numeric, weight, counts, work type, comment, lesson, topic
_PUPIL_REPORT: CompoundSelect[*tuple[Any, ...]] = union_all(
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
    by_subject: dict[int, list[MarkEntry]] = defaultdict(list)
    periods: dict[int, dict[int, str]] = defaultdict(dict)
    names: dict[int, str] = {}  # subject id → name, read with the marks and period marks
    attendance: list[AttendanceRow] = []
    for r in rows:
        part, number, subject_id, day, value = r[:5]
        if part == _MARK:
            by_subject[subject_id].append(MarkEntry(*r[1:12]))
            names[subject_id] = r.subject
        elif part == _PERIOD_MARK:
            periods[subject_id][number] = value
            names[subject_id] = r.subject
        else:
            attendance.append(AttendanceRow(day, number, subject_id, value))
    subjects = [
        SubjectMarks(
            sid, names[sid], by_subject[sid], marks_average(by_subject[sid]), periods.get(sid, {})
        )
        for sid in sorted(set(by_subject) | set(periods), key=lambda s: names[s])
    ]
    if ctx.actor.is_staff or ctx.actor.system:  # a family's own reads are not audited
        audit.record(
            ctx.session,
            ctx.actor,
            "pupil.marks.read",
            ctx.now(),
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
