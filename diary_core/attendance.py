"""Attendance: a pupil absent (н), ill (б) or late (оп) at a lesson. Recorded by a teacher of
the lesson's class and subject, every change kept in the change log (old, new, who, when); read
by the family's diary newest first, with subject names, counted per subject and in all.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from diary_core.changes import attendance_snapshot, log_change
from diary_core.context import Ctx
from diary_core.errors import NotFound
from diary_core.grading import parse_attendance
from diary_core.journal_writes import actor_id, lock_pupils, pupil_to_write, stamps
from diary_core.models import Attendance, Lesson, Subject
from diary_core.policy import Action, SubjectTarget
from diary_core.pupil_report import PupilReport

ATTENDANCE_KINDS = ("н", "б", "оп")


@dataclass(frozen=True)
class Absence:
    date: date
    lesson_number: int
    subject: str
    kind: str  # н | б | оп


@dataclass(frozen=True)
class AttendanceLine:
    """One subject's counts of н (absent), б (ill) and оп (late)."""

    subject: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class AttendanceReport:
    absences: list[Absence]
    by_subject: list[AttendanceLine]
    totals: dict[str, int]


def summarize_attendance(absences: list[Absence]) -> AttendanceReport:
    """Counts per subject (by name) and in all, for each of н, б and оп."""
    per: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(ATTENDANCE_KINDS, 0))
    totals = dict.fromkeys(ATTENDANCE_KINDS, 0)
    for a in absences:
        per[a.subject][a.kind] = per[a.subject].get(a.kind, 0) + 1
        totals[a.kind] = totals.get(a.kind, 0) + 1
    lines = [AttendanceLine(s, per[s]) for s in sorted(per)]
    return AttendanceReport(absences, lines, totals)


async def pupil_attendance(ctx: Ctx, report: PupilReport) -> AttendanceReport:
    """The absences and lateness of a pupil's report (from
    :func:`diary_core.pupil_report.pupil_marks`, which checked the actor may read him), newest
    first, counted per subject."""
    names = {s.subject_id: s.subject for s in report.subjects}
    missing = {a.subject_id for a in report.attendance} - set(names)
    if missing:
        rows = await ctx.session.execute(
            select(Subject.id, Subject.name).where(
                Subject.id.in_(missing), Subject.school_id == report.school_id
            )
        )
        names.update({sid: name for sid, name in rows})
    absences = [
        Absence(a.date, a.lesson_number, names.get(a.subject_id, "—"), a.kind)
        for a in sorted(report.attendance, key=lambda a: (a.date, -a.lesson_number), reverse=True)
    ]
    return summarize_attendance(absences)


# --- recording ------------------------------------------------------------------------------


async def set_attendance(ctx: Ctx, *, pupil_id: int, lesson_id: int, kind: str | None) -> None:
    """Mark a pupil absent (н), ill (б) or late (оп) at a lesson; ``None`` clears it."""
    pupil = await pupil_to_write(ctx, pupil_id)
    lesson = await ctx.session.get(Lesson, lesson_id)
    if lesson is None or lesson.class_id != pupil.class_id:
        raise NotFound("урок не найден")
    ctx.require(
        Action.WRITE_MARKS, SubjectTarget(pupil.school_id, pupil.class_id, lesson.subject_id)
    )
    await lock_pupils(ctx, [pupil.id])
    existing = await ctx.session.scalar(
        select(Attendance).where(
            Attendance.pupil_id == pupil_id,
            Attendance.date == lesson.date,
            Attendance.lesson_number == lesson.lesson_number,
        )
    )
    now, who = ctx.now(), actor_id(ctx)
    common = {
        "school_id": pupil.school_id,
        "pupil_id": pupil.id,
        "entity": "attendance",
        "actor_id": who,
        "at": now,
    }
    if kind is None:
        if existing is not None:
            log_change(
                ctx.session,
                **common,
                entity_id=existing.id,
                action="delete",
                old=attendance_snapshot(existing),
                new=None,
            )
            await ctx.session.delete(existing)
            await ctx.session.flush()
        return
    code = parse_attendance(kind)
    if existing is not None:
        if existing.kind == code:
            return
        old = attendance_snapshot(existing)
        existing.kind, existing.updated_at, existing.updated_by_id = code, now, who
        await ctx.session.flush()
        log_change(
            ctx.session,
            **common,
            entity_id=existing.id,
            action="update",
            old=old,
            new=attendance_snapshot(existing),
        )
        return
    row = Attendance(
        school_id=pupil.school_id,
        pupil_id=pupil.id,
        lesson_id=lesson.id,
        subject_id=lesson.subject_id,
        date=lesson.date,
        lesson_number=lesson.lesson_number,
        kind=code,
        **stamps(ctx),
    )
    ctx.session.add(row)
    await ctx.session.flush()
    log_change(
        ctx.session,
        **common,
        entity_id=row.id,
        action="create",
        old=None,
        new=attendance_snapshot(row),
    )
