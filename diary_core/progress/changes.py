"""The change feed: every mark, attendance or period-mark change after a cursor, in commit
order, of the schools the reading portal client serves; a deletion is a tombstone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from diary_core.errors import DiaryError, InvalidInput
from diary_core.models import ChangeLogEntry, Period, Pupil, Subject, User, WorkType
from diary_core.policy import PortalReader, PortalScope, require_portal
from diary_core.progress.model import GradingPeriod, PeriodMarkEntry, ProgressAbsence, ProgressMark


class CursorExpired(DiaryError):
    """The consumer's position is older than the feed's retention: resynchronise."""

    code = "cursor_expired"


ChangeState = ProgressMark | ProgressAbsence | PeriodMarkEntry


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
    session: AsyncSession, reader: PortalReader, cursor: int, limit: int
) -> ChangesPage:
    """Changes with ids above ``cursor`` in commit order, at most ``limit``, of the schools
    the reader serves; Forbidden without ``changes.read``. The caller checks the cursor
    first (:func:`check_cursor`)."""
    require_portal(reader, PortalScope.READ_CHANGES)
    scope = reader.schools
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


_PERIOD_COLUMNS = (
    Period.id,
    Period.kind,
    Period.number,
    Period.name,
    Period.starts_on,
    Period.ends_on,
)


@dataclass(frozen=True)
class _Names:
    """Subject, work type and period names for change-log snapshots (which hold ids)."""

    subjects: dict[int, str]
    work_types: dict[int, str]
    periods: dict[int, GradingPeriod]

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
            {r[0]: GradingPeriod(*r) for r in periods},
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
            return ProgressAbsence(
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
