"""The period marks of a generated year: for every period already over, each pupil's mark
in each subject as his teacher puts it (the mark the weighted average suggests; pass/fail
subjects and pupils exempt from PE as Russian schools mark them), with its change-log entry;
in the demo school signed off and locked by the deputy director a week after the period.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any, cast

from diary_core import grading
from diary_core.changes import change_row, period_mark_snapshot
from diary_core.demo import names
from diary_core.demo.bulk import Row, Writer
from diary_core.demo.calendar import LOCAL, clamp, local_dt
from diary_core.demo.structure import Built
from diary_core.models import ChangeLogEntry, PeriodMark

#: Per (pupil, subject): each quarter's numeric marks as (value, weight, counted) entries.
Grades = dict[tuple[int, str], list[list[tuple[int | None, int, bool]]]]
#: Per (pupil, subject) of a pass/fail subject: each quarter's «зач»/«незач».
Passes = dict[tuple[int, str], list[list[str]]]


class PeriodMarks:
    """Writes one school's period marks from the marks its journal put (the caller commits)."""

    def __init__(
        self,
        w: Writer,
        b: Built,
        asof: datetime,
        grades: Grades,
        passes: Passes,
        *,
        lock_after: timedelta | None = None,
    ) -> None:
        self.w, self.b, self.asof = w, b, asof
        self.today = asof.astimezone(LOCAL).date()
        self.plan = b.plan
        self.grades, self.passes = grades, passes
        self.lock_after = lock_after

    def _period_value(self, p: int, subject: str, quarter: int | None) -> tuple[str, int | None]:
        """The period mark the teacher puts: the one the weighted average suggests; for a
        pass/fail subject "зач" if anything was passed; "осв" for a pupil exempt from PE."""
        if subject == names.PE and self.plan.pupils[p].pe_exempt:
            return "осв", None
        passes = self.passes.get((p, subject))
        if passes is not None:
            values = [v for q in passes for v in q] if quarter is None else passes[quarter]
            if not values:
                return "", None
            return ("зач" if "зач" in values else "незач"), None
        quarters = self.grades.get((p, subject), [[], [], [], []])
        if quarter is None:
            marks = [(self._quarter_numeric(p, subject, q), 1, True) for q in range(len(quarters))]
        else:
            marks = quarters[quarter]
        mark = grading.suggested_period_mark(grading.weighted_average(marks))
        return ("", None) if mark is None else (str(mark), mark)

    def _quarter_numeric(self, p: int, subject: str, quarter: int) -> int | None:
        marks = self.grades.get((p, subject), [[], [], [], []])[quarter]
        return grading.suggested_period_mark(grading.weighted_average(marks))

    def _finished(self) -> list[tuple[int | None, int, date]]:
        """(quarter or None for the year, period id, last day) of the periods already over."""
        year = self.plan.year
        done: list[tuple[int | None, int, date]] = [
            (q, self.b.quarter_ids[q], last)
            for q, (_, last) in enumerate(year.quarters)
            if last < self.today
        ]
        if year.ends_on < self.today:
            done.append((None, self.b.year_period_id, year.ends_on))
        return done

    async def run(self) -> None:
        """The period marks of every period already over, for every pupil of grade 2 and up."""
        rows: list[Row] = []
        for quarter, period_id, last in self._finished():
            on = self.plan.year.last_school_day(last - timedelta(days=20), last)
            at = clamp(local_dt(on, time(15, 0)), self.asof)
            for ci, cls in enumerate(self.plan.classes):
                if cls.grade < 2:
                    continue
                for course in self.plan.courses[ci]:
                    for p in cls.pupils:
                        value, numeric = self._period_value(p, course.subject, quarter)
                        if value:
                            row = self._period_row(p, course.subject, course.teacher, period_id, at)
                            row["value"], row["numeric"] = value, numeric
                            rows.append(row)
        if rows:
            await self.w.submit(lambda: self._write_period_marks(rows))

    def _period_row(self, p: int, subject: str, teacher: int, period_id: int, at: datetime) -> Row:
        b = self.b
        tid = b.teacher_ids[teacher]
        locked = self.lock_after is not None and at + self.lock_after <= self.asof
        return {
            "school_id": b.school_id,
            "pupil_id": b.pupil_ids[p],
            "subject_id": b.subjects[subject],
            "period_id": period_id,
            "locked_at": at + timedelta(days=3) if locked else None,
            "locked_by_id": b.deputy_id if locked else None,
            "created_at": at,
            "created_by_id": tid,
            "updated_at": at,
            "updated_by_id": tid,
        }

    async def _write_period_marks(self, rows: list[Row]) -> None:
        """Period marks with their history: put by the subject teacher, then (the demo school,
        a week after the period) signed off and locked by the deputy director."""
        if not rows:
            return
        ids = await self.w.ids.take(PeriodMark, len(rows))
        log: list[Row] = []
        for row, rid in zip(rows, ids, strict=True):
            row["id"] = rid
            put = period_mark_snapshot(
                cast(PeriodMark, SimpleNamespace(**{**row, "locked_at": None}))
            )
            log.append(self._period_change(row, "create", None, put, row["created_by_id"]))
            if row["locked_at"] is not None:
                signed = period_mark_snapshot(cast(PeriodMark, SimpleNamespace(**row)))
                log.append(self._period_change(row, "update", put, signed, row["locked_by_id"]))
        await self.w.write(PeriodMark, rows)
        log.sort(key=lambda r: r["at"])
        await self.w.write(ChangeLogEntry, log)

    def _period_change(
        self, row: Row, action: str, old: Any, new: Any, actor_id: int | None
    ) -> Row:
        at = row["created_at"] if action == "create" else row["locked_at"]
        return change_row(
            school_id=row["school_id"],
            pupil_id=row["pupil_id"],
            entity="period_mark",
            entity_id=row["id"],
            action=action,
            old=old,
            new=new,
            actor_id=actor_id,
            at=at,
            reason="" if action == "create" else "подписание ведомости",
        )
