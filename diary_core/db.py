"""Engines and sessions for SQLite (embedded) and PostgreSQL (production).

The domain's schema changes are the revision files in ``migrations/versions``
(:data:`MIGRATION_VERSIONS`); they are run, together with the gateway's, by the gateway
(gateway/storage/schema.py: ``ediary db upgrade``), whose Alembic environment knows every
table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

#: The domain's Alembic revision files (one chain with the gateway's; see the module's doc).
MIGRATION_VERSIONS = Path(__file__).with_name("migrations") / "versions"


def create_engine(
    url: str, *, echo: bool = False, pool_size: int = 10, pre_ping: bool = False
) -> AsyncEngine:
    """An async engine; a SQLite file's folder is created, and SQLite enforces foreign keys.
    ``pre_ping``: see ``database.pool_pre_ping`` in config/settings.py."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=pre_ping)
    engine = create_async_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
