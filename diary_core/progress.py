"""A pupil's progress as the state services portal receives it (regulation 1.2, 2.1).

Plain, frozen data, read with Core ``select()`` rows in a fixed number of queries whatever
the pupil's (or the batch's) size:

- :func:`load_progress` / :func:`load_progress_batch` — school, pupil, marks, per-subject
  weighted averages (:mod:`diary_core.grading`), attendance and period marks for a range;
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
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    String,
    and_,
    bindparam,
    cast,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from diary_core.errors import DiaryError, InvalidInput
from diary_core.grading import weighted_average
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


@dataclass(frozen=True)
class ProgressMark:
    id: int
    date: date
    subject_id: int
    subject: str
    work_type: str
    weight: int
    value: str
    numeric: int | None
    counts: bool


@dataclass(frozen=True)
class SubjectAverage:
    subject_id: int
    subject: str
    average: Decimal | None
    marks: int


@dataclass(frozen=True)
class AttendanceEntry:
    id: int
    date: date
    lesson_number: int
    subject_id: int
    subject: str
    kind: str


@dataclass(frozen=True)
class PeriodInfo:
    id: int
    kind: str
    number: int
    name: str
    starts_on: date
    ends_on: date


@dataclass(frozen=True)
class PeriodMarkEntry:
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
    three queries then, run on ``session`` as plain Core statements."""
    if pupil is None:
        return (await load_progress_batch(session, [pupil_id], start, end)).get(pupil_id)
    params = {"pupil_id": pupil_id, "start": start, "end": end}
    marks, attendance, period_marks = [
        [tuple(r) for r in await session.execute(q, params)] for q in _one_pupil_queries()
    ]
    rows = ProgressRows(start, end, [_pupil_row(pupil)], marks, attendance, period_marks)
    return next(iter_progress(rows))


@cache
def _one_pupil_queries() -> tuple[Any, Any, Any]:
    """The row queries of :func:`load_progress_rows` for one pupil, built once with the
    bound parameters ``pupil_id``, ``start`` and ``end``: building a statement costs more
    than running it, and the portal runs them for every document it signs."""
    ids: Any = [bindparam("pupil_id", type_=Integer)]
    start: Any = bindparam("start", type_=Date)
    end: Any = bindparam("end", type_=Date)
    return (
        _marks_query(ids, start, end),
        _attendance_query(ids, start, end),
        _period_marks_query(ids, start, end),
    )


def _pupil_row(p: PupilInfo) -> Row:
    """The inverse of :func:`_pupil_info`."""
    school = p.school
    return (p.id, p.snils, p.last_name, p.first_name, p.middle_name, p.class_id, p.class_name,
            school.id, school.name)  # fmt: skip


async def load_progress_batch(
    db: AsyncSession | AsyncConnection, pupil_ids: Sequence[int], start: date, end: date
) -> dict[int, Progress]:
    """Progress of several pupils in four queries; missing ids are left out."""
    return assemble(await load_progress_rows(db, pupil_ids, start, end))


Row = tuple[Any, ...]


@dataclass(frozen=True)
class ProgressRows:
    """Several pupils' progress as the database returned it: plain tuples, ordered by pupil,
    cheap to hand to another process (the export's signing workers); :func:`assemble` makes
    the :class:`Progress` of each pupil from them."""

    start: date
    end: date
    pupils: list[Row]  # as _pupils_query, by pupil id
    marks: list[Row]  # pupil id, then the fields of ProgressMark, in document order
    attendance: list[Row]  # pupil id, then the fields of AttendanceEntry
    period_marks: list[Row]  # pupil id, mark id, the 6 period fields, subject id/name, value…


async def _rows(conn: AsyncConnection, stmt: Any) -> list[Row]:
    return [tuple(r) for r in await conn.execute(stmt)]


async def load_progress_rows(
    db: AsyncSession | AsyncConnection, pupil_ids: Sequence[int], start: date, end: date
) -> ProgressRows:
    """What the progress of these pupils is built from, in four queries. They run as Core
    statements on the connection (a session's own, within its transaction): plain rows,
    without the ORM's per-row result processing."""
    conn = await db.connection() if isinstance(db, AsyncSession) else db
    ids = list(pupil_ids)
    return ProgressRows(
        start,
        end,
        await _rows(conn, _pupils_query().where(Pupil.id.in_(ids)).order_by(Pupil.id)),
        await _rows(conn, _marks_query(ids, start, end)),
        await _rows(conn, _attendance_query(ids, start, end)),
        await _rows(conn, _period_marks_query(ids, start, end)),
    )


def _by_pupil(rows: list[Row]) -> dict[int, list[Row]]:
    out: dict[int, list[Row]] = {}
    for r in rows:
        out.setdefault(r[0], []).append(r)
    return out


def assemble(rows: ProgressRows) -> dict[int, Progress]:
    """Each pupil's :class:`Progress` (in pupil id order) from :func:`load_progress_rows`.
    Pure: no database, so the export's worker processes run it."""
    return {p.pupil.id: p for p in iter_progress(rows)}


def iter_progress(rows: ProgressRows) -> Iterator[Progress]:
    """:func:`assemble` one pupil at a time (the export keeps one document in memory)."""
    marks, attendance = _by_pupil(rows.marks), _by_pupil(rows.attendance)
    period_marks = _by_pupil(rows.period_marks)
    periods: dict[int, PeriodInfo] = {}  # one object per period, not per period mark

    def period(p: Row) -> PeriodInfo:
        info = periods.get(p[2])
        if info is None:
            info = periods[p[2]] = PeriodInfo(*p[2:8])
        return info

    for r in rows.pupils:
        pupil_marks = tuple(ProgressMark(*m[1:]) for m in marks.pop(r[0], ()))
        yield Progress(
            pupil=_pupil_info(r),
            start=rows.start,
            end=rows.end,
            marks=pupil_marks,
            averages=_averages(pupil_marks),
            attendance=tuple(AttendanceEntry(*a[1:]) for a in attendance.pop(r[0], ())),
            period_marks=tuple(
                PeriodMarkEntry(p[1], period(p), *p[8:]) for p in period_marks.pop(r[0], ())
            ),
        )


def _marks_query(ids: list[int], start: date, end: date) -> Any:
    return (
        select(
            Mark.pupil_id,
            Mark.id,
            Mark.date,
            Mark.subject_id,
            Subject.name,
            WorkType.name,
            Mark.weight,
            Mark.value,
            Mark.numeric,
            Mark.counts,
        )
        .join(Subject, Subject.id == Mark.subject_id)
        .join(WorkType, WorkType.id == Mark.work_type_id)
        .where(Mark.pupil_id.in_(ids), Mark.date >= start, Mark.date <= end)
        .order_by(Mark.pupil_id, Subject.name, Mark.subject_id, Mark.date, Mark.id)
    )


def _averages(marks: Iterable[ProgressMark]) -> tuple[SubjectAverage, ...]:
    by_subject: dict[int, list[ProgressMark]] = {}
    for m in marks:  # already ordered by subject name
        by_subject.setdefault(m.subject_id, []).append(m)
    return tuple(
        SubjectAverage(
            sid,
            ms[0].subject,
            weighted_average((m.numeric, m.weight, m.counts) for m in ms),
            len(ms),
        )
        for sid, ms in by_subject.items()
    )


def _attendance_query(ids: list[int], start: date, end: date) -> Any:
    return (
        select(
            Attendance.pupil_id,
            Attendance.id,
            Attendance.date,
            Attendance.lesson_number,
            Attendance.subject_id,
            Subject.name,
            Attendance.kind,
        )
        .join(Subject, Subject.id == Attendance.subject_id)
        .where(Attendance.pupil_id.in_(ids), Attendance.date >= start, Attendance.date <= end)
        .order_by(Attendance.pupil_id, Attendance.date, Attendance.lesson_number)
    )


_PERIOD_COLUMNS = (
    Period.id,
    Period.kind,
    Period.number,
    Period.name,
    Period.starts_on,
    Period.ends_on,
)


def _period_marks_query(ids: list[int], start: date, end: date) -> Any:
    """Period marks of the periods that overlap the range."""
    return (
        select(
            PeriodMark.pupil_id,
            PeriodMark.id,
            *_PERIOD_COLUMNS,
            PeriodMark.subject_id,
            Subject.name,
            PeriodMark.value,
            PeriodMark.numeric,
        )
        .join(Period, Period.id == PeriodMark.period_id)
        .join(Subject, Subject.id == PeriodMark.subject_id)
        .where(
            PeriodMark.pupil_id.in_(ids),
            and_(Period.starts_on <= end, Period.ends_on >= start),
        )
        .order_by(PeriodMark.pupil_id, Period.starts_on, Period.ends_on, Subject.name)
    )


def _names_of(model: Any, *columns: Any) -> Any:
    """All names of one kind of the pupil's school, as one string (a scalar subquery)."""
    parts = [cast(c, String) for c in columns]
    label = parts[0]
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


async def guardian_pupils(session: AsyncSession, esia_oid: str) -> GuardianPupils | None:
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
    if session.bind.dialect.name == "postgresql":
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
