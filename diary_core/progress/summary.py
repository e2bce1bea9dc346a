"""A pupil's progress records from the rows it is read as: the marks, absences and period
marks, and each subject's weighted average (:mod:`diary_core.grading`). Pure: no database,
so the export's worker processes run it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import partial
from itertools import groupby
from operator import itemgetter

from diary_core.grading import rounded_average
from diary_core.progress.model import (
    GradingPeriod,
    PeriodMarkEntry,
    Progress,
    ProgressAbsence,
    ProgressMark,
    SubjectAverage,
)
from diary_core.progress.rows import ProgressRows, PupilRows, Row
from diary_core.progress.statements import pupil_info_of


def _by_pupil(rows: list[Row]) -> dict[int, list[Row]]:
    """Rows by their first column, the pupil id (they are ordered by it)."""
    return {pupil_id: list(group) for pupil_id, group in groupby(rows, _PUPIL_ID)}


_PUPIL_ID = itemgetter(0)


def assemble(rows: ProgressRows) -> dict[int, Progress]:
    """Each pupil's :class:`Progress` (in pupil id order) from
    :func:`~diary_core.progress.reading.load_progress_rows`."""
    return {p.pupil.id: p for p in iter_progress(rows)}


def iter_progress(rows: ProgressRows) -> Iterator[Progress]:
    """:func:`assemble` one pupil at a time (the export keeps one document in memory)."""
    return map(progress_of, iter_pupil_rows(rows))


def iter_pupil_rows(rows: ProgressRows) -> Iterator[PupilRows]:
    """Each pupil's :class:`PupilRows` from
    :func:`~diary_core.progress.reading.load_progress_rows`, in pupil id order."""
    marks, attendance = _by_pupil(rows.marks), _by_pupil(rows.attendance)
    period_marks = _by_pupil(rows.period_marks)
    for r in rows.pupils:
        yield PupilRows(
            pupil_info_of(r),
            rows.start,
            rows.end,
            marks.pop(r[0], ()),
            attendance.pop(r[0], ()),
            period_marks.pop(r[0], ()),
        )


def progress_of(rows: PupilRows) -> Progress:
    """The records of one pupil's progress."""
    periods: dict[int, GradingPeriod] = {}  # one object per period, not per period mark

    def period(p: Row) -> GradingPeriod:
        info = periods.get(p[2])
        if info is None:
            info = periods[p[2]] = GradingPeriod._make(p[2:8])
        return info

    marks = tuple([_new_mark(m[1:]) for m in rows.marks])
    return Progress(
        pupil=rows.pupil,
        start=rows.start,
        end=rows.end,
        marks=marks,
        averages=tuple(a for a, _ in subject_marks(rows.marks)),
        attendance=tuple([_new_absence(a[1:]) for a in rows.attendance]),
        period_marks=tuple([PeriodMarkEntry(p[1], period(p), *p[8:]) for p in rows.period_marks]),
    )


#: A record from a tuple of its fields, as ``_make`` without its length check (the rows'
#: shapes are fixed by the statements): the cheapest way to make hundreds per document.
_new_mark = partial(tuple.__new__, ProgressMark)
_new_absence = partial(tuple.__new__, ProgressAbsence)
_MARK_SUBJECT = itemgetter(3)


def subject_marks(marks: Sequence[Row]) -> Iterator[tuple[SubjectAverage, Sequence[Row]]]:
    """The mark rows (:data:`~diary_core.progress.rows.MARK_ROW`, in document order: each
    subject's together) by subject, each subject with its weighted average (the rule of
    :func:`~diary_core.grading.weighted_average`, summed in integers, one Decimal per
    subject) and number of marks."""
    for subject_id, group in groupby(marks, _MARK_SUBJECT):
        rows = list(group)
        total = weights = 0
        for _, _, _, _, _, _, weight, _, numeric, counts in rows:
            if numeric is not None and counts and weight > 0:
                total += numeric * weight
                weights += weight
        subject = rows[0][4]
        average = SubjectAverage(subject_id, subject, rounded_average(total, weights), len(rows))
        yield average, rows
