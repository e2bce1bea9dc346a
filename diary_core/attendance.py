"""A pupil's absences and lateness as the family's diary shows them: newest first, with
subject names, counted per subject and in all.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from diary_core.context import Ctx
from diary_core.journal import PupilReport
from diary_core.models import (
    Subject,
)

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
    """The absences and lateness of a pupil's report (from :func:`journal.pupil_marks`, which
    checked the actor may read him), newest first, counted per subject."""
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
