"""A pupil's progress as the rows it is read as: plain tuples, cheap to hand to another
process (the export's signing workers) and to render without making a record of each (the
portal's documents). :mod:`diary_core.progress.summary` makes the records from them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from diary_core.progress.model import PupilInfo

Row = tuple[Any, ...]

#: The fields of each kind of row of :class:`ProgressRows` and :class:`PupilRows`, in order.
MARK_ROW = ("pupil_id", "id", "date", "subject_id", "subject", "work_type", "weight", "value",
            "numeric", "counts")  # fmt: skip
ABSENCE_ROW = ("pupil_id", "id", "date", "lesson_number", "subject_id", "subject", "kind")
PERIOD_MARK_ROW = ("pupil_id", "id", "period_id", "period_kind", "period_number", "period_name",
                   "starts_on", "ends_on", "subject_id", "subject", "value", "numeric")  # fmt: skip


@dataclass(frozen=True)
class ProgressRows:
    """Several pupils' progress as the database returned it: plain tuples, ordered by pupil;
    :func:`~diary_core.progress.summary.assemble` makes the
    :class:`~diary_core.progress.model.Progress` of each pupil from them."""

    start: date
    end: date
    pupils: list[Row]  # as statements.pupils_query, by pupil id
    marks: list[Row]  # MARK_ROW (the fields of ProgressMark after the pupil id), in order
    attendance: list[Row]  # ABSENCE_ROW (the fields of ProgressAbsence after the pupil id)
    period_marks: list[Row]  # PERIOD_MARK_ROW: the mark's id, its period's 6 fields, the rest


@dataclass(frozen=True)
class PupilRows:
    """One pupil's progress as the rows it is read as (:data:`MARK_ROW`, :data:`ABSENCE_ROW`,
    :data:`PERIOD_MARK_ROW`), in document order: for a caller that renders them itself (the
    portal's documents), for whom hundreds of records per document would cost more than the
    rendering; :func:`~diary_core.progress.summary.subject_marks` gives the marks by subject
    with their averages, and :func:`~diary_core.progress.summary.progress_of` the records."""

    pupil: PupilInfo
    start: date
    end: date
    marks: Sequence[Row]
    attendance: Sequence[Row]
    period_marks: Sequence[Row]
