"""The SQL a pupil's progress is read with, each statement built once (building a statement
costs more than running it, and the portal runs one for every document it signs):

- :func:`one_pupil_statement` — one pupil's marks, attendance and period marks in one
  statement (three SELECTs, UNION ALL: one round trip), and :func:`split_rows` to read it;
- :func:`batch_queries` — several pupils', a statement for each kind of row;
- :func:`pupils_query` — the pupils as a document names them (:func:`pupil_info_of`).

Migration 0004's covering index of marks is built for :func:`_parts`' columns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import cache
from itertools import groupby
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Integer,
    String,
    bindparam,
    cast,
    literal_column,
    null,
    select,
    union_all,
)

from diary_core.models import (
    Attendance,
    Mark,
    Period,
    PeriodMark,
    Pupil,
    School,
    SchoolClass,
    Subject,
    User,
    WorkType,
)
from diary_core.progress.model import PupilInfo, SchoolInfo
from diary_core.progress.rows import Row


def pupils_query() -> Any:
    """The pupils with their names, class and school, in :func:`pupil_info_of`'s order."""
    return (
        select(
            Pupil.id,
            User.snils,
            User.last_name,
            User.first_name,
            User.middle_name,
            Pupil.class_id,
            SchoolClass.name,
            School.id,
            School.name,
        )
        .join(User, User.id == Pupil.user_id)
        .join(SchoolClass, SchoolClass.id == Pupil.class_id)
        .join(School, School.id == Pupil.school_id)
    )


def pupil_info_of(r: Sequence[Any]) -> PupilInfo:
    """The :class:`PupilInfo` in a row of :func:`pupils_query`'s columns."""
    return PupilInfo(r[0], r[1], r[2], r[3], r[4], r[5], r[6], SchoolInfo(r[7], r[8]))


_START: Any = bindparam("start", type_=Date)
_END: Any = bindparam("end", type_=Date)


@cache
def one_pupil_statement() -> tuple[Any, tuple[Callable[[Any], Row], ...]]:
    """:func:`_combined_query` for one pupil and how to read its rows, built once with the
    bound parameters ``pupil_id``, ``start`` and ``end``: building a statement costs more
    than running it, and the portal runs it for every document it signs."""
    pupil_id = bindparam("pupil_id", type_=Integer)
    return _combined_query(_parts(lambda column: column == pupil_id, _START, _END))


@cache
def batch_queries() -> tuple[Any, Any, Any, Any]:
    """The statements of :func:`~diary_core.progress.reading.load_progress_rows`, built
    once: the pupils, then their marks, attendance and period marks; ``pupil_ids`` is a list
    (an expanding parameter), ``start`` and ``end`` are dates."""
    ids: Any = bindparam("pupil_ids", expanding=True)
    pupils = pupils_query().where(Pupil.id.in_(ids)).order_by(Pupil.id)
    marks, attendance, period_marks = _parts(lambda column: column.in_(ids), _START, _END)
    return pupils, _part_query(marks), _part_query(attendance), _part_query(period_marks)


class _Part(NamedTuple):
    """How one kind of row (marks, attendance or period marks) is read."""

    fields: dict[str, Any]  # its row of ProgressRows: a name of _COLUMNS → the expression
    keys: dict[str, Any]  # the columns only the combined statement orders by
    order: tuple[str, ...]  # the fields that order one pupil's rows
    source: Callable[[Any], Any]  # a SELECT → it from the kind's tables, pupils and range


def _parts(pupils: Callable[[Any], Any], start: Any, end: Any) -> tuple[_Part, _Part, _Part]:
    """Marks (in document order: by subject name, subject, date), attendance (by date and
    lesson: one record per lesson) and the period marks of the periods that overlap the
    range (by the period's first and last day, subject name, subject) of the pupils whose id
    column ``pupils`` makes the condition on."""
    return (
        _Part(
            {
                "pupil_id": Mark.pupil_id,
                "id": Mark.id,
                "date": Mark.date,
                "subject_id": Mark.subject_id,
                "subject": Subject.name,
                "work_type": WorkType.name,
                "weight": Mark.weight,
                "value": Mark.value,
                "numeric": Mark.numeric,
                "counts": Mark.counts,
            },
            {},
            ("subject", "subject_id", "date", "id"),
            lambda q: (
                q.join_from(Mark, Subject, Subject.id == Mark.subject_id)
                .join(WorkType, WorkType.id == Mark.work_type_id)
                .where(pupils(Mark.pupil_id), Mark.date >= start, Mark.date <= end)
            ),
        ),
        _Part(
            {
                "pupil_id": Attendance.pupil_id,
                "id": Attendance.id,
                "date": Attendance.date,
                "lesson_number": Attendance.lesson_number,
                "subject_id": Attendance.subject_id,
                "subject": Subject.name,
                "value": Attendance.kind,
            },
            {"first_date": Attendance.date},
            ("date", "lesson_number"),
            lambda q: q.join_from(Attendance, Subject, Subject.id == Attendance.subject_id).where(
                pupils(Attendance.pupil_id), Attendance.date >= start, Attendance.date <= end
            ),
        ),
        _Part(
            {
                "pupil_id": PeriodMark.pupil_id,
                "id": PeriodMark.id,
                "period_id": Period.id,
                "period_kind": Period.kind,
                "period_number": Period.number,
                "period_name": Period.name,
                "date": Period.starts_on,
                "ends_on": Period.ends_on,
                "subject_id": PeriodMark.subject_id,
                "subject": Subject.name,
                "value": PeriodMark.value,
                "numeric": PeriodMark.numeric,
            },
            {"first_date": Period.starts_on},
            ("date", "ends_on", "subject", "subject_id", "id"),
            lambda q: (
                q.join_from(PeriodMark, Period, Period.id == PeriodMark.period_id)
                .join(Subject, Subject.id == PeriodMark.subject_id)
                .where(
                    pupils(PeriodMark.pupil_id), Period.starts_on <= end, Period.ends_on >= start
                )
            ),
        ),
    )


def _part_query(part: _Part) -> Any:
    """One kind's rows as a statement of its own: its fields, by pupil, then in its order."""
    fields = part.fields
    return part.source(select(*fields.values())).order_by(
        fields["pupil_id"], *(fields[name] for name in part.order)
    )


#: The columns of :func:`_combined_query`, each with its type (a kind of row without such a
#: field gives a typed NULL). The sort keys come first, those no row leaves NULL before the
#: others and fixed-width ones before the subject's name: PostgreSQL's sort then reads the
#: keys of a mark at fixed offsets (a column after a NULL or a text is found by walking).
_COLUMNS: dict[str, Any] = {
    "kind": Integer,  # the index of the part, and of the ProgressRows list the row goes to
    "pupil_id": Integer,
    "id": BigInteger,
    "subject_id": Integer,
    "date": Date,  # a mark's or an absence's date; a period's first day
    "subject": String,
    "first_date": Date,  # the date that comes before the subject: NULL for a mark
    "ends_on": Date,  # a period's last day
    "lesson_number": Integer,
    "work_type": String,
    "weight": Integer,
    "value": String,  # a mark's or period mark's value; an absence's kind
    "numeric": Integer,
    "counts": Boolean,
    "period_id": Integer,
    "period_kind": String,
    "period_number": Integer,
    "period_name": String,
}

#: The order of :func:`_combined_query` (for one pupil: no pupil id). Within a kind, the
#: columns that kind leaves NULL order nothing, so each comes out in its part's order.
_ORDER = ("kind", "first_date", "ends_on", "lesson_number", "subject", "subject_id", "date",
          "id")  # fmt: skip


def _combined_query(
    parts: tuple[_Part, _Part, _Part],
) -> tuple[Any, tuple[Callable[[Any], Row], ...]]:
    """The parts in one statement (three SELECTs, UNION ALL: one round trip) for one pupil,
    and for each kind how to make its row of :class:`~diary_core.progress.rows.ProgressRows`
    from a row of it.

    Each part fills the columns of :data:`_COLUMNS` it has and NULLs the others; the rows
    come out by kind, then in their part's order."""
    selects = []
    for kind, part in enumerate(parts):
        values = {"kind": literal_column(str(kind), Integer), **part.fields, **part.keys}
        columns = [
            values.get(name, cast(null(), type_)).label(name) for name, type_ in _COLUMNS.items()
        ]
        selects.append(part.source(select(*columns)))
    union = union_all(*selects)
    names = list(_COLUMNS)
    picks = tuple(itemgetter(*(names.index(f) for f in part.fields)) for part in parts)
    return union.order_by(*(union.selected_columns[name] for name in _ORDER)), picks


_KIND = itemgetter(0)


def split_rows(
    rows: Iterable[Any], picks: tuple[Callable[[Any], Row], ...]
) -> tuple[list[Row], list[Row], list[Row]]:
    """The marks, attendance and period marks rows of
    :class:`~diary_core.progress.rows.ProgressRows` from the rows of :func:`_combined_query`
    (a few hundred: fetched all at once, which is cheaper for so few than one by one), in
    their order."""
    parts: tuple[list[Row], list[Row], list[Row]] = ([], [], [])
    for kind, group in groupby(rows, _KIND):
        parts[kind].extend(map(picks[kind], group))
    return parts
