"""Bulk writing for the generator: primary keys reserved up front, rows inserted with Core
``insert()`` executemany in chunks (no ORM object per row, no query per row)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, cast

from sqlalchemy import JSON, Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from diary_core.models import Base

Row = dict[str, Any]
Model = type[Base]
ProgressFn = Callable[[str, int], None]
CHUNK = 5_000
QUEUED_JOBS = 4  # jobs waiting for the database at most (bounds the memory ahead of it)

_PG_RESERVE = text(
    "SELECT min(v), max(v), count(*) FROM "
    "(SELECT nextval(pg_get_serial_sequence(:table, 'id')) AS v "
    "FROM generate_series(1, :n)) AS s"
)
_PG_RESERVE_LIST = text(
    "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"
)


def _table(model: Model) -> Table:
    return cast(Table, model.__table__)


class Ids:
    """Primary keys for rows the generator writes itself, so related rows can point at them
    before they are written.

    PostgreSQL: taken from the table's own sequence (safe beside other writers; the sequence
    stays ahead of every id used). SQLite: the next numbers after the table's largest id —
    SQLite has one writer at a time, and this transaction is it. A table whose ids are
    reserved here must not get rows through the ORM in the same transaction.
    """

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._next: dict[str, int] = {}

    async def take(self, model: Model, n: int) -> Sequence[int]:
        table = _table(model)
        if n <= 0:
            return []
        if self._session.get_bind().dialect.name == "postgresql":
            return await self._from_sequence(table.name, n)
        if table.name not in self._next:
            top = await self._session.scalar(select(func.max(table.c.id)))
            self._next[table.name] = (top or 0) + 1
        first = self._next[table.name]
        self._next[table.name] = first + n
        return range(first, first + n)

    async def _from_sequence(self, name: str, n: int) -> Sequence[int]:
        low, high, count = (await self._session.execute(_PG_RESERVE, {"table": name, "n": n})).one()
        if high - low + 1 == count:
            return range(low, high + 1)
        rows = await self._session.scalars(_PG_RESERVE_LIST, {"table": name, "n": n})
        return sorted(rows)


Job = Callable[[], Awaitable[None]]


class Writer:
    """Inserts rows in chunks within the caller's transaction and reports progress.

    Rows go in with Core ``insert()`` executemany; on PostgreSQL through the driver's COPY,
    which carries the same rows several times faster (values are converted as the column
    types would: JSON serialised, ``None`` in a JSON column stored as JSON ``null``).

    Writing is pipelined: :meth:`insert` and :meth:`submit` queue work that one consumer
    task runs in order on the session, so the database works while the generator computes
    the next rows. Whoever else uses the session must :meth:`drain` first (:meth:`take`
    does); use the writer as an async context manager so the consumer always ends.
    """

    def __init__(self, session: AsyncSession, progress: ProgressFn | None = None) -> None:
        self.session = session
        self.ids = Ids(session)
        self._progress = progress
        self._copy = session.get_bind().dialect.name == "postgresql"
        self.counts: dict[str, int] = {}
        self._queue: asyncio.Queue[Job | None] = asyncio.Queue(maxsize=QUEUED_JOBS)
        self._task: asyncio.Task[None] | None = None
        self._error: BaseException | None = None

    async def __aenter__(self) -> Writer:
        return self

    async def __aexit__(self, kind: object, error: object, tb: object) -> None:
        if self._task is None:
            return
        if error is None:
            await self.drain()
            await self._queue.put(None)
            await self._task
        else:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def submit(self, job: Job) -> None:
        """Queue ``job`` (it may use the session); a failure surfaces at the next call."""
        self._raise()
        if self._task is None:
            self._task = asyncio.create_task(self._consume())
        await self._queue.put(job)

    async def insert(self, model: Model, rows: list[Row]) -> None:
        """Queue ``rows`` for insertion (see :meth:`write`)."""
        if rows:
            await self.submit(lambda: self.write(model, rows))

    async def take(self, model: Model, n: int) -> Sequence[int]:
        """Reserve ids once everything queued so far is written."""
        await self.drain()
        return await self.ids.take(model, n)

    async def drain(self) -> None:
        await self._queue.join()
        self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    async def _consume(self) -> None:
        while True:
            job = await self._queue.get()
            try:
                if job is None:
                    return
                if self._error is None:
                    await job()
            except Exception as exc:  # handed to the producer at its next call
                self._error = exc
            finally:
                self._queue.task_done()

    async def write(self, model: Model, rows: list[Row]) -> None:
        """Insert ``rows`` now, in chunks (only from a queued job, or after :meth:`drain`)."""
        table = _table(model)
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            if self._copy:
                await self._copy_rows(table, chunk)
            else:
                await self.session.execute(insert(table), chunk)
            self.counts[table.name] = self.counts.get(table.name, 0) + len(chunk)
            if self._progress is not None:
                self._progress(table.name, len(chunk))

    async def _copy_rows(self, table: Table, rows: list[Row]) -> None:
        columns = list(rows[0])
        as_json = [isinstance(table.c[name].type, JSON) for name in columns]
        if any(as_json):
            records = [
                tuple(
                    json.dumps(row[c]) if j else row[c]
                    for c, j in zip(columns, as_json, strict=True)
                )
                for row in rows
            ]
        else:
            records = [tuple(row.values()) for row in rows]
        connection = await self.session.connection()
        raw = await connection.get_raw_connection()
        await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
            table.name, records=records, columns=columns
        )
