"""A statement built once, sent through the database driver itself where that is asyncpg
(PostgreSQL): for the reads every portal request makes (its lookup, a pupil's progress:
:func:`read_rows`) and the one statement that writes a group of portal requests' rows
(:func:`diary_core.unnest.unnest` gives it one array parameter per column).

SQLAlchemy's execution of a Core statement costs about 0.1 ms of CPU beyond the driver's on
every call (an execution context, parameter and row processing, a greenlet switch each
way); for the portal's per-request lookup that was an eighth of a warm request. The
statement is compiled once for the dialect and its SQL sent as it is, with the parameters
in the compiled order, through the pooled connection's asyncpg connection (whose own
statement cache prepares it once per connection).

It is used only where it changes nothing a caller can see:

- the parameters pass through their types' bind processors, as SQLAlchemy would;
- a statement any of whose columns needs result processing is run by SQLAlchemy instead
  (for asyncpg, the lookups' columns need none: the rows are the same values);
- on another driver (SQLite's) it is a plain ``execute``;
- a failure that leaves the connection unusable invalidates it in the pool, as SQLAlchemy
  does when it sees one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # the parameters in the order the SQL numbers them
    fixed: dict[str, Any]  # values the statement itself holds (literals become parameters)
    processors: dict[str, Callable[[Any], Any]]

    def args(self, params: dict[str, Any]) -> list[Any]:
        out = []
        for name in self.names:
            value = params[name] if name in params else self.fixed[name]
            process = self.processors.get(name)
            out.append(value if process is None else process(value))
        return out


def _compile(stmt: Executable, dialect: Dialect) -> _Compiled | None:
    """The statement for the driver, or None if SQLAlchemy must process its rows."""
    for column in getattr(stmt, "selected_columns", ()):  # an INSERT without RETURNING: none
        if column.type.result_processor(dialect, None) is not None:
            return None
    assert isinstance(stmt, ClauseElement)  # a SELECT or an INSERT
    compiled = stmt.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    names = tuple(compiled.positiontup or ())
    binds = {compiled.bind_names[b]: b for b in compiled.binds.values()}
    fixed = {name: b.value for name, b in binds.items() if not b.required}
    processors: dict[str, Callable[[Any], Any]] = {}
    for name, bind in binds.items():
        process = bind.type.bind_processor(dialect)
        if process is not None:
            processors[name] = process
    return _Compiled(str(compiled), names, fixed, processors)


def _gone(exc: Exception, driver: asyncpg.Connection) -> bool:
    """Whether ``exc`` left the connection unusable: the driver's own connection errors, the
    server's connection exceptions (SQLSTATE class 08) and operator intervention (57P: a
    terminated backend, a shutdown), or a connection the driver has closed."""
    if isinstance(exc, asyncpg.InterfaceError | OSError):
        return True
    state = getattr(exc, "sqlstate", None) or ""
    return state.startswith(("08", "57P")) or driver.is_closed()


class DriverQuery:
    """A statement built once: :meth:`first` row or :meth:`all` rows (indexable by position)
    of a SELECT, or :meth:`execute` for a statement that returns none."""

    def __init__(self, stmt: Executable) -> None:
        self.stmt = stmt
        self._compiled: _Compiled | None = None
        self._checked = False

    def _for(self, conn: AsyncConnection) -> _Compiled | None:
        if conn.dialect.driver != "asyncpg":
            return None
        if not self._checked:
            self._compiled, self._checked = _compile(self.stmt, conn.dialect), True
        return self._compiled

    async def first(self, conn: AsyncConnection, params: dict[str, Any]) -> Sequence[Any] | None:
        compiled = self._for(conn)
        if compiled is None:
            return (await conn.execute(self.stmt, params)).first()
        row: Sequence[Any] | None = await _send(conn, "fetchrow", compiled, params)  # a Record
        return row

    async def all(self, conn: AsyncConnection, params: dict[str, Any]) -> Sequence[Sequence[Any]]:
        compiled = self._for(conn)
        if compiled is None:
            return (await conn.execute(self.stmt, params)).all()
        rows: Sequence[Sequence[Any]] = await _send(conn, "fetch", compiled, params)  # Records
        return rows

    async def execute(self, conn: AsyncConnection, params: dict[str, Any]) -> None:
        compiled = self._for(conn)
        if compiled is None:
            await conn.execute(self.stmt, params)
        else:
            await _send(conn, "execute", compiled, params)


async def _send(
    conn: AsyncConnection, method: str, compiled: _Compiled, params: dict[str, Any]
) -> Any:
    """``compiled`` with ``params`` through the asyncpg connection's ``method``; a failure
    that left the connection unusable invalidates it in the pool."""
    driver = await _driver(conn)
    try:
        return await getattr(driver, method)(compiled.sql, *compiled.args(params))
    except Exception as exc:
        if _gone(exc, driver):
            await conn.invalidate()
        raise


async def _driver(conn: AsyncConnection) -> asyncpg.Connection:
    raw = await conn.get_raw_connection()
    return raw.driver_connection


_QUERIES: dict[int, tuple[Executable, DriverQuery]] = {}


async def read_rows(
    conn: AsyncConnection, stmt: Executable, params: dict[str, Any]
) -> Sequence[Sequence[Any]]:
    """``stmt``'s rows for ``params`` as :meth:`DriverQuery.all` reads them, compiled once per
    statement: a reader for statements built once and kept (such as
    :func:`diary_core.progress.load_pupil_rows`' ``read``)."""
    entry = _QUERIES.get(id(stmt))
    if entry is None or entry[0] is not stmt:  # the statement is kept, so its id is its own
        entry = _QUERIES[id(stmt)] = (stmt, DriverQuery(stmt))
    return await entry[1].all(conn, params)
