"""A pupil's progress as the state services portal receives it (regulation 1.2, 2.1).

Plain, frozen data, read with Core ``select()`` rows in a fixed number of statements whatever
the pupil's (or the batch's) size; the many small records (marks, absences, period marks,
periods) are named tuples, cheap to make by the hundred for every document:

- :func:`load_progress` / :func:`load_progress_batch` — school, pupil, marks, per-subject
  weighted averages (:mod:`diary_core.grading`), attendance and period marks for a range;
- :func:`load_pupil_rows` / :func:`load_progress_rows` — the same as the rows they are read
  as (:class:`PupilRows`), for a caller that renders hundreds of marks per document and
  need not make a record of each (the portal's documents);
- :func:`data_version` / :func:`pupil_version` — a fingerprint of everything such a document
  is built from, so a signed document can be reused while it is unchanged (see the docstring
  of :func:`data_version` for what it covers);
- :func:`guardian_pupils` — the confirmed children of a parent known by his ESIA oid;
- :func:`changes_after` — the change log after a cursor, deletions as tombstones.

No access decision is taken here: the portal is a machine client, and its reach is decided by
:func:`diary_core.policy.portal_may_read` in the caller.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache, partial
from itertools import groupby
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Date,
    Integer,
    String,
    bindparam,
    cast,
    func,
    literal_column,
    null,
    select,
    text,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from diary_core.errors import DiaryError, InvalidInput
from diary_core.grading import rounded_average
from diary_core.models import (
    AcademicYear,
    Attendance,
    ChangeLogEntry,
    ExternalIdentity,
    Guardianship,
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
from diary_core.policy import PupilPlace
from diary_core.snils import normalize_snils

MAX_RANGE_DAYS = 731


class CursorExpired(DiaryError):
    """The consumer's position is older than the feed's retention: resynchronise."""

    code = "cursor_expired"


@dataclass(frozen=True)
class SchoolInfo:
    id: int
    name: str


@dataclass(frozen=True)
class PupilInfo:
    id: int
    snils: str | None  # a pupil may be enrolled before his SNILS is known
    last_name: str
    first_name: str
    middle_name: str
    class_id: int
    class_name: str
    school: SchoolInfo


class ProgressMark(NamedTuple):
    id: int
    date: date
    subject_id: int
    subject: str
    work_type: str
    weight: int
    value: str
    numeric: int | None
    counts: bool


class SubjectAverage(NamedTuple):
    subject_id: int
    subject: str
    average: Decimal | None
    marks: int


class AttendanceEntry(NamedTuple):
    id: int
    date: date
    lesson_number: int
    subject_id: int
    subject: str
    kind: str


class PeriodInfo(NamedTuple):
    id: int
    kind: str
    number: int
    name: str
    starts_on: date
    ends_on: date


class PeriodMarkEntry(NamedTuple):
    id: int
    period: PeriodInfo
    subject_id: int
    subject: str
    value: str
    numeric: int | None


@dataclass(frozen=True)
class Progress:
    pupil: PupilInfo
    start: date
    end: date
    marks: tuple[ProgressMark, ...]
    averages: tuple[SubjectAverage, ...]
    attendance: tuple[AttendanceEntry, ...]
    period_marks: tuple[PeriodMarkEntry, ...]


def check_range(start: date, end: date) -> None:
    """A range the portal may ask for: ordered, and at most two years long."""
    if start > end:
        raise InvalidInput("дата начала периода позже даты окончания", field="from")
    if end - start > timedelta(days=MAX_RANGE_DAYS):
        raise InvalidInput(f"период длиннее {MAX_RANGE_DAYS} дней", field="to")


_FIND_PUPIL = (
    select(Pupil.id, Pupil.school_id, Pupil.class_id)
    .join(User, User.id == Pupil.user_id)
    .where(User.snils == bindparam("snils"))
)


async def find_pupil(session: AsyncSession, snils: str) -> PupilPlace | None:
    """The pupil with this SNILS (any spelling; a malformed one raises InvalidInput)."""
    row = (await session.execute(_FIND_PUPIL, {"snils": normalize_snils(snils)})).first()
    return None if row is None else PupilPlace(row[0], row[1], row[2])


def _pupils_query() -> Any:
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


def _pupil_info(r: Sequence[Any]) -> PupilInfo:
    return PupilInfo(r[0], r[1], r[2], r[3], r[4], r[5], r[6], SchoolInfo(r[7], r[8]))


async def load_progress(
    session: AsyncSession | AsyncConnection,
    pupil_id: int,
    start: date,
    end: date,
    *,
    pupil: PupilInfo | None = None,
) -> Progress | None:
    """One pupil's progress for ``start``..``end`` (both inclusive); None if no such pupil.
    A caller that has read ``pupil`` already (:func:`pupil_version`) saves the pupil query:
    one statement then (:func:`load_pupil_rows`)."""
    if pupil is None:
        return (await load_progress_batch(session, [pupil_id], start, end)).get(pupil_id)
    return progress_of(await load_pupil_rows(session, pupil_id, start, end, pupil=pupil))


#: How a statement's rows are fetched: ``(connection, statement, parameters) → rows``.
RowsReader = Callable[[AsyncConnection, Any, dict[str, Any]], Awaitable[Sequence[Sequence[Any]]]]


async def execute_rows(
    conn: AsyncConnection, stmt: Any, params: dict[str, Any]
) -> Sequence[Sequence[Any]]:
    """The default :data:`RowsReader`: plain Core execution."""
    return (await conn.execute(stmt, params)).all()


async def load_pupil_rows(
    db: AsyncSession | AsyncConnection,
    pupil_id: int,
    start: date,
    end: date,
    *,
    pupil: PupilInfo,
    read: RowsReader = execute_rows,
) -> PupilRows:
    """The rows of ``pupil``'s progress for ``start``..``end``, in one statement
    (:func:`_combined_query`, built once), run as plain Core on the connection, or by
    ``read`` (a caller's faster path for its driver, which must return the same rows)."""
    conn = await db.connection() if isinstance(db, AsyncSession) else db
    stmt, picks = _one_pupil_statement()
    params = {"pupil_id": pupil_id, "start": start, "end": end}
    result = await read(conn, stmt, params)
    return PupilRows(pupil, start, end, *_split(result, picks))


async def load_progress_batch(
    db: AsyncSession | AsyncConnection, pupil_ids: Sequence[int], start: date, end: date
) -> dict[int, Progress]:
    """Progress of several pupils in four queries; missing ids are left out."""
    return assemble(await load_progress_rows(db, pupil_ids, start, end))


Row = tuple[Any, ...]

#: The fields of each kind of row of :class:`ProgressRows` and :class:`PupilRows`, in order.
MARK_ROW = ("pupil_id", "id", "date", "subject_id", "subject", "work_type", "weight", "value",
            "numeric", "counts")  # fmt: skip
ABSENCE_ROW = ("pupil_id", "id", "date", "lesson_number", "subject_id", "subject", "kind")
PERIOD_MARK_ROW = ("pupil_id", "id", "period_id", "period_kind", "period_number", "period_name",
                   "starts_on", "ends_on", "subject_id", "subject", "value", "numeric")  # fmt: skip


@dataclass(frozen=True)
class ProgressRows:
    """Several pupils' progress as the database returned it: plain tuples, ordered by pupil,
    cheap to hand to another process (the export's signing workers); :func:`assemble` makes
    the :class:`Progress` of each pupil from them."""

    start: date
    end: date
    pupils: list[Row]  # as _pupils_query, by pupil id
    marks: list[Row]  # MARK_ROW (the fields of ProgressMark after the pupil id), in order
    attendance: list[Row]  # ABSENCE_ROW (the fields of AttendanceEntry after the pupil id)
    period_marks: list[Row]  # PERIOD_MARK_ROW: the mark's id, its period's 6 fields, the rest


@dataclass(frozen=True)
class PupilRows:
    """One pupil's progress as the rows it is read as (:data:`MARK_ROW`, :data:`ABSENCE_ROW`,
    :data:`PERIOD_MARK_ROW`), in document order: for a caller that renders them itself (the
    portal's documents), for whom hundreds of records per document would cost more than the
    rendering; :func:`subject_marks` gives the marks by subject with their averages, and
    :func:`progress_of` the records."""

    pupil: PupilInfo
    start: date
    end: date
    marks: Sequence[Row]
    attendance: Sequence[Row]
    period_marks: Sequence[Row]


async def load_progress_rows(
    db: AsyncSession | AsyncConnection, pupil_ids: Sequence[int], start: date, end: date
) -> ProgressRows:
    """What the progress of these pupils is built from, in four queries: the pupils, their
    marks, attendance and period marks (:func:`_parts`). They run as Core statements on the
    connection (a session's own, within its transaction): plain rows, without the ORM's
    per-row result processing.

    A batch reads each kind of row with a statement of its own rather than one combined
    statement like :func:`load_progress`: for fifty pupils the round trips saved are
    nothing beside the combined statement's wider rows and larger sort."""
    conn = await db.connection() if isinstance(db, AsyncSession) else db
    params = {"pupil_ids": list(pupil_ids), "start": start, "end": end}
    pupils, marks, attendance, period_marks = [
        [tuple(r) for r in await conn.execute(q, params)] for q in _batch_queries()
    ]
    return ProgressRows(start, end, pupils, marks, attendance, period_marks)


_START: Any = bindparam("start", type_=Date)
_END: Any = bindparam("end", type_=Date)


@cache
def _one_pupil_statement() -> tuple[Any, tuple[Callable[[Any], Row], ...]]:
    """:func:`_combined_query` for one pupil and how to read its rows, built once with the
    bound parameters ``pupil_id``, ``start`` and ``end``: building a statement costs more
    than running it, and the portal runs it for every document it signs."""
    pupil_id = bindparam("pupil_id", type_=Integer)
    return _combined_query(_parts(lambda column: column == pupil_id, _START, _END))


@cache
def _batch_queries() -> tuple[Any, Any, Any, Any]:
    """The statements of :func:`load_progress_rows`, built once; ``pupil_ids`` is a list
    (an expanding parameter), ``start`` and ``end`` are dates."""
    ids: Any = bindparam("pupil_ids", expanding=True)
    pupils = _pupils_query().where(Pupil.id.in_(ids)).order_by(Pupil.id)
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
    and for each kind how to make its row of :class:`ProgressRows` from a row of it.

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


def _split(
    rows: Iterable[Any], picks: tuple[Callable[[Any], Row], ...]
) -> tuple[list[Row], list[Row], list[Row]]:
    """The marks, attendance and period marks rows of :class:`ProgressRows` from the rows of
    :func:`_combined_query` (a few hundred: fetched all at once, which is cheaper for so few
    than one by one), in their order."""
    parts: tuple[list[Row], list[Row], list[Row]] = ([], [], [])
    for kind, group in groupby(rows, _KIND):
        parts[kind].extend(map(picks[kind], group))
    return parts


def _by_pupil(rows: list[Row]) -> dict[int, list[Row]]:
    """Rows by their first column, the pupil id (they are ordered by it)."""
    return {pupil_id: list(group) for pupil_id, group in groupby(rows, _PUPIL_ID)}


_PUPIL_ID = itemgetter(0)


def assemble(rows: ProgressRows) -> dict[int, Progress]:
    """Each pupil's :class:`Progress` (in pupil id order) from :func:`load_progress_rows`.
    Pure: no database, so the export's worker processes run it."""
    return {p.pupil.id: p for p in iter_progress(rows)}


def iter_progress(rows: ProgressRows) -> Iterator[Progress]:
    """:func:`assemble` one pupil at a time (the export keeps one document in memory)."""
    return map(progress_of, iter_pupil_rows(rows))


def iter_pupil_rows(rows: ProgressRows) -> Iterator[PupilRows]:
    """Each pupil's :class:`PupilRows` from :func:`load_progress_rows`, in pupil id order."""
    marks, attendance = _by_pupil(rows.marks), _by_pupil(rows.attendance)
    period_marks = _by_pupil(rows.period_marks)
    for r in rows.pupils:
        yield PupilRows(
            _pupil_info(r),
            rows.start,
            rows.end,
            marks.pop(r[0], ()),
            attendance.pop(r[0], ()),
            period_marks.pop(r[0], ()),
        )


def progress_of(rows: PupilRows) -> Progress:
    """The records of one pupil's progress."""
    periods: dict[int, PeriodInfo] = {}  # one object per period, not per period mark

    def period(p: Row) -> PeriodInfo:
        info = periods.get(p[2])
        if info is None:
            info = periods[p[2]] = PeriodInfo._make(p[2:8])
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
#: shapes are fixed by :func:`_parts`): the cheapest way to make hundreds per document.
_new_mark = partial(tuple.__new__, ProgressMark)
_new_absence = partial(tuple.__new__, AttendanceEntry)
_MARK_SUBJECT = itemgetter(3)


def subject_marks(marks: Sequence[Row]) -> Iterator[tuple[SubjectAverage, Sequence[Row]]]:
    """The mark rows (:data:`MARK_ROW`, in document order: each subject's together) by
    subject, each subject with its weighted average (the rule of
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


_PERIOD_COLUMNS = (
    Period.id,
    Period.kind,
    Period.number,
    Period.name,
    Period.starts_on,
    Period.ends_on,
)


def _names_of(model: Any, *columns: Any) -> Any:
    """All names of one kind of the pupil's school, as one string (a scalar subquery)."""
    parts = [cast(c, String) for c in columns]
    label: ColumnElement[str] = parts[0]
    for p in parts[1:]:
        label = label + "/" + p
    return (
        select(func.aggregate_strings(label, _SEPARATOR))
        .where(model.school_id == Pupil.school_id)
        .scalar_subquery()
    )


#: The separator of :func:`_names_of`, written into the SQL (a plain ``"|"`` is a parameter
#: that SQLAlchemy renders into the statement anew at every execution).
_SEPARATOR: Any = literal_column("'|'")


def _version_query(key: Any) -> Any:
    """The pupil where ``key`` holds, his place, and everything his documents are built
    from (the fingerprint's inputs, see :func:`pupil_version`)."""
    log = select(ChangeLogEntry.id).where(ChangeLogEntry.pupil_id == Pupil.id)
    return (
        select(
            Pupil.id,
            Pupil.school_id,
            Pupil.class_id,
            User.snils,
            User.last_name,
            User.first_name,
            User.middle_name,
            SchoolClass.name,
            School.name,
            log.with_only_columns(func.count()).scalar_subquery(),
            log.with_only_columns(func.max(ChangeLogEntry.id)).scalar_subquery(),
            _names_of(Subject, Subject.id, Subject.name),
            _names_of(WorkType, WorkType.id, WorkType.name),
            _names_of(Period, Period.id, Period.name, Period.starts_on, Period.ends_on),
        )
        .join(User, User.id == Pupil.user_id)
        .join(SchoolClass, SchoolClass.id == Pupil.class_id)
        .join(School, School.id == Pupil.school_id)
        .where(key)
    )


# Built once: the portal asks one of them on every request.
_VERSION = _version_query(Pupil.id == bindparam("pupil_id"))
_VERSION_BY_SNILS = _version_query(User.snils == bindparam("snils"))


def _fingerprint(row: Sequence[Any]) -> str:
    return hashlib.sha256(repr(tuple(row)).encode()).hexdigest()


async def data_version(session: AsyncSession, pupil_id: int) -> str | None:
    """A fingerprint that changes whenever anything a progress document of this pupil is
    built from changes, in one query; None if there is no such pupil.

    It covers: every change-log entry of the pupil (count and highest id, so a correction,
    a deletion, or a transaction that committed late with a lower id all change it), the
    pupil's names, SNILS, class and school, and the names of the school's subjects and work
    types and its periods' names and dates. It is pupil-wide, not per range, and a renamed
    subject the pupil has no marks in also changes it: both only cost a re-signature.
    (A period mark's lock state is not part of the document, so it is not covered.)
    """
    row = (await session.execute(_VERSION, {"pupil_id": pupil_id})).first()
    return None if row is None else _fingerprint(row)


@dataclass(frozen=True)
class PupilVersion:
    """A pupil found by SNILS, what his documents say about him, and the fingerprint of
    everything they are built from (:func:`data_version`)."""

    place: PupilPlace
    pupil: PupilInfo
    version: str


#: :func:`pupil_version`'s query (the bound parameter ``snils`` normalised), for a caller that
#: reads it in the same round trip as something else; :func:`pupil_version_of` reads its row.
PUPIL_VERSION = _VERSION_BY_SNILS


def pupil_version_of(row: Sequence[Any]) -> PupilVersion:
    """The :class:`PupilVersion` in a row of :data:`PUPIL_VERSION`'s columns."""
    school = SchoolInfo(row[1], row[8])
    pupil = PupilInfo(row[0], row[3], row[4], row[5], row[6], row[2], row[7], school)
    return PupilVersion(PupilPlace(row[0], row[1], row[2]), pupil, _fingerprint(row))


async def pupil_version(session: AsyncSession, snils: str) -> PupilVersion | None:
    """:func:`find_pupil` and :func:`data_version` in one query: the pupil with this SNILS
    (any spelling; a malformed one raises InvalidInput) and the fingerprint of his data, or
    None. The caller still decides whether the pupil may be read before using either."""
    row = (await session.execute(PUPIL_VERSION, {"snils": normalize_snils(snils)})).first()
    return None if row is None else pupil_version_of(row)


@dataclass(frozen=True)
class GuardianPupils:
    guardian_user_id: int
    pupils: tuple[PupilInfo, ...]


async def guardian_pupils(
    session: AsyncSession | AsyncConnection, esia_oid: str
) -> GuardianPupils | None:
    """The confirmed children of the parent whose ESIA identity (oid) is linked to an
    account; None if no account is linked to that oid. Pending links are left out."""
    user_id = await session.scalar(
        select(ExternalIdentity.user_id).where(
            ExternalIdentity.provider == "esia", ExternalIdentity.subject == esia_oid
        )
    )
    if user_id is None:
        return None
    rows = await session.execute(
        _pupils_query()
        .join(Guardianship, Guardianship.pupil_id == Pupil.id)
        .where(Guardianship.guardian_id == user_id, Guardianship.status == "confirmed")
        .order_by(User.last_name, User.first_name, Pupil.id)
    )
    return GuardianPupils(user_id, tuple(_pupil_info(r) for r in rows))


ChangeState = ProgressMark | AttendanceEntry | PeriodMarkEntry


@dataclass(frozen=True)
class Change:
    """One change-log entry; ``state`` is the object after the change, None for a deletion."""

    seq: int
    at: datetime
    entity: str  # mark | attendance | period_mark
    entity_id: int
    action: str  # create | update | delete
    school_id: int
    pupil_id: int
    pupil_snils: str | None
    state: ChangeState | None


@dataclass(frozen=True)
class ChangesPage:
    changes: tuple[Change, ...]
    next_cursor: int
    has_more: bool


async def check_cursor(
    session: AsyncSession, cursor: int, now: datetime, retention: timedelta
) -> None:
    """Refuse a cursor this feed did not issue (InvalidInput) or one older than the
    retention (CursorExpired: the consumer resynchronises from the progress documents).
    Cursor 0 is the beginning and is always valid."""
    if cursor < 0:
        raise InvalidInput("курсор не может быть отрицательным", field="cursor")
    if cursor == 0:
        return
    at = await session.scalar(select(ChangeLogEntry.at).where(ChangeLogEntry.id == cursor))
    if at is None:
        newest = await session.scalar(select(func.max(ChangeLogEntry.id)))
        if newest is None or cursor > newest:
            raise InvalidInput("курсор не выдавался этой лентой", field="cursor")
        raise CursorExpired("курсор устарел: записи журнала изменений уже удалены")
    if at < now - retention:
        raise CursorExpired(f"курсор устарел: он старше {retention.days} дней")


async def _wait_for_writers(session: AsyncSession) -> None:
    """Commit order = id order (security of the feed's completeness).

    PostgreSQL hands out ids when rows are inserted, not when they commit: a transaction may
    commit entry 100 after another committed 101, and a consumer at cursor 101 would never
    see 100. Taking SHARE on the table waits for every transaction that is inserting into it
    (they hold ROW EXCLUSIVE) and holds new inserts back until this transaction ends, so
    every id at or below the highest we read is already visible. SQLite has one writer at a
    time, so its ids are in commit order already."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL lock_timeout = '5s'"))
        await session.execute(text("LOCK TABLE change_log IN SHARE MODE"))


async def changes_after(
    session: AsyncSession, cursor: int, limit: int, scope: frozenset[int] | None
) -> ChangesPage:
    """Changes with ids above ``cursor`` in commit order, at most ``limit``, of the schools in
    ``scope`` (None: all). The caller checks the cursor first (:func:`check_cursor`)."""
    await _wait_for_writers(session)
    stmt = (
        select(ChangeLogEntry, User.snils)
        .join(Pupil, Pupil.id == ChangeLogEntry.pupil_id)
        .join(User, User.id == Pupil.user_id)
        .where(ChangeLogEntry.id > cursor)
        .order_by(ChangeLogEntry.id)
        .limit(limit + 1)
    )
    if scope is not None:
        stmt = stmt.where(ChangeLogEntry.school_id.in_(sorted(scope)))
    rows = (await session.execute(stmt)).all()
    page = rows[:limit]
    names = await _Names.load(session, [r[0].new for r in page if r[0].new])
    changes = tuple(
        Change(
            e.id,
            e.at,
            e.entity,
            e.entity_id,
            e.action,
            e.school_id,
            e.pupil_id,
            snils,
            names.state(e.entity, e.entity_id, e.new),
        )
        for e, snils in page
    )
    next_cursor = changes[-1].seq if changes else cursor
    return ChangesPage(changes, next_cursor, len(rows) > limit)


@dataclass(frozen=True)
class _Names:
    """Subject, work type and period names for change-log snapshots (which hold ids)."""

    subjects: dict[int, str]
    work_types: dict[int, str]
    periods: dict[int, PeriodInfo]

    @classmethod
    async def load(cls, session: AsyncSession, snaps: list[dict[str, Any]]) -> _Names:
        def ids(key: str) -> list[int]:
            return sorted({int(s[key]) for s in snaps if s.get(key) is not None})

        subjects = await session.execute(
            select(Subject.id, Subject.name).where(Subject.id.in_(ids("subject_id")))
        )
        work_types = await session.execute(
            select(WorkType.id, WorkType.name).where(WorkType.id.in_(ids("work_type_id")))
        )
        periods = await session.execute(
            select(*_PERIOD_COLUMNS).where(Period.id.in_(ids("period_id")))
        )
        return cls(
            {r[0]: r[1] for r in subjects},
            {r[0]: r[1] for r in work_types},
            {r[0]: PeriodInfo(*r) for r in periods},
        )

    def state(self, entity: str, entity_id: int, snap: dict[str, Any] | None) -> ChangeState | None:
        if snap is None:
            return None
        subject_id = int(snap["subject_id"])
        subject = self.subjects.get(subject_id, "")
        if entity == "mark":
            return ProgressMark(
                entity_id,
                date.fromisoformat(snap["date"]),
                subject_id,
                subject,
                self.work_types.get(int(snap["work_type_id"]), ""),
                int(snap["weight"]),
                snap["value"],
                snap["numeric"],
                bool(snap["counts"]),
            )
        if entity == "attendance":
            return AttendanceEntry(
                entity_id,
                date.fromisoformat(snap["date"]),
                int(snap["lesson_number"]),
                subject_id,
                subject,
                snap["kind"],
            )
        return PeriodMarkEntry(
            entity_id,
            self.periods[int(snap["period_id"])],
            subject_id,
            subject,
            snap["value"],
            snap["numeric"],
        )


async def school_pupil_ids(
    session: AsyncSession, school_id: int, after_id: int, batch: int
) -> list[int]:
    """The next ``batch`` pupil ids of a school after ``after_id`` (keyset pagination)."""
    rows = await session.scalars(
        select(Pupil.id)
        .where(Pupil.school_id == school_id, Pupil.id > after_id)
        .order_by(Pupil.id)
        .limit(batch)
    )
    return list(rows)


async def school_year_range(
    session: AsyncSession, school_id: int, today: date
) -> tuple[date, date]:
    """The school's academic year that contains ``today``, else its latest one."""
    rows = await session.execute(
        select(AcademicYear.starts_on, AcademicYear.ends_on)
        .where(AcademicYear.school_id == school_id, AcademicYear.starts_on <= today)
        .order_by(AcademicYear.starts_on.desc())
        .limit(1)
    )
    row = rows.first()
    if row is None:
        raise InvalidInput("у школы нет учебного года: укажите --from и --to", field="from")
    return row[0], row[1]
