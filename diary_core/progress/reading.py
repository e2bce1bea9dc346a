"""Reading a pupil's (or a batch's) progress, as the portal client reading it may.

Every read takes the reader (:class:`~diary_core.policy.PortalReader`) and asks the policy
(:func:`~diary_core.policy.require_portal`) before it fetches a row of marks, attendance or
period marks: a reader without ``progress.read`` is refused (Forbidden) and a pupil of a
school it does not serve is answered as a pupil who does not exist (NotFound for one pupil,
left out of a batch).

- :func:`load_pupil_rows` — one pupil's rows in one statement, run by the caller's ``fetch``
  (the gateway passes its asyncpg fast path; by default SQLAlchemy runs it);
- :func:`load_progress_rows` — a batch's rows, a statement for each kind;
- :func:`load_progress` / :func:`load_progress_batch` — the same as records.

They run as Core statements on the connection (a session's own, within its transaction):
plain rows, without the ORM's per-row result processing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from diary_core.errors import InvalidInput, NotFound
from diary_core.policy import (
    PortalReader,
    PortalScope,
    PupilPlace,
    portal_may_read,
    require_portal,
)
from diary_core.progress.model import Progress, PupilInfo
from diary_core.progress.rows import ProgressRows, PupilRows
from diary_core.progress.statements import batch_queries, one_pupil_statement, split_rows
from diary_core.progress.summary import assemble, progress_of

#: Runs a statement built once with its parameters on a connection: all its rows, each
#: indexable by position.
Fetch = Callable[[AsyncConnection, Any, dict[str, Any]], Awaitable[Sequence[Sequence[Any]]]]


async def execute_all(
    conn: AsyncConnection, stmt: Any, params: dict[str, Any]
) -> Sequence[Sequence[Any]]:
    """:data:`Fetch` through SQLAlchemy."""
    return (await conn.execute(stmt, params)).all()


async def _connection(db: AsyncSession | AsyncConnection) -> AsyncConnection:
    return await db.connection() if isinstance(db, AsyncSession) else db


async def load_pupil_rows(
    db: AsyncSession | AsyncConnection,
    reader: PortalReader,
    pupil: PupilInfo,
    start: date,
    end: date,
    *,
    fetch: Fetch = execute_all,
) -> PupilRows:
    """The rows of ``pupil``'s progress for ``start``..``end`` (both inclusive), in one
    statement run by ``fetch``, once the reader may read him (``pupil`` as the core read it:
    :func:`~diary_core.progress.versions.readable_version`, :func:`load_progress`)."""
    require_portal(reader, PortalScope.READ_PROGRESS, pupil.place)
    statement, picks = one_pupil_statement()
    params = {"pupil_id": pupil.id, "start": start, "end": end}
    result = await fetch(await _connection(db), statement, params)
    return PupilRows(pupil, start, end, *split_rows(result, picks))


async def load_progress_rows(
    db: AsyncSession | AsyncConnection,
    reader: PortalReader,
    pupil_ids: Sequence[int],
    start: date,
    end: date,
) -> ProgressRows:
    """What the progress of these pupils is built from, in four queries: the pupils, then
    the marks, attendance and period marks of those the reader may read. Unknown pupils and
    pupils out of the reader's reach are left out alike.

    A batch reads each kind of row with a statement of its own rather than one combined
    statement like :func:`load_pupil_rows`: for fifty pupils the round trips saved are
    nothing beside the combined statement's wider rows and larger sort."""
    require_portal(reader, PortalScope.READ_PROGRESS)
    conn = await _connection(db)
    pupils_stmt, *kinds = batch_queries()
    params: dict[str, Any] = {"pupil_ids": list(pupil_ids), "start": start, "end": end}
    pupils = [tuple(r) for r in await conn.execute(pupils_stmt, params)]
    pupils = [r for r in pupils if portal_may_read(reader, PupilPlace(r[0], r[7], r[5]))]
    if not pupils:
        return ProgressRows(start, end, [], [], [], [])
    params["pupil_ids"] = [r[0] for r in pupils]
    marks, attendance, period_marks = [
        [tuple(r) for r in await conn.execute(q, params)] for q in kinds
    ]
    return ProgressRows(start, end, pupils, marks, attendance, period_marks)


async def load_progress_batch(
    db: AsyncSession | AsyncConnection,
    reader: PortalReader,
    pupil_ids: Sequence[int],
    start: date,
    end: date,
) -> dict[int, Progress]:
    """Progress of several pupils in four queries (:func:`load_progress_rows`); unknown
    pupils and pupils out of the reader's reach are left out alike."""
    return assemble(await load_progress_rows(db, reader, pupil_ids, start, end))


async def load_progress(
    db: AsyncSession | AsyncConnection,
    reader: PortalReader,
    pupil_id: int,
    start: date,
    end: date,
    *,
    pupil: PupilInfo | None = None,
) -> Progress:
    """One pupil's progress for ``start``..``end`` (both inclusive); NotFound if there is no
    such pupil or the reader may not read him. A caller that has read ``pupil`` already
    saves the pupil query: one statement then (:func:`load_pupil_rows`)."""
    if pupil is None:
        found = (await load_progress_batch(db, reader, [pupil_id], start, end)).get(pupil_id)
        if found is None:
            raise NotFound("обучающийся не найден")
        return found
    if pupil.id != pupil_id:
        raise InvalidInput(f"сведения об обучающемся #{pupil.id}, а запрошен #{pupil_id}")
    return progress_of(await load_pupil_rows(db, reader, pupil, start, end))
