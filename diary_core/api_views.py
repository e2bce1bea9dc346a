"""Reads the JSON API needs that the pages do not: a pupil's attendance on its own.

Each read checks the access policy before it touches the data, and staff reads of a pupil's
personal data are written to the audit log, exactly as :mod:`diary_core.journal` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from diary_core import audit
from diary_core.context import Ctx
from diary_core.errors import InvalidInput, NotFound
from diary_core.models import Attendance, Pupil, Subject
from diary_core.policy import Action, PupilTarget


@dataclass(frozen=True)
class LessonAbsence:
    """A lesson the pupil missed, was ill for or came late to (``kind``)."""

    date: date
    lesson_number: int
    subject_id: int
    subject: str
    kind: str


@dataclass(frozen=True)
class PupilAttendance:
    pupil_id: int
    start: date
    end: date
    rows: list[LessonAbsence]


async def pupil_attendance(ctx: Ctx, pupil_id: int, start: date, end: date) -> PupilAttendance:
    """A pupil's absences, illnesses and lateness in a date range, oldest first.

    Who may: the policy's ``READ_PUPIL`` (his family; his class's teachers; the school's
    administration). Another family's pupil and a missing one both answer :class:`NotFound`.
    """
    if end < start:
        raise InvalidInput("конец периода раньше его начала", field="to")
    pupil = await ctx.session.get(Pupil, pupil_id)
    if pupil is None:
        raise NotFound("обучающийся не найден")
    ctx.require(Action.READ_PUPIL, PupilTarget(pupil.school_id, pupil.class_id, pupil.id))
    a = Attendance.__table__.c
    rows = await ctx.session.execute(
        select(a.date, a.lesson_number, a.subject_id, Subject.name, a.kind)
        .join(Subject, Subject.id == a.subject_id)
        .where(a.pupil_id == pupil_id, a.date >= start, a.date <= end)
        .order_by(a.date, a.lesson_number)
    )
    if ctx.actor.is_staff or ctx.actor.system:
        audit.record(
            ctx.session,
            ctx.actor,
            "pupil.attendance.read",
            ctx.now(),
            school_id=pupil.school_id,
            pupil_id=pupil.id,
            object_type="pupil",
            object_id=pupil.id,
        )
    return PupilAttendance(pupil.id, start, end, [LessonAbsence(*r) for r in rows])
