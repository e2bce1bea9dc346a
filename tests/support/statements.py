"""Counting the statements sent to the database: those SQLAlchemy executes, and those sent
through the driver itself (gateway/storage/driver.py: asyncpg's ``fetchrow`` and ``fetch``, and
``execute`` with parameters; without, it is asyncpg's own BEGIN or COMMIT, which SQLAlchemy's
count leaves out too)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


@contextmanager
def statements_sent(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SQL of every statement sent while the block runs, in order."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    names = ("fetchrow", "fetch", "execute")
    originals = {name: getattr(asyncpg.Connection, name) for name in names}

    def counting(name: str) -> Any:
        original = originals[name]

        async def method(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
            if args or name != "execute":
                seen.append(query)
            return await original(self, query, *args, **kwargs)

        return method

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    for name in originals:
        setattr(asyncpg.Connection, name, counting(name))
    try:
        yield seen
    finally:
        for name, original in originals.items():
            setattr(asyncpg.Connection, name, original)
        event.remove(engine.sync_engine, "before_cursor_execute", count)
