"""Engines, sessions and migrations for SQLite (embedded) and PostgreSQL (production)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

if TYPE_CHECKING:  # Alembic is imported only where a schema is migrated or checked
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


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


def _alembic_config(connection: Connection, timezone: str = "Europe/Moscow") -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    cfg.attributes["timezone"] = timezone  # the school's zone, for data migrations of dates
    return cfg


async def upgrade(
    engine: AsyncEngine, revision: str = "head", *, timezone: str = "Europe/Moscow"
) -> None:
    """Bring the schema to ``revision`` (the newest by default); ``timezone`` is the school's
    (``[server] timezone``), which migrations of calendar dates need."""
    from alembic import command

    async with engine.begin() as conn:
        await conn.run_sync(lambda c: command.upgrade(_alembic_config(c, timezone), revision))


async def is_current(engine: AsyncEngine) -> bool:
    """Whether the database is at the newest migration."""

    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    def check(conn: Connection) -> bool:
        heads = set(ScriptDirectory.from_config(_alembic_config(conn)).get_heads())
        return set(MigrationContext.configure(conn).get_current_heads()) == heads

    async with engine.connect() as conn:
        return await conn.run_sync(check)
