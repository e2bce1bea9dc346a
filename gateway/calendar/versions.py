"""Event revisions: SEQUENCE and DTSTAMP that agree across renders and grow with each change.

The core keeps a lesson's plan, its per-date change and its homework in different places, and
a re-published timetable or a replaced change leaves no count of revisions behind. So the
gateway remembers, per event UID, a fingerprint of what the event last said: a render that
finds it different raises SEQUENCE by one and stamps the moment (DTSTAMP, LAST-MODIFIED).
The raise is one ``INSERT … ON CONFLICT DO UPDATE … WHERE fingerprint differs``, so two
renders racing over the same change raise it once. A render that changes nothing writes
nothing: it reads the stored revisions in one statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.calendar.feed import Lesson, Revision
from gateway.storage.calendar import CalendarEventVersion

_CHUNK = 500  # rows per statement: well under SQLite's and asyncpg's parameter limits


def _upsert(db: AsyncSession, rows: list[dict[str, Any]]) -> Any:
    name = db.get_bind().dialect.name
    if name == "postgresql":
        stmt: Any = postgresql.insert(CalendarEventVersion).values(rows)
    elif name == "sqlite":
        stmt = sqlite.insert(CalendarEventVersion).values(rows)
    else:
        raise RuntimeError(f"calendar feeds support PostgreSQL and SQLite, not {name}")
    v = CalendarEventVersion
    return stmt.on_conflict_do_update(
        index_elements=[v.uid],
        set_={
            "fingerprint": stmt.excluded.fingerprint,
            "day": stmt.excluded.day,
            "sequence": v.sequence + 1,
            "changed_at": stmt.excluded.changed_at,
        },
        where=v.fingerprint != stmt.excluded.fingerprint,
    )


async def _stored(db: AsyncSession, uids: list[str]) -> dict[str, tuple[str, int, datetime]]:
    out: dict[str, tuple[str, int, datetime]] = {}
    v = CalendarEventVersion
    for i in range(0, len(uids), _CHUNK):
        rows = await db.execute(
            select(v.uid, v.fingerprint, v.sequence, v.changed_at).where(
                v.uid.in_(uids[i : i + _CHUNK])
            )
        )
        out.update({r.uid: (r.fingerprint, r.sequence, r.changed_at) for r in rows})
    return out


async def revisions(
    db: AsyncSession, lessons: Sequence[Lesson], now: datetime, first_day: date
) -> tuple[list[tuple[Lesson, Revision]], bool]:
    """Each event with its revision, and whether any revision was written (the caller
    commits then). A render that writes also deletes the revisions of events before
    ``first_day`` (the first day every feed shows): they would never be read again. Such
    renders come when lessons enter the feeds' weeks, so the table holds about the weeks
    the feeds show."""
    unique = {lesson.uid: lesson for lesson in lessons}  # one row per UID in a statement
    stored = await _stored(db, list(unique))
    changed: list[dict[str, Any]] = []
    for uid, lesson in unique.items():
        fingerprint = lesson.fingerprint()
        if uid not in stored or stored[uid][0] != fingerprint:
            row = {"uid": uid, "day": lesson.day, "fingerprint": fingerprint}
            changed.append({**row, "sequence": 0, "changed_at": now})
    for i in range(0, len(changed), _CHUNK):
        await db.execute(_upsert(db, changed[i : i + _CHUNK]))
    if changed:
        await db.execute(delete(CalendarEventVersion).where(CalendarEventVersion.day < first_day))
        stored.update(await _stored(db, [row["uid"] for row in changed]))
    return [(le, Revision(stored[le.uid][1], stored[le.uid][2])) for le in lessons], bool(changed)
