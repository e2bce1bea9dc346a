"""Taking a database down and up its migrations, for the tests of one migration."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core.db import create_engine
from gateway.storage.schema import alembic_config, upgrade
from tests.support.databases import fresh_postgres_database, postgres_enabled


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of this test's own, on each database (it is taken down and up)."""
    if request.param == "postgres":
        if not postgres_enabled():
            pytest.skip("PostgreSQL tests are off: set EDIARY_TEST_POSTGRES=1 (CI does)")
        yield from fresh_postgres_database()
    else:
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrations.sqlite'}"


@pytest.fixture
async def fresh(fresh_url: str) -> AsyncIterator[AsyncEngine]:
    """That database at the newest migration."""
    engine = create_engine(fresh_url)
    await upgrade(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Take the database down to ``revision`` (Alembic's own downgrade, in one transaction)."""

    def run(conn: Connection) -> None:
        command.downgrade(alembic_config(conn), revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)
